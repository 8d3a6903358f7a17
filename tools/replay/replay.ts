/**
 * The fold, as the replay tool drives it: from the log's base, one event at a time, with the
 * model's own apply. Also the points a user names (--at, --until, --since: a seq or an ISO time)
 * and the one question the model does not answer directly: which names an inode has.
 */
import {
  ApplyError, apply, emptyState, fromPlain, type Event, type Queue, type State,
} from '../../src/model/index.ts';
import { InputError, UsageError } from './exit.ts';
import { baseSeq, lastSeq, type LoadedLog } from './load.ts';

/** A fresh copy of the state the first event applies to (apply mutates its state in place). */
export function baseState(log: LoadedLog): State {
  if (log.base.kind === 'missing') throw new InputError(log.base.reason);
  return log.base.kind === 'empty' ? emptyState() : fromPlain(log.base.plain);
}

/**
 * apply, but every way an event can fail to apply is an ApplyError naming its seq: an event of
 * an unknown type or with missing fields makes apply throw something else (a TypeError).
 */
export function applyEvent(state: State, event: Event): void {
  try {
    apply(state, event);
  } catch (error) {
    if (error instanceof ApplyError) throw error;
    throw new ApplyError(event.seq, String(event.type), error instanceof Error ? error.message : String(error));
  }
}

/** The state after event `seq` (baseSeq(log) <= seq <= lastSeq(log)). */
export function stateAt(log: LoadedLog, seq: number): State {
  const state = baseState(log);
  for (const record of log.records) {
    if (record.event.seq > seq) break;
    applyEvent(state, record.event);
  }
  return state;
}

/** A point in a log as the user names it: an event's seq, or a wall-clock time. */
export type Point = { kind: 'seq'; seq: number } | { kind: 'time'; ms: number; text: string };

/** "42" is a seq; anything else must be an ISO 8601 date-time ("2024-01-01T00:00:06Z"). */
export function parsePoint(option: string, text: string): Point {
  if (/^\d+$/.test(text)) {
    const seq = Number(text);
    if (!Number.isSafeInteger(seq)) throw new UsageError(`${option}: seq ${text} is too large`);
    return { kind: 'seq', seq };
  }
  const ms = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+)?(Z|[+-]\d{2}:?\d{2})?$/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms)) throw new UsageError(`${option} takes a seq (e.g. 42) or an ISO time (e.g. 2024-01-01T00:00:06Z), not ${JSON.stringify(text)}`);
  return { kind: 'time', ms, text };
}

/** The seq of the state at a point: a seq must be in the log; a time picks the last event at or before it. */
export function seqOfPoint(log: LoadedLog, option: string, point: Point): number {
  const first = baseSeq(log);
  const last = lastSeq(log);
  if (point.kind === 'time') {
    let seq = first;
    for (const record of log.records) if (record.event.t <= point.ms) seq = record.event.seq;
    return seq;
  }
  if (point.seq > last) throw new UsageError(`${option} ${point.seq}: the log ends at seq ${last}`);
  if (point.seq < first) {
    throw new UsageError(`${option} ${point.seq}: the log starts after seq ${first} (${log.base.kind === 'snapshot' ? `snapshot ${log.base.path}` : 'earlier events are gone'})`);
  }
  return point.seq;
}

/** Whether an event lies at or after / at or before a point, for --since and --until filters. */
export const isAfterPoint = (event: Event, point: Point): boolean => (point.kind === 'seq' ? event.seq >= point.seq : event.t >= point.ms);
export const isBeforePoint = (event: Event, point: Point): boolean => (point.kind === 'seq' ? event.seq <= point.seq : event.t <= point.ms);

/** A name of a file inode: its queue and name, the oldest first. */
export type Place = { queue: string; name: string };

/**
 * Names of inodes, found by a walk of the state and remembered. A remembered name is checked
 * against the state before it is used, so the index never needs to hear about events.
 */
export class InodeNames {
  private readonly known = new Map<number, Place>();

  constructor(private readonly state: State) {}

  /** One name of a file inode, or the queue itself for a queue's inode; null if it has none. */
  placeOf(ino: number): Place | { queue: string; name: null } | null {
    const queue = this.state.queuesByIno.get(ino);
    if (queue !== undefined) return { queue: queue.name, name: null };
    if (this.isCurrent(ino)) return this.known.get(ino)!;
    this.known.delete(ino);
    for (const q of this.state.queues.values()) this.remember(q);
    return this.known.get(ino) ?? null;
  }

  /** Whether the inode has a name in the queue (a multicast message is in several), or is the queue. */
  isIn(ino: number, queueName: string): boolean {
    const queue = this.state.queues.get(queueName);
    if (queue === undefined) return false;
    if (queue.ino === ino) return true;
    for (const entry of queue.entries.values()) if (entry.ino === ino) return true;
    return false;
  }

  /** Learns the name an applied event gave, so that a new file is found without a walk. */
  observe(event: Event): void {
    if (event.type !== 'fileCreated' && event.type !== 'linkCreated') return;
    if (!this.isCurrent(event.ino)) this.known.set(event.ino, { queue: event.queue, name: event.name });
  }

  private isCurrent(ino: number): boolean {
    const known = this.known.get(ino);
    return known !== undefined && this.state.queues.get(known.queue)?.entries.get(known.name)?.ino === ino;
  }

  private remember(queue: Queue): void {
    for (let entry = queue.head; entry !== null; entry = entry.next) {
      if (!this.isCurrent(entry.ino)) this.known.set(entry.ino, { queue: queue.name, name: entry.name });
    }
  }
}
