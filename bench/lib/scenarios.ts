/**
 * The scenarios that run the same python client against every target. Each takes a mounted
 * target and fresh queue names, runs once, verifies what the consumers got, and returns its
 * figures. The orchestrator (bench/run.ts) interleaves targets and repeats rounds.
 */
import { mkdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTogether, span, spawnClient, type ClientResult } from './clients.ts';
import { cpuSeconds, type Target } from './targets.ts';

/** One figure of one run: the value of each named metric (higher is better). */
export type Figures = Record<string, number>;

export type Counts = { single: number; concurrent: number; large: number; multicast: number };

export const COUNTS: Counts = { single: 3000, concurrent: 3000, large: 200, multicast: 200 };
export const QUICK_COUNTS: Counts = { single: 500, concurrent: 500, large: 50, multicast: 50 };

export const SMALL_BYTES = 16;
export const LARGE_BYTES = 64 * 1024;
export const PRODUCERS = 4;
export const CONSUMERS = 4;
export const FANOUT = 10;

const popVia = (target: Target): string => (target.kind === 'tmpfs' ? 'seq' : 'head');
const claimVia = (target: Target): string => (target.kind === 'tmpfs' ? 'list' : 'head');
const rate = (count: number, r: ClientResult): number => count / (r.t1 - r.t0);

/**
 * Runs clients and measures CPU: theirs (user+system, so the kernel's share of their syscalls)
 * plus the daemon's over the same phase. Lower is better; unlike throughput it hardly depends on
 * what else the machine runs.
 */
async function withCpu<T extends ClientResult[]>(target: Target, body: () => Promise<T>): Promise<{ results: T; cpu: number }> {
  const before = target.pid === null ? 0 : cpuSeconds(target.pid);
  const results = await body();
  const daemon = target.pid === null ? 0 : cpuSeconds(target.pid) - before;
  return { results, cpu: daemon + results.reduce((sum, r) => sum + r.cpu, 0) };
}

const usPer = (cpu: number, count: number): number => (cpu / count) * 1e6;

/**
 * Queues are created by this process (long-lived, so not reaped) and not sticky: the common case,
 * in which eventfs checks the creator's liveness when the queue is looked up.
 */
function makeQueue(target: Target, name: string): string {
  const dir = join(target.mnt, name);
  mkdirSync(dir);
  return dir;
}

function dropQueue(dir: string): void {
  rmdirSync(dir);
}

/** Called just before (true) and after (false) each timed phase, e.g. to sample the daemon. */
export type PhaseHook = (phase: 'produce' | 'pop', isStart: boolean) => void;

/** 1. One producer creates+writes+closes N small messages, then one consumer pops them all. */
export async function single(target: Target, tag: string, count: number, onPhase: PhaseHook = () => undefined): Promise<Figures> {
  const dir = makeQueue(target, `single-${tag}`);
  const phase = async (name: 'produce' | 'pop', args: string[]): Promise<Awaited<ReturnType<typeof withCpu>>> => {
    onPhase(name, true);
    const measured = await withCpu(target, () => runTogether([[name, dir, '--prefix', 'm', '--count', String(count), '--size', String(SMALL_BYTES), ...args]]));
    onPhase(name, false);
    return measured;
  };
  const produced = await phase('produce', []);
  const popped = await phase('pop', ['--via', popVia(target)]);
  dropQueue(dir);
  return {
    produce: rate(count, produced.results[0]!), pop: rate(count, popped.results[0]!),
    produceCpuUs: usPer(produced.cpu, count), popCpuUs: usPer(popped.cpu, count),
  };
}

/**
 * 2. Four producers and four consumers on one queue at once; consumers follow the exactly-once
 * recipe. Messages per second = all messages / (first start .. last consumer done).
 */
