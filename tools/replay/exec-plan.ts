/**
 * What --exec does for each event: the system call a process made to cause it, as a request for
 * a helper process (exec-helper.py), and who must make it. Pure: it reads the state before the
 * event (to turn inode numbers into paths) and never touches a mount.
 */
import type { Creator, Event, State } from '../../src/model/index.ts';
import { entriesInOrder } from '../../src/model/index.ts';
import type { InodeNames } from './replay.ts';

/** A request for exec-helper.py; paths are relative to the mountpoint. */
export type HelperOp =
  | { op: 'mkdir'; path: string; mode: number }
  | { op: 'rmdir'; path: string }
  | { op: 'create'; path: string; mode: number; ino: number }
  | { op: 'write'; path: string; ino: number; offset: number; data: string }
  | { op: 'truncate'; path: string; ino: number; size: number }
  | { op: 'forget'; ino: number }
  | { op: 'link'; from: string; to: string }
  | { op: 'unlink'; path: string; expect?: string }
  | { op: 'chmod'; path: string; mode: number }
  | { op: 'chown'; path: string; uid: number; gid: number }
  | { op: 'utime'; path: string; atimeNs: string; mtimeNs: string }
  | { op: 'setxattr'; path: string; key: string; value: string }
  | { op: 'removexattr'; path: string; key: string }
  | { op: 'walk' };

/** The recorded caller: pid 0 is the daemon (or a step made up to rebuild a snapshot). */
export type Actor = { pid: number; uid: number; gid: number };

export type Step =
  /** `creator`: this op makes a queue, so it must come from that creator's own helper. */
  | { kind: 'op'; by: Actor; op: HelperOp; creator?: string }
  /** The creator died: kill its helper, then the mount must reap the queue. */
  | { kind: 'reap'; queue: string; creator: string }
  | { kind: 'skip'; reason: string };

/** Creators are processes: a pid and its start time (a pid alone may be reused). */
export const creatorKey = (creator: Creator): string => `${creator.pid}/${creator.start}`;

const actorOf = (event: Event): Actor => ({ pid: event.pid, uid: event.uid, gid: event.gid });

/** ms since the epoch -> ns as a decimal string (too large for a double to hold exactly). */
export function nsText(ms: number): string {
  const whole = Math.floor(ms);
  return (BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6))).toString();
}

/** The step that causes `event`, planned against the state just before it. */
export function planEvent(event: Event, names: InodeNames): Step {
  const by = actorOf(event);
  const op = (request: HelperOp): Step => ({ kind: 'op', by, op: request });
  const pathOf = (ino: number): string | null => {
    const place = names.placeOf(ino);
    return place === null ? null : place.name === null ? place.queue : `${place.queue}/${place.name}`;
  };
  const withPath = (ino: number, make: (path: string) => HelperOp): Step => {
    const path = pathOf(ino);
    return path === null ? { kind: 'skip', reason: `inode ${ino} has no name to reach it by` } : op(make(path));
  };
  switch (event.type) {
    case 'quotasSet': return { kind: 'skip', reason: "quotas come from the mount's own configuration" };
    case 'queueCreated': return { kind: 'op', by, op: { op: 'mkdir', path: event.queue, mode: event.mode }, creator: creatorKey(event.creator) };
    case 'queueRemoved': return op({ op: 'rmdir', path: event.queue });
    case 'queueReaped': return { kind: 'reap', queue: event.queue, creator: creatorKey(event.creator) };
    case 'fileCreated': return op({ op: 'create', path: `${event.queue}/${event.name}`, mode: event.mode, ino: event.ino });
    case 'dataWritten': return withPath(event.ino, (path) => ({ op: 'write', path, ino: event.ino, offset: event.offset, data: Buffer.from(event.data).toString('base64') }));
    case 'fileTruncated': return withPath(event.ino, (path) => ({ op: 'truncate', path, ino: event.ino, size: event.size }));
    case 'linkCreated': return withPath(event.ino, (from) => ({ op: 'link', from, to: `${event.queue}/${event.name}` }));
    case 'entryRemoved': return op(unlinkOp(event.queue, event.name, event.via));
    case 'modeChanged': return withPath(event.ino, (path) => ({ op: 'chmod', path, mode: event.mode }));
    case 'ownerChanged': return withPath(event.ino, (path) => ({ op: 'chown', path, uid: event.owner.uid, gid: event.owner.gid }));
    case 'timesChanged': return withPath(event.ino, (path) => ({ op: 'utime', path, atimeNs: nsText(event.atimeMs), mtimeNs: nsText(event.mtimeMs) }));
    case 'xattrSet': return withPath(event.ino, (path) => ({ op: 'setxattr', path, key: event.key, value: Buffer.from(event.value).toString('base64') }));
    case 'xattrRemoved': return withPath(event.ino, (path) => ({ op: 'removexattr', path, key: event.key }));
    default: return { kind: 'skip', reason: `unknown event type ${JSON.stringify((event as { type: unknown }).type)}` };
  }
}

