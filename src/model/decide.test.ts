// Every rule of decide (DESIGN.md "Semantics"), one describe per command. Refusals are checked
// as thoroughly as acceptances, and every refusal also checks that decide left the state alone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Limits, QuotaTable } from '../config/limits.ts';
import {
  DAEMON, ID_UNCHANGED, NAME_BYTES_MAX, STICKY_XATTR, XATTR_CREATE, XATTR_REPLACE,
  decide, emptyState, execute, resolve, stateHash,
  type Caller, type CommandBody, type Errno, type Event, type State,
} from './index.ts';

const T0 = 1_700_000_000_000;
const root: Caller = { uid: 0, gid: 0, pid: 10, start: 100 };
const alice: Caller = { uid: 1000, gid: 100, pid: 20, start: 200 };
/** Shares alice's group, so group limits bind the two of them together. */
const bob: Caller = { uid: 1001, gid: 100, pid: 30, start: 300 };
const carol: Caller = { uid: 1002, gid: 200, pid: 40, start: 400 };

/** Executes a command that must be accepted and returns its events. */
function run(state: State, by: Caller, body: CommandBody, atMs = T0 + state.seq + 1): Event[] {
  const decision = execute(state, { ...body, by, atMs });
  if (!decision.ok) assert.fail(`${body.type} by uid ${by.uid} was refused with ${decision.errno}`);
  return decision.events;
}

/** Decides a command that must be refused; returns the errno and checks the state did not change. */
function refusal(state: State, by: Caller, body: CommandBody): Errno {
  const before = stateHash(state);
  const decision = decide(state, { ...body, by, atMs: T0 + 999_999 });
  if (decision.ok) assert.fail(`${body.type} by uid ${by.uid} was accepted: ${decision.events.map((e) => e.type).join(', ')}`);
  assert.equal(stateHash(state), before, 'a refused command must not change the state');
  return decision.errno;
}

/** Decides a command that must be accepted, without applying it. */
function accepted(state: State, by: Caller, body: CommandBody): Event[] {
  const decision = decide(state, { ...body, by, atMs: T0 + 999_999 });
  if (!decision.ok) assert.fail(`${body.type} by uid ${by.uid} was refused with ${decision.errno}`);
  return decision.events;
}

function inoOf(state: State, path: string): number {
  const node = resolve(state, path);
  if (typeof node === 'string') assert.fail(`${path}: ${node}`);
  if (node.kind === 'file') return node.inode.ino;
  if (node.kind === 'queue') return node.queue.ino;
  assert.fail(`${path} is a ${node.kind}`);
}

/** alice owns queue q holding m1 (5 bytes) and m2; bob owns queue r, empty. */
function world(): State {
  const state = emptyState();
  run(state, alice, { type: 'mkdir', path: '/q', mode: 0o755 });
  run(state, alice, { type: 'create', path: '/q/m1', mode: 0o644 });
  run(state, alice, { type: 'write', ino: inoOf(state, '/q/m1'), offset: 0, data: Buffer.from('hello') });
  run(state, alice, { type: 'create', path: '/q/m2', mode: 0o600 });
  run(state, bob, { type: 'mkdir', path: '/r', mode: 0o700 });
  return state;
}

function quotas(defaults: Partial<Limits>, extra: Partial<Omit<QuotaTable, 'defaults'>> = {}): QuotaTable {
  const unlimited: Limits = { maxDirs: null, maxFiles: null, maxFilesPerDir: null, maxBytes: null };
  return { defaults: { ...unlimited, ...defaults }, users: {}, groups: {}, rootExempt: false, ...extra };
}

function withQuotas(state: State, table: QuotaTable): State {
  run(state, DAEMON, { type: 'setQuotas', quotas: table });
  return state;
}

describe('decide (all commands)', () => {
  it('stamps events with dense seqs after the state seq, the command time and the caller', () => {
    const state = world();
    const events = accepted(state, carol, { type: 'mkdir', path: '/c', mode: 0o700 });
    assert.equal(events.length, 1);
    assert.deepEqual(
      { v: events[0]!.v, seq: events[0]!.seq, t: events[0]!.t, uid: events[0]!.uid, gid: events[0]!.gid, pid: events[0]!.pid },
      { v: 1, seq: state.seq + 1, t: T0 + 999_999, uid: carol.uid, gid: carol.gid, pid: carol.pid },
    );
  });

  it('never changes the state it decides on, even when it accepts', () => {
    const state = world();
    const before = stateHash(state);
    accepted(state, alice, { type: 'unlink', path: '/q/head' });
    accepted(state, alice, { type: 'write', ino: inoOf(state, '/q/m1'), offset: 100, data: Buffer.from('x') });
    assert.equal(stateHash(state), before);
  });
});

describe('setQuotas', () => {
  it('records the table as a quotasSet event carrying it whole', () => {
    const table = quotas({ maxDirs: 3 });
    const events = accepted(emptyState(), DAEMON, { type: 'setQuotas', quotas: table });
    assert.equal(events[0]!.type, 'quotasSet');
    assert.deepEqual(events[0]!.type === 'quotasSet' && events[0]!.quotas, table);
  });
});

describe('mkdir', () => {
  it('creates a queue owned by the caller with the creator pid and start time', () => {
    const state = emptyState();
    const [event] = run(state, alice, { type: 'mkdir', path: '/q', mode: 0o40755 });
    assert.deepEqual(event && event.type === 'queueCreated' && { ...event.creator, mode: event.mode }, { pid: 20, start: 200, mode: 0o755 });
    assert.equal(state.queues.get('q')!.uid, alice.uid);
    assert.equal(state.queues.get('q')!.gid, alice.gid);
  });

  it('refuses a queue name that already exists with EEXIST', () => {
    assert.equal(refusal(world(), carol, { type: 'mkdir', path: '/q', mode: 0o755 }), 'EEXIST');
  });

  it('refuses a queue whose name is taken even when another user made it', () => {
    assert.equal(refusal(world(), root, { type: 'mkdir', path: '/r', mode: 0o755 }), 'EEXIST');
  });

  it('refuses mkdir of the root itself with EEXIST', () => {
    assert.equal(refusal(world(), root, { type: 'mkdir', path: '/', mode: 0o755 }), 'EEXIST');
  });

  it('refuses a directory inside a queue with EPERM', () => {
    assert.equal(refusal(world(), alice, { type: 'mkdir', path: '/q/sub', mode: 0o755 }), 'EPERM');
  });

  it('refuses a directory inside a queue with EPERM even for root', () => {
    assert.equal(refusal(world(), root, { type: 'mkdir', path: '/q/sub', mode: 0o755 }), 'EPERM');
  });

  it('refuses a directory inside a missing queue with ENOENT', () => {
    assert.equal(refusal(world(), alice, { type: 'mkdir', path: '/nope/sub', mode: 0o755 }), 'ENOENT');
  });

  it('refuses a path three levels deep with ENOENT', () => {
    assert.equal(refusal(world(), alice, { type: 'mkdir', path: '/q/m1/x', mode: 0o755 }), 'ENOENT');
  });

  it('accepts a queue name of exactly NAME_BYTES_MAX bytes', () => {
    accepted(emptyState(), alice, { type: 'mkdir', path: `/${'a'.repeat(NAME_BYTES_MAX)}`, mode: 0o755 });
  });

  it('refuses a queue name one byte longer than NAME_BYTES_MAX with ENAMETOOLONG', () => {
    assert.equal(refusal(emptyState(), alice, { type: 'mkdir', path: `/${'a'.repeat(NAME_BYTES_MAX + 1)}`, mode: 0o755 }), 'ENAMETOOLONG');
  });

  it('counts name length in UTF-8 bytes, not characters', () => {
    const name = 'é'.repeat(128); // 128 characters, 256 bytes
    assert.equal(refusal(emptyState(), alice, { type: 'mkdir', path: `/${name}`, mode: 0o755 }), 'ENAMETOOLONG');
  });

  it('allows a queue called head or tail (only files may not take those names)', () => {
    accepted(emptyState(), alice, { type: 'mkdir', path: '/head', mode: 0o755 });
  });

  it('keeps only permission bits of the mode', () => {
    const [event] = accepted(emptyState(), alice, { type: 'mkdir', path: '/q', mode: 0o177777 });
    assert.equal(event!.type === 'queueCreated' && event.mode, 0o7777);
  });

  it('gives each queue three inode numbers (directory, head, tail)', () => {
    const state = emptyState();
    run(state, alice, { type: 'mkdir', path: '/a', mode: 0o755 });
    run(state, alice, { type: 'mkdir', path: '/b', mode: 0o755 });
    assert.equal(state.queues.get('b')!.ino - state.queues.get('a')!.ino, 3);
  });
});

