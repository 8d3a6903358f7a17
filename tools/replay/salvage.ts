/**
 * --salvage OUT: the longest valid prefix of a damaged log, so the mount can start again. The
 * prefix ends at the first damaged record (FORMAT.md "What a reader does": corruption is never
 * guessed past), at a torn tail, at a gap between segments, or before the first event that cannot
 * apply (the mount folds the log when it starts, and such an event would stop it). Everything
 * after the cut is listed, readable or not. The kept bytes are copied, never re-encoded.
 */
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { listLogDir, type SegmentFile } from '../../src/log/dir.ts';
import { LogCorruptError, LogVersionError, SnapshotCorruptError } from '../../src/log/errors.ts';
import { segmentName } from '../../src/log/format.ts';
import { readSegmentFile, type SegmentRead } from '../../src/log/reader.ts';
import { readSnapshot, type SnapshotRead } from '../../src/log/snapshot.ts';
import { ApplyError, emptyState, fromPlain, type Event, type PlainState, type State } from '../../src/model/index.ts';
import { UsageError } from './exit.ts';
import { bytesText, plural, type Style } from './format.ts';
import { firstRequiredSegment, rethrowAs, STDIN } from './load.ts';
import { applyEvent } from './replay.ts';

export type Dropped = { file: string; offset: number; bytesDropped: number; reason: string };
export type SeqRange = { count: number; firstSeq: number; lastSeq: number };

export type SalvagePlan = {
  source: string;
  kind: 'file' | 'dir';
  /** What OUT will hold: one file for a file input, snapshot + segments for a directory. */
  pieces: { name: string; bytes: Buffer }[];
  base: { seq: number; path: string } | null;
  /** The firstSeq of the first kept segment (names the file when it goes into a log directory). */
  firstSeq: number | null;
  kept: SeqRange | null;
  /** Damaged ranges, torn tails and files that could not be used, in log order. */
  dropped: Dropped[];
  /** Events that were readable but lie after the cut. */
  droppedEvents: SeqRange | null;
  /** Readable files after the cut, not copied. */
  droppedFiles: string[];
  /** The first event that cannot apply, where the prefix was cut. */
  cutBy: { seq: number; reason: string } | null;
};

export const isIntact = (plan: SalvagePlan): boolean =>
  plan.dropped.length === 0 && plan.droppedEvents === null && plan.droppedFiles.length === 0 && plan.cutBy === null;

/** Where the walk is: the state to apply to (null: no base), the next seq, the mount id seen. */
type Cursor = { plan: SalvagePlan; state: State | null; nextSeq: number; stopped: boolean; mountId: Buffer | null; segments: number };

