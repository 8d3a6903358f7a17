// apply: queue order, multicast, reaps, file data, and the paired assertions that make a log that
// does not fit its state fail loudly (ApplyError with the seq of the event).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ApplyError, DAEMON, EVENT_VERSION,
  apply, checkInvariants, emptyState, execute, fold, listQueue, resolve,
  type Caller, type CommandBody, type Event, type EventBody, type State,
} from './index.ts';

const T0 = 1_700_000_000_000;
const alice: Caller = { uid: 1000, gid: 100, pid: 20, start: 200 };
const bob: Caller = { uid: 1001, gid: 101, pid: 30, start: 300 };

/** Every run also checks the invariants, as the brief for apply asks (STYLE.md point 4). */
function run(state: State, by: Caller, body: CommandBody): Event[] {
  const decision = execute(state, { ...body, by, atMs: T0 + state.seq + 1 });
  if (!decision.ok) assert.fail(`${body.type} was refused with ${decision.errno}`);
  assert.deepEqual(checkInvariants(state), []);
  return decision.events;
}

function ino(state: State, path: string): number {
  const node = resolve(state, path);
  if (typeof node === 'string' || node.kind !== 'file') assert.fail(`${path} is not a file`);
  return node.inode.ino;
}

function read(state: State, path: string): string {
  const node = resolve(state, path);
  if (typeof node === 'string' || node.kind !== 'file') assert.fail(`${path} is not a file`);
  return node.inode.data.subarray(0, node.inode.size).toString('latin1');
}

function queueWith(names: string[], by = alice, queue = 'q'): State {
  const state = emptyState();
  run(state, by, { type: 'mkdir', path: `/${queue}`, mode: 0o777 });
  for (const name of names) {
    run(state, by, { type: 'create', path: `/${queue}/${name}`, mode: 0o644 });
    run(state, by, { type: 'write', ino: ino(state, `/${queue}/${name}`), offset: 0, data: Buffer.from(name) });
  }
  return state;
}

const names = (state: State, queue = 'q'): string[] => listQueue(state.queues.get(queue)!).filter((n) => n !== 'head' && n !== 'tail');

/** An event with base fields filled in, for feeding apply directly. */
function event(seq: number, body: EventBody, by: Caller = alice): Event {
  return { v: EVENT_VERSION, seq, t: T0 + seq, uid: by.uid, gid: by.gid, pid: by.pid, ...body } as Event;
}

function applyError(state: State, bad: Event): ApplyError {
  const before = state.seq;
  try {
    apply(state, bad);
  } catch (error) {
    assert.ok(error instanceof ApplyError, `expected an ApplyError, got ${String(error)}`);
    assert.equal(state.seq, before, 'a refused event must not advance seq');
    return error;
  }
  assert.fail(`event ${bad.type} seq ${bad.seq} applied`);
}