/** A pop goes through head/tail, checked first: the mount must pop the name the log popped. */
function unlinkOp(queue: string, name: string, via: 'head' | 'tail' | 'name'): HelperOp {
  return via === 'name' ? { op: 'unlink', path: `${queue}/${name}` } : { op: 'unlink', path: `${queue}/${via}`, expect: name };
}

/**
 * Steps that rebuild a state on an empty mount (a log that starts at a snapshot): each queue by
 * its creator, then the messages in queue order, each file created once and linked elsewhere.
 * A queue is made writable by its owner until the end, so a mode such as 0555 cannot get in the
 * way of filling it; then it gets its recorded mode.
 */
export function planState(state: State): Step[] {
  const steps: Step[] = [];
  const daemon: Actor = { pid: 0, uid: 0, gid: 0 };
  for (const queue of state.queues.values()) {
    const by = { pid: queue.creator.pid, uid: queue.uid, gid: queue.gid };
    steps.push({ kind: 'op', by, op: { op: 'mkdir', path: queue.name, mode: queue.mode | 0o700 }, creator: creatorKey(queue.creator) });
  }
  const firstPath = new Map<number, string>();
  for (const queue of state.queues.values()) {
    for (const entry of entriesInOrder(queue)) {
      const by = { pid: 0, uid: entry.uid, gid: entry.gid };
      const path = `${queue.name}/${entry.name}`;
      const from = firstPath.get(entry.ino);
      if (from !== undefined) {
        steps.push({ kind: 'op', by, op: { op: 'link', from, to: path } });
        continue;
      }
      firstPath.set(entry.ino, path);
      steps.push(...planInode(state, entry.ino, path, by, daemon));
    }
  }
  for (const queue of state.queues.values()) {
    const by = { pid: queue.creator.pid, uid: queue.uid, gid: queue.gid };
    for (const [key, value] of queue.xattrs) steps.push({ kind: 'op', by, op: { op: 'setxattr', path: queue.name, key, value: value.toString('base64') } });
    if ((queue.mode | 0o700) !== queue.mode) steps.push({ kind: 'op', by, op: { op: 'chmod', path: queue.name, mode: queue.mode } });
  }
  return steps;
}

function planInode(state: State, ino: number, path: string, by: Actor, daemon: Actor): Step[] {
  const inode = state.inodes.get(ino)!;
  const steps: Step[] = [{ kind: 'op', by, op: { op: 'create', path, mode: inode.mode, ino } }];
  const data = inode.data.subarray(0, inode.size);
  if (data.length > 0) steps.push({ kind: 'op', by, op: { op: 'write', path, ino, offset: 0, data: data.toString('base64') } });
  for (const [key, value] of inode.xattrs) steps.push({ kind: 'op', by, op: { op: 'setxattr', path, key, value: value.toString('base64') } });
  if (inode.uid !== by.uid || inode.gid !== by.gid) steps.push({ kind: 'op', by: daemon, op: { op: 'chown', path, uid: inode.uid, gid: inode.gid } });
  steps.push({ kind: 'op', by, op: { op: 'forget', ino } });
  return steps;
}
