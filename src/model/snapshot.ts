/**
 * The state as plain data (for snapshots, fixtures and the replay tool) and back. Usage tables and
 * the inode index are derived, so they are rebuilt on load rather than stored.
 */
import type { QuotaTable } from '../config/limits.ts';
import { dataFrom } from './data.ts';
import { addUsage } from './quota.ts';
import { emptyState, NO_XATTRS, type Creator, type Entry, type FileInode, type Queue, type State } from './state.ts';

export type PlainXattrs = [string, Buffer][];
export type PlainEntry = [name: string, ino: number, uid: number, gid: number];
export type PlainQueue = {
  name: string; ino: number; mode: number; uid: number; gid: number; creator: Creator;
  atimeMs: number; mtimeMs: number; ctimeMs: number; xattrs: PlainXattrs; entries: PlainEntry[];
};
export type PlainInode = {
  ino: number; mode: number; uid: number; gid: number; nlink: number; data: Buffer;
  atimeMs: number; mtimeMs: number; ctimeMs: number; xattrs: PlainXattrs;
};
export type PlainState = {
  seq: number; rootMtimeMs: number; nextIno: number; quotas: QuotaTable | null;
  queues: PlainQueue[]; inodes: PlainInode[];
};

/**
 * Canonical: queues in creation order, entries in queue order, inodes by number, xattrs by key.
 * File data is shared with the live state unless `copyData`: a snapshot taken while the mount goes
 * on must copy it, since writes change data buffers in place.
 */
export function toPlain(state: State, options: { copyData: boolean } = { copyData: false }): PlainState {
  const plainInode = options.copyData ? copiedInode : sharedInode;
  const inodes = inodesByNumber(state).map(plainInode);
  const queues = [...state.queues.values()].map(plainQueue);
  return { seq: state.seq, rootMtimeMs: state.rootMtimeMs, nextIno: state.nextIno, quotas: state.quotas, queues, inodes };
}

/**
 * A list made one item at a time as it is walked: a hasher or encoder that knows it (plainHash,
 * src/log/format.ts encodePiecewise) never holds more than one item, where a copy of a large state
 * as one object graph would grow the heap for good.
 */
export class LazyList<T> implements Iterable<T> {
  constructor(readonly length: number, private readonly make: () => Iterable<T>) {}
  [Symbol.iterator](): Iterator<T> { return this.make()[Symbol.iterator](); }
}

/** toPlain's form, with the queues, their entries and the inodes as LazyLists over the live state. */
export type LazyPlainQueue = Omit<PlainQueue, 'entries'> & { entries: LazyList<PlainEntry> };
export type LazyPlainState = Omit<PlainState, 'queues' | 'inodes'> & { queues: LazyList<LazyPlainQueue>; inodes: LazyList<PlainInode> };

/** toPlain without the copy (data is shared): walk it before the state changes again. */
export function toLazyPlain(state: State): LazyPlainState {
  const inodes = inodesByNumber(state);
  const queues = [...state.queues.values()];
  return {
    seq: state.seq, rootMtimeMs: state.rootMtimeMs, nextIno: state.nextIno, quotas: state.quotas,
    queues: new LazyList(queues.length, function* () { for (const queue of queues) yield lazyPlainQueue(queue); }),
    inodes: new LazyList(inodes.length, function* () { for (const inode of inodes) yield sharedInode(inode); }),
  };
}

function lazyPlainQueue(queue: Queue): LazyPlainQueue {
  const entries = new LazyList<PlainEntry>(queue.entries.size, function* () {
    for (let entry = queue.head; entry !== null; entry = entry.next) yield [entry.name, entry.ino, entry.uid, entry.gid];
  });
  const { name, ino, mode, uid, gid, creator, atimeMs, mtimeMs, ctimeMs } = queue;
  return { name, ino, mode, uid, gid, creator, atimeMs, mtimeMs, ctimeMs, xattrs: plainXattrs(queue.xattrs), entries };
}

const inodesByNumber = (state: State): FileInode[] => [...state.inodes.values()].sort((a, b) => a.ino - b.ino);

const plainXattrs = (xattrs: Map<string, Buffer>): PlainXattrs =>
  [...xattrs.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

function plainQueue(queue: Queue): PlainQueue {
  const lazy = lazyPlainQueue(queue);
  return { ...lazy, entries: [...lazy.entries] };
}

function sharedInode(inode: FileInode): PlainInode {
  const { ino, mode, uid, gid, nlink, atimeMs, mtimeMs, ctimeMs } = inode;
  const data = inode.data.subarray(0, inode.size);
  return { ino, mode, uid, gid, nlink, data, atimeMs, mtimeMs, ctimeMs, xattrs: plainXattrs(inode.xattrs) };
}

function copiedInode(inode: FileInode): PlainInode {
  const plain = sharedInode(inode);
  plain.data = Buffer.from(plain.data);
  return plain;
}

export function fromPlain(plain: PlainState): State {
  const state = emptyState();
  state.seq = plain.seq;
  state.rootMtimeMs = plain.rootMtimeMs;
  state.nextIno = plain.nextIno;
  state.quotas = plain.quotas;
  for (const p of plain.inodes) {
    const xattrs = p.xattrs.length === 0 ? NO_XATTRS : new Map(p.xattrs);
    const inode: FileInode = { ...p, size: p.data.length, data: dataFrom(p.data), xattrs };
    state.inodes.set(inode.ino, inode);
    addUsage(state.userUsage, inode.uid, { bytes: inode.size });
    addUsage(state.groupUsage, inode.gid, { bytes: inode.size });
  }
  for (const p of plain.queues) loadQueue(state, p);
  return state;
}

function loadQueue(state: State, p: PlainQueue): void {
  const queue: Queue = { ...p, creator: { ...p.creator }, xattrs: new Map(p.xattrs), entries: new Map(), head: null, tail: null };
  for (const [name, ino, uid, gid] of p.entries) {
    const entry: Entry = { name, ino, uid, gid, prev: queue.tail, next: null };
    if (queue.tail === null) queue.head = entry;
    else queue.tail.next = entry;
    queue.tail = entry;
    queue.entries.set(name, entry);
    addUsage(state.userUsage, uid, { files: 1 });
    addUsage(state.groupUsage, gid, { files: 1 });
  }
  state.queues.set(queue.name, queue);
  state.queuesByIno.set(queue.ino, queue);
  addUsage(state.userUsage, queue.uid, { dirs: 1 });
  addUsage(state.groupUsage, queue.gid, { dirs: 1 });
}
