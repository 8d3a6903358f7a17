/**
 * A folded state as people read it: queues in creation order with depth, bytes, owner, sticky,
 * head and tail, and their messages in order. Used by the summary, --at and --first-bad, in
 * human form (formatState) and as JSON (the same view, Buffers as base64).
 */
import { STICKY_XATTR, entriesInOrder, stateHash, type FileInode, type Queue, type State } from '../../src/model/index.ts';
import { bytesText, escapeBytes, escapeText, octal, plural, showName, table, type Style } from './format.ts';

export type Owner = { uid: number; gid: number };

export type MessageView = {
  name: string;
  ino: number;
  size: number;
  mode: number;
  owner: Owner;
  nlink: number;
  xattrs: [string, Buffer][];
  data: Buffer;
};

export type QueueView = {
  name: string;
  ino: number;
  mode: number;
  owner: Owner;
  creator: { pid: number; start: number };
  sticky: boolean;
  depth: number;
  /** Sum of the sizes of its messages (a multicast message counts in every queue holding it). */
  bytes: number;
  head: string | null;
  tail: string | null;
  xattrs: [string, Buffer][];
  messages: MessageView[];
};

/** What the summary shows of a queue. */
export type QueueSummary = Pick<QueueView, 'name' | 'depth' | 'bytes' | 'owner' | 'mode' | 'sticky' | 'creator'>;

export type StateView = { seq: number; hash: string; queues: QueueView[] };

const sortedXattrs = (xattrs: Map<string, Buffer>): [string, Buffer][] =>
  [...xattrs.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

function messageView(name: string, inode: FileInode): MessageView {
  const { ino, size, mode, uid, gid, nlink } = inode;
  return { name, ino, size, mode, owner: { uid, gid }, nlink, xattrs: sortedXattrs(inode.xattrs), data: inode.data.subarray(0, size) };
}

export function queueView(state: State, queue: Queue): QueueView {
  const messages = [...entriesInOrder(queue)].map((entry) => messageView(entry.name, state.inodes.get(entry.ino)!));
  return {
    name: queue.name, ino: queue.ino, mode: queue.mode, owner: { uid: queue.uid, gid: queue.gid },
    creator: { pid: queue.creator.pid, start: queue.creator.start }, sticky: queue.xattrs.has(STICKY_XATTR),
    depth: messages.length, bytes: messages.reduce((sum, message) => sum + message.size, 0),
    head: queue.head?.name ?? null, tail: queue.tail?.name ?? null, xattrs: sortedXattrs(queue.xattrs), messages,
  };
}

/** `queues`: only these (for --queue); all when null. */
export function stateView(state: State, queues: ReadonlySet<string> | null = null): StateView {
  const shown = [...state.queues.values()].filter((queue) => queues === null || queues.has(queue.name));
  return { seq: state.seq, hash: stateHash(state), queues: shown.map((queue) => queueView(state, queue)) };
}

/** The view as JSON for scripts: data as base64 (and as text when it is valid UTF-8). */
export function stateJson(view: StateView, showData: boolean): unknown {
  return {
    seq: view.seq,
    stateHash: view.hash,
    queues: view.queues.map((queue) => ({
      ...queue,
      xattrs: xattrsJson(queue.xattrs),
      messages: queue.messages.map((message) => messageJson(message, showData)),
    })),
  };
}

const xattrsJson = (xattrs: [string, Buffer][]): { key: string; base64: string }[] =>
  xattrs.map(([key, value]) => ({ key, base64: value.toString('base64') }));

function messageJson(message: MessageView, showData: boolean): unknown {
  const { data, xattrs, ...rest } = message;
  return { ...rest, xattrs: xattrsJson(xattrs), ...(showData ? { base64: data.toString('base64') } : {}) };
}

export const ownerText = (owner: Owner): string => `${owner.uid}:${owner.gid}`;
export const creatorText = (creator: { pid: number; start: number }): string => `pid ${creator.pid} (start ${creator.start})`;

/** The queue table of the summary: one line per queue, under 80 columns for ordinary names. */
export function queueTable(queues: QueueSummary[], style: Style): string[] {
  if (queues.length === 0) return [style.dim('  (no queues)')];
  const rows = queues.map((q) => [showName(q.name), String(q.depth), String(q.bytes), ownerText(q.owner), octal(q.mode), q.sticky ? 'yes' : 'no', String(q.creator.pid)]);
  const lines = table(['QUEUE', 'DEPTH', 'BYTES', 'OWNER', 'MODE', 'STICKY', 'CREATOR'], rows, ['left', 'right', 'right', 'left', 'left', 'left', 'right'], style);
  return lines.map((line) => `  ${line}`);
}

/** A whole state: each queue, then its messages in order (with --show-data, their bytes). */
export function formatState(view: StateView, showData: boolean, style: Style): string[] {
  const lines: string[] = [];
  for (const queue of view.queues) {
    lines.push('', ...formatQueue(queue, showData, style));
  }
  if (view.queues.length === 0) lines.push('', style.dim('(no queues)'));
  return lines;
}

function formatQueue(queue: QueueView, showData: boolean, style: Style): string[] {
  const sticky = queue.sticky ? `  ${style.yellow('sticky')}` : '';
  const lines = [
    `${style.bold(`queue ${showName(queue.name)}`)}  owner ${ownerText(queue.owner)}  mode ${octal(queue.mode)}${sticky}`,
    `  creator ${creatorText(queue.creator)}, ${plural(queue.depth, 'message')}, ${bytesText(queue.bytes)}`,
  ];
  if (queue.head !== null) lines.push(`  head ${showName(queue.head)}  tail ${showName(queue.tail!)}`);
  const other = queue.xattrs.filter(([key]) => key !== STICKY_XATTR);
  for (const [key, value] of other) lines.push(`  xattr ${escapeText(key)} = ${escapeBytes(value, 40)}`);
  if (queue.messages.length === 0) return lines;
  const rows = queue.messages.map((m, i) => [String(i + 1), showName(m.name), String(m.size), octal(m.mode), ownerText(m.owner), String(m.nlink), String(m.ino)]);
  const header = ['#', 'NAME', 'SIZE', 'MODE', 'OWNER', 'LINKS', 'INO'];
  const rendered = table(header, rows, ['right', 'left', 'right', 'left', 'left', 'right', 'right'], style);
  lines.push(`    ${rendered[0]}`);
  queue.messages.forEach((message, i) => {
    lines.push(`    ${rendered[i + 1]}`);
    for (const [key, value] of message.xattrs) lines.push(`        xattr ${escapeText(key)} = ${escapeBytes(value, 40)}`);
    if (showData) lines.push(`        ${escapeBytes(message.data)}`);
  });
  return lines;
}
