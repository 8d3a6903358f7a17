/**
 * decide(state, command) -> events | errno. All the rules of DESIGN.md's semantics table live
 * here, as flat early returns; nothing here mutates the state or throws for an operating error.
 */
import type { Command, CommandBody } from './commands.ts';
import { ID_UNCHANGED, XATTR_CREATE, XATTR_REPLACE } from './commands.ts';
import { refuse, type Decision, type Errno } from './errno.ts';
import { EVENT_VERSION, type Event, type EventBody } from './events.ts';
import { isLinkName, parsePath } from './path.ts';
import { withinQuota, withinQuotaTransfer } from './quota.ts';
import { resolve, type Node } from './query.ts';
import { FILE_BYTES_MAX, NAME_BYTES_MAX, STICKY_XATTR, type Creator, type FileInode, type Queue, type State } from './state.ts';

type Of<T extends CommandBody['type']> = Command & { type: T };

export function decide(state: State, cmd: Command): Decision<Event> {
  const result = decideBodies(state, cmd);
  if (!result.ok) return result;
  return { ok: true, events: result.events.map((body, i) => stamp(state, cmd, body, i)) };
}

function stamp(state: State, cmd: Command, body: EventBody, index: number): Event {
  const { uid, gid, pid } = cmd.by;
  return { v: EVENT_VERSION, seq: state.seq + 1 + index, t: cmd.atMs, uid, gid, pid, ...body };
}

function decideBodies(state: State, cmd: Command): Decision<EventBody> {
  switch (cmd.type) {
    case 'setQuotas': return ok({ type: 'quotasSet', quotas: cmd.quotas });
    case 'mkdir': return decideMkdir(state, cmd);
    case 'rmdir': return decideRmdir(state, cmd);
    case 'create': return decideCreate(state, cmd);
    case 'write': return decideWrite(state, cmd);
    case 'truncate': return decideTruncate(state, cmd);
    case 'link': return decideLink(state, cmd);
    case 'unlink': return decideUnlink(state, cmd);
    case 'chmod': return decideChmod(state, cmd);
    case 'chown': return decideChown(state, cmd);
    case 'utimens': return decideUtimens(state, cmd);
    case 'setxattr': return decideSetxattr(state, cmd);
    case 'removexattr': return decideRemovexattr(state, cmd);
    case 'reap': return decideReap(state, cmd);
    default: return assertNever(cmd);
  }
}

const ok = (...events: EventBody[]): Decision<EventBody> => ({ ok: true, events });
const none = (): Decision<EventBody> => ({ ok: true, events: [] });
const nameTooLong = (name: string): boolean => Buffer.byteLength(name) > NAME_BYTES_MAX;

function decideMkdir(state: State, cmd: Of<'mkdir'>): Decision<EventBody> {
  const path = parsePath(cmd.path);
  if (path.depth === 0) return refuse('EEXIST');
  if (path.depth === 3) return refuse('ENOENT');
  if (path.depth === 2) return refuse(state.queues.has(path.queue) ? 'EPERM' : 'ENOENT');
  if (nameTooLong(path.queue)) return refuse('ENAMETOOLONG');
  if (state.queues.has(path.queue)) return refuse('EEXIST');
  if (!withinQuota(state, cmd.by.uid, cmd.by.gid, { dirs: 1, files: 0, bytes: 0 }, 0)) return refuse('EDQUOT');
  const creator = { pid: cmd.by.pid, start: cmd.by.start };
  return ok({ type: 'queueCreated', queue: path.queue, ino: state.nextIno, mode: cmd.mode & 0o7777, creator });
}

function decideRmdir(state: State, cmd: Of<'rmdir'>): Decision<EventBody> {
  const node = resolve(state, cmd.path);
  if (typeof node === 'string') return refuse(node);
  if (node.kind === 'root') return refuse('EPERM');
  if (node.kind !== 'queue') return refuse('ENOTDIR');
  if (node.queue.head !== null) return refuse('ENOTEMPTY');
  return ok({ type: 'queueRemoved', queue: node.queue.name });
}

