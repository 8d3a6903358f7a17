// The follower against real files: chokidar-driven tailing, the LOCK, post-mortem and replay.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { acquireLock } from '../../src/log/lock.ts';
import { writeSnapshot } from '../../src/log/snapshot.ts';
import { MOUNT_ID_TEST, withTempDir } from '../../src/log/testing.ts';
import { openSegment } from '../../src/log/writer.ts';
import { stateHash, toPlain } from '../../src/model/index.ts';
import { daemonStatus, followDefaults, LogFollower } from './follow.ts';
import { alice, bob, Script } from './testing.ts';

const follower = (path: string, replaySpeed: number | null = null): LogFollower =>
  new LogFollower({ path, replaySpeed, userName: String, ...followDefaults, statusMs: 200 });

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function deadPid(): number {
  const child = spawnSync('sh', ['-c', 'echo $$']);
  return Number(child.stdout.toString().trim());
}

describe('LogFollower, live', () => {
  it('folds what is on disk, then every append chokidar reports', async () => {
    await withTempDir(async (dir) => {
      const script = new Script().mkdir(alice, 'jobs').put(alice, 'jobs', 'a', 'hello');
      const writer = await openSegment(dir, { mountId: MOUNT_ID_TEST, firstSeq: 1 });
      await writer.append(script.events, { durable: true });
      const top = follower(dir);
      await top.start();
      try {
        assert.equal(top.model.state.queues.get('jobs')?.entries.size, 1);
        const before = top.version;
        const more = script.events.length;
        script.put(bob, 'jobs', 'b', 'world').pop(bob, 'jobs');
        await writer.append(script.events.slice(more), { durable: true });
        await until(() => top.model.state.seq === script.events.length, 'the appended events');
        assert.deepEqual([...top.model.state.queues.get('jobs')!.entries.keys()], ['b']);
        assert.ok(top.version > before);
      } finally {
        await top.stop();
        await writer.close();
      }
    });
  });

  it('follows a snapshot and a new segment, as the daemon writes them after compaction', async () => {
    await withTempDir(async (dir) => {
      const script = new Script().mkdir(alice, 'jobs').put(alice, 'jobs', 'a', '1');
      const first = await openSegment(dir, { mountId: MOUNT_ID_TEST, firstSeq: 1 });
      await first.append(script.events, { durable: true });
      await first.close();
      const top = follower(dir);
      await top.start();
      try {
        const seq = script.state.seq;
        await writeSnapshot(dir, { seq, state: toPlain(script.state), hash: stateHash(script.state) }, MOUNT_ID_TEST);
        script.put(alice, 'jobs', 'b', '2');
        const second = await openSegment(dir, { mountId: MOUNT_ID_TEST, firstSeq: seq + 1 });
        await second.append(script.events.slice(seq), { durable: true });
        await second.close();
        await until(() => top.model.state.seq === script.events.length, 'the events of the new segment');
        assert.equal(top.model.state.queues.get('jobs')!.entries.size, 2);
      } finally {
        await top.stop();
      }
    });
  });

  it('waits for a log directory that does not exist yet', async () => {
    await withTempDir(async (parent) => {
      const dir = join(parent, 'logs');
      const top = follower(dir);
      await top.start();
      try {
        assert.equal(top.daemon.kind, 'waiting');
        assert.match(top.view({ detailQueue: null, streamMax: 5 }).header.problems.join(), /no log at/);
        await mkdir(dir);
        const writer = await openSegment(dir, { mountId: MOUNT_ID_TEST, firstSeq: 1 });
        await writer.append(new Script().mkdir(alice, 'late').events, { durable: true });
        await writer.close();
        await until(() => top.model.state.queues.has('late'), 'the queue of the new log');
      } finally {
        await top.stop();
      }
    });
  });
});