describe('rmdir', () => {
  it('removes an empty queue', () => {
    const state = world();
    run(state, bob, { type: 'rmdir', path: '/r' });
    assert.equal(state.queues.has('r'), false);
  });

  it('refuses a queue that still holds files with ENOTEMPTY', () => {
    assert.equal(refusal(world(), alice, { type: 'rmdir', path: '/q' }), 'ENOTEMPTY');
  });

  it('accepts a queue once its last file is popped', () => {
    const state = world();
    run(state, alice, { type: 'unlink', path: '/q/head' });
    run(state, alice, { type: 'unlink', path: '/q/head' });
    run(state, alice, { type: 'rmdir', path: '/q' });
  });

  it('refuses a missing queue with ENOENT', () => {
    assert.equal(refusal(world(), alice, { type: 'rmdir', path: '/nope' }), 'ENOENT');
  });

  it('refuses the root with EPERM', () => {
    assert.equal(refusal(world(), root, { type: 'rmdir', path: '/' }), 'EPERM');
  });

  it('refuses a file with ENOTDIR', () => {
    assert.equal(refusal(world(), alice, { type: 'rmdir', path: '/q/m1' }), 'ENOTDIR');
  });

  it('refuses the head symlink with ENOTDIR', () => {
    assert.equal(refusal(world(), alice, { type: 'rmdir', path: '/q/head' }), 'ENOTDIR');
  });

  it('refuses head of an empty queue with ENOENT (it does not exist then)', () => {
    assert.equal(refusal(world(), bob, { type: 'rmdir', path: '/r/head' }), 'ENOENT');
  });
});

describe('create', () => {
  it('appends a file owned by the caller at the tail of the queue', () => {
    const state = world();
    run(state, bob, { type: 'create', path: '/q/m3', mode: 0o640 });
    const inode = state.inodes.get(inoOf(state, '/q/m3'))!;
    assert.deepEqual([inode.uid, inode.gid, inode.mode, inode.size, inode.nlink], [bob.uid, bob.gid, 0o640, 0, 1]);
    assert.equal(state.queues.get('q')!.tail!.name, 'm3');
  });

  it('refuses a regular file in the root with EPERM', () => {
    assert.equal(refusal(world(), alice, { type: 'create', path: '/file', mode: 0o644 }), 'EPERM');
  });

  it('refuses a regular file in the root with EPERM even for root', () => {
    assert.equal(refusal(world(), root, { type: 'create', path: '/file', mode: 0o644 }), 'EPERM');
  });

  it('refuses creating a file over an existing queue name with EEXIST', () => {
    assert.equal(refusal(world(), alice, { type: 'create', path: '/q', mode: 0o644 }), 'EEXIST');
  });

  it('refuses creating the root with EEXIST', () => {
    assert.equal(refusal(world(), alice, { type: 'create', path: '/', mode: 0o644 }), 'EEXIST');
  });

  it('refuses a file named head with EEXIST', () => {
    assert.equal(refusal(world(), alice, { type: 'create', path: '/q/head', mode: 0o644 }), 'EEXIST');
  });

  it('refuses a file named tail with EEXIST, even in an empty queue where tail is absent', () => {
    assert.equal(refusal(world(), bob, { type: 'create', path: '/r/tail', mode: 0o644 }), 'EEXIST');
  });

  it('refuses a duplicate name with EEXIST', () => {
    assert.equal(refusal(world(), alice, { type: 'create', path: '/q/m1', mode: 0o644 }), 'EEXIST');
  });

  it('accepts a name that exists in another queue', () => {
    accepted(world(), bob, { type: 'create', path: '/r/m1', mode: 0o644 });
  });

  it('accepts a name again once it was popped', () => {
    const state = world();
    run(state, alice, { type: 'unlink', path: '/q/head' });
    run(state, alice, { type: 'create', path: '/q/m1', mode: 0o644 });
    assert.equal(state.queues.get('q')!.tail!.name, 'm1');
  });

  it('refuses a file in a missing queue with ENOENT', () => {
    assert.equal(refusal(world(), alice, { type: 'create', path: '/nope/m', mode: 0o644 }), 'ENOENT');
  });

  it('refuses a path three levels deep with ENOENT', () => {
    assert.equal(refusal(world(), alice, { type: 'create', path: '/q/m1/x', mode: 0o644 }), 'ENOENT');
  });

  it('accepts a file name of exactly NAME_BYTES_MAX bytes', () => {
    accepted(world(), alice, { type: 'create', path: `/q/${'n'.repeat(NAME_BYTES_MAX)}`, mode: 0o644 });
  });

  it('refuses a file name longer than NAME_BYTES_MAX bytes with ENAMETOOLONG', () => {
    assert.equal(refusal(world(), alice, { type: 'create', path: `/q/${'n'.repeat(NAME_BYTES_MAX + 1)}`, mode: 0o644 }), 'ENAMETOOLONG');
  });

  it('allocates a fresh inode number for every file, never reusing a freed one', () => {
    const state = world();
    const first = inoOf(state, '/q/m1');
    run(state, alice, { type: 'unlink', path: '/q/m1' });
    run(state, alice, { type: 'create', path: '/q/m1', mode: 0o644 });
    assert.ok(inoOf(state, '/q/m1') > first);
  });
});

