import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fold } from '../../src/model/index.ts';
import { replayFixtures } from '../../test/fixtures/replay/generate.ts';
import { diffShapes, shapeOf, shapeOfState, type RawQueue, type Shape } from './compare.ts';

const labels = { folded: 'A', other: 'B' };
const jobs = replayFixtures().find((f) => f.name === 'jobs')!.events;

function queue(name: string, messages: [string, number, string][], extra: Partial<RawQueue> = {}): RawQueue {
  return {
    name, mode: 0o755, uid: 1000, gid: 1000, xattrs: [], head: messages[0]?.[0] ?? null, tail: messages.at(-1)?.[0] ?? null,
    messages: messages.map(([name, ino, text]) => ({ name, ino, size: text.length, mode: 0o644, uid: 1000, gid: 1000, nlink: 1, data: Buffer.from(text), xattrs: [] })),
    ...extra,
  };
}

const diff = (a: RawQueue[], b: RawQueue[], owners = true): string[] => diffShapes(shapeOf(a), shapeOf(b), labels, { owners });

describe('diffShapes', () => {
  it('finds nothing between a state and itself, whatever the inode numbers', () => {
    assert.deepEqual(diff([queue('q', [['a', 5, 'x'], ['b', 6, 'y']])], [queue('q', [['a', 50, 'x'], ['b', 60, 'y']])]), []);
    const shape: Shape = shapeOfState(fold(jobs));
    assert.deepEqual(diffShapes(shape, shape, labels, { owners: true }), []);
  });

  it('reports a missing or extra queue first', () => {
    assert.deepEqual(diff([queue('q', []), queue('r', [])], [queue('q', []), queue('s', [])]), [
      'queue r is in A but not in B', 'queue s is in B but not in A',
    ]);
  });

  it('reports queues listed in another order', () => {
    assert.deepEqual(diff([queue('q', []), queue('r', [])], [queue('r', []), queue('q', [])]), ['queues are listed as [q, r] in A but as [r, q] in B']);
  });

  it('reports the first message out of order, and stops comparing that queue', () => {
    assert.deepEqual(diff([queue('q', [['a', 1, 'x'], ['b', 2, 'y']])], [queue('q', [['b', 2, 'y'], ['a', 1, 'x']])]), [
      'queue q: message 1 is a in A but b in B (depth 2 vs 2)',
    ]);
  });

  it('reports differing bytes with the first offset that differs', () => {
    assert.deepEqual(diff([queue('q', [['a', 1, 'hello']])], [queue('q', [['a', 1, 'help!']])]), [
      'q/a: the bytes differ from offset 3: "lo" in A, "p!" in B',
    ]);
  });

  it('reports modes, owners and xattrs, and skips owners when asked', () => {
    const a = [queue('q', [], { mode: 0o700, uid: 1, xattrs: [['user.k', Buffer.from('v')]] })];
    const b = [queue('q', [], { mode: 0o755, uid: 2 })];
    assert.deepEqual(diff(a, b), [
      'queue q: the mode is 0700 in A but 0755 in B',
      'queue q: the owner is 1:1000 in A but 2:1000 in B',
      'queue q: the xattr list is user.k="v" in A but none in B',
    ]);
    assert.equal(diff(a, b, false).length, 2);
  });

  it('reports names that are one file on one side and two on the other', () => {
    const a = [queue('q', [['a', 1, 'x']]), queue('r', [['a2', 1, 'x']])];
    const b = [queue('q', [['a', 1, 'x']]), queue('r', [['a2', 2, 'x']])];
    assert.deepEqual(diff(a, b), ['r/a2: the file is a link of q/a in A but its own file in B']);
  });
});
