import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildSegment } from '../../src/log/testing.ts';
import { fold, stateHash } from '../../src/model/index.ts';
import { alice, REPLAY_MOUNT_ID, replayFixtures, splice, writeLogDir } from '../../test/fixtures/replay/generate.ts';
import { PLAIN } from './format.ts';
import { loadLog } from './load.ts';
import { fixture, withTempDir } from './testing.ts';
import { findFirstBad, verifyLog } from './verify.ts';
import { formatFirstBad, formatVerify } from './verify-report.ts';

const fixtures = replayFixtures();
const jobs = fixtures.find((f) => f.name === 'jobs')!.events;

describe('verifyLog', () => {
  it('passes a consistent log and gives its final hash', async () => {
    const result = verifyLog(await loadLog(fixture('jobs'), null));
    assert.equal(result.failure, null);
    assert.equal(result.eventsChecked, 11);
    assert.equal(result.stateHash, stateHash(fold(jobs)));
  });

  for (const f of fixtures.filter((f) => f.firstBad !== null)) {
    it(`finds the known first bad event of ${f.name} (seq ${f.firstBad!.seq}, ${f.firstBad!.kind})`, async () => {
      const result = verifyLog(await loadLog(fixture(f.name), null));
      assert.equal(result.failure?.seq, f.firstBad!.seq);
      assert.equal(result.failure?.kind, f.firstBad!.kind);
      assert.equal(result.eventsChecked, f.firstBad!.seq - 1);
      assert.equal(result.stateHash, null);
    });
  }

  it('names the invariant that failed', async () => {
    const result = verifyLog(await loadLog(fixture('named-head'), null));
    assert.deepEqual(result.failure, { kind: 'invariant', seq: 4, violations: ['queue "jobs": a file is named head'] });
  });

  it('compares every recorded snapshot hash in a log directory', async () => {
    await withTempDir(async (dir) => {
      await writeLogDir(dir, jobs, { snapshotsAt: [5, 9] });
      const result = verifyLog(await loadLog(dir, null));
      assert.equal(result.failure, null);
      assert.deepEqual(result.checkpoints.map((c) => [c.seq, c.matches]), [[5, true], [9, true]]);
    });
  });

  it('checks the base snapshot against its own recorded hash', async () => {
    await withTempDir(async (dir) => {
      await writeLogDir(dir, jobs, { snapshotsAt: [9], badHashAt: 9, dropSegmentsBefore: 10 });
      const result = verifyLog(await loadLog(dir, null));
      assert.equal(result.failure?.kind, 'checkpoint');
      assert.equal(result.failure?.seq, 9);
      assert.equal(result.eventsChecked, 0);
    });
  });

  it('reports a diverging snapshot with the range the bad event must be in', async () => {
    await withTempDir(async (dir) => {
      await writeLogDir(dir, jobs, { snapshotsAt: [5, 9], divergeAt: 9 });
      const result = verifyLog(await loadLog(dir, null));
      assert.equal(result.failure?.kind, 'checkpoint');
      assert.equal(result.failure?.kind === 'checkpoint' && result.failure.lastGoodSeq, 5);
      const text = formatVerify(result, dir, PLAIN).join('\n');
      assert.match(text, /DIVERGED at seq 9/);
      assert.match(text, /the bad event is in seq 6\.\.9/);
    });
  });

  it('reports an event that cannot apply at the first event of a later segment', async () => {
    await withTempDir(async (dir) => {
      const bad = splice(jobs, 7, alice, { type: 'queueRemoved', queue: 'nowhere' });
      await writeFile(join(dir, 'segment-000000000001.log'), buildSegment(bad.slice(0, 6), 1, REPLAY_MOUNT_ID).buf);
      await writeFile(join(dir, 'segment-000000000007.log'), buildSegment(bad.slice(6), 7, REPLAY_MOUNT_ID).buf);
      const result = verifyLog(await loadLog(dir, null));
      assert.equal(result.failure?.kind, 'apply');
      assert.equal(result.failure?.seq, 7);
    });
  });
});

describe('findFirstBad', () => {
  it('gives the event and the states before and after it', async () => {
    const log = await loadLog(fixture('named-head'), null);
    const report = findFirstBad(log, null);
    assert.equal(report.record?.event.seq, 4);
    assert.equal(report.before?.seq, 3);
    assert.equal(report.after?.seq, 4);
    assert.deepEqual(report.before?.queues[0]?.messages.map((m) => m.name), ['a']);
    assert.deepEqual(report.after?.queues[0]?.messages.map((m) => m.name), ['a', 'head']);
  });

  it('has no state after an event that cannot apply, and says so', async () => {
    const log = await loadLog(fixture('freed-link'), null);
    const report = findFirstBad(log, null);
    assert.equal(report.record?.event.seq, 9);
    assert.equal(report.after, null);
    const text = formatFirstBad(report, log, false, PLAIN).join('\n');
    assert.match(text, /^first bad event\n 9 @\d+ +2024-01-01T00:00:07.500Z linkCreated +jobs\/a-again = ino 5 pid=4242 uid=1000$/m);
    assert.match(text, /VIOLATED at seq 9: the event cannot apply\n +event seq 9 \(linkCreated\) cannot apply: no file inode 5/);
    assert.match(text, /state before \(seq 8\)/);
    assert.match(text, /\(none: the event cannot apply\)/);
  });

  it('shows the queues the event touched, or those asked for', async () => {
    const log = await loadLog(fixture('head-mismatch'), null);
    assert.deepEqual(findFirstBad(log, null).before?.queues.map((q) => q.name), ['jobs']);
    assert.deepEqual(findFirstBad(log, new Set(['other'])).before?.queues, []);
  });

  it('lists how a diverged snapshot differs from the fold', async () => {
    await withTempDir(async (dir) => {
      await writeLogDir(dir, jobs, { snapshotsAt: [5, 9], divergeAt: 9 });
      const report = findFirstBad(await loadLog(dir, null), null);
      assert.equal(report.record?.event.seq, 9);
      assert.deepEqual(report.divergence, ['queue jobs: message 1 is b in the fold but c in the snapshot (depth 3 vs 2)']);
    });
  });

  it('reports nothing for a consistent log', async () => {
    const report = findFirstBad(await loadLog(fixture('jobs'), null), null);
    assert.equal(report.verify.failure, null);
    assert.equal(report.record, null);
  });
});