describe('write', () => {
  it('records the bytes and offset as a dataWritten event', () => {
    const state = world();
    const ino = inoOf(state, '/q/m2');
    const [event] = accepted(state, alice, { type: 'write', ino, offset: 3, data: Buffer.from('abc') });
    assert.equal(event!.type, 'dataWritten');
    assert.deepEqual(event!.type === 'dataWritten' && [event.ino, event.offset, event.data.toString()], [ino, 3, 'abc']);
  });

  it('refuses an inode that does not exist with ENOENT', () => {
    assert.equal(refusal(world(), alice, { type: 'write', ino: 9999, offset: 0, data: Buffer.from('x') }), 'ENOENT');
  });

  it('refuses a queue inode with ENOENT (only files hold data)', () => {
    const state = world();
    assert.equal(refusal(state, alice, { type: 'write', ino: inoOf(state, '/q'), offset: 0, data: Buffer.from('x') }), 'ENOENT');
  });

  it('refuses an inode whose last name was popped with ENOENT', () => {
    const state = world();
    const ino = inoOf(state, '/q/m1');
    run(state, alice, { type: 'unlink', path: '/q/head' });
    assert.equal(refusal(state, alice, { type: 'write', ino, offset: 0, data: Buffer.from('x') }), 'ENOENT');
  });

  it('refuses a negative offset with EINVAL', () => {
    const state = world();
    assert.equal(refusal(state, alice, { type: 'write', ino: inoOf(state, '/q/m1'), offset: -1, data: Buffer.from('x') }), 'EINVAL');
  });

  it('refuses an offset that is not an integer with EINVAL', () => {
    const state = world();
    assert.equal(refusal(state, alice, { type: 'write', ino: inoOf(state, '/q/m1'), offset: 1.5, data: Buffer.from('x') }), 'EINVAL');
  });

  it('refuses an end past 2^53 with EINVAL', () => {
    const state = world();
    const offset = Number.MAX_SAFE_INTEGER;
    assert.equal(refusal(state, alice, { type: 'write', ino: inoOf(state, '/q/m1'), offset, data: Buffer.from('x') }), 'EINVAL');
  });

  // Without a byte limit (no quota table, an unlimited user, or root when exempt) decide accepts
  // any safe-integer end, but apply keeps a file in one Buffer (at most 4 GiB on Node 20) and
  // throws a RangeError, not an ApplyError. The shell appends before it applies, so the event is
  // already in the log and every later replay of that log fails the same way.
  it('refuses a write past the largest file with EFBIG instead of emitting an event apply cannot fold', () => {
    const state = world();
    const decision = decide(state, { type: 'write', ino: inoOf(state, '/q/m1'), offset: 2 ** 33, data: Buffer.from('x'), by: root, atMs: T0 });
    assert.deepEqual(decision, { ok: false, errno: 'EFBIG' });
  });

  it('accepts an empty write without any event', () => {
    const state = world();
    assert.deepEqual(accepted(state, alice, { type: 'write', ino: inoOf(state, '/q/m1'), offset: 0, data: Buffer.alloc(0) }), []);
  });
});

describe('truncate', () => {
  it('records the new size as a fileTruncated event', () => {
    const state = world();
    const [event] = accepted(state, alice, { type: 'truncate', ino: inoOf(state, '/q/m1'), size: 2 });
    assert.equal(event!.type === 'fileTruncated' && event.size, 2);
  });

  it('accepts truncating to the current size without any event', () => {
    const state = world();
    assert.deepEqual(accepted(state, alice, { type: 'truncate', ino: inoOf(state, '/q/m1'), size: 5 }), []);
  });

  it('refuses an inode that does not exist with ENOENT', () => {
    assert.equal(refusal(world(), alice, { type: 'truncate', ino: 4242, size: 0 }), 'ENOENT');
  });

  it('refuses a negative size with EINVAL', () => {
    const state = world();
    assert.equal(refusal(state, alice, { type: 'truncate', ino: inoOf(state, '/q/m1'), size: -1 }), 'EINVAL');
  });

  it('refuses growing a file beyond the largest file with EFBIG', () => {
    const state = world();
    const decision = decide(state, { type: 'truncate', ino: inoOf(state, '/q/m1'), size: 2 ** 40, by: root, atMs: T0 });
    assert.deepEqual(decision, { ok: false, errno: 'EFBIG' });
  });

  it('refuses a size that is not a safe integer with EINVAL', () => {
    const state = world();
    assert.equal(refusal(state, alice, { type: 'truncate', ino: inoOf(state, '/q/m1'), size: 2 ** 53 }), 'EINVAL');
    assert.equal(refusal(state, alice, { type: 'truncate', ino: inoOf(state, '/q/m1'), size: 0.5 }), 'EINVAL');
  });
});

describe('link', () => {
  it('appends the same inode to the target queue and raises nlink', () => {
    const state = world();
    const ino = inoOf(state, '/q/m1');
    run(state, bob, { type: 'link', from: '/q/m1', to: '/r/copy' });
    assert.equal(inoOf(state, '/r/copy'), ino);
    assert.equal(state.inodes.get(ino)!.nlink, 2);
  });

  it('accepts a second name for the same inode in the same queue', () => {
    const state = world();
    run(state, alice, { type: 'link', from: '/q/m1', to: '/q/again' });
    assert.equal(state.queues.get('q')!.tail!.name, 'again');
  });

  it('refuses a missing source with ENOENT', () => {
    assert.equal(refusal(world(), alice, { type: 'link', from: '/q/nope', to: '/r/x' }), 'ENOENT');
  });

  it('refuses a source in a missing queue with ENOENT', () => {
    assert.equal(refusal(world(), alice, { type: 'link', from: '/nope/m1', to: '/r/x' }), 'ENOENT');
  });

  it('refuses a queue as the source with EPERM (no hard links to directories)', () => {
    assert.equal(refusal(world(), alice, { type: 'link', from: '/q', to: '/r/x' }), 'EPERM');
  });

  it('refuses the root as the source with EPERM', () => {
    assert.equal(refusal(world(), root, { type: 'link', from: '/', to: '/r/x' }), 'EPERM');
  });

  it('refuses the head symlink as the source with EPERM', () => {
    assert.equal(refusal(world(), alice, { type: 'link', from: '/q/head', to: '/r/x' }), 'EPERM');
  });

  it('refuses a target in the root with EPERM', () => {
    assert.equal(refusal(world(), alice, { type: 'link', from: '/q/m1', to: '/x' }), 'EPERM');
  });

  it('refuses a target that is an existing queue with EEXIST', () => {
    assert.equal(refusal(world(), alice, { type: 'link', from: '/q/m1', to: '/r' }), 'EEXIST');
  });

  it('refuses the root as the target with EEXIST', () => {
    assert.equal(refusal(world(), alice, { type: 'link', from: '/q/m1', to: '/' }), 'EEXIST');
  });

  it('refuses a target in a missing queue with ENOENT', () => {
    assert.equal(refusal(world(), alice, { type: 'link', from: '/q/m1', to: '/nope/x' }), 'ENOENT');
  });

  it('refuses a target three levels deep with ENOENT', () => {
    assert.equal(refusal(world(), alice, { type: 'link', from: '/q/m1', to: '/r/x/y' }), 'ENOENT');
  });

  it('refuses a target named head or tail with EEXIST', () => {
    assert.equal(refusal(world(), alice, { type: 'link', from: '/q/m1', to: '/r/head' }), 'EEXIST');
    assert.equal(refusal(world(), alice, { type: 'link', from: '/q/m1', to: '/r/tail' }), 'EEXIST');
  });

  it('refuses a target name that is taken with EEXIST', () => {
    assert.equal(refusal(world(), alice, { type: 'link', from: '/q/m1', to: '/q/m2' }), 'EEXIST');
  });

  it('refuses linking a name onto itself with EEXIST', () => {
    assert.equal(refusal(world(), alice, { type: 'link', from: '/q/m1', to: '/q/m1' }), 'EEXIST');
  });

  it('refuses a target name longer than NAME_BYTES_MAX bytes with ENAMETOOLONG', () => {
    assert.equal(refusal(world(), alice, { type: 'link', from: '/q/m1', to: `/r/${'x'.repeat(NAME_BYTES_MAX + 1)}` }), 'ENAMETOOLONG');
  });
});

