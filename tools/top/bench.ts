/**
 * eventfs-top's CPU cost while it follows a busy log: a synthetic log is written at a fixed rate
 * (events made by the model's execute, appended with src/log's writer, as a mount would) while a
 * child process runs eventfs-top's live path (bench-child.tsx: chokidar, tail, fold, stats, Ink
 * rendering). The child reports its own process.cpuUsage() over the run. Goal: 10,000 events/s
 * with under 25% of one core, the fold caught up at the end, and bounded memory.
 *
 * Usage: node --import tsx tools/top/bench.ts [--json] [--rate EVENTS_PER_S] [--seconds N]
 * TOP_BENCH_PROFILE=FILE.cpuprofile also writes a CPU profile of the child over the measured run.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { BUILT_IN_QUOTA_TABLE } from '../../src/config/limits.ts';
import { acquireLock } from '../../src/log/lock.ts';
import { openSegment, type LogWriter } from '../../src/log/writer.ts';
import { DAEMON, emptyState, execute, type Caller, type CommandBody, type Event, type State } from '../../src/model/index.ts';
import type { ChildReport } from './bench-child.tsx';

export type TopCpuOptions = { eventsPerSecond: number; seconds: number; queues?: number; depthMax?: number };

export type TopCpuResult = {
  eventsPerSecondTarget: number;
  eventsPerSecondWritten: number;
  eventsWritten: number;
  eventsFolded: number;
  isCaughtUp: boolean;
  drainMs: number; // after the writer stopped, until the fold had every event
  seconds: number;
  cpuPercent: number; // of one core, over the run and the drain
  rssMaxBytes: number;
  frames: number;
  streamSize: number;
  goalCpuPercent: number;
  isGoalMet: boolean;
};

const GOAL_CPU_PERCENT = 25;
const TICK_MS = 10;
const PRODUCER: Caller = { uid: 1000, gid: 1000, pid: 4242, start: 1 };
const CONSUMER: Caller = { uid: 1001, gid: 1001, pid: 4343, start: 2 };
const CHILD = fileURLToPath(new URL('./bench-child.tsx', import.meta.url));

// Producers fill each queue to depthMax, consumers drain it to zero, round robin over queues.
class Workload {
  readonly state: State = emptyState();
  #next = 0;
  #serial = 0;
  #isDraining: boolean[];
  readonly #payload = randomBytes(64);

  constructor(readonly queues: number, readonly depthMax: number) {
    this.#isDraining = new Array(queues).fill(false);
  }

  #run(by: Caller, body: CommandBody, atMs: number): Event[] {
    const decision = execute(this.state, { ...body, by, atMs } as Parameters<typeof execute>[1]);
    if (!decision.ok) throw new Error(`bench workload: ${body.type} refused with ${decision.errno}`);
    return decision.events;
  }

  setup(atMs: number): Event[] {
    const events = this.#run(DAEMON, { type: 'setQuotas', quotas: BUILT_IN_QUOTA_TABLE }, atMs);
    for (let q = 0; q < this.queues; q++) events.push(...this.#run(PRODUCER, { type: 'mkdir', path: `/q${q}`, mode: 0o755 }, atMs));
    return events;
  }

  // At least `count` events (a message is two: create and write).
  step(count: number, atMs: number): Event[] {
    const events: Event[] = [];
    while (events.length < count) {
      const q = this.#next++ % this.queues;
      const queue = this.state.queues.get(`q${q}`)!;
      if (queue.entries.size >= this.depthMax) this.#isDraining[q] = true;
      if (queue.entries.size === 0) this.#isDraining[q] = false;
      if (this.#isDraining[q]) {
        events.push(...this.#run(CONSUMER, { type: 'unlink', path: `/q${q}/head` }, atMs));
        continue;
      }
      const name = `m${this.#serial++}`;
      events.push(...this.#run(PRODUCER, { type: 'create', path: `/q${q}/${name}`, mode: 0o644 }, atMs));
      const ino = queue.entries.get(name)!.ino;
      events.push(...this.#run(PRODUCER, { type: 'write', ino, offset: 0, data: this.#payload }, atMs));
    }
    return events;
  }
}

export async function measureTopCpu(options: TopCpuOptions): Promise<TopCpuResult> {
  const dir = await mkdtemp(join(tmpdir(), 'eventfs-top-bench-'));
  const lock = await acquireLock(dir); // this process plays the daemon, so eventfs-top sees it live
  const writer = await openSegment(dir, { mountId: randomBytes(16), firstSeq: 1 });
  const workload = new Workload(options.queues ?? 20, options.depthMax ?? 200);
  const child = fork(CHILD, [dir], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, NODE_ENV: 'production' }, // as main.tsx runs it
  });
  let childErrors = '';
  child.stderr!.on('data', (chunk: Buffer) => { childErrors += chunk.toString(); });
  try {
    await writer.append(workload.setup(Date.now()), { durable: false });
    await messageFrom(child, 'ready');
    child.send({ type: 'start' });
    const written = await writeAtRate(writer, workload, options);
    child.send({ type: 'stop', seq: written.seq });
    const { report } = await messageFrom(child, 'report') as unknown as { report: ChildReport };
    return result(options, written, report);
  } catch (error) {
    throw new Error(`${(error as Error).message}${childErrors === '' ? '' : `; the child said:\n${childErrors}`}`, { cause: error });
  } finally {
    // The child exits by itself after its report (writing its profile, if asked for one).
    const exited = new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
    await Promise.race([exited, sleep(5000)]);
    child.kill('SIGKILL');
    await writer.close();
    await lock.release();
    await rm(dir, { recursive: true, force: true });
  }
}

// Appends what is due every tick, so the log grows at the target rate as a mount's would. The
// events are made beforehand (one tick's worth per slot) so that this process, which shares the
// machine with the one measured, does little more than write; each slot gets its time stamp
// when it is written, so eventfs-top sees real-time rates.
async function writeAtRate(writer: LogWriter, workload: Workload, options: TopCpuOptions): Promise<{ seq: number; events: number; seconds: number }> {
  const perTick = Math.max(1, Math.round((options.eventsPerSecond * TICK_MS) / 1000));
  const slots: Event[][] = [];
  for (let made = 0; made < options.eventsPerSecond * options.seconds; made += slots.at(-1)!.length) slots.push(workload.step(perTick, 0));
  const startMs = performance.now();
  let events = 0;
  let slot = 0;
  while (slot < slots.length) {
    const due = Math.floor(((performance.now() - startMs) / 1000) * options.eventsPerSecond);
    const batch: Event[] = [];
    const atMs = Date.now();
    while (events < due && slot < slots.length) {
      for (const event of slots[slot]!) event.t = atMs;
      batch.push(...slots[slot]!);
      events += slots[slot++]!.length;
    }
    if (batch.length > 0) await writer.append(batch, { durable: false });
    await sleep(TICK_MS);
  }
  return { seq: workload.state.seq, events, seconds: (performance.now() - startMs) / 1000 };
}

function result(options: TopCpuOptions, written: { seq: number; events: number; seconds: number }, report: ChildReport): TopCpuResult {
  const cpuPercent = ((report.cpuUserMicros + report.cpuSystemMicros) / 1000 / report.elapsedMs) * 100;
  return {
    eventsPerSecondTarget: options.eventsPerSecond,
    eventsPerSecondWritten: written.events / written.seconds,
    eventsWritten: written.events,
    eventsFolded: report.seqFolded,
    isCaughtUp: report.seqFolded >= written.seq,
    drainMs: report.drainMs,
    seconds: written.seconds,
    cpuPercent,
    rssMaxBytes: report.rssMaxBytes,
    frames: report.frames,
    streamSize: report.streamSize,
    goalCpuPercent: GOAL_CPU_PERCENT,
    isGoalMet: cpuPercent < GOAL_CPU_PERCENT && report.seqFolded >= written.seq,
  };
}

function messageFrom(child: ReturnType<typeof fork>, type: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: Record<string, unknown>): void => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      resolve(message);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`bench child exited (${code}) before '${type}'`)));
  });
}

export function formatTopCpu(r: TopCpuResult): string {
  const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
  return [
    `eventfs-top bench: ${Math.round(r.eventsPerSecondWritten).toLocaleString('en-US')} events/s written for ${r.seconds.toFixed(1)} s ` +
      `(target ${r.eventsPerSecondTarget.toLocaleString('en-US')}), ${r.eventsWritten.toLocaleString('en-US')} events`,
    `CPU of eventfs-top (tail + fold + render): ${r.cpuPercent.toFixed(1)}% of one core; ${r.frames} frames; ` +
      `caught up: ${r.isCaughtUp ? `yes (${r.drainMs.toFixed(0)} ms after the writer stopped)` : `NO (${r.eventsFolded} of ${r.eventsWritten})`}`,
    `memory: max RSS ${mb(r.rssMaxBytes)}; event stream ${r.streamSize} entries (bounded)`,
    `goal (< ${r.goalCpuPercent}% of one core, caught up): ${r.isGoalMet ? 'met' : 'NOT met'}`,
  ].join('\n');
}

function parseArgs(argv: string[]): { isJson: boolean; options: TopCpuOptions } {
  const options: TopCpuOptions = { eventsPerSecond: 10_000, seconds: 10 };
  let isJson = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') isJson = true;
    else if (arg === '--rate') options.eventsPerSecond = Number(argv[++i]);
    else if (arg === '--seconds') options.seconds = Number(argv[++i]);
    else throw new Error(`unknown argument ${arg} (usage: tools/top/bench.ts [--json] [--rate N] [--seconds N])`);
  }
  return { isJson, options };
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const { isJson, options } = parseArgs(process.argv.slice(2));
  const result = await measureTopCpu(options);
  console.log(isJson ? JSON.stringify(result, null, 2) : formatTopCpu(result));
}
