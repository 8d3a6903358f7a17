/**
 * eventfs-replay on logs produced by a real mount, and --exec against a real mount: a workload
 * (creators that die and are reaped, a sticky queue, several users, links, pops, chmod, xattrs,
 * truncate, utimens) is recorded by one mount, then re-executed on a fresh one and compared.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readLogDir } from '../../src/log/reader.ts';
import { emptyState, fold, fromPlain, stateHash, type Event, type PlainState, type State } from '../../src/model/index.ts';
import { runSteps, writeLogDir, type Step } from '../../test/fixtures/replay/generate.ts';
import { sh, startMount, type TestMount } from '../../test/helpers/mount.ts';
import { creatorProcess, killAndWait, stickyQueue } from '../../test/helpers/queues.ts';
import { ensureUser, type TestUser } from '../../test/helpers/users.ts';
import { diffShapes, shapeOfState } from './compare.ts';
import { fixture, spawnReplay } from './testing.ts';

let root: string;
let recorded: string; // the log directory the workload wrote
let userA: TestUser;
let userB: TestUser;

async function foldDir(dir: string, stopBefore?: (event: Event) => boolean): Promise<State> {
  const read = await readLogDir(dir);
  const events = read.events as unknown as Event[];
  const cut = stopBefore === undefined ? events.length : trailing(events, stopBefore);
  const base = read.snapshot === null ? emptyState() : fromPlain(read.snapshot.state as PlainState);
  return fold(events.slice(0, cut), base);
}

/** Where the trailing run of events matching `match` begins. */
function trailing(events: Event[], match: (event: Event) => boolean): number {
  let cut = events.length;
  while (cut > 0 && match(events[cut - 1]!)) cut--;
  return cut;
}

async function recordWorkload(mount: TestMount): Promise<void> {
  const mnt = mount.mnt;
  stickyQueue(`${mnt}/jobs`, 0o777);
  const doomed = await creatorProcess([`${mnt}/tmpq`]);
  const live: ChildProcess = await creatorProcess([`${mnt}/live`]);
  try {
    sh(`echo hello > ${mnt}/jobs/a && printf 'x\\033[31my' > ${mnt}/jobs/b && echo more >> ${mnt}/jobs/b`, { user: userA.name });
    sh(`echo t > ${mnt}/tmpq/t1 && ln ${mnt}/jobs/a ${mnt}/tmpq/a2 && rm ${mnt}/jobs/head && echo l > ${mnt}/live/l1`);
    sh(`chmod 600 ${mnt}/jobs/b && setfattr -n user.k -v v ${mnt}/jobs/b && truncate -s 3 ${mnt}/jobs/b`, { user: userA.name });
    sh(`touch -d 2020-01-01 ${mnt}/tmpq/t1 && ln ${mnt}/tmpq/t1 ${mnt}/jobs/t1-copy`);
    await killAndWait(doomed);
    sh(`ls ${mnt}`); // the lookup reaps tmpq now
    sh(`echo c > ${mnt}/jobs/c && echo d > ${mnt}/jobs/d && rm ${mnt}/jobs/tail`, { user: userB.name });
    await mount.stop(); // "live"'s creator is still alive: its queue is in the log's final state
  } finally {
    await killAndWait(live);
    await killAndWait(doomed);
  }
}

before(async () => {
  userA = ensureUser('eventfs-rp-a');
  userB = ensureUser('eventfs-rp-b');
  root = mkdtempSync(join(tmpdir(), 'eventfs-replay-exec-'));
  chmodSync(root, 0o755); // the test users must reach the mountpoints below it
  const source = await startMount({ root: join(root, 'source') });
  try {
    await recordWorkload(source);
  } finally {
    await source.stop();
  }
  recorded = source.logDir;
});

