/**
 * --events: one line per event, like `journalctl` (human) or JSON Lines (--json), with filters.
 * The log is folded alongside, so an event that names an inode (a write, a chmod) is shown and
 * filtered by the queue/name it had at that moment, not by a bare inode number.
 */
import { ApplyError, type Event, type EventType, EVENT_TYPES, type State } from '../../src/model/index.ts';
import { escapeBytes, escapeText, isoTime, jsonValue, octal, plural, showName, type Style } from './format.ts';
import type { EventRecord, LoadedLog } from './load.ts';
import { UsageError } from './exit.ts';
import { applyEvent, baseState, InodeNames, isAfterPoint, isBeforePoint, type Point } from './replay.ts';

export type EventFilter = {
  queues: ReadonlySet<string> | null;
  types: ReadonlySet<string> | null;
  pids: ReadonlySet<number> | null;
  uids: ReadonlySet<number> | null;
  since: Point | null;
  until: Point | null;
};

export const NO_FILTER: EventFilter = { queues: null, types: null, pids: null, uids: null, since: null, until: null };

/** "fileCreated,dataWritten" -> a set of known event types; an unknown one is a usage error. */
export function parseTypes(lists: string[]): Set<string> {
  const types = new Set(lists.flatMap((list) => list.split(',')).map((type) => type.trim()).filter((type) => type !== ''));
  for (const type of types) {
    if (!EVENT_TYPES.includes(type as EventType)) throw new UsageError(`--type: unknown event type ${JSON.stringify(type)} (known: ${EVENT_TYPES.join(', ')})`);
  }
  return types;
}

/** Where an event happened, resolved against the state before it: "queue", "queue/name", or "ino N". */
export type Target = { path: string | null; queues: string[]; source: string | null };

/** One event that passed the filters, with what it touched. */
export type Selected = { record: EventRecord; target: Target };

/** Why resolution stopped early (an event that cannot apply); the dump itself goes on. */
export type DumpResult = { shown: number; foldError: ApplyError | null; unresolved: string | null };

export function dumpEvents(log: LoadedLog, filter: EventFilter, emit: (selected: Selected) => void): DumpResult {
  let state: State | null = null;
  let unresolved: string | null = null;
  try {
    state = baseState(log);
  } catch (error) {
    unresolved = error instanceof Error ? error.message : String(error);
  }
  let names = state === null ? null : new InodeNames(state);
  const result: DumpResult = { shown: 0, foldError: null, unresolved };
  for (const record of log.records) {
    const { event } = record;
    // Seqs only grow; times need not (the clock may step back), so a time bound filters instead.
    if (filter.until?.kind === 'seq' && event.seq > filter.until.seq) break;
    const target = targetOf(event, names);
    if (matches(event, target, filter, names)) {
      emit({ record, target });
      result.shown += 1;
    }
    if (state === null || names === null) continue;
    try {
      applyEvent(state, event);
      names.observe(event);
    } catch (error) {
      if (!(error instanceof ApplyError)) throw error;
      result.foldError = error;
      state = names = null;
    }
  }
  return result;
}

const place = (queue: string, name: string | null): string => (name === null ? queue : `${queue}/${name}`);

export function targetOf(event: Event, names: InodeNames | null): Target {
  const inoPath = (ino: number): string | null => {
    const found = names?.placeOf(ino) ?? null;
    return found === null ? null : place(found.queue, found.name);
  };
  if (event.type === 'linkCreated') return { path: place(event.queue, event.name), queues: [event.queue], source: inoPath(event.ino) };
  if ('queue' in event) return { path: place(event.queue, 'name' in event ? event.name : null), queues: [event.queue], source: null };
  if ('ino' in event) return { path: inoPath(event.ino), queues: [], source: null };
  return { path: null, queues: [], source: null };
}

function matches(event: Event, target: Target, filter: EventFilter, names: InodeNames | null): boolean {
  if (filter.types !== null && !filter.types.has(event.type)) return false;
  if (filter.pids !== null && !filter.pids.has(event.pid)) return false;
  if (filter.uids !== null && !filter.uids.has(event.uid)) return false;
  if (filter.since !== null && !isAfterPoint(event, filter.since)) return false;
  if (filter.until !== null && !isBeforePoint(event, filter.until)) return false;
  if (filter.queues === null) return true;
  for (const queue of filter.queues) {
    if (target.queues.includes(queue)) return true;
    if ('ino' in event && names !== null && names.isIn(event.ino, queue)) return true;
  }
  return false;
}

