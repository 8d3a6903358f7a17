/**
 * The state of a mount: everything the filesystem shows, and nothing the kernel or the clock
 * would have to be asked for. It is built only by folding events (apply.ts).
 *
 * Maps rather than plain objects: queue names such as "10" would be reordered as integer keys,
 * and creation order is part of the contract. snapshot.ts turns the state into plain data.
 */
import type { QuotaTable } from '../config/limits.ts';

export const ROOT_INO = 1;
/** Each queue takes three inode numbers: the directory, then its head and tail symlinks. */
export const INOS_PER_QUEUE = 3;
export const STICKY_XATTR = 'user.eventfs_sticky';
export const NAME_BYTES_MAX = 255;
/**
 * The largest file: data lives in one Buffer (Node 20 caps those at 4 GiB) and in the log, so a
 * larger write is EFBIG before it is logged, never an event that no replay could apply.
 */
export const FILE_BYTES_MAX = 1024 * 1024 * 1024;

/** The process that created a queue: a thread group id plus its start time (pids are reused). */
export type Creator = { pid: number; start: number };

export type Xattrs = Map<string, Buffer>;

/** The xattrs of every file that has none: one shared, read-only Map instead of one per file. */
class NoXattrs extends Map<string, Buffer> {
  override set(): this {
    throw new TypeError('NO_XATTRS is shared by every file without xattrs: give the file its own Map first');
  }

  override delete(): boolean {
    throw new TypeError('NO_XATTRS is shared by every file without xattrs: it has nothing to delete');
  }

  override clear(): void {
    throw new TypeError('NO_XATTRS is shared by every file without xattrs: it has nothing to clear');
  }
}

/**
 * Files start with this (almost none ever get an xattr); apply gives a file its own Map on its
 * first xattr. An empty Map costs ~190 bytes of heap, a fifth of a small queued message.
 */
export const NO_XATTRS: Xattrs = new NoXattrs();

export type FileInode = {
  ino: number;
  mode: number; // permission bits only; the type is always a regular file
  uid: number;
  gid: number;
  nlink: number;
  size: number;
  /** Capacity may exceed size so that appends do not copy the whole file each time. */
  data: Buffer;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  xattrs: Xattrs;
};

/** One name in a queue; a doubly linked list gives O(1) pops at both ends and from the middle. */
export type Entry = {
  name: string;
  ino: number;
  /** Who created this name (create or link): quotas on files are charged to them. */
  uid: number;
  gid: number;
  prev: Entry | null;
  next: Entry | null;
};

export type Queue = {
  name: string;
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  creator: Creator;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  xattrs: Xattrs;
  entries: Map<string, Entry>;
  head: Entry | null;
  tail: Entry | null;
};

export type Usage = { dirs: number; files: number; bytes: number };

export type State = {
  /** Sequence number of the last event applied; the next event must carry seq + 1. */
  seq: number;
  /** The root's mtime: when a queue last appeared or went. */
  rootMtimeMs: number;
  nextIno: number;
  queues: Map<string, Queue>;
  /** The same queues by inode number, for attribute events that name an inode. */
  queuesByIno: Map<number, Queue>;
  inodes: Map<number, FileInode>;
  quotas: QuotaTable | null;
  /** Usage per uid and per gid, kept in step by apply; invariants recompute it. */
  userUsage: Map<number, Usage>;
  groupUsage: Map<number, Usage>;
};

export function emptyState(): State {
  return {
    seq: 0,
    rootMtimeMs: 0,
    nextIno: ROOT_INO + 1,
    queues: new Map(),
    queuesByIno: new Map(),
    inodes: new Map(),
    quotas: null,
    userUsage: new Map(),
    groupUsage: new Map(),
  };
}

export const isSticky = (queue: Queue): boolean => queue.xattrs.has(STICKY_XATTR);
