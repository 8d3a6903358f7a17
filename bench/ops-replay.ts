/**
 * The daemon's own cost per message, without FUSE: replays, in this process, the exact request
 * sequence the kernel sends for one produce (create+write+close) and one pop (readlink head, read,
 * unlink head) of the bench client (taken from `eventfs -d`), straight into an op table, each
 * request awaited like the kernel awaits its reply. Op tables:
 *
 *   floor        bench/floor-fs.ts's
 *   rules        src/fs/ops.ts + model; no /proc, no log
 *   proc         + src/proc/cache.ts caller and creator lookups (the caller is this process)
 *   proc-plain   + src/proc/liveness.ts lookups instead (what eventfs did before the cache)
 *   none         + the log as eventfs runs it (SegmentedLog, group-commit writer, compaction), durability none
 *
 * The figures are JS-thread microseconds per message; the difference to the floor is what eventfs
 * adds on top of a FUSE round trip it cannot avoid. Much steadier than end-to-end throughput on
 * a shared machine, because nothing waits for the scheduler.
 *
 *   close/always the same with durability close / always
 *
 * With --concurrent P, P producers and P consumers (exactly-once recipe) run at once instead, and
 * the figure is messages per second: the group commit of close/always without FUSE in the way.
 *
 * Usage: node --import tsx bench/ops-replay.ts [--count N] [--rounds N] [--only a,b] [--json] [--concurrent P]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { BUILT_IN_QUOTA_TABLE } from '../src/config/limits.ts';
import { Compactor, SNAPSHOT_BYTES_MIN } from '../src/fs/compactor.ts';
import { Engine, type EventSink } from '../src/fs/engine.ts';
import { Handles } from '../src/fs/handles.ts';
import type { FuseOps } from '../src/fs/native.ts';
import { makeOps } from '../src/fs/ops.ts';
import { Reaper } from '../src/fs/reaper.ts';
import { readLogDir } from '../src/log/reader.ts';
import { SegmentedLog } from '../src/log/segmented.ts';
import { openLogForAppend } from '../src/log/writer.ts';
import { DAEMON, emptyState, type Caller } from '../src/model/index.ts';
import { ProcCache } from '../src/proc/cache.ts';
import { callerIdentity, isAlive } from '../src/proc/liveness.ts';
import { makeFloorOps } from './floor-fs.ts';

type Table = { ops: FuseOps; close: () => Promise<void> };
const KINDS = ['floor', 'rules', 'proc', 'proc-plain', 'none', 'close', 'always'] as const;
type Kind = (typeof KINDS)[number];

const nullSink: EventSink = { append: () => Promise.resolve(), sync: () => Promise.resolve() };

async function makeTable(kind: Kind): Promise<Table> {
  const me = callerIdentity(process.pid)!;
  if (kind === 'floor') return { ops: makeFloorOps(() => ({ uid: 0, gid: 0 })), close: async () => undefined };
  const cache = new ProcCache();
  const state = emptyState();
  let sink: EventSink = nullSink;
  let afterAppend: () => void = () => undefined;
  let closeLog = async (): Promise<void> => undefined;
  const logDir = mkdtempSync('/tmp/eventfs-bench-replay-');
  const durability = kind === 'close' || kind === 'always' ? kind : 'none';
  if (kind === 'none' || kind === 'close' || kind === 'always') {
    const read = await readLogDir(logDir);
    const log = new SegmentedLog(logDir, await openLogForAppend(read));
    const compactor = new Compactor(log, state, { snapshotBytesMin: SNAPSHOT_BYTES_MIN, warn: (m) => console.error(m) });
    sink = log;
    afterAppend = () => void compactor.maybeSnapshot();
    closeLog = async () => {
      await compactor.snapshot(); // joins one still running, so the directory is not removed under it
      await log.close();
    };
  }
  const engine = new Engine(state, sink, durability, (error) => console.error(error), afterAppend);
  await engine.run({ type: 'setQuotas', quotas: BUILT_IN_QUOTA_TABLE, by: DAEMON, atMs: Date.now() });
  const alive = kind === 'rules' ? () => true : kind === 'proc-plain' ? isAlive : (c: { pid: number; start: number }) => cache.isAlive(c);
  const reaper = new Reaper({ state, isAlive: alive, reap: (queue) => void engine.run({ type: 'reap', queue, by: DAEMON, atMs: Date.now() }) });
  const caller = (): Caller => {
    if (kind === 'rules') return { uid: 0, gid: 0, pid: process.pid, start: me.start };
    const identity = kind === 'proc-plain' ? callerIdentity(process.pid) : cache.callerIdentity(process.pid);
    return { uid: 0, gid: 0, pid: identity?.pid ?? process.pid, start: identity?.start ?? 0 };
  };
  // In-process there is no libfuse: answer as with the stock one (no NAME_STAYS codes).
  const ops = makeOps({ engine, handles: new Handles(), reaper, caller, now: Date.now, report: (e) => console.error(e), patchedLibfuse: false });
  return {
    ops,
    close: async () => {
      await closeLog();
      cache.close();
      rmSync(logDir, { recursive: true, force: true });
    },
  };
}

/** One request: calls the op and resolves with its callback's arguments (throws on an error code). */
function call<T extends unknown[]>(fn: ((...args: never[]) => void) | undefined, ...args: unknown[]): Promise<T> {
  return new Promise((resolve, reject) => {
    (fn as (...a: unknown[]) => void)(...args, (code: number, ...rest: unknown[]) => {
      // ENOENT and ENODATA are answers the sequences expect; anything else is a failure.
      if (code < 0 && code !== -2 && code !== -61) reject(new Error(`errno ${code}`));
      else resolve([code, ...rest] as unknown as T);
    });
  });
}