describe('unlink', () => {
  it('pops the oldest file through head', () => {
    const [event] = accepted(world(), alice, { type: 'unlink', path: '/q/head' });
    assert.deepEqual(event!.type === 'entryRemoved' && [event.name, event.via], ['m1', 'head']);
  });

  it('pops the newest file through tail', () => {
    const [event] = accepted(world(), alice, { type: 'unlink', path: '/q/tail' });
    assert.deepEqual(event!.type === 'entryRemoved' && [event.name, event.via], ['m2', 'tail']);
  });

  it('removes a file by its own name', () => {
    const [event] = accepted(world(), alice, { type: 'unlink', path: '/q/m1' });
    assert.deepEqual(event!.type === 'entryRemoved' && [event.name, event.via], ['m1', 'name']);
  });

  it('refuses a name that is not there with ENOENT (another consumer won it)', () => {
    const state = world();
    run(state, alice, { type: 'unlink', path: '/q/m1' });
    assert.equal(refusal(state, alice, { type: 'unlink', path: '/q/m1' }), 'ENOENT');
  });

  it('refuses head and tail of an empty queue with ENOENT', () => {
    assert.equal(refusal(world(), bob, { type: 'unlink', path: '/r/head' }), 'ENOENT');
    assert.equal(refusal(world(), bob, { type: 'unlink', path: '/r/tail' }), 'ENOENT');
  });

  it('refuses a file in a missing queue with ENOENT', () => {
    assert.equal(refusal(world(), bob, { type: 'unlink', path: '/nope/m1' }), 'ENOENT');
  });

  it('refuses a path three levels deep with ENOENT', () => {
    assert.equal(refusal(world(), bob, { type: 'unlink', path: '/q/m1/x' }), 'ENOENT');
  });

  it('refuses a queue with EISDIR', () => {
    assert.equal(refusal(world(), alice, { type: 'unlink', path: '/q' }), 'EISDIR');
  });

  it('refuses the root with EISDIR', () => {
    assert.equal(refusal(world(), root, { type: 'unlink', path: '/' }), 'EISDIR');
  });
});

describe('chmod', () => {
  it('lets the owner change the mode of a file, keeping permission bits only', () => {
    const state = world();
    const [event] = accepted(state, alice, { type: 'chmod', path: '/q/m1', mode: 0o100600 });
    assert.deepEqual(event!.type === 'modeChanged' && [event.ino, event.mode], [inoOf(state, '/q/m1'), 0o600]);
  });

  it('lets the owner change the mode of a queue', () => {
    const state = world();
    run(state, alice, { type: 'chmod', path: '/q', mode: 0o700 });
    assert.equal(state.queues.get('q')!.mode, 0o700);
  });

  it('lets root change the mode of anything it does not own', () => {
    accepted(world(), root, { type: 'chmod', path: '/q/m1', mode: 0o600 });
    accepted(world(), root, { type: 'chmod', path: '/r', mode: 0o777 });
  });

  it('refuses a caller that does not own the file with EPERM', () => {
    assert.equal(refusal(world(), bob, { type: 'chmod', path: '/q/m1', mode: 0o777 }), 'EPERM');
  });

  it('refuses a caller in the owning group that is not the owner with EPERM', () => {
    assert.equal(refusal(world(), bob, { type: 'chmod', path: '/q', mode: 0o777 }), 'EPERM');
  });

  it('refuses the head and tail symlinks with EPERM (they belong to the filesystem)', () => {
    assert.equal(refusal(world(), alice, { type: 'chmod', path: '/q/head', mode: 0o600 }), 'EPERM');
    assert.equal(refusal(world(), root, { type: 'chmod', path: '/q/tail', mode: 0o600 }), 'EPERM');
  });

  it('refuses the root directory with EPERM', () => {
    assert.equal(refusal(world(), root, { type: 'chmod', path: '/', mode: 0o700 }), 'EPERM');
  });

  it('refuses a missing path with ENOENT', () => {
    assert.equal(refusal(world(), root, { type: 'chmod', path: '/q/nope', mode: 0o700 }), 'ENOENT');
  });
});

describe('chown', () => {
  it('lets root give a file to any user and group', () => {
    const state = world();
    run(state, root, { type: 'chown', path: '/q/m1', uid: carol.uid, gid: carol.gid });
    const inode = state.inodes.get(inoOf(state, '/q/m1'))!;
    assert.deepEqual([inode.uid, inode.gid], [carol.uid, carol.gid]);
  });

  it('lets root give a queue to another user', () => {
    const state = world();
    run(state, root, { type: 'chown', path: '/q', uid: carol.uid, gid: ID_UNCHANGED });
    assert.deepEqual([state.queues.get('q')!.uid, state.queues.get('q')!.gid], [carol.uid, alice.gid]);
  });

  it('lets the owner set the group to its own group', () => {
    const state = world();
    run(state, root, { type: 'chown', path: '/q/m1', uid: ID_UNCHANGED, gid: 999 });
    run(state, alice, { type: 'chown', path: '/q/m1', uid: ID_UNCHANGED, gid: alice.gid });
    assert.equal(state.inodes.get(inoOf(state, '/q/m1'))!.gid, alice.gid);
  });

  it('lets the owner name its own uid explicitly', () => {
    accepted(world(), alice, { type: 'chown', path: '/q/m1', uid: alice.uid, gid: alice.gid });
  });

  it('treats (uid_t) -1 as leaving the field unchanged', () => {
    const state = world();
    const [event] = accepted(state, alice, { type: 'chown', path: '/q/m1', uid: ID_UNCHANGED, gid: ID_UNCHANGED });
    assert.deepEqual(event!.type === 'ownerChanged' && event.owner, { uid: alice.uid, gid: alice.gid });
  });

  it('refuses the owner giving a file away to another user with EPERM', () => {
    assert.equal(refusal(world(), alice, { type: 'chown', path: '/q/m1', uid: bob.uid, gid: ID_UNCHANGED }), 'EPERM');
  });

  it('refuses the owner setting a group it is not in with EPERM', () => {
    assert.equal(refusal(world(), alice, { type: 'chown', path: '/q/m1', uid: ID_UNCHANGED, gid: carol.gid }), 'EPERM');
  });

  it('refuses a non-owner changing the group to its own group with EPERM', () => {
    assert.equal(refusal(world(), bob, { type: 'chown', path: '/q/m1', uid: ID_UNCHANGED, gid: bob.gid }), 'EPERM');
  });

  it('refuses a non-owner taking a file for itself with EPERM', () => {
    assert.equal(refusal(world(), bob, { type: 'chown', path: '/q/m1', uid: bob.uid, gid: ID_UNCHANGED }), 'EPERM');
  });

  it('refuses head and tail with EPERM', () => {
    assert.equal(refusal(world(), root, { type: 'chown', path: '/q/head', uid: 5, gid: 5 }), 'EPERM');
  });

  it('refuses the root directory with EPERM', () => {
    assert.equal(refusal(world(), root, { type: 'chown', path: '/', uid: 5, gid: 5 }), 'EPERM');
  });

  it('refuses a missing path with ENOENT', () => {
    assert.equal(refusal(world(), root, { type: 'chown', path: '/nope', uid: 5, gid: 5 }), 'ENOENT');
  });
});