describe('apply: queue order', () => {
  it('lists files in creation order with head and tail after them', () => {
    const state = queueWith(['a', 'b', 'c']);
    assert.deepEqual(listQueue(state.queues.get('q')!), ['a', 'b', 'c', 'head', 'tail']);
  });

  it('shows no head or tail while the queue is empty', () => {
    assert.deepEqual(listQueue(queueWith([]).queues.get('q')!), []);
  });

  it('pops head oldest first', () => {
    const state = queueWith(['a', 'b', 'c']);
    const popped: string[] = [];
    for (let i = 0; i < 3; i++) {
      const [removed] = run(state, alice, { type: 'unlink', path: '/q/head' });
      popped.push(removed!.type === 'entryRemoved' ? removed.name : '?');
    }
    assert.deepEqual(popped, ['a', 'b', 'c']);
    assert.equal(state.queues.get('q')!.head, null);
  });

  it('pops tail newest first', () => {
    const state = queueWith(['a', 'b', 'c']);
    const popped: string[] = [];
    for (let i = 0; i < 3; i++) {
      const [removed] = run(state, alice, { type: 'unlink', path: '/q/tail' });
      popped.push(removed!.type === 'entryRemoved' ? removed.name : '?');
    }
    assert.deepEqual(popped, ['c', 'b', 'a']);
    assert.equal(state.queues.get('q')!.tail, null);
  });

  it('retargets head and tail after interleaved pops at both ends', () => {
    const state = queueWith(['a', 'b', 'c', 'd', 'e']);
    run(state, alice, { type: 'unlink', path: '/q/head' });
    run(state, alice, { type: 'unlink', path: '/q/tail' });
    const q = state.queues.get('q')!;
    assert.deepEqual([q.head!.name, q.tail!.name], ['b', 'd']);
    assert.deepEqual(names(state), ['b', 'c', 'd']);
  });

  it('keeps the order of the rest when a file is removed from the middle', () => {
    const state = queueWith(['a', 'b', 'c', 'd']);
    run(state, alice, { type: 'unlink', path: '/q/c' });
    assert.deepEqual(names(state), ['a', 'b', 'd']);
    run(state, alice, { type: 'unlink', path: '/q/b' });
    assert.deepEqual(names(state), ['a', 'd']);
    run(state, alice, { type: 'create', path: '/q/b', mode: 0o644 });
    assert.deepEqual(names(state), ['a', 'd', 'b']);
  });

  it('moves head when the oldest file is removed by its own name', () => {
    const state = queueWith(['a', 'b']);
    run(state, alice, { type: 'unlink', path: '/q/a' });
    assert.equal(state.queues.get('q')!.head!.name, 'b');
  });

  it('points head and tail at the same file when one is left', () => {
    const state = queueWith(['a', 'b']);
    run(state, alice, { type: 'unlink', path: '/q/tail' });
    const q = state.queues.get('q')!;
    assert.equal(q.head, q.tail);
  });

  it('updates the queue mtime on every enqueue and dequeue', () => {
    const state = queueWith(['a']);
    const [removed] = run(state, alice, { type: 'unlink', path: '/q/head' });
    assert.equal(state.queues.get('q')!.mtimeMs, removed!.t);
  });
});

describe('apply: multicast', () => {
  function multicast(): State {
    const state = queueWith(['m']);
    run(state, alice, { type: 'mkdir', path: '/q2', mode: 0o777 });
    run(state, bob, { type: 'mkdir', path: '/q3', mode: 0o777 });
    run(state, alice, { type: 'link', from: '/q/m', to: '/q2/m2' });
    run(state, bob, { type: 'link', from: '/q/m', to: '/q3/m3' });
    return state;
  }

  it('shares one inode between every queue it was linked into', () => {
    const state = multicast();
    assert.equal(ino(state, '/q2/m2'), ino(state, '/q/m'));
    assert.equal(ino(state, '/q3/m3'), ino(state, '/q/m'));
    assert.equal(state.inodes.size, 1);
  });

  it('counts every name in nlink', () => {
    const state = multicast();
    assert.equal(state.inodes.get(ino(state, '/q/m'))!.nlink, 3);
  });

  it('shows a write through one name under every name', () => {
    const state = multicast();
    run(state, bob, { type: 'write', ino: ino(state, '/q3/m3'), offset: 1, data: Buffer.from('!') });
    assert.equal(read(state, '/q/m'), 'm!');
    assert.equal(read(state, '/q2/m2'), 'm!');
  });

  it('keeps the data while any queue holds the inode', () => {
    const state = multicast();
    const shared = ino(state, '/q/m');
    run(state, alice, { type: 'unlink', path: '/q/head' });
    run(state, alice, { type: 'unlink', path: '/q2/head' });
    assert.equal(state.inodes.get(shared)!.nlink, 1);
    assert.equal(read(state, '/q3/m3'), 'm');
  });

  it('frees the inode and its bytes when the last name goes', () => {
    const state = multicast();
    const shared = ino(state, '/q/m');
    for (const path of ['/q/m', '/q2/m2', '/q3/m3']) run(state, alice, { type: 'unlink', path });
    assert.equal(state.inodes.has(shared), false);
    assert.equal(state.userUsage.get(alice.uid)?.bytes ?? 0, 0);
  });

  it('appends the link at the tail of the target queue, after its older files', () => {
    const state = queueWith(['m']);
    run(state, bob, { type: 'mkdir', path: '/r', mode: 0o777 });
    run(state, bob, { type: 'create', path: '/r/older', mode: 0o644 });
    run(state, alice, { type: 'link', from: '/q/m', to: '/r/linked' });
    run(state, bob, { type: 'create', path: '/r/newer', mode: 0o644 });
    assert.deepEqual(names(state, 'r'), ['older', 'linked', 'newer']);
  });
});