export async function concurrent(target: Target, tag: string, count: number, scratch: string): Promise<Figures> {
  const dir = makeQueue(target, `multi-${tag}`);
  const done = join(scratch, `done-${target.label}-${tag}`);
  rmSync(done, { force: true });
  const perProducer = Math.ceil(count / PRODUCERS);
  const producers = Array.from({ length: PRODUCERS }, (_, i) =>
    spawnClient(['produce', dir, '--prefix', `p${i}`, '--count', String(perProducer), '--size', String(SMALL_BYTES)]));
  const consumers = Array.from({ length: CONSUMERS }, () =>
    spawnClient(['claim', dir, '--size', String(SMALL_BYTES), '--via', claimVia(target), '--done', done]));
  const all = [...producers, ...consumers];
  await Promise.all(all.map((client) => client.ready));
  const { results, cpu } = await withCpu(target, async () => {
    for (const client of all) client.go();
    const produced = await Promise.all(producers.map((client) => client.result));
    writeFileSync(done, '');
    return [...produced, ...(await Promise.all(consumers.map((client) => client.result)))];
  });
  const produced = results.slice(0, PRODUCERS);
  const claimed = results.slice(PRODUCERS);
  dropQueue(dir);
  rmSync(done, { force: true });
  const total = perProducer * PRODUCERS;
  const names = claimed.flatMap((r) => r.names ?? []);
  const unique = new Set(names);
  if (unique.size !== names.length) throw new Error(`${target.label}: exactly-once broken: ${names.length - unique.size} messages consumed twice`);
  if (unique.size !== total) throw new Error(`${target.label}: consumers got ${unique.size} of ${total} messages`);
  return {
    messages: total / span([...produced, ...claimed]),
    produce: total / span(produced),
    cpuUs: usPer(cpu, total),
    lostRaces: claimed.reduce((n, r) => n + (r.lost ?? 0), 0) / total,
    shortReads: claimed.reduce((n, r) => n + (r.short ?? 0), 0) / total,
    looks: claimed.reduce((n, r) => n + (r.looks ?? 0), 0) / total,
    sleeps: claimed.reduce((n, r) => n + (r.sleeps ?? 0), 0) / total,
  };
}

/** 3. 64 KiB messages: one producer writes them, then one consumer reads and pops them. MB/s. */
export async function large(target: Target, tag: string, count: number): Promise<Figures> {
  const dir = makeQueue(target, `large-${tag}`);
  const size = String(LARGE_BYTES);
  const written = await withCpu(target, () => runTogether([['produce', dir, '--prefix', 'big', '--count', String(count), '--size', size]]));
  const read = await withCpu(target, () => runTogether([['pop', dir, '--prefix', 'big', '--count', String(count), '--size', size, '--via', popVia(target)]]));
  dropQueue(dir);
  const mb = (count * LARGE_BYTES) / 1e6;
  const w = written.results[0]!;
  const r = read.results[0]!;
  return { write: mb / (w.t1 - w.t0), read: mb / (r.t1 - r.t0), writeCpuUsPerMB: usPer(written.cpu, mb), readCpuUsPerMB: usPer(read.cpu, mb) };
}

/** 4. Multicast: each message is created in one queue and hard-linked into FANOUT - 1 more. */
export async function multicast(target: Target, tag: string, count: number): Promise<Figures> {
  const dirs = Array.from({ length: FANOUT }, (_, i) => makeQueue(target, `mc-${tag}-${i}`));
  const { results: [fanned], cpu } = await withCpu(target, () =>
    runTogether([['multicast', dirs[0]!, ...dirs.slice(1), '--prefix', 'mc', '--count', String(count), '--size', String(SMALL_BYTES)]]));
  // Every queue holds every message: pop them all (untimed), which also checks the links.
  await runTogether(dirs.map((dir) => ['pop', dir, '--prefix', 'mc', '--count', String(count), '--size', String(SMALL_BYTES), '--via', popVia(target)]));
  for (const dir of dirs) dropQueue(dir);
  return { messages: rate(count, fanned!), links: rate(count * (FANOUT - 1), fanned!), cpuUs: usPer(cpu, count) };
}