describe('utimens', () => {
  it('records both times on a file', () => {
    const state = world();
    run(state, alice, { type: 'utimens', path: '/q/m1', atimeMs: 11, mtimeMs: 22 });
    const inode = state.inodes.get(inoOf(state, '/q/m1'))!;
    assert.deepEqual([inode.atimeMs, inode.mtimeMs], [11, 22]);
  });

  it('records both times on a queue', () => {
    const state = world();
    run(state, bob, { type: 'utimens', path: '/r', atimeMs: 33, mtimeMs: 44 });
    assert.deepEqual([state.queues.get('r')!.atimeMs, state.queues.get('r')!.mtimeMs], [33, 44]);
  });

  it('refuses head, tail and the root with EPERM', () => {
    assert.equal(refusal(world(), alice, { type: 'utimens', path: '/q/head', atimeMs: 1, mtimeMs: 1 }), 'EPERM');
    assert.equal(refusal(world(), root, { type: 'utimens', path: '/', atimeMs: 1, mtimeMs: 1 }), 'EPERM');
  });

  it('refuses a missing path with ENOENT', () => {
    assert.equal(refusal(world(), alice, { type: 'utimens', path: '/q/zz', atimeMs: 1, mtimeMs: 1 }), 'ENOENT');
  });
});

describe('setxattr', () => {
  const value = Buffer.from('v');

  it('sets a user xattr on a file', () => {
    const state = world();
    run(state, alice, { type: 'setxattr', path: '/q/m1', key: 'user.color', value, flags: 0 });
    assert.deepEqual(state.inodes.get(inoOf(state, '/q/m1'))!.xattrs.get('user.color'), value);
  });

  it('replaces an existing user xattr when no flag is given', () => {
    const state = world();
    run(state, alice, { type: 'setxattr', path: '/q', key: 'user.a', value, flags: 0 });
    run(state, alice, { type: 'setxattr', path: '/q', key: 'user.a', value: Buffer.from('w'), flags: 0 });
    assert.equal(state.queues.get('q')!.xattrs.get('user.a')!.toString(), 'w');
  });

  for (const key of ['trusted.x', 'security.selinux', 'system.posix_acl_access', 'userx', 'USER.x']) {
    it(`refuses the non-user namespace key ${JSON.stringify(key)} with ENOTSUP`, () => {
      assert.equal(refusal(world(), root, { type: 'setxattr', path: '/q/m1', key, value, flags: 0 }), 'ENOTSUP');
    });
  }

  it('accepts XATTR_CREATE for a key that does not exist yet', () => {
    accepted(world(), alice, { type: 'setxattr', path: '/q/m1', key: 'user.new', value, flags: XATTR_CREATE });
  });

  it('refuses XATTR_CREATE for a key that exists with EEXIST', () => {
    const state = world();
    run(state, alice, { type: 'setxattr', path: '/q/m1', key: 'user.a', value, flags: 0 });
    assert.equal(refusal(state, alice, { type: 'setxattr', path: '/q/m1', key: 'user.a', value, flags: XATTR_CREATE }), 'EEXIST');
  });

  it('accepts XATTR_REPLACE for a key that exists', () => {
    const state = world();
    run(state, alice, { type: 'setxattr', path: '/q/m1', key: 'user.a', value, flags: 0 });
    accepted(state, alice, { type: 'setxattr', path: '/q/m1', key: 'user.a', value, flags: XATTR_REPLACE });
  });

  it('refuses XATTR_REPLACE for a key that does not exist with ENODATA', () => {
    assert.equal(refusal(world(), alice, { type: 'setxattr', path: '/q/m1', key: 'user.a', value, flags: XATTR_REPLACE }), 'ENODATA');
  });

  it('lets the owner make its queue sticky', () => {
    const state = world();
    run(state, alice, { type: 'setxattr', path: '/q', key: STICKY_XATTR, value: Buffer.alloc(0), flags: 0 });
    assert.ok(state.queues.get('q')!.xattrs.has(STICKY_XATTR));
  });

  it('lets root make any queue sticky', () => {
    accepted(world(), root, { type: 'setxattr', path: '/q', key: STICKY_XATTR, value: Buffer.alloc(0), flags: 0 });
  });

  it('refuses the sticky xattr from a caller that does not own the queue with EPERM', () => {
    assert.equal(refusal(world(), bob, { type: 'setxattr', path: '/q', key: STICKY_XATTR, value: Buffer.alloc(0), flags: 0 }), 'EPERM');
  });

  it('lets a non-owner set an ordinary user xattr (the kernel checks write permission)', () => {
    accepted(world(), bob, { type: 'setxattr', path: '/q', key: 'user.note', value, flags: 0 });
  });

  it('refuses head, tail and the root with EPERM', () => {
    assert.equal(refusal(world(), alice, { type: 'setxattr', path: '/q/head', key: 'user.a', value, flags: 0 }), 'EPERM');
    assert.equal(refusal(world(), root, { type: 'setxattr', path: '/', key: 'user.a', value, flags: 0 }), 'EPERM');
  });

  it('refuses a missing path with ENOENT', () => {
    assert.equal(refusal(world(), alice, { type: 'setxattr', path: '/q/zz', key: 'user.a', value, flags: 0 }), 'ENOENT');
  });
});

