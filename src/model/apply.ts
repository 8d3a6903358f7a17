/**
 * apply(state, event) -> state: the fold. Total and deterministic: it never consults anything but
 * its arguments. It updates the state in place (a fold owns its accumulator; copying a large
 * state per event would make replay quadratic) and returns it.
 *
 * decide() checked every precondition; apply asserts them again (a paired assertion), so a log
 * that does not fit its state fails loudly with the seq of the event, never silently.
 */
import type { Event } from './events.ts';
import { allocData } from './data.ts';
import { addUsage } from './quota.ts';
import { emptyState, FILE_BYTES_MAX, INOS_PER_QUEUE, NO_XATTRS, type Entry, type FileInode, type Queue, type State } from './state.ts';

export class ApplyError extends Error {
  constructor(readonly seq: number, readonly type: string, reason: string) {
    super(`event seq ${seq} (${type}) cannot apply: ${reason}`);
    this.name = 'ApplyError';
  }
}

type Of<T extends Event['type']> = Event & { type: T };
const EMPTY = Buffer.alloc(0);

export function apply(state: State, event: Event): State {
  check(event, event.seq === state.seq + 1, () => `expected seq ${state.seq + 1}`);
  switch (event.type) {
    case 'quotasSet': state.quotas = event.quotas; break;
    case 'queueCreated': applyQueueCreated(state, event); break;
    case 'queueRemoved': dropQueue(state, queueOf(state, event), event); break;
    case 'queueReaped': dropQueue(state, queueOf(state, event), event); break;
    case 'fileCreated': applyFileCreated(state, event); break;
    case 'dataWritten': applyDataWritten(state, event); break;
    case 'fileTruncated': applyFileTruncated(state, event); break;
    case 'linkCreated': applyLinkCreated(state, event); break;
    case 'entryRemoved': applyEntryRemoved(state, event); break;
    case 'modeChanged': applyModeChanged(state, event); break;
    case 'ownerChanged': applyOwnerChanged(state, event); break;
    case 'timesChanged': applyTimesChanged(state, event); break;
    case 'xattrSet': applyXattrSet(state, event); break;
    case 'xattrRemoved': applyXattrRemoved(state, event); break;
    default: assertNever(event);
  }
  state.seq = event.seq;
  return state;
}

/** The reason is built only on failure: a fold runs this several times per event. */
function check(event: Event, condition: boolean, reason: () => string): asserts condition {
  if (!condition) throw new ApplyError(event.seq, event.type, reason());
}

function queueOf(state: State, event: Event & { queue: string }): Queue {
  const queue = state.queues.get(event.queue);
  check(event, queue !== undefined, () => `no queue ${JSON.stringify(event.queue)}`);
  return queue;
}

function inodeOf(state: State, event: Event & { ino: number }): FileInode {
  const inode = state.inodes.get(event.ino);
  check(event, inode !== undefined, () => `no file inode ${event.ino}`);
  return inode;
}

/** A queue or a file: what attribute events (mode, owner, times, xattrs) name by inode number. */
function attributedOf(state: State, event: Event & { ino: number }): Queue | FileInode {
  const target = state.inodes.get(event.ino) ?? state.queuesByIno.get(event.ino);
  check(event, target !== undefined, () => `no inode ${event.ino}`);
  return target;
}

function applyQueueCreated(state: State, event: Of<'queueCreated'>): void {
  check(event, !state.queues.has(event.queue), () => `queue ${JSON.stringify(event.queue)} exists`);
  check(event, event.ino >= state.nextIno, () => `inode ${event.ino} already allocated`);
  const queue: Queue = {
    name: event.queue, ino: event.ino, mode: event.mode, uid: event.uid, gid: event.gid,
    creator: { pid: event.creator.pid, start: event.creator.start },
    atimeMs: event.t, mtimeMs: event.t, ctimeMs: event.t,
    xattrs: new Map(), entries: new Map(), head: null, tail: null,
  };
  state.queues.set(queue.name, queue);
  state.queuesByIno.set(queue.ino, queue);
  state.nextIno = event.ino + INOS_PER_QUEUE;
  state.rootMtimeMs = event.t;
  addUsage(state.userUsage, queue.uid, { dirs: 1 });
  addUsage(state.groupUsage, queue.gid, { dirs: 1 });
}

