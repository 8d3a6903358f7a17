/**
 * --exec MOUNTPOINT: re-executes a log's operations against a live eventfs mount, like rr replays
 * a recording, then compares the mount with the log's fold. Each recorded creator is a helper
 * process that lives until the log reaps its queue; other callers are helpers per uid/gid (the
 * recorded ones when run as root). The first operation that fails where the log says it
 * succeeded, or the first difference in the final state, is the reproduced bug.
 */
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { ApplyError, type Event, type State } from '../../src/model/index.ts';
import { diffShapes, shapeOf, shapeOfState, type RawQueue } from './compare.ts';
import { detailOf, targetOf } from './events.ts';
import { planEvent, planState } from './exec-plan.ts';
import { Runner } from './exec-runner.ts';
import { UsageError } from './exit.ts';
import { bytesText, plural, type Style } from './format.ts';
import { baseSeq, type LoadedLog } from './load.ts';
import { applyEvent, baseState, InodeNames } from './replay.ts';

export type ExecOptions = {
  mountpoint: string;
  /** Replay events up to this seq (inclusive). */
  untilSeq: number;
  python?: string;
  /** How long the mount may take to reap a queue after its creator's helper is killed. */
  reapTimeoutMs?: number;
};

export type ExecResult = {
  mountpoint: string;
  fromSeq: number;
  toSeq: number;
  asRecordedUsers: boolean;
  operations: number;
  helpers: { creators: number; others: number; killed: number };
  skipped: { reason: string; count: number; firstSeq: number | null }[];
  /** The first operation that did not do what the log says; null when all did. */
  failure: { seq: number | null; what: string; message: string } | null;
  /** Differences between the mount and the fold at the end (empty when they match). */
  differences: string[];
  compared: { queues: number; messages: number; bytes: number } | null;
};

export const isDifferent = (result: ExecResult): boolean => result.failure !== null || result.differences.length > 0;

/** The mountpoint must be an eventfs mount with no queues: the log is replayed from nothing. */
export function checkMountpoint(mountpoint: string): string {
  let real: string;
  try {
    real = realpathSync(mountpoint);
  } catch {
    throw new UsageError(`--exec: ${mountpoint} does not exist`);
  }
  const fstype = mountTypeOf(real);
  if (fstype === null) throw new UsageError(`--exec: ${mountpoint} is not a mountpoint; mount eventfs there first (eventfs --log-dir DIR ${mountpoint})`);
  if (!/^fuse(blk)?\.eventfs$/.test(fstype)) throw new UsageError(`--exec: ${mountpoint} is a ${fstype} mount, not eventfs`);
  const queues = readdirSync(real);
  if (queues.length > 0) throw new UsageError(`--exec: ${mountpoint} already has ${plural(queues.length, 'queue')}; --exec needs a fresh, empty mount`);
  return real;
}

/** The type of the topmost mount at `path` (/proc/self/mountinfo: field 5, then after " - "). */
function mountTypeOf(path: string): string | null {
  const unescape = (field: string): string => field.replace(/\\([0-7]{3})/g, (_, code: string) => String.fromCharCode(parseInt(code, 8)));
  let found: string | null = null;
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [mounts, rest] = line.split(' - ');
    if (rest === undefined || unescape(mounts!.split(' ')[4] ?? '') !== path) continue;
    found = rest.split(' ')[0] ?? null;
  }
  return found;
}

export async function execLog(log: LoadedLog, options: ExecOptions): Promise<ExecResult> {
  const mountpoint = checkMountpoint(options.mountpoint);
  const asRecordedUsers = process.geteuid?.() === 0;
  const state = baseState(log);
  const runner = new Runner(mountpoint, asRecordedUsers, options.python ?? 'python3', options.reapTimeoutMs ?? 5000);
  const result: ExecResult = {
    mountpoint, fromSeq: baseSeq(log) + 1, toSeq: options.untilSeq, asRecordedUsers, operations: 0,
    helpers: { creators: 0, others: 0, killed: 0 }, skipped: [], failure: null, differences: [], compared: null,
  };
  try {
    result.failure = await rebuildBase(runner, state, result) ?? await replayEvents(runner, log, state, options.untilSeq, result);
    if (result.failure === null) await compareMount(runner, state, result);
  } finally {
    result.helpers = runner.counts;
    await runner.closeAll();
  }
  return result;
}

/** A log that starts at a snapshot: its state is built on the mount first. */
async function rebuildBase(runner: Runner, state: State, result: ExecResult): Promise<ExecResult['failure']> {
  for (const step of planState(state)) {
    const message = await runner.run(step);
    if (step.kind === 'op' && step.op.op !== 'forget') result.operations += 1;
    if (message !== null) return { seq: null, what: `rebuilding the snapshot at seq ${state.seq}`, message };
  }
  return null;
}

