import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogEvent } from '../../src/log/reader.ts';
import { REPLAY_PAUSE_MS, ReplayClock } from './replay.ts';

const at = (...times: number[]): LogEvent[] => times.map((t, i) => ({ type: 'x', seq: i + 1, t }));
const seqs = (events: LogEvent[]): number[] => events.map((event) => event.seq);

describe('ReplayClock', () => {
  it('starts at the first event and releases events as its clock reaches them', () => {
    const clock = new ReplayClock(1);
    clock.push(at(1000, 1500, 2000));
    assert.deepEqual(seqs(clock.tick(0)), [1]);
    assert.deepEqual(seqs(clock.tick(400)), []);
    assert.deepEqual(seqs(clock.tick(500)), [2]);
    assert.deepEqual(seqs(clock.tick(1000)), [3]);
    assert.equal(clock.pending, 0);
  });

  it('runs SPEED times faster than real time', () => {
    const clock = new ReplayClock(10);
    clock.push(at(0, 1000, 2000, 3000));
    clock.tick(0);
    assert.deepEqual(seqs(clock.tick(200)), [2, 3]);
    assert.equal(clock.clockMs, 2000);
  });

  it('cuts a quiet stretch to a short pause', () => {
    const clock = new ReplayClock(1);
    clock.push(at(0, 3_600_000));
    clock.tick(0);
    assert.deepEqual(seqs(clock.tick(10)), []);
    assert.equal(clock.clockMs, 3_600_000 - REPLAY_PAUSE_MS);
    assert.deepEqual(seqs(clock.tick(10 + REPLAY_PAUSE_MS)), [2]);
  });

  it('waits for events without moving, then starts at the first one', () => {
    const clock = new ReplayClock(1);
    assert.deepEqual(clock.tick(0), []);
    assert.equal(clock.clockMs, null);
    clock.push(at(5000));
    assert.deepEqual(seqs(clock.tick(100)), [1]);
  });

  it('refuses a speed that is not above zero', () => {
    assert.throws(() => new ReplayClock(0), RangeError);
  });

  it('keeps only the events not yet shown', () => {
    const clock = new ReplayClock(1000);
    clock.push(Array.from({ length: 25_000 }, (_, i) => ({ type: 'x', seq: i + 1, t: i })));
    clock.tick(0);
    assert.equal(clock.tick(15).length, 15_000);
    assert.equal(clock.pending, 10_000 - 1);
  });
});
