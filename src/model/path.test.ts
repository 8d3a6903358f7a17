import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parsePath, type ParsedPath } from './path.ts';

/** The definition: the non-empty parts between slashes. */
function reference(path: string): ParsedPath {
  const parts = path.split('/').filter((part) => part !== '');
  if (parts.length === 0) return { depth: 0 };
  if (parts.length === 1) return { depth: 1, queue: parts[0]! };
  if (parts.length === 2) return { depth: 2, queue: parts[0]!, name: parts[1]! };
  return { depth: 3 };
}

describe('parsePath', () => {
  it('splits the paths FUSE sends', () => {
    assert.deepEqual(parsePath('/'), { depth: 0 });
    assert.deepEqual(parsePath('/q'), { depth: 1, queue: 'q' });
    assert.deepEqual(parsePath('/q/m-1'), { depth: 2, queue: 'q', name: 'm-1' });
    assert.deepEqual(parsePath('/q/m/x'), { depth: 3 });
  });

  it('agrees with its definition on any string of slashes and names', () => {
    const pathArb = fc.array(fc.constantFrom('/', '/', 'a', 'bc', '.', ' '), { maxLength: 12 }).map((pieces) => pieces.join(''));
    fc.assert(fc.property(pathArb, (path) => assert.deepEqual(parsePath(path), reference(path))), { seed: 42, numRuns: 5000 });
  });
});