async function replayEvents(runner: Runner, log: LoadedLog, state: State, untilSeq: number, result: ExecResult): Promise<ExecResult['failure']> {
  const names = new InodeNames(state);
  for (const { event } of log.records) {
    if (event.seq > untilSeq) break;
    const what = `seq ${event.seq} ${event.type} ${detailOf(event, targetOf(event, names))}`;
    const step = planEvent(event, names);
    if (step.kind === 'skip') noteSkip(result, step.reason, event.seq);
    const message = await runner.run(step);
    if (step.kind === 'op' && step.op.op !== 'forget') result.operations += 1;
    if (message !== null) return { seq: event.seq, what, message };
    const applied = applyFolded(state, event);
    if (applied !== null) return { seq: event.seq, what, message: `the log itself is inconsistent here (${applied}); see --first-bad` };
    names.observe(event);
    await runner.forgetFreed(state);
  }
  return null;
}

function applyFolded(state: State, event: Event): string | null {
  try {
    applyEvent(state, event);
    return null;
  } catch (error) {
    if (error instanceof ApplyError) return error.message;
    throw error;
  }
}

function noteSkip(result: ExecResult, reason: string, seq: number): void {
  const known = result.skipped.find((skip) => skip.reason === reason);
  if (known === undefined) result.skipped.push({ reason, count: 1, firstSeq: seq });
  else known.count += 1;
}

/** Walks the mount (as the user running the tool) and compares it with the fold. */
async function compareMount(runner: Runner, state: State, result: ExecResult): Promise<void> {
  const reply = await runner.walk();
  if (!reply.ok) throw new Error(`walking ${runner.mountpoint} failed: ${reply.errno} ${reply.message ?? ''}`);
  const mount = shapeOf(rawQueues(reply.queues));
  const folded = shapeOfState(state);
  const labels = { folded: "the log's fold", other: 'the mount' };
  result.differences = diffShapes(folded, mount, labels, { owners: result.asRecordedUsers });
  const messages = folded.flatMap((queue) => queue.messages);
  result.compared = { queues: folded.length, messages: messages.length, bytes: messages.reduce((sum, m) => sum + m.size, 0) };
}

type WireQueue = Omit<RawQueue, 'xattrs' | 'messages'> & {
  xattrs: [string, string][];
  messages: (Omit<RawQueue['messages'][number], 'data' | 'xattrs'> & { data: string; xattrs: [string, string][] })[];
};

function rawQueues(queues: unknown): RawQueue[] {
  const fromBase64 = (pairs: [string, string][]): [string, Buffer][] => pairs.map(([key, value]) => [key, Buffer.from(value, 'base64')]);
  return (queues as WireQueue[]).map((queue) => ({
    ...queue,
    xattrs: fromBase64(queue.xattrs),
    messages: queue.messages.map((message) => ({ ...message, data: Buffer.from(message.data, 'base64'), xattrs: fromBase64(message.xattrs) })),
  }));
}

export function formatExec(result: ExecResult, source: string, style: Style): string[] {
  const label = (name: string): string => style.bold(name.padEnd(9));
  const who = result.asRecordedUsers ? 'as the recorded users' : 'as yourself (not root: owners are not compared)';
  const { creators, others, killed } = result.helpers;
  const lines = [
    `${label('exec')} ${source} -> ${result.mountpoint}, seq ${result.fromSeq}..${result.toSeq}, ${who}`,
    `${label('ran')} ${plural(result.operations, 'operation')} by ${plural(creators, 'creator')} and ${plural(others, 'other process', 'other processes')}; ${plural(killed, 'creator')} killed for reaps`,
  ];
  for (const skip of result.skipped) lines.push(`${label('skipped')} ${plural(skip.count, 'event')} (first seq ${skip.firstSeq}): ${skip.reason}`);
  if (result.failure !== null) {
    lines.push(`${label('differs')} ${style.red(`at ${result.failure.what}`)}`, `${' '.repeat(10)}${result.failure.message}`);
    return [...lines, `${label('result')} ${style.red('DIFFERENT')}: the first difference is above`];
  }
  const compared = result.compared!;
  const scope = `${plural(compared.queues, 'queue')}, ${plural(compared.messages, 'message')}, ${bytesText(compared.bytes)}`;
  if (result.differences.length === 0) return [...lines, `${label('compared')} ${scope}: the mount matches the log's fold`, `${label('result')} ${style.green('ok')}`];
  const more = result.differences.length > 1 ? ` (${result.differences.length - 1} more; --json lists them all)` : '';
  return [
    ...lines,
    `${label('compared')} ${scope}`,
    `${label('differs')} ${style.red(result.differences[0]!)}${more}`,
    `${label('result')} ${style.red('DIFFERENT')}: the first difference is above`,
  ];
}