after(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

describe('eventfs-replay on a log written by a mount', () => {
  it('summarizes it: queues at the end and the hash of the mount state', async () => {
    const result = await spawnReplay([recorded]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^queues +2 queues at seq \d+$/m);
    assert.match(result.stdout, /^ +jobs +3 +\d+ +0:0 +0777 +yes /m);
    assert.match(result.stdout, /^ +live +1 +2 +0:0 +0755 +no /m);
    assert.match(result.stdout, new RegExp(`^hash +${stateHash(await foldDir(recorded))}$`, 'm'));
  });

  it('verifies every invariant after every event', async () => {
    const result = await spawnReplay(['--verify', recorded]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /result +ok/);
  });

  it('dumps the reap of the queue whose creator died', async () => {
    const result = await spawnReplay(['--events', '--type', 'queueReaped', recorded]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /queueReaped +tmpq creator=\d+\/\d+ daemon$/m);
    assert.equal(result.stdout.trim().split('\n').length, 1);
  });
});

describe('--exec', () => {
  it('re-executes the log on a fresh mount, which ends in the same state', async () => {
    const target = await startMount({ root: join(root, 'target') });
    try {
      const result = await spawnReplay(['--exec', target.mnt, recorded]);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /the mount matches the log's fold/);
      assert.match(result.stdout, /1 creator killed for reaps/);
    } finally {
      await target.stop();
    }
    // The mount's own log: once the helpers exit, the queues of dead creators are reaped; before
    // that, its state is the recorded one (inode numbers, times and pids aside).
    const isFinalReap = (event: Event): boolean => event.type === 'queueReaped';
    const replayed = shapeOfState(await foldDir(target.logDir, isFinalReap));
    const original = shapeOfState(await foldDir(recorded));
    assert.deepEqual(diffShapes(original, replayed, { folded: 'the recorded log', other: "the re-executed mount's log" }, { owners: true }), []);
  });

  it('reports the first operation the mount refuses, with exit 1', async () => {
    // The fixture was made by the model alone: uid 1001 pops from uid 1000's queue of mode 0755,
    // which a real mount refuses (default_permissions).
    const target = await startMount({ root: join(root, 'refusing') });
    try {
      const result = await spawnReplay(['--exec', target.mnt, fixture('jobs')]);
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.match(result.stdout, /^differs +at seq 8 entryRemoved jobs\/a \(head\)/m);
      assert.match(result.stdout, /unlink jobs\/head failed on the mount with EACCES/);
    } finally {
      await target.stop();
    }
  });

  it('rebuilds a snapshot first when the log starts at one, then replays the rest', async () => {
    const open: Step[] = [
      { by: { uid: 1000, gid: 1000, pid: 7001, start: 1 }, cmd: { type: 'mkdir', path: '/shared', mode: 0o777 } },
      { by: { uid: 1000, gid: 1000, pid: 7002, start: 1 }, cmd: { type: 'create', path: '/shared/m1', mode: 0o644 } },
      { by: { uid: 1000, gid: 1000, pid: 7002, start: 1 }, write: '/shared/m1', text: 'one' },
      { by: { uid: 1001, gid: 1001, pid: 7003, start: 1 }, cmd: { type: 'create', path: '/shared/m2', mode: 0o600 } },
      { by: { uid: 1001, gid: 1001, pid: 7003, start: 1 }, write: '/shared/m2', text: 'two' },
      // Only the owner may link m1 (Linux fs.protected_hardlinks), so uid 1000 does.
      { by: { uid: 1000, gid: 1000, pid: 7002, start: 1 }, cmd: { type: 'link', from: '/shared/m1', to: '/shared/m1-again' } },
      { by: { uid: 1000, gid: 1000, pid: 7004, start: 1 }, cmd: { type: 'unlink', path: '/shared/head' } },
      { by: { uid: 1001, gid: 1001, pid: 7003, start: 1 }, cmd: { type: 'create', path: '/shared/m3', mode: 0o644 } },
    ];
    const logs = join(root, 'snapshotted');
    await writeLogDir(logs, runSteps(open).events, { snapshotsAt: [5], dropSegmentsBefore: 6 });
    const target = await startMount({ root: join(root, 'from-snapshot') });
    try {
      const result = await spawnReplay(['--exec', target.mnt, logs]);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /seq 6\.\.8/);
      assert.match(result.stdout, /1 queue, 3 messages/);
    } finally {
      await target.stop();
    }
  });

  it('stops at --until and compares the state there', async () => {
    const target = await startMount({ root: join(root, 'until') });
    try {
      const result = await spawnReplay(['--exec', target.mnt, '--until', '3', recorded]);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /seq 1\.\.3,/);
    } finally {
      await target.stop();
    }
  });

  it('refuses a mountpoint that is not an eventfs mount, or not empty (exit 64)', async () => {
    const plain = join(root, 'not-a-mount');
    writeFileSync(join(root, 'marker'), '');
    const notMount = await spawnReplay(['--exec', root, recorded]);
    assert.equal(notMount.code, 64);
    assert.match(notMount.stderr, /is not a mountpoint/);
    const missing = await spawnReplay(['--exec', plain, recorded]);
    assert.equal(missing.code, 64);
    const target = await startMount({ root: join(root, 'busy') });
    try {
      stickyQueue(`${target.mnt}/already`);
      const busy = await spawnReplay(['--exec', target.mnt, recorded]);
      assert.equal(busy.code, 64);
      assert.match(busy.stderr, /already has 1 queue; --exec needs a fresh, empty mount/);
    } finally {
      await target.stop();
    }
  });
});
