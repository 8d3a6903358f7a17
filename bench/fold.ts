/**
 * Fold throughput: how fast a mount replays its log. Generates a log in memory (queues being
 * filled and drained: fileCreated + dataWritten with small payloads, then entryRemoved, across
 * ~100 queues), encodes it with the log codec, then measures
 *   (a) decode + fold: frames checked and decoded by src/log's reader, each event applied;
 *   (b) fold alone: the same events, already decoded, applied to an empty state.
 * Each figure is the median of `runs` runs. Goal: fold alone >= 1,000,000 events/s.
 *
 * Usage: node --import tsx bench/fold.ts [--json] [--events N] [--runs N]
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { BUILT_IN_QUOTA_TABLE } from '../src/config/limits.ts';
import { encodeFrame, encodeHeader, FORMAT_VERSION, HEADER_BYTES } from '../src/log/format.ts';
import { readFrames } from '../src/log/reader.ts';
import { apply, emptyState, EVENT_VERSION, stateHash, type Event, type EventBody, type State } from '../src/model/index.ts';

export type FoldBenchOptions = {
  events: number;
  queues: number;
  runs: number;
  /** Largest payload of a write, in bytes; payloads are 1..payloadBytesMax. */
  payloadBytesMax: number;
  /** A queue is drained once it holds this many files, so the state stays at a realistic size. */
  depthMax: number;
  seed: number;
};

export const foldBenchDefaults: Readonly<FoldBenchOptions> = Object.freeze({
  events: 1_000_000,
  queues: 100,
  runs: 3,
  payloadBytesMax: 256,
  depthMax: 64,
  seed: 42,
});

/**
 * Wall time decides events/s. CPU time (all threads of the process, GC helpers included) is
 * reported beside it because on a shared machine wall time also measures the neighbours.
 */
export type PhaseResult = { eventsPerSec: number; msMedian: number; msRuns: number[]; cpuMsMedian: number; cpuMsRuns: number[] };

export type FoldBenchResult = {
  events: number;
  queues: number;
  segmentBytes: number;
  eventTypes: Record<string, number>;
  stateHash: string;
  decodeFold: PhaseResult;
  foldAlone: PhaseResult;
  goalEventsPerSec: number;
  goalMet: boolean;
};

const GOAL_EVENTS_PER_SEC = 1_000_000;
const T0_MS = 1_704_067_200_000;
const PRODUCER = { uid: 1000, gid: 1000, pid: 4242 };
const CONSUMER = { uid: 1001, gid: 1001, pid: 4343 };

/** mulberry32: a small seeded PRNG, so every run benchmarks the same log. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The log of producers enqueueing and consumers popping: the queues first, then per step either
 * a new message (fileCreated + dataWritten) or a pop of the oldest (entryRemoved via head).
 * Built directly as events (no decide) so generation stays cheap; the first fold validates it.
 */
export function generateEvents(options: FoldBenchOptions): Event[] {
  const next = random(options.seed);
  const events: Event[] = [];
  let nextIno = 2;
  const push = (who: typeof PRODUCER, body: EventBody): void => {
    const seq = events.length + 1;
    events.push({ v: EVENT_VERSION, seq, t: T0_MS + seq, ...who, ...body } as Event);
  };
  push({ uid: 0, gid: 0, pid: 0 }, { type: 'quotasSet', quotas: BUILT_IN_QUOTA_TABLE });
  const queues: { name: string; pending: string[]; serial: number }[] = [];
  for (let i = 0; i < options.queues && events.length < options.events; i++) {
    const name = `queue-${String(i).padStart(3, '0')}`;
    push(PRODUCER, { type: 'queueCreated', queue: name, ino: nextIno, mode: 0o755, creator: { pid: PRODUCER.pid, start: 1234567 } });
    nextIno += 3;
    queues.push({ name, pending: [], serial: 0 });
  }
  while (events.length < options.events) {
    const queue = queues[Math.floor(next() * queues.length)]!;
    const pop = queue.pending.length >= options.depthMax || (queue.pending.length > 0 && next() < 0.5);
    if (pop || options.events - events.length < 2) {
      if (queue.pending.length === 0) continue;
      push(CONSUMER, { type: 'entryRemoved', queue: queue.name, name: queue.pending.shift()!, via: 'head' });
      continue;
    }
    const name = `msg-${queue.serial++}`;
    const ino = nextIno++;
    const data = Buffer.alloc(1 + Math.floor(next() * options.payloadBytesMax), name);
    push(PRODUCER, { type: 'fileCreated', queue: queue.name, name, ino, mode: 0o644 });
    push(PRODUCER, { type: 'dataWritten', ino, offset: 0, data });
    queue.pending.push(name);
  }
  return events;
}

