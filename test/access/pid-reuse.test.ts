/**
 * PID reuse on a real mount. The kernel cannot be made to hand a dead creator's pid to a new
 * process on demand, so the test builds the situation exactly instead: a log, written offline with
 * the model and src/log's writer, in which queues record as creator the pid of a process that is
 * alive now, some with that process's real start time and some with another one (what a reused
 * pid looks like: same number, different process). Mounting on that log, recovery must reap the
 * queues whose start time does not match and keep the ones that do (and the sticky ones).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSegment } from '../../src/log/writer.ts';
import {
  emptyState, execute, STICKY_XATTR, type Caller, type CommandBody, type Event, type State,
} from '../../src/model/index.ts';
import { startTimeOf } from '../../src/proc/liveness.ts';
import { startMount, type TestMount } from '../helpers/mount.ts';
import { killAndWait } from '../helpers/queues.ts';
import { attempt, attempts, logEvents } from './access-helpers.ts';

let root: string;
let live: ChildProcess;
let liveStart: number;
let m: TestMount | undefined;

/** A process that is alive for the whole test, as `sleep`. */
function sleeper(): ChildProcess {
  return spawn('sleep', ['3600'], { stdio: 'ignore' });
}

/** Runs commands through the model, as a mount would, and returns the events they produced. */
function eventsOf(steps: { by: Caller; cmd: CommandBody }[]): Event[] {
  const state: State = emptyState();
  const events: Event[] = [];
  let t = Date.now() - 60_000;
  for (const { by, cmd } of steps) {
    const decision = execute(state, { ...cmd, by, atMs: t++ } as Parameters<typeof execute>[1]);
    if (!decision.ok) throw new Error(`${cmd.type} refused: ${decision.errno}`);
    events.push(...decision.events);
  }
  return events;
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'eventfs-access-pid-'));
  live = sleeper();
  await new Promise((resolve) => live.once('spawn', resolve));
  liveStart = startTimeOf(live.pid!)!;
  assert.ok(liveStart > 0);

  const pid = live.pid!;
  const alive: Caller = { uid: 0, gid: 0, pid, start: liveStart };
  // The same pid with another start time: the process that made these queues is gone, and its
  // pid now belongs to `live`. (Earlier and later start times are both "another process".)
  const earlier: Caller = { ...alive, start: liveStart - 1 };
  const later: Caller = { ...alive, start: liveStart + 1 };
  const mkdir = (by: Caller, queue: string) => ({ by, cmd: { type: 'mkdir', path: `/${queue}`, mode: 0o755 } as CommandBody });
  const events = eventsOf([
    mkdir(alive, 'same-start'),
    mkdir(earlier, 'reused-earlier'),
    { by: earlier, cmd: { type: 'create', path: '/reused-earlier/msg', mode: 0o644 } },
    mkdir(later, 'reused-later'),
    mkdir(earlier, 'reused-sticky'),
    { by: earlier, cmd: { type: 'setxattr', path: '/reused-sticky', key: STICKY_XATTR, value: Buffer.alloc(0), flags: 0 } },
  ]);
  const logDir = join(root, 'logs');
  mkdirSync(logDir);
  const writer = await openSegment(logDir, { mountId: randomBytes(16), firstSeq: 1 });
  await writer.append(events, { durable: true });
  await writer.close();
  m = await startMount({ logDir, root: join(root, 'r') });
});

after(async () => {
  await m?.stop();
  if (live !== undefined) await killAndWait(live);
  rmSync(root, { recursive: true, force: true });
});

const queues = (): string[] => attempt(['listdir', m!.mnt]).slice(3).split(',').filter(Boolean);

describe('pid reuse at recovery', () => {
  it('reaps queues whose creator pid is alive but started at another time; keeps the real creator\'s and sticky ones', () => {
    assert.deepEqual(queues(), ['reused-sticky', 'same-start']);
    assert.deepEqual(attempts([['listdir', `${m!.mnt}/reused-earlier`], ['listdir', `${m!.mnt}/reused-later`]]), ['ENOENT', 'ENOENT']);
  });

  it('records the reaps in the log, with the creator they were made for', async () => {
    const reaped = (await logEvents(m!.logDir)).flatMap((event) => (event.type === 'queueReaped' ? [[event.queue, event.creator]] : []));
    assert.deepEqual(reaped, [
      ['reused-earlier', { pid: live.pid, start: liveStart - 1 }],
      ['reused-later', { pid: live.pid, start: liveStart + 1 }],
    ]);
  });

  it('reaps the queue of the real creator once that process exits', async () => {
    await killAndWait(live);
    assert.deepEqual(queues(), ['reused-sticky']);
  });
});
