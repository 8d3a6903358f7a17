/**
 * The input of eventfs-replay: a segment file, a snapshot file, a log directory, or `-` (stdin),
 * read with src/log's reader into one dense list of events on top of a base state.
 *
 * A directory is read like the mount reads it (FORMAT.md "Replay": the newest valid snapshot and
 * every segment after it, strictly), and then, unlike the mount, history is extended backwards
 * through older segments that are still on disk. The fold then starts at seq 1 or at an older
 * snapshot, and every newer snapshot becomes a checkpoint whose recorded hash --verify compares.
 * Damage in that optional older history is a note, not an error: the mount does not need it.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { listLogDir, type SegmentFile, type SnapshotFile } from '../../src/log/dir.ts';
import { LogCorruptError, LogDirError, LogVersionError, SnapshotCorruptError } from '../../src/log/errors.ts';
import { readSegmentFile, type SegmentRead } from '../../src/log/reader.ts';
import { readSnapshot, type SnapshotRead } from '../../src/log/snapshot.ts';
import { EVENT_VERSION, type Event, type PlainState } from '../../src/model/index.ts';
import { InputError } from './exit.ts';

/** One event and where its record starts (file and byte offset), for dumps and reports. */
export type EventRecord = { event: Event; file: string; offset: number };

export type SnapshotBase = { kind: 'snapshot'; seq: number; path: string; plain: PlainState; hash: unknown };

/** What the first event applies to. `missing`: a segment cut from its directory (no snapshot). */
export type Base = { kind: 'empty' } | SnapshotBase | { kind: 'missing'; seq: number; reason: string };

/** A snapshot inside the replayed range: the fold at `seq` must hash to `hash`. */
export type Checkpoint = { seq: number; path: string; hash: unknown; plain: PlainState };

export type TornTailReport = { file: string; offset: number; bytesDropped: number; reason: string };

export type LoadedLog = {
  /** The input as given: a path, or "-" for stdin. */
  source: string;
  kind: 'file' | 'snapshot' | 'dir' | 'stdin';
  formatVersion: number;
  mountId: Buffer | null;
  base: Base;
  /** Dense: records[i].event.seq === baseSeq(log) + 1 + i. */
  records: EventRecord[];
  checkpoints: Checkpoint[];
  tornTails: TornTailReport[];
  /** The files replayed: snapshots (base, then checkpoints), then segments, oldest first. */
  files: string[];
  /** Things a reader should know that are not errors (skipped snapshots, unused old history). */
  notes: string[];
};

export const STDIN = '-';

export const baseSeq = (log: LoadedLog): number => (log.base.kind === 'empty' ? 0 : log.base.seq);
export const lastSeq = (log: LoadedLog): number => log.records.at(-1)?.event.seq ?? baseSeq(log);