/** Reads the input (a path or "-" with its bytes) and decides what to keep, writing nothing. */
export async function planSalvage(source: string, stdinBytes: Buffer | null): Promise<SalvagePlan> {
  const plan: SalvagePlan = { source, kind: 'file', pieces: [], base: null, firstSeq: null, kept: null, dropped: [], droppedEvents: null, droppedFiles: [], cutBy: null };
  if (source !== STDIN && (await stat(source)).isDirectory()) return planDir({ ...plan, kind: 'dir' });
  const cursor: Cursor = { plan, state: emptyState(), nextSeq: 1, stopped: false, mountId: null, segments: 0 };
  if (stdinBytes === null) {
    await planSegment(cursor, source, source, await readFile(source), true);
    return plan;
  }
  const dir = await mkdtemp(join(tmpdir(), 'eventfs-salvage-'));
  try {
    await writeFile(join(dir, 'stdin'), stdinBytes, { mode: 0o600 });
    await planSegment(cursor, join(dir, 'stdin'), STDIN, stdinBytes, true).catch((error: unknown) => rethrowAs(error, join(dir, 'stdin'), STDIN));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return plan;
}

/**
 * Keeps the valid records of one segment from its start up to the first damage. `strict`: header
 * errors are thrown (a lone file with a bad header has nothing to salvage).
 */
async function planSegment(cursor: Cursor, path: string, display: string, buf: Buffer, strict: boolean): Promise<void> {
  const { plan } = cursor;
  let read: SegmentRead;
  try {
    read = await readSegmentFile(path, { salvage: true });
  } catch (error) {
    if (strict || !(error instanceof LogCorruptError || error instanceof LogVersionError)) throw error;
    plan.dropped.push({ file: display, offset: 0, bytesDropped: buf.length, reason: error.reason });
    return stop(cursor, null);
  }
  const refusal = segmentRefusal(cursor, read);
  if (refusal !== null) {
    plan.dropped.push({ file: display, offset: 0, bytesDropped: buf.length, reason: refusal });
    return stop(cursor, null);
  }
  cursor.mountId = read.header.mountId;
  cursor.segments += 1;
  // A lone segment cut from its directory has no base state: its events are kept unchecked.
  if (read.header.firstSeq > cursor.nextSeq) cursor.state = null;
  let cut = read.torn?.offset ?? buf.length;
  // A seq jump is listed with 0 bytes; the events after the cut say it better (droppedEvents).
  for (const skipped of read.skipped) if (skipped.bytesDropped > 0) plan.dropped.push({ file: display, ...skipped });
  if (read.torn !== null) plan.dropped.push({ file: display, ...read.torn });
  if (read.skipped.length > 0) cut = Math.min(cut, read.skipped[0]!.offset);
  const kept = keepApplying(cursor, read, cut);
  cut = kept.cut;
  const readable = read.events.filter((_, i) => read.offsets[i]! >= cut);
  addRange(plan, 'droppedEvents', readable);
  plan.pieces.push({ name: basename(display), bytes: buf.subarray(0, cut) });
  plan.firstSeq ??= read.header.firstSeq;
  if (cut < buf.length) cursor.stopped = true;
}

/** Why a segment cannot continue the kept chain (another mount, overlap), or null. */
function segmentRefusal(cursor: Cursor, read: SegmentRead): string | null {
  if (cursor.mountId !== null && !read.header.mountId.equals(cursor.mountId)) {
    return `belongs to another mount (mount id ${read.header.mountId.toString('hex')})`;
  }
  if (cursor.segments > 0 && read.header.firstSeq < cursor.nextSeq) return `starts at seq ${read.header.firstSeq}, inside the previous segment`;
  return null;
}

/** Applies the kept events in order; the first that cannot apply moves the cut to its record. */
function keepApplying(cursor: Cursor, read: SegmentRead, cut: number): { cut: number } {
  for (let i = 0; i < read.events.length && read.offsets[i]! < cut; i++) {
    const event = read.events[i]!;
    if (event.seq < cursor.nextSeq) continue; // covered by the snapshot
    try {
      if (cursor.state !== null) applyEvent(cursor.state, event as unknown as Event);
    } catch (error) {
      if (!(error instanceof ApplyError)) throw error;
      cursor.plan.cutBy = { seq: event.seq, reason: error.message };
      return { cut: read.offsets[i]! };
    }
    addRange(cursor.plan, 'kept', [event]);
    cursor.nextSeq = event.seq + 1;
  }
  return { cut };
}

function addRange(plan: SalvagePlan, key: 'kept' | 'droppedEvents', events: { seq: number }[]): void {
  for (const event of events) {
    const range = plan[key];
    plan[key] = range === null ? { count: 1, firstSeq: event.seq, lastSeq: event.seq } : { ...range, count: range.count + 1, lastSeq: event.seq };
  }
}

function stop(cursor: Cursor, file: string | null): void {
  cursor.stopped = true;
  if (file !== null) cursor.plan.droppedFiles.push(file);
}

/** A directory: the newest valid snapshot, then segments in order until the first damage or gap. */
async function planDir(plan: SalvagePlan): Promise<SalvagePlan> {
  const listing = await listLogDir(plan.source);
  const snapshot = await newestValidSnapshot(plan, listing.snapshots.map((s) => s.path));
  const state = snapshot === null ? emptyState() : fromPlain(snapshot.state as PlainState);
  const cursor: Cursor = { plan, state, nextSeq: (snapshot?.seq ?? 0) + 1, stopped: false, mountId: snapshot?.header.mountId ?? null, segments: 0 };
  if (snapshot !== null) {
    plan.base = { seq: snapshot.seq, path: snapshot.path };
    plan.pieces.push({ name: basename(snapshot.path), bytes: await readFile(snapshot.path) });
  }
  const segments = listing.segments.slice(firstRequiredSegment(listing.segments, snapshot?.seq ?? 0));
  for (const file of segments) await planDirSegment(cursor, file);
  return plan;
}

async function newestValidSnapshot(plan: SalvagePlan, paths: string[]): Promise<SnapshotRead | null> {
  for (const path of [...paths].reverse()) {
    try {
      return await readSnapshot(path);
    } catch (error) {
      if (!(error instanceof SnapshotCorruptError || error instanceof LogVersionError)) throw error;
      plan.dropped.push({ file: path, offset: 0, bytesDropped: (await stat(path)).size, reason: error.message });
    }
  }
  return null;
}

async function planDirSegment(cursor: Cursor, file: SegmentFile): Promise<void> {
  if (cursor.stopped) return stop(cursor, file.path);
  if (file.firstSeq > cursor.nextSeq) {
    cursor.plan.dropped.push({ file: file.path, offset: 0, bytesDropped: 0, reason: `events ${cursor.nextSeq}..${file.firstSeq - 1} are missing before it` });
    return stop(cursor, null);
  }
  await planSegment(cursor, file.path, file.path, await readFile(file.path), false);
}

/** Writes the plan to OUT, which must not exist (a file; a directory for a log directory). */
export async function writeSalvage(plan: SalvagePlan, out: string): Promise<string[]> {
  const exists = await stat(out).then(() => true, () => false);
  if (plan.kind === 'file') {
    if (exists) throw new UsageError(`--salvage: ${out} exists; give a new file name`);
    await writeAtomically(out, plan.pieces[0]!.bytes);
    return [out];
  }
  if (exists && (await readdir(out)).length > 0) throw new UsageError(`--salvage: ${out} exists and is not empty; give a new directory`);
  await mkdir(out, { recursive: true });
  const written: string[] = [];
  for (const piece of plan.pieces) {
    await writeAtomically(join(out, piece.name), piece.bytes);
    written.push(join(out, piece.name));
  }
  return written;
}

async function writeAtomically(path: string, bytes: Buffer): Promise<void> {
  await writeFile(`${path}.tmp`, bytes, { flag: 'wx' });
  await rename(`${path}.tmp`, path);
}

const rangeText = (range: SeqRange): string => `seq ${range.firstSeq}..${range.lastSeq} (${plural(range.count, 'event')})`;

export function formatSalvage(plan: SalvagePlan, out: string, style: Style): string[] {
  const label = (name: string): string => style.bold(name.padEnd(9));
  const lines = [`${label('salvage')} ${plan.source} -> ${out}`];
  if (plan.base !== null) lines.push(`${label('base')} snapshot at seq ${plan.base.seq} (${plan.base.path})`);
  const bytes = plan.pieces.reduce((sum, piece) => sum + piece.bytes.length, 0);
  lines.push(`${label('kept')} ${plan.kept === null ? 'no events' : rangeText(plan.kept)}, ${bytesText(bytes)} in ${plural(plan.pieces.length, 'file')}`);
  for (const dropped of plan.dropped) {
    const size = dropped.bytesDropped > 0 ? `${plural(dropped.bytesDropped, 'byte')} at byte ${dropped.offset} of` : 'at';
    lines.push(`${label('dropped')} ${style.yellow(size)} ${dropped.file}: ${dropped.reason}`);
  }
  if (plan.cutBy !== null) lines.push(`${label('dropped')} ${style.yellow(`from seq ${plan.cutBy.seq}`)}: ${plan.cutBy.reason}`);
  if (plan.droppedEvents !== null) lines.push(`${label('dropped')} ${style.yellow(rangeText(plan.droppedEvents))}: readable, but after the cut`);
  for (const file of plan.droppedFiles) lines.push(`${label('dropped')} file ${file}`);
  if (isIntact(plan)) lines.push(`${label('result')} nothing to drop: the log is intact; ${out} is a copy`);
  else lines.push(`${label('result')} ${style.green('written')}`);
  const segment = segmentName(plan.firstSeq ?? 1);
  lines.push(`${label('mount')} ${plan.kind === 'dir' ? `eventfs --log-dir ${out} MOUNTPOINT` : `put ${out} in an empty log directory as ${segment}`}`);
  return lines;
}
