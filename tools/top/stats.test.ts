import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { advance, createStats, depthHistory, eventsPerSecond, forget, queueRates, record } from './stats.ts';

const options = { bucketMs: 1000, bucketCount: 10, rateBuckets: 5 };
const T = 1_000_000; // a bucket boundary

describe('stats: rates', () => {
  it('is zero before any event', () => {
    const stats = createStats(options);
    assert.equal(eventsPerSecond(stats, T), 0);
    assert.deepEqual(queueRates(stats, 'q', T), { enqueuesPerSecond: 0, dequeuesPerSecond: 0 });
  });

  it('averages over four complete buckets plus the elapsed part of the current one', () => {
    const stats = createStats(options);
    for (let s = 0; s < 5; s++) for (let i = 0; i < 10; i++) record(stats, T + s * 1000 + i, 'enqueue', 'q', 1);
    // 50 events over 4 s + 500 ms.
    assert.equal(eventsPerSecond(stats, T + 4500), 50 / 4.5);
    assert.equal(queueRates(stats, 'q', T + 4500).enqueuesPerSecond, 50 / 4.5);
    assert.equal(queueRates(stats, 'q', T + 4500).dequeuesPerSecond, 0);
  });

  it('fades to zero once the events are older than the rate window', () => {
    const stats = createStats(options);
    record(stats, T, 'dequeue', 'q', 0);
    advance(stats, T + 4999);
    assert.ok(queueRates(stats, 'q', T + 4999).dequeuesPerSecond > 0);
    advance(stats, T + 5000);
    assert.equal(queueRates(stats, 'q', T + 5000).dequeuesPerSecond, 0);
  });

  it('keys buckets by event time, not by arrival order', () => {
    const stats = createStats(options);
    record(stats, T + 3000, 'enqueue', 'q', 2);
    record(stats, T + 1000, 'enqueue', 'q', 1); // late, still inside the window
    // Two events over four whole seconds and the first millisecond of the fifth.
    assert.equal(queueRates(stats, 'q', T + 4000).enqueuesPerSecond, 2000 / 4001);
  });

  it('ignores counts of events older than the whole window, but keeps their depth', () => {
    const stats = createStats(options);
    record(stats, T + 20_000, 'other', 'q', 3);
    record(stats, T, 'enqueue', 'q', 4);
    assert.equal(queueRates(stats, 'q', T + 20_000).enqueuesPerSecond, 0);
    assert.equal(depthHistory(stats, 'q', 1, 0, T + 20_000)[0], 4);
  });

  it('decays to zero with the clock alone, without advance()', () => {
    const stats = createStats(options);
    record(stats, T, 'enqueue', 'q', 1);
    assert.ok(queueRates(stats, 'q', T + 500).enqueuesPerSecond > 0);
    assert.equal(queueRates(stats, 'q', T + 5000).enqueuesPerSecond, 0);
    assert.equal(eventsPerSecond(stats, T + 60_000), 0);
  });

  it('does not move backwards when the clock does', () => {
    const stats = createStats(options);
    advance(stats, T + 5000);
    advance(stats, T);
    assert.equal(stats.latestBucket, (T + 5000) / 1000);
  });
});

describe('stats: depth history', () => {
  it('records the deepest point of each bucket and carries the depth into quiet buckets', () => {
    const stats = createStats(options);
    record(stats, T, 'enqueue', 'q', 1);
    record(stats, T + 100, 'enqueue', 'q', 2);
    record(stats, T + 200, 'dequeue', 'q', 1);
    record(stats, T + 2500, 'dequeue', 'q', 0);
    assert.deepEqual(depthHistory(stats, 'q', 4, 0, T + 2500), [0, 2, 1, 1]);
  });

  it('extends the history to the clock with the current depth', () => {
    const stats = createStats(options);
    record(stats, T, 'enqueue', 'q', 2);
    assert.deepEqual(depthHistory(stats, 'q', 3, 2, T + 2000), [2, 2, 2]);
  });

  it('shows the current depth throughout for a queue without recorded activity', () => {
    const stats = createStats(options);
    advance(stats, T);
    assert.deepEqual(depthHistory(stats, 'quiet', 3, 7, T), [7, 7, 7]);
  });

  it('never returns more history than the ring keeps', () => {
    const stats = createStats(options);
    record(stats, T, 'enqueue', 'q', 1);
    assert.equal(depthHistory(stats, 'q', 50, 1, T).length, options.bucketCount);
  });

  it('starts afresh for a queue that was forgotten and created again', () => {
    const stats = createStats(options);
    record(stats, T, 'enqueue', 'q', 5);
    forget(stats, 'q');
    record(stats, T + 1000, 'other', 'q', 0);
    assert.deepEqual(depthHistory(stats, 'q', 2, 0, T + 1000), [0, 0]);
  });

  it('clears every bucket after a gap longer than the window', () => {
    const stats = createStats(options);
    record(stats, T, 'enqueue', 'q', 3);
    advance(stats, T + 60_000);
    assert.deepEqual(depthHistory(stats, 'q', 10, 3, T + 60_000), new Array(10).fill(3));
    assert.equal(eventsPerSecond(stats, T + 60_000), 0);
  });
});
