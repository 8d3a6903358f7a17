// checkInvariants must notice each way a state can be damaged (a bug in apply, a bad snapshot),
// and stay quiet on a sound one. Each test breaks one thing by hand.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkInvariants, emptyState, execute, type Caller, type CommandBody, type State } from './index.ts';

const alice: Caller = { uid: 1000, gid: 100, pid: 20, start: 200 };

function sound(): State {
  const state = emptyState();
  const steps: CommandBody[] = [
    { type: 'mkdir', path: '/q', mode: 0o755 },
    { type: 'create', path: '/q/a', mode: 0o644 },
    { type: 'write', ino: 5, offset: 0, data: Buffer.from('abc') },
    { type: 'create', path: '/q/b', mode: 0o644 },
    { type: 'create', path: '/q/c', mode: 0o644 },
    { type: 'mkdir', path: '/r', mode: 0o755 },
    { type: 'link', from: '/q/a', to: '/r/a' },
  ];
  for (const body of steps) assert.ok(execute(state, { ...body, by: alice, atMs: 1 }).ok, body.type);
  return state;
}

function violations(breakIt: (state: State) => void): string[] {
  const state = sound();
  breakIt(state);
  return checkInvariants(state);
}

describe('checkInvariants', () => {
  it('finds nothing wrong with a state built by execute', () => {
    assert.deepEqual(checkInvariants(sound()), []);
  });

  it('finds nothing wrong with the empty state', () => {
    assert.deepEqual(checkInvariants(emptyState()), []);
  });

  it('reports an nlink that does not match the names of an inode', () => {
    const found = violations((s) => { s.inodes.get(5)!.nlink = 1; });
    assert.ok(found.some((v) => /inode 5: nlink 1 but 2 names/.test(v)), found.join('\n'));
  });

  it('reports a size beyond the data buffer', () => {
    const found = violations((s) => { s.inodes.get(5)!.size = 99; });
    assert.ok(found.some((v) => /size 99 beyond its data/.test(v)), found.join('\n'));
  });

  it('reports an inode number not below nextIno', () => {
    const found = violations((s) => { s.nextIno = 5; });
    assert.ok(found.some((v) => /not below nextIno/.test(v)), found.join('\n'));
  });

  it('reports a broken back link in a queue', () => {
    const found = violations((s) => { s.queues.get('q')!.tail!.prev = null; });
    assert.ok(found.some((v) => /broken back link/.test(v)), found.join('\n'));
  });

  it('reports a tail that is not the newest entry', () => {
    const found = violations((s) => { const q = s.queues.get('q')!; q.tail = q.head; });
    assert.ok(found.some((v) => /tail is not the newest entry/.test(v)), found.join('\n'));
  });

  it('reports an entry missing from the name index', () => {
    const found = violations((s) => { s.queues.get('q')!.entries.delete('b'); });
    assert.ok(found.some((v) => /b missing from the name index/.test(v)), found.join('\n'));
  });

  it('reports a cycle in the entry list without looping forever', () => {
    const found = violations((s) => { const q = s.queues.get('q')!; q.tail!.next = q.head; });
    assert.ok(found.length > 0);
  });

  it('reports a file named head or tail', () => {
    const found = violations((s) => { s.queues.get('q')!.head!.name = 'head'; });
    assert.ok(found.some((v) => /a file is named head/.test(v)), found.join('\n'));
  });

  it('reports an entry naming an inode that does not exist', () => {
    const found = violations((s) => { s.inodes.delete(6); });
    assert.ok(found.some((v) => /names missing inode 6/.test(v)), found.join('\n'));
  });

  it('reports usage kept out of step with the state', () => {
    const found = violations((s) => { s.userUsage.get(alice.uid)!.bytes += 1; });
    assert.ok(found.some((v) => /usage of uid 1000/.test(v)), found.join('\n'));
  });

  it('reports group usage kept out of step with the state', () => {
    const found = violations((s) => { s.groupUsage.set(4242, { dirs: 1, files: 0, bytes: 0 }); });
    assert.ok(found.some((v) => /usage of gid 4242/.test(v)), found.join('\n'));
  });

  it('reports a queue missing from the inode index', () => {
    const found = violations((s) => { s.queuesByIno.delete(s.queues.get('r')!.ino); });
    assert.ok(found.some((v) => /not indexed by inode/.test(v)), found.join('\n'));
    assert.ok(found.some((v) => /queue inode index out of step/.test(v)), found.join('\n'));
  });

  // An inode with no names and nlink 0 should have been freed by apply; nlink 0 == 0 names, so
  // the nlink comparison alone cannot see it, and it would leak memory and quota bytes unseen.
  it('reports an inode that no queue names (a leak)', () => {
    const found = violations((s) => {
      s.inodes.set(99, { ...s.inodes.get(5)!, ino: 99, nlink: 0, size: 0, data: Buffer.alloc(0), xattrs: new Map() });
      s.nextIno = 100;
    });
    assert.ok(found.some((v) => /inode 99/.test(v)), found.join('\n'));
  });
});