/** rmdir and reap: a reaped queue takes its files with it (shared inodes live on elsewhere). */
function dropQueue(state: State, queue: Queue, event: Event): void {
  check(event, event.type === 'queueReaped' || queue.head === null, () => 'queue not empty');
  while (queue.head !== null) removeEntry(state, queue, queue.head, event.t);
  state.queues.delete(queue.name);
  state.queuesByIno.delete(queue.ino);
  state.rootMtimeMs = event.t;
  addUsage(state.userUsage, queue.uid, { dirs: -1 });
  addUsage(state.groupUsage, queue.gid, { dirs: -1 });
}

function applyFileCreated(state: State, event: Of<'fileCreated'>): void {
  const queue = queueOf(state, event);
  check(event, !queue.entries.has(event.name), () => `name ${JSON.stringify(event.name)} exists`);
  check(event, event.ino >= state.nextIno, () => `inode ${event.ino} already allocated`);
  const inode: FileInode = {
    ino: event.ino, mode: event.mode, uid: event.uid, gid: event.gid, nlink: 0, size: 0, data: EMPTY,
    atimeMs: event.t, mtimeMs: event.t, ctimeMs: event.t, xattrs: NO_XATTRS,
  };
  state.inodes.set(inode.ino, inode);
  state.nextIno = event.ino + 1;
  appendEntry(state, queue, inode, event);
}

function applyLinkCreated(state: State, event: Of<'linkCreated'>): void {
  const queue = queueOf(state, event);
  const inode = inodeOf(state, event);
  check(event, !queue.entries.has(event.name), () => `name ${JSON.stringify(event.name)} exists`);
  inode.ctimeMs = event.t;
  appendEntry(state, queue, inode, event);
}

function appendEntry(state: State, queue: Queue, inode: FileInode, event: Event & { name: string }): void {
  const entry: Entry = { name: event.name, ino: inode.ino, uid: event.uid, gid: event.gid, prev: queue.tail, next: null };
  if (queue.tail === null) queue.head = entry;
  else queue.tail.next = entry;
  queue.tail = entry;
  queue.entries.set(entry.name, entry);
  inode.nlink += 1;
  queue.mtimeMs = queue.ctimeMs = event.t;
  addUsage(state.userUsage, entry.uid, { files: 1 });
  addUsage(state.groupUsage, entry.gid, { files: 1 });
}

function applyEntryRemoved(state: State, event: Of<'entryRemoved'>): void {
  const queue = queueOf(state, event);
  const entry = queue.entries.get(event.name);
  check(event, entry !== undefined, () => `no name ${JSON.stringify(event.name)}`);
  if (event.via === 'head') check(event, entry === queue.head, () => 'popped name is not the head');
  if (event.via === 'tail') check(event, entry === queue.tail, () => 'popped name is not the tail');
  removeEntry(state, queue, entry, event.t);
}

function removeEntry(state: State, queue: Queue, entry: Entry, t: number): void {
  if (entry.prev === null) queue.head = entry.next;
  else entry.prev.next = entry.next;
  if (entry.next === null) queue.tail = entry.prev;
  else entry.next.prev = entry.prev;
  queue.entries.delete(entry.name);
  queue.mtimeMs = queue.ctimeMs = t;
  addUsage(state.userUsage, entry.uid, { files: -1 });
  addUsage(state.groupUsage, entry.gid, { files: -1 });
  const inode = state.inodes.get(entry.ino)!;
  inode.nlink -= 1;
  inode.ctimeMs = t;
  if (inode.nlink > 0) return;
  state.inodes.delete(inode.ino);
  chargeBytes(state, inode, -inode.size);
}

