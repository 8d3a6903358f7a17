import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyState, execute, fromPlain, NO_XATTRS, stateHash, toPlain, type Caller, type CommandBody, type State } from './index.ts';

const by: Caller = { uid: 1000, gid: 1000, pid: 42, start: 7 };

function run(state: State, body: CommandBody): void {
  const decision = execute(state, { ...body, by, atMs: 1_700_000_000_000 + state.seq } as Parameters<typeof execute>[1]);
  assert.ok(decision.ok, `${body.type} was refused: ${decision.ok ? '' : decision.errno}`);
}

describe('NO_XATTRS: files without xattrs share one read-only Map', () => {
  it('a file gets its own Map on its first xattr; the others keep sharing', () => {
    const state = emptyState();
    run(state, { type: 'mkdir', path: '/q', mode: 0o755 } as CommandBody);
    run(state, { type: 'create', path: '/q/a', mode: 0o644 } as CommandBody);
    run(state, { type: 'create', path: '/q/b', mode: 0o644 } as CommandBody);
    const [a, b] = [...state.inodes.values()];
    assert.equal(a!.xattrs, NO_XATTRS);
    assert.equal(b!.xattrs, NO_XATTRS);
    run(state, { type: 'setxattr', path: '/q/a', key: 'user.k', value: Buffer.from('v'), flags: 0 } as CommandBody);
    assert.notEqual(a!.xattrs, NO_XATTRS);
    assert.deepEqual([...a!.xattrs.keys()], ['user.k']);
    assert.equal(b!.xattrs, NO_XATTRS);
    assert.equal(NO_XATTRS.size, 0);
    run(state, { type: 'removexattr', path: '/q/a', key: 'user.k' } as CommandBody);
    assert.equal(a!.xattrs.size, 0);
  });

  it('refuses to be written to, so a forgotten copy-on-write fails loudly', () => {
    assert.throws(() => NO_XATTRS.set('user.k', Buffer.alloc(0)), TypeError);
    assert.throws(() => NO_XATTRS.delete('user.k'), TypeError);
    assert.throws(() => NO_XATTRS.clear(), TypeError);
    assert.equal(NO_XATTRS.size, 0);
  });

  it('a snapshot round trip shares it again and hashes the same', () => {
    const state = emptyState();
    run(state, { type: 'mkdir', path: '/q', mode: 0o755 } as CommandBody);
    run(state, { type: 'create', path: '/q/a', mode: 0o644 } as CommandBody);
    run(state, { type: 'create', path: '/q/b', mode: 0o644 } as CommandBody);
    run(state, { type: 'setxattr', path: '/q/b', key: 'user.k', value: Buffer.from('v'), flags: 0 } as CommandBody);
    const loaded = fromPlain(toPlain(state));
    const [a, b] = [...loaded.inodes.values()];
    assert.equal(a!.xattrs, NO_XATTRS);
    assert.deepEqual([...b!.xattrs.entries()], [['user.k', Buffer.from('v')]]);
    assert.equal(stateHash(loaded), stateHash(state));
  });
});