describe('apply: reap', () => {
  function reapWorld(): State {
    const state = queueWith(['own', 'shared']);
    run(state, bob, { type: 'mkdir', path: '/r', mode: 0o777 });
    run(state, bob, { type: 'link', from: '/q/shared', to: '/r/kept' });
    return state;
  }

  it('removes the queue and its own files', () => {
    const state = reapWorld();
    const own = ino(state, '/q/own');
    run(state, DAEMON, { type: 'reap', queue: 'q' });
    assert.equal(state.queues.has('q'), false);
    assert.equal(state.queuesByIno.size, 1);
    assert.equal(state.inodes.has(own), false);
  });

  it('lets a shared inode live on in the other queue with one link fewer', () => {
    const state = reapWorld();
    const shared = ino(state, '/q/shared');
    run(state, DAEMON, { type: 'reap', queue: 'q' });
    assert.equal(state.inodes.get(shared)!.nlink, 1);
    assert.equal(read(state, '/r/kept'), 'shared');
  });

  it('gives back the dir, file and byte usage of what it took', () => {
    const state = reapWorld();
    run(state, DAEMON, { type: 'reap', queue: 'q' });
    // alice still owns the shared inode's 6 bytes; bob's link is bob's file.
    assert.deepEqual(state.userUsage.get(alice.uid), { dirs: 0, files: 0, bytes: 6 });
    assert.deepEqual(state.userUsage.get(bob.uid), { dirs: 1, files: 1, bytes: 0 });
  });

  it('allows a queue of the same name to be created afterwards', () => {
    const state = reapWorld();
    run(state, DAEMON, { type: 'reap', queue: 'q' });
    run(state, bob, { type: 'mkdir', path: '/q', mode: 0o777 });
    assert.deepEqual(names(state), []);
  });
});

describe('apply: file data', () => {
  function file(): { state: State; ino: number } {
    const state = queueWith([]);
    run(state, alice, { type: 'create', path: '/q/f', mode: 0o644 });
    return { state, ino: ino(state, '/q/f') };
  }

  it('reads zeros in a hole left by a write past the end', () => {
    const { state, ino } = file();
    run(state, alice, { type: 'write', ino, offset: 4, data: Buffer.from('xy') });
    assert.equal(read(state, '/q/f'), '\0\0\0\0xy');
  });

  it('reads zeros in a hole left inside spare capacity', () => {
    const { state, ino } = file();
    run(state, alice, { type: 'write', ino, offset: 0, data: Buffer.from('abcdefgh') });
    run(state, alice, { type: 'write', ino, offset: 8, data: Buffer.from('i') }); // grows capacity to 16
    run(state, alice, { type: 'truncate', ino, size: 2 });
    run(state, alice, { type: 'write', ino, offset: 6, data: Buffer.from('Z') });
    assert.equal(read(state, '/q/f'), 'ab\0\0\0\0Z');
  });

  it('overwrites in place without changing the size', () => {
    const { state, ino } = file();
    run(state, alice, { type: 'write', ino, offset: 0, data: Buffer.from('hello world') });
    run(state, alice, { type: 'write', ino, offset: 6, data: Buffer.from('WORLD') });
    assert.equal(read(state, '/q/f'), 'hello WORLD');
  });

  it('extends when a write straddles the end', () => {
    const { state, ino } = file();
    run(state, alice, { type: 'write', ino, offset: 0, data: Buffer.from('abc') });
    run(state, alice, { type: 'write', ino, offset: 2, data: Buffer.from('CDE') });
    assert.equal(read(state, '/q/f'), 'abCDE');
  });

  it('reads zeros after truncate shrinks and then extends the file', () => {
    const { state, ino } = file();
    run(state, alice, { type: 'write', ino, offset: 0, data: Buffer.from('abcdef') });
    run(state, alice, { type: 'truncate', ino, size: 2 });
    run(state, alice, { type: 'truncate', ino, size: 6 });
    assert.equal(read(state, '/q/f'), 'ab\0\0\0\0');
  });

  it('reads zeros after truncate to zero and a write further on', () => {
    const { state, ino } = file();
    run(state, alice, { type: 'write', ino, offset: 0, data: Buffer.from('secret') });
    run(state, alice, { type: 'truncate', ino, size: 0 });
    run(state, alice, { type: 'write', ino, offset: 3, data: Buffer.from('!') });
    assert.equal(read(state, '/q/f'), '\0\0\0!');
  });

  it('extends with zeros on a truncate past the end', () => {
    const { state, ino } = file();
    run(state, alice, { type: 'write', ino, offset: 0, data: Buffer.from('a') });
    run(state, alice, { type: 'truncate', ino, size: 3 });
    assert.equal(read(state, '/q/f'), 'a\0\0');
  });

  it('keeps many small appends linear by growing capacity geometrically', () => {
    const { state, ino } = file();
    for (let i = 0; i < 1000; i++) run(state, alice, { type: 'write', ino, offset: i, data: Buffer.from([65 + (i % 26)]) });
    const inode = state.inodes.get(ino)!;
    assert.equal(inode.size, 1000);
    assert.ok(inode.data.length < 4000, `capacity ${inode.data.length}`);
    assert.equal(read(state, '/q/f').slice(0, 27), 'ABCDEFGHIJKLMNOPQRSTUVWXYZA');
  });

  it('copies the written bytes, so reusing the caller buffer does not change the file', () => {
    const { state, ino } = file();
    const data = Buffer.from('keep');
    run(state, alice, { type: 'write', ino, offset: 0, data });
    data.fill(0);
    assert.equal(read(state, '/q/f'), 'keep');
  });

  it('charges the size in bytes to the owner, holes included', () => {
    const { state, ino } = file();
    run(state, alice, { type: 'write', ino, offset: 10, data: Buffer.from('x') });
    assert.equal(state.userUsage.get(alice.uid)!.bytes, 11);
    run(state, alice, { type: 'truncate', ino, size: 4 });
    assert.equal(state.userUsage.get(alice.uid)!.bytes, 4);
  });
});

