import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplyError, emptyState, fold, stateHash, type Event } from '../../src/model/index.ts';
import { replayFixtures, T0_MS } from '../../test/fixtures/replay/generate.ts';
import { UsageError } from './exit.ts';
import { loadLog } from './load.ts';
import { applyEvent, InodeNames, parsePoint, seqOfPoint, stateAt } from './replay.ts';
import { fixture } from './testing.ts';

const jobs = replayFixtures().find((f) => f.name === 'jobs')!.events;

describe('parsePoint', () => {
  it('reads digits as a seq', () => {
    assert.deepEqual(parsePoint('--at', '42'), { kind: 'seq', seq: 42 });
  });

  it('reads an ISO date-time as a time', () => {
    assert.deepEqual(parsePoint('--at', '2024-01-01T00:00:06Z'), { kind: 'time', ms: T0_MS + 6000, text: '2024-01-01T00:00:06Z' });
    assert.equal((parsePoint('--at', '2024-01-01T01:00:00+01:00') as { ms: number }).ms, T0_MS);
  });

  it('refuses anything else as a usage error naming the option', () => {
    for (const text of ['-1', 'yesterday', '1.5', '', '2024-13-45T99:99:99Z', '12abc']) {
      assert.throws(() => parsePoint('--until', text), (error: unknown) => error instanceof UsageError && error.message.startsWith('--until'), text);
    }
  });

  it('refuses a seq too large to be exact', () => {
    assert.throws(() => parsePoint('--at', '99999999999999999999'), UsageError);
  });
});

describe('seqOfPoint', () => {
  it('accepts any seq from the base to the end', async () => {
    const log = await loadLog(fixture('jobs'), null);
    assert.equal(seqOfPoint(log, '--at', { kind: 'seq', seq: 0 }), 0);
    assert.equal(seqOfPoint(log, '--at', { kind: 'seq', seq: 11 }), 11);
  });

  it('refuses a seq past the end, saying where the log ends', async () => {
    const log = await loadLog(fixture('jobs'), null);
    assert.throws(() => seqOfPoint(log, '--at', { kind: 'seq', seq: 12 }), /--at 12: the log ends at seq 11/);
  });

  it('maps a time to the last event at or before it', async () => {
    const log = await loadLog(fixture('jobs'), null);
    assert.equal(seqOfPoint(log, '--until', { kind: 'time', ms: T0_MS + 6500, text: '' }), 7);
    assert.equal(seqOfPoint(log, '--until', { kind: 'time', ms: T0_MS - 1, text: '' }), 0);
    assert.equal(seqOfPoint(log, '--until', { kind: 'time', ms: T0_MS + 1e9, text: '' }), 11);
  });
});

describe('stateAt', () => {
  it('is the fold of the events up to seq', async () => {
    const log = await loadLog(fixture('jobs'), null);
    for (const seq of [0, 1, 6, 11]) assert.equal(stateHash(stateAt(log, seq)), stateHash(fold(jobs.slice(0, seq))), `seq ${seq}`);
  });

  it('throws the ApplyError of an event that cannot apply', async () => {
    const log = await loadLog(fixture('freed-link'), null);
    assert.throws(() => stateAt(log, 9), (error: unknown) => error instanceof ApplyError && error.seq === 9);
    assert.doesNotThrow(() => stateAt(log, 8));
  });
});

describe('applyEvent', () => {
  it('turns any failure of apply into an ApplyError naming the seq', () => {
    const unknown = { v: 1, seq: 1, t: 0, uid: 0, gid: 0, pid: 0, type: 'teleported' } as unknown as Event;
    assert.throws(() => applyEvent(emptyState(), unknown), (error: unknown) => error instanceof ApplyError && error.seq === 1 && /teleported/.test(error.message));
    const broken = { v: 1, seq: 1, t: 0, uid: 0, gid: 0, pid: 0, type: 'queueCreated', queue: 'q', ino: 2, mode: 0o755 } as unknown as Event;
    assert.throws(() => applyEvent(emptyState(), broken), (error: unknown) => error instanceof ApplyError && error.seq === 1);
  });
});

describe('InodeNames', () => {
  it('finds a file by its inode, and the queue for a queue inode', () => {
    const state = fold(jobs.slice(0, 5));
    const names = new InodeNames(state);
    const queue = state.queues.get('jobs')!;
    assert.deepEqual(names.placeOf(queue.ino), { queue: 'jobs', name: null });
    assert.deepEqual(names.placeOf(queue.head!.ino), { queue: 'jobs', name: 'a' });
    assert.equal(names.placeOf(9999), null);
  });

  it('notices a name that went away and finds the inode by another name', () => {
    const state = fold(jobs.slice(0, 3));
    const names = new InodeNames(state);
    const ino = state.queues.get('jobs')!.head!.ino;
    assert.deepEqual(names.placeOf(ino), { queue: 'jobs', name: 'a' });
    const t = T0_MS;
    const link = { v: 1, seq: 4, t, uid: 0, gid: 0, pid: 1, type: 'linkCreated', queue: 'jobs', name: 'a2', ino } as Event;
    const pop = { v: 1, seq: 5, t, uid: 0, gid: 0, pid: 1, type: 'entryRemoved', queue: 'jobs', name: 'a', via: 'head' } as Event;
    applyEvent(state, link);
    names.observe(link);
    applyEvent(state, pop);
    assert.deepEqual(names.placeOf(ino), { queue: 'jobs', name: 'a2' });
    assert.equal(names.isIn(ino, 'jobs'), true);
    assert.equal(names.isIn(ino, 'other'), false);
  });
});