function decideCreate(state: State, cmd: Of<'create'>): Decision<EventBody> {
  const path = parsePath(cmd.path);
  if (path.depth === 0) return refuse('EEXIST');
  if (path.depth === 3) return refuse('ENOENT');
  if (path.depth === 1) return refuse(state.queues.has(path.queue) ? 'EEXIST' : 'EPERM');
  const queue = state.queues.get(path.queue);
  if (queue === undefined) return refuse('ENOENT');
  if (isLinkName(path.name)) return refuse('EEXIST');
  if (nameTooLong(path.name)) return refuse('ENAMETOOLONG');
  if (queue.entries.has(path.name)) return refuse('EEXIST');
  if (!withinQuota(state, cmd.by.uid, cmd.by.gid, { dirs: 0, files: 1, bytes: 0 }, queue.entries.size)) return refuse('EDQUOT');
  return ok({ type: 'fileCreated', queue: queue.name, name: path.name, ino: state.nextIno, mode: cmd.mode & 0o7777 });
}

function decideWrite(state: State, cmd: Of<'write'>): Decision<EventBody> {
  const inode = state.inodes.get(cmd.ino);
  if (inode === undefined) return refuse('ENOENT');
  if (cmd.offset < 0 || !Number.isSafeInteger(cmd.offset + cmd.data.length)) return refuse('EINVAL');
  if (cmd.data.length === 0) return none();
  if (cmd.offset + cmd.data.length > FILE_BYTES_MAX) return refuse('EFBIG');
  const growth = Math.max(0, cmd.offset + cmd.data.length - inode.size);
  if (!withinQuota(state, inode.uid, inode.gid, { dirs: 0, files: 0, bytes: growth }, 0)) return refuse('EDQUOT');
  return ok({ type: 'dataWritten', ino: inode.ino, offset: cmd.offset, data: cmd.data });
}

function decideTruncate(state: State, cmd: Of<'truncate'>): Decision<EventBody> {
  const inode = state.inodes.get(cmd.ino);
  if (inode === undefined) return refuse('ENOENT');
  if (cmd.size < 0 || !Number.isSafeInteger(cmd.size)) return refuse('EINVAL');
  if (cmd.size > FILE_BYTES_MAX) return refuse('EFBIG');
  if (cmd.size === inode.size) return none();
  const growth = Math.max(0, cmd.size - inode.size);
  if (!withinQuota(state, inode.uid, inode.gid, { dirs: 0, files: 0, bytes: growth }, 0)) return refuse('EDQUOT');
  return ok({ type: 'fileTruncated', ino: inode.ino, size: cmd.size });
}

function decideLink(state: State, cmd: Of<'link'>): Decision<EventBody> {
  const source = resolve(state, cmd.from);
  if (typeof source === 'string') return refuse(source);
  if (source.kind !== 'file') return refuse('EPERM');
  const path = parsePath(cmd.to);
  if (path.depth === 0) return refuse('EEXIST');
  if (path.depth === 3) return refuse('ENOENT');
  if (path.depth === 1) return refuse(state.queues.has(path.queue) ? 'EEXIST' : 'EPERM');
  const queue = state.queues.get(path.queue);
  if (queue === undefined) return refuse('ENOENT');
  if (isLinkName(path.name) || queue.entries.has(path.name)) return refuse('EEXIST');
  if (nameTooLong(path.name)) return refuse('ENAMETOOLONG');
  if (!withinQuota(state, cmd.by.uid, cmd.by.gid, { dirs: 0, files: 1, bytes: 0 }, queue.entries.size)) return refuse('EDQUOT');
  return ok({ type: 'linkCreated', queue: queue.name, name: path.name, ino: source.inode.ino });
}

function decideUnlink(state: State, cmd: Of<'unlink'>): Decision<EventBody> {
  const node = resolve(state, cmd.path);
  if (typeof node === 'string') return refuse(node);
  if (node.kind === 'root' || node.kind === 'queue') return refuse('EISDIR');
  const via = node.kind === 'link' ? node.which : 'name';
  return ok({ type: 'entryRemoved', queue: node.queue.name, name: node.entry.name, via });
}

/** What attribute commands act on (a queue or a file); root and head/tail are not ours to change. */
type Attributed = Queue | FileInode;

function ownedTarget(node: Node | Errno): Attributed | Errno {
  if (typeof node === 'string') return node;
  if (node.kind === 'root' || node.kind === 'link') return 'EPERM';
  return node.kind === 'queue' ? node.queue : node.inode;
}