const payload = Buffer.alloc(16, 'p');

/** The requests of one produce, as `eventfs -d` shows them for os.open(O_CREAT|O_EXCL)+write+close. */
async function produce(ops: FuseOps, q: string, name: string): Promise<void> {
  const path = `${q}/${name}`;
  await call(ops.getattr, '/');
  await call(ops.getattr, q);
  await call(ops.getattr, q);
  await call(ops.getattr, q);
  await call(ops.getattr, path); // ENOENT
  const [, fh] = await call<[number, number]>(ops.create, path, 0o100644);
  await call(ops.fgetattr, path, fh);
  await call(ops.getattr, path);
  await call(ops.getxattr, path, 'security.capability', 0); // ENODATA
  const buf = Buffer.from(payload);
  await call(ops.write, path, fh, buf, buf.length, 0);
  await call(ops.flush, path, fh);
  await call(ops.release, path, fh);
}

/** The requests of one pop: readlink head, open+read+close the name, unlink head. */
async function pop(ops: FuseOps, q: string): Promise<void> {
  await call(ops.getattr, '/');
  await call(ops.getattr, q);
  await call(ops.getattr, q);
  await call(ops.getattr, `${q}/head`);
  const [, name] = await call<[number, string]>(ops.readlink, `${q}/head`);
  const path = `${q}/${name}`;
  await call(ops.getattr, '/');
  await call(ops.getattr, q);
  await call(ops.getattr, q);
  await call(ops.getattr, path);
  await call(ops.getattr, path);
  const [, fh] = await call<[number, number]>(ops.open, path, 0);
  await call(ops.getattr, path);
  const buf = Buffer.alloc(4096);
  await call(ops.read, path, fh, buf, buf.length, 0);
  await call(ops.getattr, path);
  await call(ops.flush, path, fh);
  await call(ops.release, path, fh);
  await call(ops.getattr, '/');
  await call(ops.getattr, q);
  await call(ops.getattr, q);
  await call(ops.getattr, `${q}/head`);
  await call(ops.getattr, q);
  await call(ops.unlink, `${q}/head`);
}

/** The requests of one exactly-once claim (README recipe): false if another consumer won it. */
async function claim(ops: FuseOps, q: string): Promise<'won' | 'lost' | 'empty'> {
  await call(ops.getattr, q);
  const [code, name] = await call<[number, string]>(ops.readlink, `${q}/head`);
  if (code < 0) return 'empty';
  const path = `${q}/${name}`;
  const [openCode, fh] = await call<[number, number]>(ops.open, path, 0);
  if (openCode < 0) return 'lost';
  const buf = Buffer.alloc(4096);
  const [read] = await call<[number]>(ops.read, path, fh, buf, buf.length, 0);
  await call(ops.flush, path, fh);
  await call(ops.release, path, fh);
  if (read < payload.length) return 'lost'; // still being written: look again
  const [unlinkCode] = await call<[number]>(ops.unlink, path);
  return unlinkCode < 0 ? 'lost' : 'won';
}

/** P producers and P consumers at once (scenario 2 without FUSE): messages per second. */
async function measureConcurrent(kind: Kind, count: number, round: number, clients: number): Promise<number> {
  const table = await makeTable(kind);
  try {
    const q = `/concurrent-${round}`;
    await call(table.ops.mkdir, q, 0o755);
    const perProducer = Math.ceil(count / clients);
    let producing = clients;
    let consumed = 0;
    const t0 = performance.now();
    const producers = Array.from({ length: clients }, async (_, p) => {
      for (let i = 0; i < perProducer; i++) await produce(table.ops, q, `p${p}-${i}`);
      producing--;
    });
    const consumers = Array.from({ length: clients }, async () => {
      for (;;) {
        const outcome = await claim(table.ops, q);
        if (outcome === 'won') consumed++;
        else if (outcome === 'empty' && producing === 0) return;
        else await new Promise((resolve) => setTimeout(resolve, outcome === 'empty' ? 1 : 0));
      }
    });
    await Promise.all([...producers, ...consumers]);
    if (consumed !== perProducer * clients) throw new Error(`${kind}: consumed ${consumed} of ${perProducer * clients}`);
    return (consumed / (performance.now() - t0)) * 1000;
  } finally {
    await table.close();
  }
}

