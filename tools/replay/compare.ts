/**
 * Comparing two states by what a user can observe, not by inode numbers (a re-execution
 * allocates its own): queues and their order, each queue's mode, owner and xattrs, its messages
 * in order with their bytes, mode, owner, link count and xattrs, head and tail, and which names
 * are links of one file. Times and creator pids are not compared: a re-execution has its own.
 */
import { entriesInOrder, type State } from '../../src/model/index.ts';
import { escapeBytes, escapeText, octal, showName } from './format.ts';

export type MessageShape = {
  name: string;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  data: Buffer;
  xattrs: [string, Buffer][];
  /** Names with the same group are one file; groups are numbered by first appearance. */
  group: number;
};

export type QueueShape = {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  xattrs: [string, Buffer][];
  head: string | null;
  tail: string | null;
  messages: MessageShape[];
};

export type Shape = QueueShape[];

/** What a queue and its messages look like, inode numbers replaced by link groups. */
export type RawQueue = Omit<QueueShape, 'messages'> & { messages: (Omit<MessageShape, 'group'> & { ino: number })[] };

const byKey = ([a]: [string, Buffer], [b]: [string, Buffer]): number => (a < b ? -1 : a > b ? 1 : 0);

/** Numbers inodes by first appearance (queue order, then message order): the same on both sides. */
export function shapeOf(queues: RawQueue[]): Shape {
  const groups = new Map<number, number>();
  return queues.map((queue) => ({
    ...queue,
    xattrs: [...queue.xattrs].sort(byKey),
    messages: queue.messages.map(({ ino, ...message }) => {
      if (!groups.has(ino)) groups.set(ino, groups.size);
      return { ...message, xattrs: [...message.xattrs].sort(byKey), group: groups.get(ino)! };
    }),
  }));
}

export function shapeOfState(state: State): Shape {
  const raw: RawQueue[] = [...state.queues.values()].map((queue) => ({
    name: queue.name, mode: queue.mode, uid: queue.uid, gid: queue.gid, xattrs: [...queue.xattrs.entries()],
    head: queue.head?.name ?? null, tail: queue.tail?.name ?? null,
    messages: [...entriesInOrder(queue)].map((entry) => {
      const inode = state.inodes.get(entry.ino)!;
      return {
        name: entry.name, ino: inode.ino, size: inode.size, mode: inode.mode, uid: inode.uid, gid: inode.gid,
        nlink: inode.nlink, data: inode.data.subarray(0, inode.size), xattrs: [...inode.xattrs.entries()],
      };
    }),
  }));
  return shapeOf(raw);
}

export type Labels = { folded: string; other: string };
export type CompareOptions = { owners: boolean };

export function diffStates(folded: State, other: State, labels: Labels): string[] {
  return diffShapes(shapeOfState(folded), shapeOfState(other), labels, { owners: true });
}

/** Every difference, the most fundamental first (queues, then order, then messages, then bytes). */
export function diffShapes(folded: Shape, other: Shape, labels: Labels, options: CompareOptions): string[] {
  const diffs: string[] = [];
  const names = (shape: Shape): string[] => shape.map((q) => q.name);
  const otherByName = new Map(other.map((q) => [q.name, q]));
  const foldedNames = new Set(names(folded));
  for (const queue of folded) if (!otherByName.has(queue.name)) diffs.push(`queue ${showName(queue.name)} is in ${labels.folded} but not in ${labels.other}`);
  for (const queue of other) if (!foldedNames.has(queue.name)) diffs.push(`queue ${showName(queue.name)} is in ${labels.other} but not in ${labels.folded}`);
  const common = (shape: Shape): string[] => names(shape).filter((name) => foldedNames.has(name) && otherByName.has(name));
  if (diffs.length === 0 && common(folded).join('\0') !== common(other).join('\0')) {
    diffs.push(`queues are listed as ${listText(common(folded))} in ${labels.folded} but as ${listText(common(other))} in ${labels.other}`);
  }
  const groupNames = (shape: Shape): Map<number, string> => firstPlaces(shape);
  const context = { labels, options, foldedPlaces: groupNames(folded), otherPlaces: groupNames(other) };
  for (const queue of folded) {
    const twin = otherByName.get(queue.name);
    if (twin !== undefined) diffs.push(...diffQueue(queue, twin, context));
  }
  return diffs;
}