const mayChangeAttributes = (callerUid: number, ownerUid: number): boolean => callerUid === 0 || callerUid === ownerUid;

function decideChmod(state: State, cmd: Of<'chmod'>): Decision<EventBody> {
  const target = ownedTarget(resolve(state, cmd.path));
  if (typeof target === 'string') return refuse(target);
  if (!mayChangeAttributes(cmd.by.uid, target.uid)) return refuse('EPERM');
  return ok({ type: 'modeChanged', ino: target.ino, mode: cmd.mode & 0o7777 });
}

function decideChown(state: State, cmd: Of<'chown'>): Decision<EventBody> {
  const target = ownedTarget(resolve(state, cmd.path));
  if (typeof target === 'string') return refuse(target);
  const uid = cmd.uid === ID_UNCHANGED ? target.uid : cmd.uid;
  const gid = cmd.gid === ID_UNCHANGED ? target.gid : cmd.gid;
  // POSIX chown_restricted: only root gives files away; an owner may only pick its own group.
  if (cmd.by.uid !== 0 && (uid !== target.uid || target.uid !== cmd.by.uid)) return refuse('EPERM');
  if (cmd.by.uid !== 0 && gid !== target.gid && gid !== cmd.by.gid) return refuse('EPERM');
  // The new owner takes over the file's bytes (or the queue's directory) and must have room.
  const moved = 'size' in target ? { dirs: 0, files: 0, bytes: target.size } : { dirs: 1, files: 0, bytes: 0 };
  if (!withinQuotaTransfer(state, target, { uid, gid }, moved)) return refuse('EDQUOT');
  return ok({ type: 'ownerChanged', ino: target.ino, owner: { uid, gid } });
}

function decideUtimens(state: State, cmd: Of<'utimens'>): Decision<EventBody> {
  const target = ownedTarget(resolve(state, cmd.path));
  if (typeof target === 'string') return refuse(target);
  return ok({ type: 'timesChanged', ino: target.ino, atimeMs: cmd.atimeMs, mtimeMs: cmd.mtimeMs });
}

function decideSetxattr(state: State, cmd: Of<'setxattr'>): Decision<EventBody> {
  const target = ownedTarget(resolve(state, cmd.path));
  if (typeof target === 'string') return refuse(target);
  if (!cmd.key.startsWith('user.')) return refuse('ENOTSUP');
  if (cmd.flags & XATTR_CREATE && target.xattrs.has(cmd.key)) return refuse('EEXIST');
  if (cmd.flags & XATTR_REPLACE && !target.xattrs.has(cmd.key)) return refuse('ENODATA');
  if (cmd.key === STICKY_XATTR && !mayChangeAttributes(cmd.by.uid, target.uid)) return refuse('EPERM');
  return ok({ type: 'xattrSet', ino: target.ino, key: cmd.key, value: cmd.value });
}

function decideRemovexattr(state: State, cmd: Of<'removexattr'>): Decision<EventBody> {
  const target = ownedTarget(resolve(state, cmd.path));
  if (typeof target === 'string') return refuse(target);
  if (!cmd.key.startsWith('user.')) return refuse('ENOTSUP');
  if (!target.xattrs.has(cmd.key)) return refuse('ENODATA');
  if (cmd.key === STICKY_XATTR && !mayChangeAttributes(cmd.by.uid, target.uid)) return refuse('EPERM');
  return ok({ type: 'xattrRemoved', ino: target.ino, key: cmd.key });
}

function decideReap(state: State, cmd: Of<'reap'>): Decision<EventBody> {
  const queue = state.queues.get(cmd.queue);
  if (queue === undefined) return refuse('ENOENT');
  if (cmd.creator !== undefined && !sameCreator(queue.creator, cmd.creator)) return refuse('ENOENT');
  if (queue.xattrs.has(STICKY_XATTR)) return refuse('EPERM');
  return ok({ type: 'queueReaped', queue: queue.name, creator: queue.creator });
}

const sameCreator = (a: Creator, b: Creator): boolean => a.pid === b.pid && a.start === b.start;

function assertNever(value: never): never {
  throw new Error(`unknown command ${JSON.stringify(value)}`);
}
