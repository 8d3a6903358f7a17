// What eventfs-top knows: the mount's State, folded with the model's own apply (no second
// implementation of the semantics), plus the activity window and the bounded event stream.
// Pure: events in, model updated; the tail and the clock live elsewhere.
import type { LogEvent } from '../../src/log/reader.ts';
import type { SnapshotRead } from '../../src/log/snapshot.ts';
import { apply, emptyState, fromPlain, type Event, type PlainState, type State } from '../../src/model/index.ts';
import { describeEvent, type StreamEntry } from './describe.ts';
import { Ring } from './ring.ts';
import { createStats, forget, record, type Activity, type Stats } from './stats.ts';

export type NameIndex = Map<number, { queue: string; name: string }>;

export type TopModel = {
  state: State;
  stats: Stats;
  stream: Ring<StreamEntry>;
  // Where each file inode was first named, so events that name only an inode (writes,
  // attributes) can be shown with their queue. A display index, not part of the semantics.
  names: NameIndex;
  mountId: string | null;
  reaps: number;
  // The newest seq counted in stats and stream: after a reset the same events are folded again
  // but not counted twice.
  seqSeen: number;
  firstEventMs: number | null;
  lastEventMs: number | null;
  foldError: string | null;
};

export const STREAM_CAPACITY = 1000;

export function createModel(streamCapacity = STREAM_CAPACITY): TopModel {
  return {
    state: emptyState(), stats: createStats(), stream: new Ring(streamCapacity), names: new Map(),
    mountId: null, reaps: 0, seqSeen: 0, firstEventMs: null, lastEventMs: null, foldError: null,
  };
}

// Starts the fold again from a snapshot (or the empty state). History is kept unless the log
// now belongs to another mount.
export function resetModel(model: TopModel, snapshot: SnapshotRead | null, mountId: string | null): void {
  if (mountId !== null && model.mountId !== null && mountId !== model.mountId) Object.assign(model, createModel(model.stream.capacity));
  model.mountId = mountId ?? model.mountId;
  model.state = snapshot === null ? emptyState() : fromPlain(snapshot.state as PlainState);
  model.foldError = null;
  model.names.clear();
  for (const queue of model.state.queues.values()) {
    for (let entry = queue.head; entry !== null; entry = entry.next) {
      if (!model.names.has(entry.ino)) model.names.set(entry.ino, { queue: queue.name, name: entry.name });
    }
  }
}

// Folds events in log order. A log that does not fit its state stops the fold with the reason
// (apply's ApplyError names the seq), rather than showing a state that is not the mount's.
export function ingest(model: TopModel, events: readonly LogEvent[]): void {
  for (const logEvent of events) {
    if (model.foldError !== null) return;
    const event = logEvent as unknown as Event;
    const isNew = event.seq > model.seqSeen;
    const entry = isNew ? describeEvent(model.state, model.names, event) : null;
    const removedIno = event.type === 'entryRemoved' ? model.state.queues.get(event.queue)?.entries.get(event.name)?.ino : undefined;
    try {
      apply(model.state, event);
    } catch (error) {
      model.foldError = (error as Error).message;
      return;
    }
    trackNames(model, event, removedIno);
    if (entry !== null) count(model, event, entry);
  }
}

function trackNames(model: TopModel, event: Event, removedIno: number | undefined): void {
  if (event.type === 'fileCreated') model.names.set(event.ino, { queue: event.queue, name: event.name });
  if (removedIno !== undefined && !model.state.inodes.has(removedIno)) model.names.delete(removedIno);
  // Reaps drop many files at once: prune the index when it has clearly outgrown the state.
  if (model.names.size > 2 * model.state.inodes.size + 1024) {
    for (const ino of model.names.keys()) if (!model.state.inodes.has(ino)) model.names.delete(ino);
  }
}

function count(model: TopModel, event: Event, entry: StreamEntry): void {
  model.seqSeen = event.seq;
  model.firstEventMs ??= event.t;
  model.lastEventMs = event.t;
  model.stream.push(entry);
  const queue = 'queue' in event ? event.queue : null;
  const depth = queue === null ? 0 : (model.state.queues.get(queue)?.entries.size ?? 0);
  record(model.stats, event.t, activityOf(event), queue, depth);
  if (event.type === 'queueReaped') model.reaps++;
  if (queue !== null && (event.type === 'queueRemoved' || event.type === 'queueReaped')) forget(model.stats, queue);
}

function activityOf(event: Event): Activity {
  if (event.type === 'fileCreated' || event.type === 'linkCreated') return 'enqueue';
  if (event.type === 'entryRemoved') return 'dequeue';
  return 'other';
}