type Context = { labels: Labels; options: CompareOptions; foldedPlaces: Map<number, string>; otherPlaces: Map<number, string> };

const listText = (names: string[]): string => `[${names.map(showName).join(', ')}]`;

/** For each link group, the first place it appears ("queue/name"), to name it in reports. */
function firstPlaces(shape: Shape): Map<number, string> {
  const places = new Map<number, string>();
  for (const queue of shape) {
    for (const message of queue.messages) if (!places.has(message.group)) places.set(message.group, `${showName(queue.name)}/${showName(message.name)}`);
  }
  return places;
}

function diffQueue(folded: QueueShape, other: QueueShape, context: Context): string[] {
  const { labels, options } = context;
  const where = `queue ${showName(folded.name)}`;
  const diffs: string[] = [];
  const differs = (what: string, a: string, b: string): void => {
    if (a !== b) diffs.push(`${where}: ${what} is ${a} in ${labels.folded} but ${b} in ${labels.other}`);
  };
  differs('the mode', octal(folded.mode), octal(other.mode));
  if (options.owners) differs('the owner', `${folded.uid}:${folded.gid}`, `${other.uid}:${other.gid}`);
  differs('the xattr list', xattrsText(folded.xattrs), xattrsText(other.xattrs));
  const order = (q: QueueShape): string[] => q.messages.map((m) => m.name);
  const index = firstDifference(order(folded), order(other));
  if (index !== -1) {
    const at = (names: string[]): string => (index < names.length ? showName(names[index]!) : 'nothing');
    diffs.push(`${where}: message ${index + 1} is ${at(order(folded))} in ${labels.folded} but ${at(order(other))} in ${labels.other} (depth ${folded.messages.length} vs ${other.messages.length})`);
    return diffs;
  }
  differs('head', nameText(folded.head), nameText(other.head));
  differs('tail', nameText(folded.tail), nameText(other.tail));
  folded.messages.forEach((message, i) => diffs.push(...diffMessage(`${showName(folded.name)}/${showName(message.name)}`, message, other.messages[i]!, context)));
  return diffs;
}

const nameText = (name: string | null): string => (name === null ? 'absent' : showName(name));

function firstDifference(a: string[], b: string[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return -1;
}

function diffMessage(where: string, folded: MessageShape, other: MessageShape, context: Context): string[] {
  const { labels, options } = context;
  const diffs: string[] = [];
  const differs = (what: string, a: string, b: string): void => {
    if (a !== b) diffs.push(`${where}: ${what} is ${a} in ${labels.folded} but ${b} in ${labels.other}`);
  };
  differs('the size', String(folded.size), String(other.size));
  if (!folded.data.equals(other.data)) {
    const at = firstByteDifference(folded.data, other.data);
    diffs.push(`${where}: the bytes differ from offset ${at}: ${escapeBytes(folded.data.subarray(at), 24)} in ${labels.folded}, ${escapeBytes(other.data.subarray(at), 24)} in ${labels.other}`);
  }
  differs('the mode', octal(folded.mode), octal(other.mode));
  if (options.owners) differs('the owner', `${folded.uid}:${folded.gid}`, `${other.uid}:${other.gid}`);
  differs('the link count', String(folded.nlink), String(other.nlink));
  differs('the xattr list', xattrsText(folded.xattrs), xattrsText(other.xattrs));
  differs('the file', linkText(folded.group, where, context.foldedPlaces), linkText(other.group, where, context.otherPlaces));
  return diffs;
}

/** "its own file" or "a link of q/m": names the first place the file appears. */
function linkText(group: number, where: string, places: Map<number, string>): string {
  const first = places.get(group)!;
  return first === where ? 'its own file' : `a link of ${first}`;
}

function firstByteDifference(a: Buffer, b: Buffer): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return i;
  return length;
}

function xattrsText(xattrs: [string, Buffer][]): string {
  if (xattrs.length === 0) return 'none';
  return xattrs.map(([key, value]) => `${escapeText(key)}=${escapeBytes(value, 16)}`).join(', ');
}
