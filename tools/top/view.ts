// The numbers on screen, derived from the model at one instant: plain immutable data that React
// state can hold and `--once --json` can print. Pure; the clock and the daemon's status come in.
import { entriesInOrder, isSticky, type Queue, type State } from '../../src/model/index.ts';
import type { StreamEntry } from './describe.ts';
import type { TopModel } from './model.ts';
import { depthHistory, eventsPerSecond, queueRates } from './stats.ts';

export type DaemonStatus =
  | { kind: 'live'; pid: number; startedMs: number | null }
  | { kind: 'gone'; pid: number | null } // no LOCK (stopped) or a LOCK naming a dead process
  | { kind: 'replay'; speed: number; isFinished: boolean }
  | { kind: 'file' } // a single segment file: there is no daemon to ask
  | { kind: 'waiting' }; // no log yet

export type QueueRow = {
  name: string;
  uid: number;
  user: string;
  pid: number;
  isSticky: boolean;
  depth: number;
  bytes: number;
  enqueuesPerSecond: number;
  dequeuesPerSecond: number;
  depthHistory: number[];
  headAgeMs: number | null; // since the oldest message was written (its mtime)
};

export type HeaderView = {
  mountId: string | null;
  daemon: DaemonStatus;
  isIdle: boolean; // live daemon, but no event for IDLE_MS
  lastEventMs: number | null;
  startMs: number | null; // the daemon's start, else the first event seen
  nowMs: number;
  eventsPerSecond: number;
  totalEvents: number;
  logBytes: number;
  queues: number;
  messages: number;
  bytes: number;
  reaps: number;
  problems: string[];
};

export type MessageRow = { name: string; bytes: number; ageMs: number; links: number };

export type DetailView = {
  name: string;
  row: QueueRow | null; // null once the queue is gone
  mode: number;
  creatorStart: number;
  messages: MessageRow[]; // oldest first, at most DETAIL_MESSAGES_MAX
  messagesTotal: number;
  events: StreamEntry[]; // this queue's recent events, oldest first
};

export type TopView = { header: HeaderView; rows: QueueRow[]; stream: StreamEntry[]; detail: DetailView | null };

export type ViewInput = {
  nowMs: number;
  daemon: DaemonStatus;
  logBytes: number;
  problems: string[];
  detailQueue: string | null;
  streamMax: number;
  sparkWidth: number;
  userName: (uid: number) => string;
};

export const IDLE_MS = 5000;
export const DETAIL_MESSAGES_MAX = 500;
export const DETAIL_EVENTS_MAX = 50;

export function deriveView(model: TopModel, input: ViewInput): TopView {
  const rows = [...model.state.queues.values()].map((queue) => queueRow(model, queue, input));
  const detail = input.detailQueue === null ? null : detailView(model, input.detailQueue, rows, input.nowMs);
  const stream = model.stream.newest(input.streamMax);
  return { header: headerView(model, rows, input), rows, stream, detail };
}

function headerView(model: TopModel, rows: QueueRow[], input: ViewInput): HeaderView {
  const { daemon, nowMs } = input;
  const problems = model.foldError === null ? input.problems : [`fold stopped: ${model.foldError}`, ...input.problems];
  const isIdle = daemon.kind === 'live' && (model.lastEventMs === null || nowMs - model.lastEventMs > IDLE_MS);
  const startMs = daemon.kind === 'live' && daemon.startedMs !== null ? daemon.startedMs : model.firstEventMs;
  return {
    mountId: model.mountId, daemon, isIdle, lastEventMs: model.lastEventMs, startMs, nowMs,
    eventsPerSecond: eventsPerSecond(model.stats, nowMs),
    totalEvents: model.state.seq,
    logBytes: input.logBytes,
    queues: rows.length,
    messages: rows.reduce((sum, row) => sum + row.depth, 0),
    bytes: totalBytes(model.state),
    reaps: model.reaps,
    problems,
  };
}

// Bytes held by the mount: each inode once, however many queues hold it.
function totalBytes(state: State): number {
  let bytes = 0;
  for (const usage of state.userUsage.values()) bytes += usage.bytes;
  return bytes;
}

function queueRow(model: TopModel, queue: Queue, input: ViewInput): QueueRow {
  const { state, stats } = model;
  let bytes = 0;
  for (const entry of entriesInOrder(queue)) bytes += state.inodes.get(entry.ino)?.size ?? 0;
  const depth = queue.entries.size;
  const head = queue.head === null ? undefined : state.inodes.get(queue.head.ino);
  return {
    name: queue.name, uid: queue.uid, user: input.userName(queue.uid), pid: queue.creator.pid,
    isSticky: isSticky(queue), depth, bytes,
    ...queueRates(stats, queue.name, input.nowMs),
    depthHistory: depthHistory(stats, queue.name, input.sparkWidth, depth, input.nowMs),
    headAgeMs: head === undefined ? null : Math.max(0, input.nowMs - head.mtimeMs),
  };
}

function detailView(model: TopModel, name: string, rows: QueueRow[], nowMs: number): DetailView {
  const queue = model.state.queues.get(name);
  const events = model.stream.newest(DETAIL_EVENTS_MAX, (entry) => entry.queue === name);
  const row = rows.find((r) => r.name === name) ?? null;
  if (queue === undefined) return { name, row: null, mode: 0, creatorStart: 0, messages: [], messagesTotal: 0, events };
  const messages: MessageRow[] = [];
  for (const entry of entriesInOrder(queue)) {
    if (messages.length >= DETAIL_MESSAGES_MAX) break;
    const inode = model.state.inodes.get(entry.ino);
    messages.push({ name: entry.name, bytes: inode?.size ?? 0, ageMs: Math.max(0, nowMs - (inode?.mtimeMs ?? nowMs)), links: inode?.nlink ?? 0 });
  }
  return { name, row, mode: queue.mode, creatorStart: queue.creator.start, messages, messagesTotal: queue.entries.size, events };
}

// `--once --json`: the numbers for scripts. Rates are per second over the newest 5 s of events.
export function viewJson(view: TopView): object {
  const { header } = view;
  return {
    mountId: header.mountId,
    daemon: header.daemon,
    isIdle: header.isIdle,
    atMs: header.nowMs,
    lastEventMs: header.lastEventMs,
    eventsPerSecond: round(header.eventsPerSecond),
    totals: {
      events: header.totalEvents, queues: header.queues, messages: header.messages,
      bytes: header.bytes, reaps: header.reaps, logBytes: header.logBytes,
    },
    queues: view.rows.map((row) => ({
      name: row.name, owner: { uid: row.uid, user: row.user, pid: row.pid }, isSticky: row.isSticky,
      depth: row.depth, bytes: row.bytes,
      enqueuesPerSecond: round(row.enqueuesPerSecond), dequeuesPerSecond: round(row.dequeuesPerSecond),
      headAgeMs: row.headAgeMs,
    })),
    problems: header.problems,
  };
}

const round = (value: number): number => Math.round(value * 100) / 100;