type Result = { produceUs: number; popUs: number; produceCpuUs: number; popCpuUs: number };

async function measure(kind: Kind, count: number, round: number): Promise<Result> {
  const table = await makeTable(kind);
  try {
    const q = `/replay-${round}`;
    await call(table.ops.mkdir, q, 0o755);
    // Warm up (JIT), then measure.
    for (let i = 0; i < 200; i++) await produce(table.ops, q, `w-${i}`);
    for (let i = 0; i < 200; i++) await pop(table.ops, q);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (let i = 0; i < count; i++) await produce(table.ops, q, `m-${String(i).padStart(8, '0')}`);
    const t1 = performance.now();
    const c1 = process.cpuUsage();
    for (let i = 0; i < count; i++) await pop(table.ops, q);
    const t2 = performance.now();
    const c2 = process.cpuUsage();
    const cpu = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage) => (b.user - a.user + b.system - a.system) / count;
    return { produceUs: ((t1 - t0) * 1000) / count, popUs: ((t2 - t1) * 1000) / count, produceCpuUs: cpu(c0, c1), popCpuUs: cpu(c1, c2) };
  } finally {
    await table.close();
  }
}

function parseArgs(argv: string[]): { count: number; rounds: number; only: Kind[]; json: boolean; concurrent: number } {
  const args = { count: 3000, rounds: 3, only: ['floor', 'rules', 'proc', 'proc-plain', 'none'] as Kind[], json: false, concurrent: 0 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--count') args.count = Number(argv[++i]);
    else if (arg === '--rounds') args.rounds = Number(argv[++i]);
    else if (arg === '--only') args.only = (argv[++i] ?? '').split(',') as Kind[];
    else if (arg === '--json') args.json = true;
    else if (arg === '--concurrent') args.concurrent = Number(argv[++i]);
    else throw new Error(`unknown argument ${arg}`);
  }
  for (const kind of args.only) if (!KINDS.includes(kind)) throw new Error(`unknown op table ${kind} (known: ${KINDS.join(', ')})`);
  return args;
}

export async function runOpsReplay(options: { count: number; rounds: number; only: Kind[] }): Promise<Record<string, Result>> {
  const runs: Record<string, Result[]> = {};
  for (let r = 0; r < options.rounds; r++) {
    for (const kind of options.only) (runs[kind] ??= []).push(await measure(kind, options.count, r));
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const out: Record<string, Result> = {};
  for (const [kind, results] of Object.entries(runs)) {
    out[kind] = {
      produceUs: median(results.map((r) => r.produceUs)), popUs: median(results.map((r) => r.popUs)),
      produceCpuUs: median(results.map((r) => r.produceCpuUs)), popCpuUs: median(results.map((r) => r.popCpuUs)),
    };
  }
  return out;
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const args = parseArgs(process.argv.slice(2));
  if (args.concurrent > 0) {
    console.log(`${args.concurrent} producers + ${args.concurrent} consumers in-process, ${args.count} messages: messages/s per round`);
    for (const kind of args.only) {
      const rates: number[] = [];
      for (let r = 0; r < args.rounds; r++) rates.push(await measureConcurrent(kind, args.count, r, args.concurrent));
      console.log(`${kind.padEnd(12)} ${rates.map((v) => v.toFixed(0).padStart(7)).join(' ')}`);
    }
    process.exit(0);
  }
  const result = await runOpsReplay(args);
  if (args.json) console.log(JSON.stringify(result, null, 2));
  else {
    console.log(`JS-thread cost per message, in-process (median of ${args.rounds} rounds of ${args.count}):`);
    console.log(`${'op table'.padEnd(12)} ${'produce us'.padStart(11)} ${'pop us'.padStart(9)} ${'cpu/prod'.padStart(9)} ${'cpu/pop'.padStart(9)}`);
    for (const [kind, r] of Object.entries(result)) {
      console.log(`${kind.padEnd(12)} ${r.produceUs.toFixed(1).padStart(11)} ${r.popUs.toFixed(1).padStart(9)} ${r.produceCpuUs.toFixed(1).padStart(9)} ${r.popCpuUs.toFixed(1).padStart(9)}`);
    }
  }
}