/** A whole segment: header, then one frame per event, as src/log's writer lays it out. */
export function encodeSegment(events: readonly Event[]): Buffer {
  const header = encodeHeader({ version: FORMAT_VERSION, mountId: Buffer.alloc(16, 7), firstSeq: 1 });
  const frames = events.map((event) => encodeFrame(event));
  return Buffer.concat([header, ...frames]);
}

export function decodeSegment(segment: Buffer): Event[] {
  const events: Event[] = [];
  for (const step of readFrames(segment, HEADER_BYTES)) {
    if (step.kind === 'record') events.push(step.value as Event);
    else if (step.kind !== 'eof') throw new Error(`bench segment does not read back: ${step.kind} at ${step.offset}`);
  }
  return events;
}

function decodeAndFold(segment: Buffer): State {
  const state = emptyState();
  for (const step of readFrames(segment, HEADER_BYTES)) {
    if (step.kind === 'record') apply(state, step.value as Event);
    else if (step.kind !== 'eof') throw new Error(`bench segment does not read back: ${step.kind} at ${step.offset}`);
  }
  return state;
}

function foldAll(events: readonly Event[]): State {
  const state = emptyState();
  for (const event of events) apply(state, event);
  return state;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function measure(runs: number, events: number, body: () => State): { result: PhaseResult; state: State } {
  const msRuns: number[] = [];
  const cpuMsRuns: number[] = [];
  let state = emptyState();
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    state = body();
    const cpu = process.cpuUsage(cpuStarted);
    msRuns.push(performance.now() - started);
    cpuMsRuns.push((cpu.user + cpu.system) / 1000);
  }
  const msMedian = median(msRuns);
  const result = { eventsPerSec: Math.round(events / (msMedian / 1000)), msMedian, msRuns, cpuMsMedian: median(cpuMsRuns), cpuMsRuns };
  return { result, state };
}

export function runFoldBench(options: Partial<FoldBenchOptions> = {}): FoldBenchResult {
  const settings: FoldBenchOptions = { ...foldBenchDefaults, ...options };
  const generated = generateEvents(settings);
  const segment = encodeSegment(generated);
  const decoded = decodeSegment(segment);
  const eventTypes: Record<string, number> = {};
  for (const event of decoded) eventTypes[event.type] = (eventTypes[event.type] ?? 0) + 1;
  const decodeFold = measure(settings.runs, decoded.length, () => decodeAndFold(segment));
  const foldAlone = measure(settings.runs, decoded.length, () => foldAll(decoded));
  const hash = stateHash(foldAlone.state);
  if (stateHash(decodeFold.state) !== hash) throw new Error('decode+fold and fold alone reached different states');
  return {
    events: decoded.length,
    queues: settings.queues,
    segmentBytes: segment.length,
    eventTypes,
    stateHash: hash,
    decodeFold: decodeFold.result,
    foldAlone: foldAlone.result,
    goalEventsPerSec: GOAL_EVENTS_PER_SEC,
    goalMet: foldAlone.result.eventsPerSec >= GOAL_EVENTS_PER_SEC,
  };
}

const grouped = (n: number): string => Math.round(n).toLocaleString('en-US');

export function formatFoldBench(result: FoldBenchResult): string {
  const mix = Object.entries(result.eventTypes).map(([type, n]) => `${type} ${grouped(n)}`).join(', ');
  const runs = (values: number[]) => values.map((ms) => ms.toFixed(0)).join(' / ');
  const row = (phase: string, r: PhaseResult) =>
    `${phase.padEnd(14)} ${grouped(r.eventsPerSec).padStart(12)} ${r.msMedian.toFixed(0).padStart(10)} ${r.cpuMsMedian.toFixed(0).padStart(10)}   ${runs(r.msRuns)}`;
  return [
    `fold bench: ${grouped(result.events)} events over ${result.queues} queues, segment ${(result.segmentBytes / 1e6).toFixed(1)} MB`,
    `mix: ${mix}`,
    '',
    `${'phase'.padEnd(14)} ${'events/s'.padStart(12)} ${'median ms'.padStart(10)} ${'cpu ms'.padStart(10)}   wall ms per run`,
    row('decode+fold', result.decodeFold),
    row('fold alone', result.foldAlone),
    '',
    `goal (fold alone >= ${grouped(result.goalEventsPerSec)} events/s): ${result.goalMet ? 'met' : 'NOT met'}`,
  ].join('\n');
}

function parseArgs(argv: string[]): { json: boolean; options: Partial<FoldBenchOptions> } {
  const options: Partial<FoldBenchOptions> = {};
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') json = true;
    else if (arg === '--events') options.events = Number(argv[++i]);
    else if (arg === '--runs') options.runs = Number(argv[++i]);
    else throw new Error(`unknown argument ${arg} (usage: bench/fold.ts [--json] [--events N] [--runs N])`);
  }
  return { json, options };
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const { json, options } = parseArgs(process.argv.slice(2));
  const result = runFoldBench(options);
  console.log(json ? JSON.stringify(result, null, 2) : formatFoldBench(result));
}
