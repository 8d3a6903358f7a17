/**
 * Power loss (tools/crash-trials/powerloss.ts): for every point of a traced workload, every disk a
 * power loss may leave recovers to the fold of a prefix of the events holding every event a reply
 * had promised durable. EVENTFS_POWERLOSS_COMMANDS=N runs longer workloads (CI: 80 per mode).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Engine } from '../../src/fs/engine.ts';
import { recover } from '../../src/fs/daemon.ts';
import { readSegmentFile } from '../../src/log/reader.ts';
import { openLogForAppend } from '../../src/log/writer.ts';
import { stateHash } from '../../src/model/index.ts';
import {
  checkAtomicWrites, checkEveryCrashPoint, crashPoints, diskAfterPowerLoss, runTracedWorkload, type TraceEntry,
} from '../../tools/crash-trials/powerloss.ts';
import { Rng } from '../../tools/crash-trials/rng.ts';
import { enqueue, openLogSession, queueView, writeSmallHistory } from './support.ts';

const COMMANDS = Number(process.env.EVENTFS_POWERLOSS_COMMANDS ?? 80);
const SEED = Number(process.env.EVENTFS_POWERLOSS_SEED ?? 20261126);

let root: string;
before(async () => (root = await mkdtemp(join(tmpdir(), 'eventfs-powerloss-test-'))));
after(async () => await rm(root, { recursive: true, force: true }));

describe('the disk after a power loss (pure)', () => {
  const trace: TraceEntry[] = [
    { kind: 'create', name: 'a.tmp', file: 1 },
    { kind: 'write', file: 1, position: 0, bytes: Buffer.from('head') },
    { kind: 'fsync', file: 1, contents: Buffer.from('head') },
    { kind: 'rename', from: 'a.tmp', to: 'a' },
    { kind: 'dirsync', namespaceOps: 2 },
    { kind: 'write', file: 1, position: 4, bytes: Buffer.from('-tail') },
    { kind: 'reply', lastSeq: 3, durable: true },
    { kind: 'unlink', name: 'a' },
  ];
  const at = (point: number) => [...crashPoints(trace)][point]!;
  const disk = (point: number, choice: Parameters<typeof diskAfterPowerLoss>[1], seed = 1) =>
    Object.fromEntries([...diskAfterPowerLoss(at(point), choice, new Rng(seed))].map(([name, bytes]) => [name, bytes.toString()]));

  it('keeps only what was fsynced, or everything the kernel had', () => {
    assert.deepEqual(disk(2, 'synced-only'), {}, 'the create was not covered by a directory fsync');
    assert.deepEqual(disk(2, 'everything'), { 'a.tmp': 'head' });
    assert.deepEqual(disk(5, 'synced-only'), { a: 'head' });
    assert.deepEqual(disk(6, 'synced-only'), { a: 'head' });
    assert.deepEqual(disk(6, 'everything'), { a: 'head-tail' });
    assert.deepEqual(disk(8, 'synced-only'), { a: 'head' }, 'an unlink not yet covered by a directory fsync may be undone');
    assert.deepEqual(disk(8, 'everything'), {});
  });

  it('a random disk holds the synced bytes plus a prefix of the rest', () => {
    for (let seed = 0; seed < 50; seed++) {
      const bytes = disk(6, 'random', seed).a!;
      assert.ok('head-tail'.startsWith(bytes) && bytes.length >= 4, bytes);
    }
  });

  it('tracks the highest seq a reply promised durable', () => {
    assert.equal(at(6).durableSeq, 0);
    assert.equal(at(7).durableSeq, 3);
  });
});

describe('every crash point of a traced workload recovers a prefix holding every promised event', () => {
  for (const durability of ['always', 'close', 'none'] as const) {
    it(`durability=${durability}`, async () => {
      const dir = await mkdtemp(join(root, `${durability}-`));
      const workload = await runTracedWorkload(dir, { seed: SEED, durability, commands: COMMANDS, snapshotBytesMin: 1024 });
      assert.deepEqual(workload.failures, []);
      assert.ok(workload.snapshots >= 2, `snapshots taken: ${workload.snapshots}`);
      const atomic = checkAtomicWrites(workload.trace);
      assert.deepEqual(atomic.violations, [], 'snapshots and segments: tmp file, fsync, rename, directory fsync');
      assert.ok(atomic.renames > workload.snapshots);
      const result = await checkEveryCrashPoint(workload, { seed: SEED, randomDisks: 1, continueEvery: 7, holesEvery: 5 });
      console.log(`# power loss, durability=${durability}: ${workload.events.length} events, ${result.crashPoints} crash points ` +
        `(${result.midCompaction.beforeSnapshot} between a rotation and its snapshot, ${result.midCompaction.beforePrune} between a snapshot and the end of its prune), ` +
        `${result.disks} disks: ${result.recovered} recovered, ${result.refusedHoles} refused (unsynced pages written out of order), ` +
        `${result.continued} continued and recovered again, ${result.failures.length} failures`);
      assert.deepEqual(result.failures, []);
      assert.ok(result.midCompaction.beforeSnapshot > 0 && result.midCompaction.beforePrune > 0, 'crash points inside compactions');
    });
  }

  it('notices a daemon that answers before its events are durable', async () => {
    const dir = await mkdtemp(join(root, 'broken-'));
    const proto = Engine.prototype as unknown as { isDurable: (cmd: unknown) => boolean };
    const isDurable = proto.isDurable;
    proto.isDurable = () => false; // replies no longer wait for fsync...
    let workload;
    try {
      workload = await runTracedWorkload(dir, { seed: SEED, durability: 'always', commands: 40, snapshotBytesMin: 1 << 30 });
    } finally {
      proto.isDurable = isDurable;
    }
    // ...while the trace still records that they promised it.
    const result = await checkEveryCrashPoint(workload, { seed: SEED, randomDisks: 0, continueEvery: 0, holesEvery: 0 });
    assert.ok(result.failures.some((failure) => /were promised durable/.test(failure)), result.failures.join('\n') || 'no failure found');
  });
});

describe('snapshots ahead of and behind the log', () => {
  it('a snapshot ahead of the log it outlived: recovery starts from it and the next segment continues after it', async () => {
    const dir = await mkdtemp(join(root, 'ahead-'));
    const session = await openLogSession(dir);
    await writeSmallHistory(session);
    await session.compactor.snapshot();
    const expected = queueView(session.state);
    const snapshotSeq = session.state.seq;
    await session.close();
    // Keep the snapshot, and only a segment that ends before it (as if its last events were lost).
    const names = (await readdir(dir)).sort();
    const segments = names.filter((name) => name.startsWith('segment-'));
    for (const name of segments) await unlink(join(dir, name));
    const first = await openLogSession(dir);
    assert.deepEqual(queueView(first.state), expected);
    assert.equal(first.state.seq, snapshotSeq);
    await enqueue(first, '/q', 'after', 'after the snapshot');
    const hash = stateHash(first.state);
    await first.close();
    const { state } = await recover({ logDir: dir, warn: () => undefined });
    assert.equal(stateHash(state), hash);
    const continued = (await readdir(dir)).filter((name) => name.startsWith('segment-'));
    assert.deepEqual(continued, [`segment-${String(snapshotSeq + 1).padStart(12, '0')}.log`]);
  });

  it('a snapshot behind the log: the events after it are folded on top', async () => {
    const dir = await mkdtemp(join(root, 'behind-'));
    const session = await openLogSession(dir);
    await writeSmallHistory(session);
    await session.compactor.snapshot();
    for (let i = 0; i < 5; i++) await enqueue(session, '/r', `later${i}`, `later ${i}`);
    const hash = stateHash(session.state);
    await session.close();
    const { state, read } = await recover({ logDir: dir, warn: () => undefined });
    assert.equal(stateHash(state), hash);
    assert.ok(read.snapshot !== null && read.snapshot.seq < state.seq);
    const writer = await openLogForAppend(read);
    await writer.close();
    assert.equal((await readSegmentFile(writer.path)).events.at(-1)!.seq, state.seq, 'the daemon continues the segment after the snapshot');
  });
});