describe('daemonStatus', () => {
  it('is live while the LOCK names a running process, with its start time', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'segment-000000000001.log'), '');
      const lock = await acquireLock(dir);
      try {
        const status = await daemonStatus(dir);
        assert.equal(status.kind, 'live');
        assert.equal(status.kind === 'live' && status.pid, process.pid);
        assert.ok(status.kind === 'live' && status.startedMs !== null && Math.abs(status.startedMs - Date.now()) < 60_000);
      } finally {
        await lock.release();
      }
    });
  });

  it('is gone with the pid when the LOCK names a dead process, and gone without one when there is no LOCK', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'segment-000000000001.log'), '');
      assert.deepEqual(await daemonStatus(dir), { kind: 'gone', pid: null });
      const pid = deadPid();
      await writeFile(join(dir, 'LOCK'), `${pid} 12345\n`);
      assert.deepEqual(await daemonStatus(dir), { kind: 'gone', pid });
    });
  });

  it('is waiting for an empty or missing directory, and file for one segment file', async () => {
    await withTempDir(async (dir) => {
      assert.deepEqual(await daemonStatus(dir), { kind: 'waiting' });
      assert.deepEqual(await daemonStatus(join(dir, 'nope')), { kind: 'waiting' });
      await writeFile(join(dir, 'x.bin'), 'x');
      assert.deepEqual(await daemonStatus(join(dir, 'x.bin')), { kind: 'file' });
    });
  });
});

describe('LogFollower, post-mortem', () => {
  it('shows the final state at the time of the last event, and a torn tail', async () => {
    await withTempDir(async (dir) => {
      const script = new Script().mkdir(alice, 'jobs').put(alice, 'jobs', 'a', 'x');
      const writer = await openSegment(dir, { mountId: MOUNT_ID_TEST, firstSeq: 1 });
      await writer.append(script.events, { durable: true });
      await writer.close();
      await appendFile(join(dir, 'segment-000000000001.log'), Buffer.from([50, 0, 0, 0, 1, 2, 3, 4, 5]));
      await writeFile(join(dir, 'LOCK'), `${deadPid()} 1\n`);
      const top = follower(dir);
      await top.catchUp();
      const view = top.view({ detailQueue: null, streamMax: 5 });
      assert.equal(view.header.daemon.kind, 'gone');
      assert.equal(view.header.nowMs, script.tMs);
      assert.equal(view.rows[0]!.depth, 1);
      assert.match(view.header.problems.join(), /torn tail: 9 bytes/);
    });
  });
});

describe('LogFollower, replay', () => {
  it('plays the log on its own clock, jumps quiet stretches, and ends with the final state', async () => {
    await withTempDir(async (dir) => {
      const script = new Script().mkdir(alice, 'jobs');
      for (let i = 0; i < 5; i++) script.put(alice, 'jobs', `m${i}`, 'x', 200);
      script.tMs += 3_600_000; // an hour of silence
      script.pop(bob, 'jobs');
      const writer = await openSegment(dir, { mountId: MOUNT_ID_TEST, firstSeq: 1 });
      await writer.append(script.events, { durable: true });
      await writer.close();
      const top = follower(dir, 4);
      await top.start();
      try {
        assert.equal(top.model.state.seq, 0, 'nothing is shown before its time');
        await until(() => top.model.state.queues.has('jobs'), 'the first event');
        assert.ok(top.model.state.seq < script.events.length, 'not everything at once');
        await until(() => top.daemon.kind === 'replay' && top.daemon.isFinished, 'the end of the replay', 8000);
        assert.equal(top.model.state.seq, script.events.length);
        assert.equal(top.view({ detailQueue: null, streamMax: 1 }).header.nowMs, script.tMs);
      } finally {
        await top.stop();
      }
    });
  });

  it('starts from seq 1 while the first segment is still there, even with a newer snapshot', async () => {
    await withTempDir(async (dir) => {
      const script = new Script().mkdir(alice, 'a').mkdir(alice, 'b');
      const writer = await openSegment(dir, { mountId: MOUNT_ID_TEST, firstSeq: 1 });
      await writer.append(script.events, { durable: true });
      await writer.close();
      await writeSnapshot(dir, { seq: 2, state: toPlain(script.state), hash: '' }, MOUNT_ID_TEST);
      const top = follower(dir, 1000);
      await top.start();
      try {
        await until(() => top.daemon.kind === 'replay' && top.daemon.isFinished, 'the end');
        assert.deepEqual(top.model.stream.newest(5).map((entry) => entry.queue), ['a', 'b']);
      } finally {
        await top.stop();
      }
    });
  });
});
