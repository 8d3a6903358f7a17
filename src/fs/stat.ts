/** stat(2) answers for each kind of node, computed from the state (libfuse 2 asks for every lookup). */
import { headInoOf, ROOT_INO, tailInoOf, type FileInode, type Node, type Queue, type State } from '../model/index.ts';
import type { Stat } from './native.ts';

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
/** The root is world-writable with the sticky bit, like /tmp: anyone may create queues, only owners remove them. */
export const ROOT_MODE = 0o1777;
const BLOCK_BYTES = 512;

export function statFor(state: State, node: Node): Stat {
  switch (node.kind) {
    case 'root': return statRoot(state);
    case 'queue': return statQueue(node.queue);
    case 'file': return statFile(node.inode);
    case 'link': return statLink(node.queue, node.which, node.entry.name);
  }
}

function statRoot(state: State): Stat {
  const t = state.rootMtimeMs;
  return { mode: S_IFDIR | ROOT_MODE, uid: 0, gid: 0, size: state.queues.size, ino: ROOT_INO, nlink: 2 + state.queues.size, atime: t, mtime: t, ctime: t };
}

/** A queue's size is its depth, so `stat -c %s QUEUE` tells how many messages wait. */
function statQueue(queue: Queue): Stat {
  return {
    mode: S_IFDIR | queue.mode, uid: queue.uid, gid: queue.gid, size: queue.entries.size, ino: queue.ino, nlink: 2,
    atime: queue.atimeMs, mtime: queue.mtimeMs, ctime: queue.ctimeMs,
  };
}

export function statFile(inode: FileInode): Stat {
  return {
    mode: S_IFREG | inode.mode, uid: inode.uid, gid: inode.gid, size: inode.size, ino: inode.ino, nlink: inode.nlink,
    blksize: 4096, blocks: Math.ceil(inode.size / BLOCK_BYTES),
    atime: inode.atimeMs, mtime: inode.mtimeMs, ctime: inode.ctimeMs,
  };
}

/** head and tail: root-owned symlinks whose content is the target's name; their times follow the queue's. */
function statLink(queue: Queue, which: 'head' | 'tail', target: string): Stat {
  const ino = which === 'head' ? headInoOf(queue) : tailInoOf(queue);
  return {
    mode: S_IFLNK | 0o777, uid: 0, gid: 0, size: Buffer.byteLength(target), ino, nlink: 1,
    atime: queue.mtimeMs, mtime: queue.mtimeMs, ctime: queue.mtimeMs,
  };
}
