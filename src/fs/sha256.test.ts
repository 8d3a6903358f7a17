import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyState, execute, plainHash, stateHash, toPlain, type Caller, type CommandBody, type State } from '../model/index.ts';
import { nativeSha256 } from './sha256.ts';

const by: Caller = { uid: 1000, gid: 1000, pid: 42, start: 7 };

function build(steps: CommandBody[]): State {
  const state = emptyState();
  let t = 1_700_000_000_000;
  for (const body of steps) {
    const decision = execute(state, { ...body, by, atMs: t++ } as Parameters<typeof execute>[1]);
    assert.ok(decision.ok, `${body.type} was refused`);
  }
  return state;
}

describe('nativeSha256: the state hash computed with node:crypto equals the model default', () => {
  it('on an empty state, a small state and a state with a large file and odd names', () => {
    const small = build([
      { type: 'mkdir', path: '/q', mode: 0o755 },
      { type: 'create', path: '/q/a', mode: 0o644 },
      { type: 'write', ino: 3 + 2, offset: 0, data: Buffer.from('hello') },
    ] as CommandBody[]);
    const large = build([
      { type: 'mkdir', path: '/jobs-é', mode: 0o700 },
      { type: 'create', path: '/jobs-é/big \u{1F600}', mode: 0o600 },
      { type: 'write', ino: 5, offset: 0, data: Buffer.alloc(200_000, 0xab) },
      { type: 'create', path: `/jobs-é/${'n'.repeat(255)}`, mode: 0o600 },
    ] as CommandBody[]);
    for (const state of [emptyState(), small, large]) {
      const plain = toPlain(state);
      assert.equal(plainHash(plain, nativeSha256), plainHash(plain));
      assert.equal(stateHash(state, nativeSha256), stateHash(state));
    }
    assert.notEqual(stateHash(small), stateHash(large));
  });
});