describe('removexattr', () => {
  function stickyWorld(): State {
    const state = world();
    run(state, alice, { type: 'setxattr', path: '/q', key: STICKY_XATTR, value: Buffer.alloc(0), flags: 0 });
    run(state, alice, { type: 'setxattr', path: '/q/m1', key: 'user.a', value: Buffer.from('1'), flags: 0 });
    return state;
  }

  it('removes an existing user xattr', () => {
    const state = stickyWorld();
    run(state, alice, { type: 'removexattr', path: '/q/m1', key: 'user.a' });
    assert.equal(state.inodes.get(inoOf(state, '/q/m1'))!.xattrs.size, 0);
  });

  it('refuses a key that is not set with ENODATA', () => {
    assert.equal(refusal(stickyWorld(), alice, { type: 'removexattr', path: '/q/m1', key: 'user.b' }), 'ENODATA');
  });

  it('refuses a non-user namespace key with ENOTSUP', () => {
    assert.equal(refusal(stickyWorld(), root, { type: 'removexattr', path: '/q/m1', key: 'trusted.a' }), 'ENOTSUP');
  });

  it('lets the owner re-arm fate-sharing by removing the sticky xattr', () => {
    const state = stickyWorld();
    run(state, alice, { type: 'removexattr', path: '/q', key: STICKY_XATTR });
    assert.equal(state.queues.get('q')!.xattrs.has(STICKY_XATTR), false);
  });

  it('lets root remove the sticky xattr', () => {
    accepted(stickyWorld(), root, { type: 'removexattr', path: '/q', key: STICKY_XATTR });
  });

  it('refuses removing the sticky xattr by a caller that does not own the queue with EPERM', () => {
    assert.equal(refusal(stickyWorld(), bob, { type: 'removexattr', path: '/q', key: STICKY_XATTR }), 'EPERM');
  });

  it('refuses head and missing paths', () => {
    assert.equal(refusal(stickyWorld(), alice, { type: 'removexattr', path: '/q/head', key: 'user.a' }), 'EPERM');
    assert.equal(refusal(stickyWorld(), alice, { type: 'removexattr', path: '/x', key: 'user.a' }), 'ENOENT');
  });
});

describe('reap', () => {
  it('reaps a queue with its creator recorded in the event', () => {
    const state = world();
    const [event] = run(state, DAEMON, { type: 'reap', queue: 'q' });
    assert.deepEqual(event!.type === 'queueReaped' && event.creator, { pid: alice.pid, start: alice.start });
    assert.equal(state.queues.has('q'), false);
  });

  it('reaps a queue that still holds files (unlike rmdir)', () => {
    const state = world();
    run(state, DAEMON, { type: 'reap', queue: 'q' });
    assert.equal(state.inodes.size, 0);
  });

  it('refuses a sticky queue with EPERM', () => {
    const state = world();
    run(state, alice, { type: 'setxattr', path: '/q', key: STICKY_XATTR, value: Buffer.alloc(0), flags: 0 });
    assert.equal(refusal(state, DAEMON, { type: 'reap', queue: 'q' }), 'EPERM');
  });

  it('reaps a queue again once its sticky xattr is removed', () => {
    const state = world();
    run(state, alice, { type: 'setxattr', path: '/q', key: STICKY_XATTR, value: Buffer.alloc(0), flags: 0 });
    run(state, alice, { type: 'removexattr', path: '/q', key: STICKY_XATTR });
    run(state, DAEMON, { type: 'reap', queue: 'q' });
  });

  it('is not fooled by an ordinary user xattr on the queue', () => {
    const state = world();
    run(state, alice, { type: 'setxattr', path: '/q', key: 'user.eventfs_stickyish', value: Buffer.alloc(0), flags: 0 });
    run(state, DAEMON, { type: 'reap', queue: 'q' });
  });

  it('refuses a missing queue with ENOENT', () => {
    assert.equal(refusal(world(), DAEMON, { type: 'reap', queue: 'nope' }), 'ENOENT');
  });

  // The reaper checks liveness (reading /proc) and only then sends `reap`. If the queue was
  // removed and re-created by a live process in between, the reap must not take the new queue.
  // The command names only the queue, so decide cannot tell the two apart.
  it('refuses to reap a queue re-created by another process after the reaper looked', () => {
    const state = world();
    const seenDead = state.queues.get('r')!.creator;
    run(state, bob, { type: 'rmdir', path: '/r' });
    run(state, carol, { type: 'mkdir', path: '/r', mode: 0o755 });
    const reap = { type: 'reap', queue: 'r', creator: seenDead } as CommandBody;
    assert.notEqual(refusal(state, DAEMON, reap), undefined);
  });
});