/** Reads all of stdin (the CLI does this once: loading and salvage both need the bytes). */
export async function readStdin(stdin: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

/** `stdinBytes`: what stdin held, when `source` is "-". */
export async function loadLog(source: string, stdinBytes: Buffer | null): Promise<LoadedLog> {
  if (source === STDIN) return loadStdin(stdinBytes ?? Buffer.alloc(0));
  const info = await stat(source);
  if (info.isDirectory()) return loadDir(source);
  if (source.endsWith('.snap')) return loadSnapshotFile(source);
  return loadSegment(source, 'file', await readSegmentFile(source));
}

function loadSegment(source: string, kind: 'file' | 'stdin', read: SegmentRead): LoadedLog {
  const display = kind === 'stdin' ? STDIN : read.path;
  const records = read.events.map((event, i) => ({ event: checkedEvent(event, display), file: display, offset: read.offsets[i]! }));
  const firstSeq = read.header.firstSeq;
  const base: Base = firstSeq <= 1 ? { kind: 'empty' } : { kind: 'missing', seq: firstSeq - 1, reason: missingBaseReason(source, kind, firstSeq) };
  const tornTails = read.torn === null ? [] : [{ file: display, ...read.torn }];
  return { source, kind, formatVersion: read.header.version, mountId: read.header.mountId, base, records, checkpoints: [], tornTails, files: [display], notes: [] };
}

function missingBaseReason(source: string, kind: 'file' | 'stdin', firstSeq: number): string {
  const where = kind === 'file' ? `; replay its log directory (${dirname(source)}) instead` : '';
  return `the log starts at seq ${firstSeq}, so its state needs the snapshot at seq ${firstSeq - 1}${where}`;
}

/** Events written by a newer eventfs may mean something this fold does not know: refuse them. */
function checkedEvent(event: { seq: number; [field: string]: unknown }, file: string): Event {
  if (typeof event.v === 'number' && event.v > EVENT_VERSION) {
    throw new LogVersionError(file, `event seq ${event.seq} has schema version ${event.v} > ${EVENT_VERSION} (written by a newer eventfs)`);
  }
  return event as unknown as Event;
}

async function loadSnapshotFile(path: string): Promise<LoadedLog> {
  const snapshot = await readSnapshot(path);
  const base = snapshotBase(snapshot);
  return {
    source: path, kind: 'snapshot', formatVersion: snapshot.header.version, mountId: snapshot.header.mountId,
    base, records: [], checkpoints: [], tornTails: [], files: [path], notes: [],
  };
}

function snapshotBase(snapshot: SnapshotRead): SnapshotBase {
  if (!isPlainState(snapshot.state)) throw new SnapshotCorruptError(snapshot.path, 'its state is not an eventfs state');
  return { kind: 'snapshot', seq: snapshot.seq, path: snapshot.path, plain: snapshot.state, hash: snapshot.hash };
}

function isPlainState(value: unknown): value is PlainState {
  if (typeof value !== 'object' || value === null) return false;
  const plain = value as Partial<PlainState>;
  return Number.isSafeInteger(plain.seq) && Array.isArray(plain.queues) && Array.isArray(plain.inodes);
}

/** stdin is read whole and handed to the file reader through a private temporary file. */
async function loadStdin(bytes: Buffer): Promise<LoadedLog> {
  const dir = await mkdtemp(join(tmpdir(), 'eventfs-replay-'));
  const path = join(dir, 'stdin');
  try {
    await writeFile(path, bytes, { mode: 0o600 });
    return loadSegment(STDIN, 'stdin', await readSegmentFile(path).catch((error: unknown) => rethrowAs(error, path, STDIN)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The reader's errors name the file they read; for stdin that is a temporary file nobody knows. */
export function rethrowAs(error: unknown, path: string, display: string): never {
  if (error instanceof LogCorruptError) throw new LogCorruptError(display, error.offset, error.reason);
  if (error instanceof LogVersionError) throw new LogVersionError(display, error.reason);
  if (error instanceof Error) error.message = error.message.split(path).join(display);
  throw error;
}

type DirRead = { snapshots: SnapshotRead[]; segments: SegmentRead[]; notes: string[] };

async function loadDir(dir: string): Promise<LoadedLog> {
  const listing = await listLogDir(dir);
  if (listing.segments.length === 0 && listing.snapshots.length === 0) {
    throw new InputError(`${dir}: no eventfs log here (no segment-*.log or snapshot-*.snap files)`);
  }
  const read: DirRead = { snapshots: [], segments: [], notes: [] };
  await readSnapshots(read, listing.snapshots);
  const newest = read.snapshots.at(-1) ?? null;
  const first = firstRequiredSegment(listing.segments, newest?.seq ?? 0);
  for (const file of listing.segments.slice(first)) read.segments.push(await readSegmentFile(file.path));
  checkRequiredChain(dir, read, newest);
  await extendHistory(read, listing.segments.slice(0, first));
  return assembleDir(dir, read);
}

/** Valid snapshots, oldest first; damaged ones are noted and skipped, as the mount does. */
async function readSnapshots(read: DirRead, files: SnapshotFile[]): Promise<void> {
  for (const file of files) {
    try {
      const snapshot = await readSnapshot(file.path);
      snapshotBase(snapshot);
      read.snapshots.push(snapshot);
    } catch (error) {
      if (!(error instanceof SnapshotCorruptError)) throw error;
      read.notes.push(`skipped damaged snapshot ${error.file}: ${error.reason}`);
    }
  }
}

/** Segment i holds seqs below segment i+1's firstSeq: the mount needs the one holding seq+1 on. */
export function firstRequiredSegment(segments: SegmentFile[], snapshotSeq: number): number {
  let first = 0;
  while (first + 1 < segments.length && segments[first + 1]!.firstSeq - 1 <= snapshotSeq) first++;
  return first;
}

/** The same conditions as readLogDir: dense after the snapshot, no overlap, one mount id. */
function checkRequiredChain(dir: string, read: DirRead, newest: SnapshotRead | null): void {
  let nextSeq = (newest?.seq ?? 0) + 1;
  let previous: SegmentRead | null = null;
  const mountId = newest?.header.mountId ?? read.segments[0]?.header.mountId;
  for (const segment of read.segments) {
    const firstSeq = segment.header.firstSeq;
    if (firstSeq > nextSeq) {
      const after = previous !== null ? `after ${previous.path}` : newest !== null ? `after snapshot ${newest.path}` : 'at the start';
      // A damaged snapshot is the likely cause: the events it covered were compacted away.
      const cause = read.notes.filter((note) => note.startsWith('skipped damaged snapshot')).map((note) => `; ${note}`).join('');
      throw new LogDirError(dir, `events ${nextSeq}..${firstSeq - 1} are missing ${after}: ${segment.path} starts at seq ${firstSeq} (a segment file was deleted or lost)${cause}`);
    }
    if (previous !== null && previous.header.firstSeq + previous.events.length > firstSeq) {
      const lastSeq = previous.header.firstSeq + previous.events.length - 1;
      throw new LogDirError(dir, `${previous.path} runs to seq ${lastSeq}, past the start of ${segment.path}`);
    }
    if (mountId !== undefined && !segment.header.mountId.equals(mountId)) {
      throw new LogDirError(dir, `${segment.path} belongs to another mount (mount id ${segment.header.mountId.toString('hex')})`);
    }
    nextSeq = Math.max(nextSeq, firstSeq + segment.events.length);
    previous = segment;
  }
}

/** Prepends older segments while they read cleanly and end exactly where the chain begins. */
async function extendHistory(read: DirRead, older: SegmentFile[]): Promise<void> {
  for (const file of [...older].reverse()) {
    const next = read.segments[0];
    if (next === undefined) return;
    let segment: SegmentRead;
    try {
      segment = await readSegmentFile(file.path);
    } catch (error) {
      if (!(error instanceof LogCorruptError || error instanceof LogVersionError)) throw error;
      read.notes.push(`older history stops at ${next.path}: ${error.message}`);
      return;
    }
    const endSeq = segment.header.firstSeq + segment.events.length;
    if (endSeq !== next.header.firstSeq || !segment.header.mountId.equals(next.header.mountId)) {
      read.notes.push(`older history stops at ${next.path}: ${file.path} does not end where it begins`);
      return;
    }
    read.segments.unshift(segment);
  }
}

function assembleDir(dir: string, read: DirRead): LoadedLog {
  const baseSnapshot = chooseBase(read);
  const base: Base = baseSnapshot === null ? { kind: 'empty' } : snapshotBase(baseSnapshot);
  const from = baseSnapshot?.seq ?? 0;
  const records: EventRecord[] = [];
  for (const segment of read.segments) {
    segment.events.forEach((event, i) => {
      if (event.seq > from) records.push({ event: checkedEvent(event, segment.path), file: segment.path, offset: segment.offsets[i]! });
    });
  }
  const mountId = baseSnapshot?.header.mountId ?? read.segments[0]!.header.mountId;
  const checkpoints = checkpointsOf(read, from, records.at(-1)?.event.seq ?? from, mountId);
  const tornTails = read.segments.flatMap((segment) => (segment.torn === null ? [] : [{ file: segment.path, ...segment.torn }]));
  const headers = [...read.snapshots.map((s) => s.header), ...read.segments.map((s) => s.header)];
  const formatVersion = Math.max(...headers.map((header) => header.version));
  const files = [...(baseSnapshot === null ? [] : [baseSnapshot.path]), ...checkpoints.filter((c) => c.seq > from).map((c) => c.path), ...read.segments.map((s) => s.path)];
  return { source: dir, kind: 'dir', formatVersion, mountId, base, records, checkpoints, tornTails, files, notes: read.notes };
}

/**
 * The oldest point the events on disk can be folded from: seq 0 when the chain of segments starts
 * at seq 1, else the oldest snapshot the chain reaches back to. A chain that ends before the
 * newest snapshot (its events were compacted into it) leaves the newest snapshot as the base.
 */
function chooseBase(read: DirRead): SnapshotRead | null {
  const newest = read.snapshots.at(-1) ?? null;
  const chainStart = read.segments[0]?.header.firstSeq ?? Infinity;
  const last = read.segments.at(-1);
  const chainEnd = last === undefined ? -Infinity : last.header.firstSeq + last.events.length - 1;
  if (newest !== null && chainEnd < newest.seq) return newest;
  if (chainStart <= 1) return null;
  return read.snapshots.find((snapshot) => snapshot.seq >= chainStart - 1) ?? newest;
}

/** Snapshots inside the replayed range, including the base itself (its hash must match its state). */
function checkpointsOf(read: DirRead, fromSeq: number, toSeq: number, mountId: Buffer): Checkpoint[] {
  const checkpoints: Checkpoint[] = [];
  for (const snapshot of read.snapshots) {
    if (snapshot.seq < fromSeq || snapshot.seq > toSeq) continue;
    if (!snapshot.header.mountId.equals(mountId)) {
      read.notes.push(`snapshot ${basename(snapshot.path)} belongs to another mount; not compared`);
      continue;
    }
    checkpoints.push({ seq: snapshot.seq, path: snapshot.path, hash: snapshot.hash, plain: snapshot.state as PlainState });
  }
  return checkpoints;
}