/** The JSON Lines form: the event as logged (Buffers as {base64}) plus where and when. */
export function eventJson(selected: Selected): string {
  const { record, target } = selected;
  const { event } = record;
  const line = {
    seq: event.seq, time: isoTime(event.t), type: event.type, file: record.file, offset: record.offset,
    target: target.path, ...(target.source === null ? {} : { source: target.source }), event: jsonValue(event),
  };
  return JSON.stringify(line);
}

/** Column widths shared by every line of a dump, so seqs and offsets line up. */
export type Columns = { seqWidth: number; offsetWidth: number };

export function columnsOf(log: LoadedLog): Columns {
  const seqWidth = String(log.records.at(-1)?.event.seq ?? 0).length;
  let offsetMax = 0; // a loop, not Math.max(...records): a long log would overflow the stack
  for (const record of log.records) offsetMax = Math.max(offsetMax, record.offset);
  const offsetWidth = 1 + String(offsetMax).length;
  return { seqWidth, offsetWidth };
}

const TYPE_WIDTH = 12; // "queueCreated", "entryRemoved"; "fileTruncated" overflows by one

/** `SEQ @OFFSET TIME TYPE WHAT BY`: about 75 columns for ordinary names. */
export function eventLine(selected: Selected, columns: Columns, showData: boolean, style: Style): string[] {
  const { record, target } = selected;
  const { event } = record;
  const seq = style.bold(String(event.seq).padStart(columns.seqWidth));
  const offset = style.dim(`@${record.offset}`.padEnd(columns.offsetWidth));
  const type = typeColour(event.type, style)(event.type.padEnd(TYPE_WIDTH));
  const line = `${seq} ${offset} ${style.dim(isoTime(event.t))} ${type} ${detailOf(event, target)} ${style.dim(byText(event))}`;
  if (!showData) return [line];
  const data = event.type === 'dataWritten' ? event.data : event.type === 'xattrSet' ? event.value : null;
  return data === null ? [line] : [line, `${' '.repeat(columns.seqWidth + 1)}${escapeBytes(Buffer.from(data))}`];
}

const byText = (event: Event): string => (event.pid === 0 && event.uid === 0 ? 'daemon' : `pid=${event.pid} uid=${event.uid}`);

/** Paths are escaped piece by piece: a name may hold a newline or an escape sequence. */
function pathText(path: string | null, event: Event): string {
  if (path !== null) return path.split('/').map(showName).join('/');
  return 'ino' in event ? `ino ${event.ino}` : '?';
}

export function detailOf(event: Event, target: Target): string {
  const path = pathText(target.path, event);
  switch (event.type) {
    case 'quotasSet': return `quotas (${plural(Object.keys(event.quotas.users).length, 'user')}, ${plural(Object.keys(event.quotas.groups).length, 'group')} overridden)`;
    case 'queueCreated': return `${path} ${octal(event.mode)}${creatorText(event)}`;
    case 'queueRemoved': return path;
    case 'queueReaped': return `${path} creator=${event.creator.pid}/${event.creator.start}`;
    case 'fileCreated': return `${path} ${octal(event.mode)}`;
    case 'dataWritten': return `${path} ${plural(event.data.length, 'byte')}${event.offset === 0 ? '' : ` at ${event.offset}`}`;
    case 'fileTruncated': return `${path} to ${plural(event.size, 'byte')}`;
    case 'linkCreated': return `${path} = ${target.source === null ? `ino ${event.ino}` : pathText(target.source, event)}`;
    case 'entryRemoved': return `${path} (${event.via})`;
    case 'modeChanged': return `${path} ${octal(event.mode)}`;
    case 'ownerChanged': return `${path} ${event.owner.uid}:${event.owner.gid}`;
    case 'timesChanged': return `${path} mtime ${isoTime(event.mtimeMs)}${event.atimeMs === event.mtimeMs ? '' : ` atime ${isoTime(event.atimeMs)}`}`;
    case 'xattrSet': return `${path} ${escapeText(event.key)}=${escapeBytes(Buffer.from(event.value), 16)}`;
    case 'xattrRemoved': return `${path} ${escapeText(event.key)}`;
    default: return escapeText(JSON.stringify(jsonValue(event)));
  }
}

/** The creator is normally the caller itself, already shown as pid= (--json has its start time). */
function creatorText(event: Event & { creator: { pid: number; start: number } }): string {
  return event.creator.pid === event.pid ? '' : ` creator=${event.creator.pid}/${event.creator.start}`;
}

function typeColour(type: string, style: Style): (text: string) => string {
  if (type === 'queueCreated' || type === 'fileCreated' || type === 'linkCreated') return style.green;
  if (type === 'queueRemoved' || type === 'queueReaped' || type === 'entryRemoved') return style.red;
  if (type === 'dataWritten' || type === 'fileTruncated') return style.cyan;
  if (type === 'quotasSet') return style.magenta;
  return style.blue;
}
