/**
 * Read-only questions the shell asks of the state (lookup, getattr, readdir, readlink, open).
 * Pure like the rest of the model; nothing here changes the state.
 */
import type { Errno } from './errno.ts';
import { isLinkName, parsePath, type LinkName } from './path.ts';
import type { Entry, FileInode, Queue, State } from './state.ts';

export type Node =
  | { kind: 'root' }
  | { kind: 'queue'; queue: Queue }
  | { kind: 'file'; queue: Queue; entry: Entry; inode: FileInode }
  /** head or tail: a symlink to the name of the oldest or newest entry. */
  | { kind: 'link'; queue: Queue; which: LinkName; entry: Entry };

export function resolve(state: State, path: string): Node | Errno {
  const parsed = parsePath(path);
  if (parsed.depth === 0) return { kind: 'root' };
  if (parsed.depth === 3) return 'ENOENT';
  const queue = state.queues.get(parsed.queue);
  if (queue === undefined) return 'ENOENT';
  if (parsed.depth === 1) return { kind: 'queue', queue };
  if (isLinkName(parsed.name)) return resolveLink(queue, parsed.name);
  const entry = queue.entries.get(parsed.name);
  if (entry === undefined) return 'ENOENT';
  return { kind: 'file', queue, entry, inode: state.inodes.get(entry.ino)! };
}

function resolveLink(queue: Queue, which: LinkName): Node | Errno {
  const entry = which === 'head' ? queue.head : queue.tail;
  if (entry === null) return 'ENOENT';
  return { kind: 'link', queue, which, entry };
}

/** The names of a queue, oldest first. */
export function* entriesInOrder(queue: Queue): Generator<Entry> {
  for (let entry = queue.head; entry !== null; entry = entry.next) yield entry;
}

/** What `ls -a QUEUE` shows: the files in order, then head and tail while there are any. */
export function listQueue(queue: Queue): string[] {
  const names: string[] = [];
  for (const entry of entriesInOrder(queue)) names.push(entry.name);
  if (queue.head !== null) names.push('head', 'tail');
  return names;
}

export const headInoOf = (queue: Queue): number => queue.ino + 1;
export const tailInoOf = (queue: Queue): number => queue.ino + 2;