describe('apply: ApplyError', () => {
  it('refuses an event whose seq is not the next one, naming that seq', () => {
    const state = queueWith([]);
    const error = applyError(state, event(state.seq + 2, { type: 'queueRemoved', queue: 'q' }));
    assert.equal(error.seq, state.seq + 2);
    assert.match(error.message, /expected seq/);
  });

  it('refuses an event replayed twice (seq already applied)', () => {
    const state = queueWith([]);
    assert.equal(applyError(state, event(state.seq, { type: 'queueRemoved', queue: 'q' })).seq, state.seq);
  });

  it('refuses an event naming a missing queue', () => {
    const state = queueWith([]);
    const error = applyError(state, event(state.seq + 1, { type: 'fileCreated', queue: 'nope', name: 'x', ino: state.nextIno, mode: 0o644 }));
    assert.equal(error.seq, state.seq + 1);
    assert.equal(error.type, 'fileCreated');
    assert.match(error.message, /no queue "nope"/);
  });

  it('refuses popping as head a name that is not the head', () => {
    const state = queueWith(['a', 'b']);
    const error = applyError(state, event(state.seq + 1, { type: 'entryRemoved', queue: 'q', name: 'b', via: 'head' }));
    assert.match(error.message, /not the head/);
  });

  it('refuses popping as tail a name that is not the tail', () => {
    const state = queueWith(['a', 'b']);
    assert.match(applyError(state, event(state.seq + 1, { type: 'entryRemoved', queue: 'q', name: 'a', via: 'tail' })).message, /not the tail/);
  });

  it('refuses removing a name that is not in the queue', () => {
    const state = queueWith(['a']);
    assert.match(applyError(state, event(state.seq + 1, { type: 'entryRemoved', queue: 'q', name: 'zz', via: 'name' })).message, /no name/);
  });

  it('refuses a queue created twice', () => {
    const state = queueWith([]);
    const creator = { pid: 1, start: 1 };
    assert.match(applyError(state, event(state.seq + 1, { type: 'queueCreated', queue: 'q', ino: state.nextIno, mode: 0o755, creator })).message, /exists/);
  });

  it('refuses an inode number that was already allocated', () => {
    const state = queueWith(['a']);
    const error = applyError(state, event(state.seq + 1, { type: 'fileCreated', queue: 'q', name: 'b', ino: 2, mode: 0o644 }));
    assert.match(error.message, /already allocated/);
  });

  it('refuses a duplicate file name', () => {
    const state = queueWith(['a']);
    assert.match(applyError(state, event(state.seq + 1, { type: 'fileCreated', queue: 'q', name: 'a', ino: state.nextIno, mode: 0o644 })).message, /exists/);
  });

  it('refuses rmdir of a queue that is not empty', () => {
    const state = queueWith(['a']);
    assert.match(applyError(state, event(state.seq + 1, { type: 'queueRemoved', queue: 'q' })).message, /not empty/);
  });

  it('refuses data written to an inode that does not exist', () => {
    const state = queueWith([]);
    assert.match(applyError(state, event(state.seq + 1, { type: 'dataWritten', ino: 777, offset: 0, data: Buffer.from('x') })).message, /no file inode 777/);
  });

  it('refuses a link to an inode that does not exist', () => {
    const state = queueWith([]);
    assert.match(applyError(state, event(state.seq + 1, { type: 'linkCreated', queue: 'q', name: 'x', ino: 777 })).message, /no file inode/);
  });

  it('refuses an attribute change on an inode that does not exist', () => {
    const state = queueWith([]);
    assert.match(applyError(state, event(state.seq + 1, { type: 'modeChanged', ino: 777, mode: 0o600 })).message, /no inode 777/);
  });

  it('refuses removing an xattr that is not set', () => {
    const state = queueWith([]);
    const queueIno = state.queues.get('q')!.ino;
    assert.match(applyError(state, event(state.seq + 1, { type: 'xattrRemoved', ino: queueIno, key: 'user.a' })).message, /no xattr/);
  });

  it('names the failing seq when a fold meets a bad event in the middle of a log', () => {
    const log: Event[] = [];
    const replay = emptyState();
    const state = emptyState();
    const recorded = (body: CommandBody, by = alice) => {
      const decision = execute(state, { ...body, by, atMs: T0 });
      if (decision.ok) log.push(...decision.events);
    };
    recorded({ type: 'mkdir', path: '/q', mode: 0o755 });
    recorded({ type: 'create', path: '/q/a', mode: 0o644 });
    log.push(event(3, { type: 'entryRemoved', queue: 'q', name: 'zz', via: 'name' }));
    assert.throws(() => fold(log, replay), (error: unknown) => error instanceof ApplyError && error.seq === 3);
    assert.equal(replay.seq, 2, 'the events before the bad one stay applied');
  });
});

