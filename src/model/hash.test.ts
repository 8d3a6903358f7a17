// The canonical state hash and the plain-data form of the state (snapshots, fixtures, replay).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeEvent, encodeEvent } from '../log/format.ts';
import {
  emptyState, execute, fold, fromPlain, stateHash, toPlain, checkInvariants,
  type Caller, type CommandBody, type Event, type PlainState, type State,
} from './index.ts';

const T0 = 1_700_000_000_000;
const alice: Caller = { uid: 1000, gid: 100, pid: 20, start: 200 };

function build(bodies: CommandBody[], atMs = (i: number) => T0 + i): { state: State; events: Event[] } {
  const state = emptyState();
  const events: Event[] = [];
  bodies.forEach((body, i) => {
    const decision = execute(state, { ...body, by: alice, atMs: atMs(i) });
    if (!decision.ok) assert.fail(`${body.type} refused with ${decision.errno}`);
    events.push(...decision.events);
  });
  return { state, events };
}

const setup: CommandBody[] = [
  { type: 'mkdir', path: '/q', mode: 0o755 },
  { type: 'create', path: '/q/a', mode: 0o644 },
  { type: 'write', ino: 5, offset: 0, data: Buffer.from('payload') },
  { type: 'create', path: '/q/b', mode: 0o644 },
  { type: 'link', from: '/q/a', to: '/q/c' },
];
const xattr = (key: string, value = 'v'): CommandBody => ({ type: 'setxattr', path: '/q/a', key, value: Buffer.from(value), flags: 0 });
const sameTime = () => T0;

describe('stateHash', () => {
  it('is a 64-digit hex SHA-256', () => {
    assert.match(stateHash(emptyState()), /^[0-9a-f]{64}$/);
  });

  it('is the same for the same history', () => {
    assert.equal(stateHash(build(setup).state), stateHash(build(setup).state));
  });

  it('ignores the order in which xattrs were set', () => {
    const one = build([...setup, xattr('user.a'), xattr('user.b')], sameTime).state;
    const two = build([...setup, xattr('user.b'), xattr('user.a')], sameTime).state;
    assert.deepEqual([...one.inodes.get(5)!.xattrs.keys()], ['user.a', 'user.b']);
    assert.deepEqual([...two.inodes.get(5)!.xattrs.keys()], ['user.b', 'user.a']);
    assert.equal(stateHash(one), stateHash(two));
  });

  it('ignores spare capacity beyond the size of a file', () => {
    const grown = build([...setup, { type: 'write', ino: 5, offset: 7, data: Buffer.from('x') }, { type: 'truncate', ino: 5, size: 7 }], sameTime).state;
    const plain = build([...setup, { type: 'utimens', path: '/q/a', atimeMs: 0, mtimeMs: 0 }, { type: 'utimens', path: '/q/a', atimeMs: T0, mtimeMs: T0 }], sameTime).state;
    assert.ok(grown.inodes.get(5)!.data.length > 7);
    assert.equal(stateHash(grown), stateHash(plain));
  });

  it('changes when one byte of data changes', () => {
    const one = build([...setup, { type: 'write', ino: 5, offset: 0, data: Buffer.from('P') }]).state;
    const two = build([...setup, { type: 'write', ino: 5, offset: 0, data: Buffer.from('Q') }]).state;
    assert.notEqual(stateHash(one), stateHash(two));
  });

  it('changes with the order of entries in a queue', () => {
    const ab = build([{ type: 'mkdir', path: '/q', mode: 0o755 }, { type: 'create', path: '/q/a', mode: 0o644 }, { type: 'create', path: '/q/b', mode: 0o644 }], sameTime).state;
    const ba = build([{ type: 'mkdir', path: '/q', mode: 0o755 }, { type: 'create', path: '/q/b', mode: 0o644 }, { type: 'create', path: '/q/a', mode: 0o644 }], sameTime).state;
    assert.notEqual(stateHash(ab), stateHash(ba));
  });

  it('changes with the time of the last change', () => {
    assert.notEqual(stateHash(build(setup).state), stateHash(build(setup, sameTime).state));
  });

  it('tells a key-value split apart from another ("ab","c" vs "a","bc")', () => {
    const one = build([...setup, xattr('user.ab', 'c')], sameTime).state;
    const two = build([...setup, xattr('user.a', 'bc')], sameTime).state;
    assert.notEqual(stateHash(one), stateHash(two));
  });
});

describe('toPlain / fromPlain', () => {
  it('round-trips to the same hash and a sound state', () => {
    const { state } = build([...setup, xattr('user.z'), { type: 'unlink', path: '/q/head' }]);
    const loaded = fromPlain(toPlain(state));
    assert.equal(stateHash(loaded), stateHash(state));
    assert.deepEqual(checkInvariants(loaded), []);
  });

  it('rebuilds usage tables and the queue inode index', () => {
    const { state } = build(setup);
    const loaded = fromPlain(toPlain(state));
    assert.deepEqual(loaded.userUsage, state.userUsage);
    assert.equal(loaded.queuesByIno.get(2), loaded.queues.get('q'));
  });

  it('continues a history exactly like the original state', () => {
    const { state } = build(setup);
    const loaded = fromPlain(toPlain(state));
    const next: CommandBody = { type: 'create', path: '/q/d', mode: 0o600 };
    execute(state, { ...next, by: alice, atMs: T0 + 100 });
    execute(loaded, { ...next, by: alice, atMs: T0 + 100 });
    assert.equal(stateHash(loaded), stateHash(state));
  });

  it('survives the log codec (a snapshot record)', () => {
    const { state } = build([...setup, xattr('user.k')]);
    const decoded = decodeEvent(encodeEvent(toPlain(state))) as PlainState;
    assert.equal(stateHash(fromPlain(decoded)), stateHash(state));
  });

  it('does not share file data with the plain form it was loaded from', () => {
    const { state } = build(setup);
    const plain = toPlain(state);
    const loaded = fromPlain(plain);
    plain.inodes[0]!.data.fill(0);
    assert.equal(loaded.inodes.get(5)!.data.toString(), 'payload');
  });

  it('equals a fold of the events that built the state', () => {
    const { state, events } = build(setup);
    assert.equal(stateHash(fold(events)), stateHash(state));
  });
});