describe('quotas (EDQUOT)', () => {
  describe('maxDirs', () => {
    it('accepts queues up to the limit and refuses the next with EDQUOT', () => {
      const state = withQuotas(emptyState(), quotas({ maxDirs: 2 }));
      run(state, alice, { type: 'mkdir', path: '/a', mode: 0o755 });
      run(state, alice, { type: 'mkdir', path: '/b', mode: 0o755 });
      assert.equal(refusal(state, alice, { type: 'mkdir', path: '/c', mode: 0o755 }), 'EDQUOT');
    });

    it('counts per user: another user still has its own allowance', () => {
      const state = withQuotas(emptyState(), quotas({ maxDirs: 1 }));
      run(state, alice, { type: 'mkdir', path: '/a', mode: 0o755 });
      run(state, carol, { type: 'mkdir', path: '/c', mode: 0o755 });
    });

    it('gives the allowance back when a queue is removed or reaped', () => {
      const state = withQuotas(emptyState(), quotas({ maxDirs: 1 }));
      run(state, alice, { type: 'mkdir', path: '/a', mode: 0o755 });
      run(state, alice, { type: 'rmdir', path: '/a' });
      run(state, alice, { type: 'mkdir', path: '/b', mode: 0o755 });
      run(state, DAEMON, { type: 'reap', queue: 'b' });
      run(state, alice, { type: 'mkdir', path: '/c', mode: 0o755 });
    });

    it('refuses every queue with EDQUOT when the limit is 0', () => {
      const state = withQuotas(emptyState(), quotas({ maxDirs: 0 }));
      assert.equal(refusal(state, alice, { type: 'mkdir', path: '/a', mode: 0o755 }), 'EDQUOT');
    });

    it('checks EEXIST before EDQUOT', () => {
      const state = world();
      withQuotas(state, quotas({ maxDirs: 0 }));
      assert.equal(refusal(state, carol, { type: 'mkdir', path: '/q', mode: 0o755 }), 'EEXIST');
    });
  });

  describe('maxFiles', () => {
    it('counts files over all queues of the user and refuses the next with EDQUOT', () => {
      const state = withQuotas(world(), quotas({ maxFiles: 3 }));
      run(state, alice, { type: 'create', path: '/r/a', mode: 0o644 });
      assert.equal(refusal(state, alice, { type: 'create', path: '/q/b', mode: 0o644 }), 'EDQUOT');
      assert.equal(refusal(state, alice, { type: 'create', path: '/r/b', mode: 0o644 }), 'EDQUOT');
    });

    it('gives the allowance back when a file is popped', () => {
      const state = withQuotas(world(), quotas({ maxFiles: 2 }));
      assert.equal(refusal(state, alice, { type: 'create', path: '/q/m3', mode: 0o644 }), 'EDQUOT');
      run(state, bob, { type: 'unlink', path: '/q/head' });
      run(state, alice, { type: 'create', path: '/q/m3', mode: 0o644 });
    });

    it('charges a file to whoever created it, not to the queue owner', () => {
      const state = withQuotas(world(), quotas({ maxFiles: 2 }));
      run(state, bob, { type: 'create', path: '/q/from-bob', mode: 0o644 });
      assert.equal(refusal(state, alice, { type: 'create', path: '/r/from-alice', mode: 0o644 }), 'EDQUOT');
    });
  });

  describe('maxFilesPerDir', () => {
    it('refuses a file beyond the depth limit of one queue with EDQUOT while others accept', () => {
      const state = withQuotas(world(), quotas({ maxFilesPerDir: 2 }));
      assert.equal(refusal(state, carol, { type: 'create', path: '/q/m3', mode: 0o644 }), 'EDQUOT');
      run(state, alice, { type: 'create', path: '/r/m3', mode: 0o644 });
    });

    it('counts every name in the queue, whoever created it', () => {
      const state = withQuotas(emptyState(), quotas({ maxFilesPerDir: 2 }));
      run(state, alice, { type: 'mkdir', path: '/q', mode: 0o777 });
      run(state, alice, { type: 'create', path: '/q/a', mode: 0o644 });
      run(state, carol, { type: 'create', path: '/q/c', mode: 0o644 });
      assert.equal(refusal(state, bob, { type: 'create', path: '/q/b', mode: 0o644 }), 'EDQUOT');
    });

    it('applies to links into the queue as well', () => {
      const state = withQuotas(world(), quotas({ maxFilesPerDir: 2 }));
      assert.equal(refusal(state, alice, { type: 'link', from: '/q/m1', to: '/q/again' }), 'EDQUOT');
      run(state, alice, { type: 'link', from: '/q/m1', to: '/r/again' });
    });
  });

  describe('maxBytes', () => {
    it('accepts writes up to the limit and refuses growth past it with EDQUOT', () => {
      const state = withQuotas(world(), quotas({ maxBytes: 8 }));
      const ino = inoOf(state, '/q/m2');
      run(state, alice, { type: 'write', ino, offset: 0, data: Buffer.from('abc') });
      assert.equal(refusal(state, alice, { type: 'write', ino, offset: 3, data: Buffer.from('d') }), 'EDQUOT');
    });

    it('accepts an overwrite inside the file even at the limit', () => {
      const state = withQuotas(world(), quotas({ maxBytes: 5 }));
      run(state, alice, { type: 'write', ino: inoOf(state, '/q/m1'), offset: 1, data: Buffer.from('EL') });
    });

    it('charges only the growth of a write that straddles the end', () => {
      const state = withQuotas(world(), quotas({ maxBytes: 6 }));
      run(state, alice, { type: 'write', ino: inoOf(state, '/q/m1'), offset: 3, data: Buffer.from('LO!') });
    });

    it('charges the hole of a write past the end', () => {
      const state = withQuotas(world(), quotas({ maxBytes: 8 }));
      assert.equal(refusal(state, alice, { type: 'write', ino: inoOf(state, '/q/m2'), offset: 3, data: Buffer.from('x') }), 'EDQUOT');
    });

    it('refuses truncate that grows past the limit with EDQUOT but accepts a shrink', () => {
      const state = withQuotas(world(), quotas({ maxBytes: 6 }));
      assert.equal(refusal(state, alice, { type: 'truncate', ino: inoOf(state, '/q/m2'), size: 2 }), 'EDQUOT');
      run(state, alice, { type: 'truncate', ino: inoOf(state, '/q/m1'), size: 1 });
      run(state, alice, { type: 'truncate', ino: inoOf(state, '/q/m2'), size: 5 });
    });

    it('charges bytes to the inode owner, not to the writer', () => {
      const state = world();
      withQuotas(state, quotas({}, { users: { [alice.uid]: { maxBytes: 6 }, [bob.uid]: { maxBytes: 0 } } }));
      run(state, bob, { type: 'write', ino: inoOf(state, '/q/m1'), offset: 5, data: Buffer.from('!') });
      assert.equal(refusal(state, root, { type: 'write', ino: inoOf(state, '/q/m1'), offset: 6, data: Buffer.from('!') }), 'EDQUOT');
    });

    it('charges bytes to the new owner once root gave the file away', () => {
      const state = world();
      withQuotas(state, quotas({}, { users: { [carol.uid]: { maxBytes: 6 } } }));
      run(state, root, { type: 'chown', path: '/q/m1', uid: carol.uid, gid: carol.gid });
      run(state, alice, { type: 'write', ino: inoOf(state, '/q/m1'), offset: 5, data: Buffer.from('!') });
      assert.equal(refusal(state, alice, { type: 'write', ino: inoOf(state, '/q/m1'), offset: 6, data: Buffer.from('!') }), 'EDQUOT');
    });

    it('gives bytes back when the last name of an inode goes', () => {
      const state = withQuotas(world(), quotas({ maxBytes: 5 }));
      assert.equal(refusal(state, alice, { type: 'write', ino: inoOf(state, '/q/m2'), offset: 0, data: Buffer.from('x') }), 'EDQUOT');
      run(state, alice, { type: 'unlink', path: '/q/m1' });
      run(state, alice, { type: 'write', ino: inoOf(state, '/q/m2'), offset: 0, data: Buffer.from('x') });
    });
  });

  describe('hard links', () => {
    it('count as one more file for the linker', () => {
      const state = withQuotas(world(), quotas({}, { users: { [bob.uid]: { maxFiles: 0 } } }));
      assert.equal(refusal(state, bob, { type: 'link', from: '/q/m1', to: '/r/copy' }), 'EDQUOT');
      run(state, alice, { type: 'link', from: '/q/m1', to: '/r/copy' });
    });

    it('do not charge the bytes again', () => {
      const state = withQuotas(world(), quotas({ maxBytes: 5 }));
      run(state, alice, { type: 'link', from: '/q/m1', to: '/r/copy1' });
      run(state, alice, { type: 'link', from: '/q/m1', to: '/r/copy2' });
      assert.equal(state.userUsage.get(alice.uid)!.bytes, 5);
    });

    it('keep the bytes charged until the last name goes', () => {
      const state = withQuotas(world(), quotas({ maxBytes: 5 }));
      run(state, alice, { type: 'link', from: '/q/m1', to: '/r/copy' });
      run(state, alice, { type: 'unlink', path: '/q/m1' });
      assert.equal(refusal(state, alice, { type: 'write', ino: inoOf(state, '/q/m2'), offset: 0, data: Buffer.from('x') }), 'EDQUOT');
      run(state, bob, { type: 'unlink', path: '/r/copy' });
      run(state, alice, { type: 'write', ino: inoOf(state, '/q/m2'), offset: 0, data: Buffer.from('x') });
    });
  });

  describe('user and group limits', () => {
    it('lets a user override raise the default', () => {
      const state = withQuotas(emptyState(), quotas({ maxDirs: 0 }, { users: { [alice.uid]: { maxDirs: 1 } } }));
      run(state, alice, { type: 'mkdir', path: '/a', mode: 0o755 });
      assert.equal(refusal(state, carol, { type: 'mkdir', path: '/c', mode: 0o755 }), 'EDQUOT');
    });

    it('lets a user override of null mean unlimited', () => {
      const state = withQuotas(emptyState(), quotas({ maxDirs: 0 }, { users: { [alice.uid]: { maxDirs: null } } }));
      for (let i = 0; i < 5; i++) run(state, alice, { type: 'mkdir', path: `/a${i}`, mode: 0o755 });
    });

    it('lets a user override lower the default', () => {
      const state = withQuotas(emptyState(), quotas({ maxDirs: 5 }, { users: { [alice.uid]: { maxDirs: 0 } } }));
      assert.equal(refusal(state, alice, { type: 'mkdir', path: '/a', mode: 0o755 }), 'EDQUOT');
      run(state, bob, { type: 'mkdir', path: '/b', mode: 0o755 });
    });

    it('sums the usage of every member of a group against the group limit', () => {
      const state = withQuotas(emptyState(), quotas({}, { groups: { [alice.gid]: { maxDirs: 2 } } }));
      run(state, alice, { type: 'mkdir', path: '/a', mode: 0o755 });
      run(state, bob, { type: 'mkdir', path: '/b', mode: 0o755 });
      assert.equal(refusal(state, alice, { type: 'mkdir', path: '/a2', mode: 0o755 }), 'EDQUOT');
      assert.equal(refusal(state, bob, { type: 'mkdir', path: '/b2', mode: 0o755 }), 'EDQUOT');
      run(state, carol, { type: 'mkdir', path: '/c', mode: 0o755 });
    });

    it('refuses on the group limit even when the user limit has room', () => {
      const state = withQuotas(world(), quotas({ maxFiles: 100 }, { groups: { [alice.gid]: { maxFiles: 2 } } }));
      assert.equal(refusal(state, bob, { type: 'create', path: '/r/x', mode: 0o644 }), 'EDQUOT');
    });

    it('refuses on the user limit even when the group limit has room', () => {
      const state = withQuotas(world(), quotas({ maxFiles: 2 }, { groups: { [alice.gid]: { maxFiles: 100 } } }));
      assert.equal(refusal(state, alice, { type: 'create', path: '/r/x', mode: 0o644 }), 'EDQUOT');
      run(state, bob, { type: 'create', path: '/r/x', mode: 0o644 });
    });

    it('applies a group maxFilesPerDir to its members', () => {
      const state = withQuotas(world(), quotas({}, { groups: { [alice.gid]: { maxFilesPerDir: 2 } } }));
      assert.equal(refusal(state, bob, { type: 'create', path: '/q/x', mode: 0o644 }), 'EDQUOT');
      run(state, carol, { type: 'create', path: '/q/x', mode: 0o644 });
    });

    it('sums group bytes over the inodes of every member', () => {
      const state = withQuotas(world(), quotas({}, { groups: { [alice.gid]: { maxBytes: 6 } } }));
      run(state, bob, { type: 'create', path: '/r/x', mode: 0o644 });
      run(state, bob, { type: 'write', ino: inoOf(state, '/r/x'), offset: 0, data: Buffer.from('1') });
      assert.equal(refusal(state, bob, { type: 'write', ino: inoOf(state, '/r/x'), offset: 1, data: Buffer.from('2') }), 'EDQUOT');
    });

    it('does not limit a group that has no quota file, whatever the defaults say', () => {
      const state = withQuotas(emptyState(), quotas({ maxDirs: 1 }));
      run(state, alice, { type: 'mkdir', path: '/a', mode: 0o755 });
      run(state, bob, { type: 'mkdir', path: '/b', mode: 0o755 });
    });
  });

  describe('rootExempt', () => {
    it('exempts uid 0 from every limit when set', () => {
      const state = withQuotas(emptyState(), quotas({ maxDirs: 0, maxFiles: 0, maxBytes: 0 }, { rootExempt: true }));
      run(state, root, { type: 'mkdir', path: '/a', mode: 0o755 });
      run(state, root, { type: 'create', path: '/a/x', mode: 0o644 });
      run(state, root, { type: 'write', ino: inoOf(state, '/a/x'), offset: 0, data: Buffer.from('data') });
    });

    it('exempts root from its group limits too', () => {
      const state = withQuotas(emptyState(), quotas({}, { rootExempt: true, groups: { [root.gid]: { maxDirs: 0 } } }));
      run(state, root, { type: 'mkdir', path: '/a', mode: 0o755 });
    });

    it('limits root like everyone else when not set', () => {
      const state = withQuotas(emptyState(), quotas({ maxDirs: 0 }, { rootExempt: false }));
      assert.equal(refusal(state, root, { type: 'mkdir', path: '/a', mode: 0o755 }), 'EDQUOT');
    });

    it('does not exempt a non-root caller whose group is 0', () => {
      const state = withQuotas(emptyState(), quotas({ maxDirs: 0 }, { rootExempt: true }));
      assert.equal(refusal(state, { ...alice, gid: 0 }, { type: 'mkdir', path: '/a', mode: 0o755 }), 'EDQUOT');
    });

    it('does not exempt root writing into a file another user owns (bytes go to the owner)', () => {
      const state = world();
      withQuotas(state, quotas({ maxBytes: 5 }, { rootExempt: true }));
      assert.equal(refusal(state, root, { type: 'write', ino: inoOf(state, '/q/m1'), offset: 5, data: Buffer.from('!') }), 'EDQUOT');
    });
  });

  describe('lowered limits', () => {
    it('never block removing things when usage is already over a new, lower limit', () => {
      const state = withQuotas(world(), quotas({ maxDirs: 0, maxFiles: 0, maxFilesPerDir: 0, maxBytes: 0 }));
      run(state, alice, { type: 'truncate', ino: inoOf(state, '/q/m1'), size: 1 });
      run(state, alice, { type: 'write', ino: inoOf(state, '/q/m1'), offset: 0, data: Buffer.from('H') });
      run(state, alice, { type: 'unlink', path: '/q/head' });
      run(state, alice, { type: 'unlink', path: '/q/tail' });
      run(state, alice, { type: 'rmdir', path: '/q' });
      run(state, DAEMON, { type: 'reap', queue: 'r' });
    });
  });

  describe('chown', () => {
    // Giving a file or queue to another owner moves its bytes or its directory to them: the new
    // owner's (or group's) limits must hold, so chown and chgrp cannot bypass quotas.
    it('refuses giving a file to a user whose byte limit it would break', () => {
      const state = world();
      withQuotas(state, quotas({}, { users: { [carol.uid]: { maxBytes: 4 } } }));
      assert.equal(refusal(state, root, { type: 'chown', path: '/q/m1', uid: carol.uid, gid: ID_UNCHANGED }), 'EDQUOT');
    });

    it('refuses an owner moving a queue into its own group when the group is at its limit', () => {
      const state = world();
      run(state, root, { type: 'chown', path: '/r', uid: ID_UNCHANGED, gid: carol.gid });
      withQuotas(state, quotas({}, { groups: { [bob.gid]: { maxDirs: 1 } } }));
      assert.equal(refusal(state, bob, { type: 'chown', path: '/r', uid: ID_UNCHANGED, gid: bob.gid }), 'EDQUOT');
    });
  });
});