describe('apply: ownership and attributes', () => {
  it('moves byte usage to the new owner of a file', () => {
    const state = queueWith(['abc']);
    run(state, { ...alice, uid: 0, gid: 0 }, { type: 'chown', path: '/q/abc', uid: bob.uid, gid: bob.gid });
    assert.equal(state.userUsage.get(bob.uid)!.bytes, 3);
    assert.equal(state.userUsage.get(alice.uid)!.bytes, 0);
    assert.equal(state.userUsage.get(alice.uid)!.files, 1, 'the name stays charged to its creator');
  });

  it('moves the directory usage to the new owner of a queue', () => {
    const state = queueWith([]);
    run(state, { ...alice, uid: 0, gid: 0 }, { type: 'chown', path: '/q', uid: bob.uid, gid: bob.gid });
    assert.deepEqual(state.userUsage.get(bob.uid), { dirs: 1, files: 0, bytes: 0 });
    assert.equal(state.userUsage.has(alice.uid), false);
  });

  it('sets ctime on chmod, chown and xattr changes', () => {
    const state = queueWith(['a']);
    const [changed] = run(state, alice, { type: 'chmod', path: '/q/a', mode: 0o600 });
    assert.equal(state.inodes.get(ino(state, '/q/a'))!.ctimeMs, changed!.t);
    const [set] = run(state, alice, { type: 'setxattr', path: '/q', key: 'user.k', value: Buffer.from('v'), flags: 0 });
    assert.equal(state.queues.get('q')!.ctimeMs, set!.t);
  });

  it('copies xattr values, so the event buffer can be reused', () => {
    const state = queueWith([]);
    const value = Buffer.from('v');
    run(state, alice, { type: 'setxattr', path: '/q', key: 'user.k', value, flags: 0 });
    value.fill(0);
    assert.equal(state.queues.get('q')!.xattrs.get('user.k')!.toString(), 'v');
  });
});