function chargeBytes(state: State, inode: FileInode, bytes: number): void {
  addUsage(state.userUsage, inode.uid, { bytes });
  addUsage(state.groupUsage, inode.gid, { bytes });
}

function applyDataWritten(state: State, event: Of<'dataWritten'>): void {
  const inode = inodeOf(state, event);
  const end = event.offset + event.data.length;
  check(event, end <= FILE_BYTES_MAX, () => `write ends at byte ${end}, past the largest file`);
  if (end > inode.data.length) inode.data = grow(inode.data, inode.size, end);
  event.data.copy(inode.data, event.offset);
  if (end > inode.size) {
    chargeBytes(state, inode, end - inode.size);
    inode.size = end;
  }
  inode.mtimeMs = inode.ctimeMs = event.t;
}

/** Doubling capacity keeps a file written in many appends linear, not quadratic. */
function grow(data: Buffer, size: number, needed: number): Buffer {
  const capacity = size === 0 ? needed : Math.min(FILE_BYTES_MAX, Math.max(needed, data.length * 2));
  const grown = allocData(capacity); // uninitialised: zero what we do not copy
  data.copy(grown, 0, 0, size);
  grown.fill(0, size);
  return grown;
}

function applyFileTruncated(state: State, event: Of<'fileTruncated'>): void {
  const inode = inodeOf(state, event);
  check(event, event.size <= FILE_BYTES_MAX, () => `size ${event.size} past the largest file`);
  if (event.size > inode.data.length) inode.data = grow(inode.data, inode.size, event.size);
  // Zero what a shrink gives up, so a later extension reads zeros as POSIX says.
  if (event.size < inode.size) inode.data.fill(0, event.size, inode.size);
  chargeBytes(state, inode, event.size - inode.size);
  inode.size = event.size;
  inode.mtimeMs = inode.ctimeMs = event.t;
}

function applyModeChanged(state: State, event: Of<'modeChanged'>): void {
  const target = attributedOf(state, event);
  target.mode = event.mode;
  target.ctimeMs = event.t;
}

function applyOwnerChanged(state: State, event: Of<'ownerChanged'>): void {
  const target = attributedOf(state, event);
  if ('size' in target) chargeBytes(state, target, -target.size);
  else moveDir(state, target, -1);
  target.uid = event.owner.uid;
  target.gid = event.owner.gid;
  if ('size' in target) chargeBytes(state, target, target.size);
  else moveDir(state, target, 1);
  target.ctimeMs = event.t;
}

function moveDir(state: State, queue: Queue, dirs: number): void {
  addUsage(state.userUsage, queue.uid, { dirs });
  addUsage(state.groupUsage, queue.gid, { dirs });
}

function applyTimesChanged(state: State, event: Of<'timesChanged'>): void {
  const target = attributedOf(state, event);
  target.atimeMs = event.atimeMs;
  target.mtimeMs = event.mtimeMs;
  target.ctimeMs = event.t;
}

function applyXattrRemoved(state: State, event: Of<'xattrRemoved'>): void {
  const target = attributedOf(state, event);
  check(event, target.xattrs.has(event.key), () => `no xattr ${JSON.stringify(event.key)}`);
  target.xattrs.delete(event.key);
  target.ctimeMs = event.t;
}

function applyXattrSet(state: State, event: Of<'xattrSet'>): void {
  const target = attributedOf(state, event);
  if (target.xattrs === NO_XATTRS) target.xattrs = new Map();
  target.xattrs.set(event.key, Buffer.from(event.value));
  target.ctimeMs = event.t;
}

function assertNever(value: never): never {
  throw new Error(`unknown event ${JSON.stringify(value)}`);
}

/** Folds events onto a state (a fresh one by default). */
export function fold(events: Iterable<Event>, state?: State): State {
  let folded = state ?? emptyState();
  for (const event of events) folded = apply(folded, event);
  return folded;
}
