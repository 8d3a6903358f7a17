// Reads segments: framing, torn tails and corruption as FORMAT.md "What a reader does" defines.
// Pure over a Buffer (readFrames) plus thin file wrappers; it never writes or truncates.
import { crc32c } from '@node-rs/crc32';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { checkFrame, decodeEvent, decodeHeader, FRAME_HEADER_BYTES, HEADER_BYTES, RECORD_BYTES_MAX, SEGMENT_NAME } from './format.ts';
import type { LogHeader } from './format.ts';
import { crc32cCombine, crc32cPrefixes, crc32cRange } from './crc.ts';
import { listLogDir } from './dir.ts';
import type { SegmentFile, SnapshotFile } from './dir.ts';
import { LogCorruptError, LogDirError, LogVersionError, SnapshotCorruptError } from './errors.ts';
import { readSnapshot } from './snapshot.ts';
import type { SnapshotRead } from './snapshot.ts';

// The only fields the log knows about; everything else is opaque.
export type LogEvent = { type: string; seq: number; [field: string]: unknown };

export type FrameStep =
  | { kind: 'record'; offset: number; nextOffset: number; value: unknown }
  | { kind: 'eof'; offset: number }
  | { kind: 'torn-tail'; offset: number; bytesDropped: number; reason: string }
  // `resumeOffset` is where a salvaging reader may continue (the next valid record, or the end
  // of a CRC-valid record whose payload did not decode).
  | { kind: 'corrupt'; offset: number; bytesDropped: number; resumeOffset: number; reason: string };

// Yields one step per record and stops after the first non-record step.
export function* readFrames(buf: Buffer, startOffset: number): Generator<FrameStep, void> {
  let offset = startOffset;
  while (true) {
    const step = readFrameAt(buf, offset);
    yield step;
    if (step.kind !== 'record') return;
    offset = step.nextOffset;
  }
}

export function readFrameAt(buf: Buffer, offset: number): FrameStep {
  if (offset > buf.length) throw new RangeError(`readFrameAt: offset ${offset} is past the end (${buf.length})`);
  if (offset === buf.length) return { kind: 'eof', offset };
  const check = checkFrame(buf, offset, RECORD_BYTES_MAX);
  if (!check.ok) return readFrameAtBad(buf, offset, check.reason);
  let value: unknown;
  try {
    value = decodeEvent(buf.subarray(offset + FRAME_HEADER_BYTES, check.end));
  } catch (error) {
    // The CRC matched, so these are the bytes the writer wrote: not a torn write.
    // msgpackr may quote the whole decoded value in its message: keep reports short.
    const reason = `record payload is not valid msgpack: ${(error as Error).message.slice(0, 120)}`;
    return { kind: 'corrupt', offset, bytesDropped: check.end - offset, resumeOffset: check.end, reason };
  }
  return { kind: 'record', offset, nextOffset: check.end, value };
}

// A bad record is a torn tail only if nothing valid follows it; otherwise the length field, CRC
// or payload was damaged in place, and guessing past it could silently drop events.
function readFrameAtBad(buf: Buffer, offset: number, reason: string): FrameStep {
  const next = findNextFrame(buf, offset + 1);
  if (next === -1) return { kind: 'torn-tail', offset, bytesDropped: buf.length - offset, reason };
  return { kind: 'corrupt', offset, bytesDropped: next - offset, resumeOffset: next, reason };
}

// Candidate start offsets are examined in windows of this size, so that a damaged record followed
// by good ones (the common corruption) is recognized without scanning the rest of the file.
const SCAN_WINDOW_BYTES = 1024 * 1024;

// The first offset >= `from` holding a plausible record: legal length that fits, a payload that
// starts with a msgpack map marker (events are maps; this skips most candidates), valid CRC.
export function findNextFrame(buf: Buffer, from: number): number {
  for (let windowStart = from; windowStart + FRAME_HEADER_BYTES < buf.length; windowStart += SCAN_WINDOW_BYTES) {
    const windowEnd = Math.min(windowStart + SCAN_WINDOW_BYTES, buf.length - FRAME_HEADER_BYTES);
    const candidates: number[] = [];
    for (let offset = windowStart; offset < windowEnd; offset++) {
      const payloadBytes = buf.readUInt32LE(offset);
      if (payloadBytes < 1 || payloadBytes > RECORD_BYTES_MAX) continue;
      if (offset + FRAME_HEADER_BYTES + payloadBytes > buf.length) continue;
      if (isMapMarker(buf[offset + FRAME_HEADER_BYTES]!)) candidates.push(offset);
    }
    const found = findNextFrameCandidate(buf, candidates);
    if (found !== -1) return found;
  }
  return -1;
}

// Checks every candidate's CRC from prefix CRCs (crc.ts): one pass over the bytes, however long
// and overlapping the candidate records are.
function findNextFrameCandidate(buf: Buffer, candidates: readonly number[]): number {
  if (candidates.length === 0) return -1;
  const base = candidates[0]!;
  const bounds = candidates.flatMap((offset) => [offset + FRAME_HEADER_BYTES, offset + FRAME_HEADER_BYTES + buf.readUInt32LE(offset)]);
  const prefixes = crc32cPrefixes(buf, base, bounds);
  for (const offset of candidates) {
    const payloadBytes = buf.readUInt32LE(offset);
    const start = offset + FRAME_HEADER_BYTES;
    const payloadCrc = crc32cRange(prefixes.get(start)!, prefixes.get(start + payloadBytes)!, payloadBytes);
    const lengthCrc = crc32c(buf.subarray(offset, offset + 4));
    if (crc32cCombine(lengthCrc, payloadCrc, payloadBytes) === buf.readUInt32LE(offset + 4)) return offset;
  }
  return -1;
}

function isMapMarker(byte: number): boolean {
  return (byte >= 0x80 && byte <= 0x8f) || byte === 0xde || byte === 0xdf;
}

export function isLogEvent(value: unknown): value is LogEvent {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value) || Buffer.isBuffer(value)) return false;
  const event = value as Record<string, unknown>;
  return typeof event.type === 'string' && Number.isSafeInteger(event.seq) && (event.seq as number) >= 1;
}

export type TornTail = { offset: number; bytesDropped: number; reason: string };
export type SkippedRange = { offset: number; bytesDropped: number; reason: string };

export type SegmentRead = {
  path: string;
  header: LogHeader;
  events: LogEvent[];
  offsets: number[]; // offsets[i] is the byte offset of events[i]'s record
  end: 'clean' | 'torn-tail';
  torn: TornTail | null;
  validBytes: number; // length of the valid prefix: where an appender continues
  skipped: SkippedRange[]; // salvage mode only: damaged ranges that were stepped over
};

export function readSegmentHeader(buf: Buffer, path: string): LogHeader {
  const result = decodeHeader(buf);
  if (!result.ok && result.refuse) throw new LogVersionError(path, result.reason);
  if (!result.ok) throw new LogCorruptError(path, 0, result.reason);
  const named = SEGMENT_NAME.exec(basename(path));
  if (named && Number(named[1]) !== result.header.firstSeq) {
    throw new LogCorruptError(path, 0, `header firstSeq ${result.header.firstSeq} does not match the file name`);
  }
  return result.header;
}

// Strict by default: corruption throws LogCorruptError. With `salvage`, damaged ranges and
// out-of-place records are stepped over and listed in `skipped` (for eventfs-replay --salvage).
export async function readSegmentFile(path: string, options: { salvage: boolean } = { salvage: false }): Promise<SegmentRead> {
  const buf = await readFile(path);
  const header = readSegmentHeader(buf, path);
  const read: SegmentRead = { path, header, events: [], offsets: [], end: 'clean', torn: null, validBytes: 0, skipped: [] };
  let offset = HEADER_BYTES;
  while (true) {
    const step = readFrameAt(buf, offset);
    if (step.kind === 'eof') return { ...read, end: 'clean', validBytes: step.offset };
    if (step.kind === 'torn-tail') {
      const torn = { offset: step.offset, bytesDropped: step.bytesDropped, reason: step.reason };
      return { ...read, end: 'torn-tail', torn, validBytes: step.offset };
    }
    if (step.kind === 'corrupt') {
      if (!options.salvage) throw new LogCorruptError(path, step.offset, step.reason);
      read.skipped.push({ offset: step.offset, bytesDropped: step.bytesDropped, reason: step.reason });
      offset = step.resumeOffset;
      continue;
    }
    readSegmentFileRecord(read, step, options.salvage);
    offset = step.nextOffset;
  }
}

// Events in a segment are dense from header.firstSeq (FORMAT.md "Records"). A salvage keeps any
// event that moves seq forward, so a skipped range shows up as a seq jump, not as a failure.
function readSegmentFileRecord(read: SegmentRead, step: FrameStep & { kind: 'record' }, salvage: boolean): void {
  const { offset, value } = step;
  const last = read.events.at(-1);
  const seqExpected = last ? last.seq + 1 : read.header.firstSeq;
  let reason: string | null = null;
  if (!isLogEvent(value)) reason = 'record is not an event object {type: string, seq: integer >= 1}';
  else if (value.seq !== seqExpected) reason = `event seq ${value.seq} where ${seqExpected} was expected`;
  if (reason === null || (salvage && isLogEvent(value) && value.seq > seqExpected)) {
    read.events.push(value as LogEvent);
    read.offsets.push(offset);
    if (reason !== null) read.skipped.push({ offset, bytesDropped: 0, reason });
    return;
  }
  if (!salvage) throw new LogCorruptError(read.path, offset, reason);
  read.skipped.push({ offset, bytesDropped: step.nextOffset - offset, reason: `${reason}; record dropped` });
}

export type SegmentSummary = { path: string; firstSeq: number; eventCount: number; validBytes: number; torn: TornTail | null };

export type LogDirRead = {
  dir: string;
  mountId: Buffer | null; // null for an empty directory: the caller picks a fresh one
  snapshot: SnapshotRead | null;
  skippedSnapshots: { path: string; reason: string }[]; // newer snapshots that failed their checks
  events: LogEvent[]; // every event after snapshot.seq (or from seq 1), dense, in order
  segments: SegmentSummary[]; // the segments that were read, oldest first
  tornTails: (TornTail & { path: string })[];
  tail: SegmentSummary | null; // the newest segment, the only one an appender may continue
  nextSeq: number; // the seq the next appended event must carry
};

// Replay input: newest valid snapshot + the events after it (FORMAT.md "Directory layout").
export async function readLogDir(dir: string): Promise<LogDirRead> {
  const listing = await listLogDir(dir);
  const read: LogDirRead = {
    dir, mountId: null, snapshot: null, skippedSnapshots: [], events: [], segments: [], tornTails: [], tail: null, nextSeq: 1,
  };
  await readLogDirSnapshot(read, listing.snapshots);
  const baseSeq = read.snapshot?.seq ?? 0;
  const segments = listing.segments;
  // Segment i holds seqs below segment i+1's firstSeq: skip those the snapshot covers unread.
  let first = 0;
  while (first + 1 < segments.length && segments[first + 1]!.firstSeq - 1 <= baseSeq) first++;
  read.nextSeq = baseSeq + 1;
  for (const file of segments.slice(first)) await readLogDirSegment(read, file);
  read.tail = read.segments.at(-1) ?? null;
  return read;
}

async function readLogDirSnapshot(read: LogDirRead, snapshots: SnapshotFile[]): Promise<void> {
  for (const file of [...snapshots].reverse()) {
    try {
      read.snapshot = await readSnapshot(file.path);
    } catch (error) {
      if (!(error instanceof SnapshotCorruptError)) throw error;
      read.skippedSnapshots.push({ path: file.path, reason: error.reason });
      continue;
    }
    read.mountId = read.snapshot.header.mountId;
    return;
  }
}

async function readLogDirSegment(read: LogDirRead, file: SegmentFile): Promise<void> {
  if (file.firstSeq > read.nextSeq) throw new LogDirError(read.dir, readLogDirGapReason(read, file));
  const segment = await readSegmentFile(file.path);
  if (read.mountId === null) read.mountId = segment.header.mountId;
  if (!read.mountId.equals(segment.header.mountId)) {
    throw new LogDirError(read.dir, `${file.path} belongs to another mount (mount id ${segment.header.mountId.toString('hex')})`);
  }
  const previous = read.segments.at(-1);
  if (previous && previous.firstSeq + previous.eventCount > file.firstSeq) {
    const lastSeq = previous.firstSeq + previous.eventCount - 1;
    throw new LogDirError(read.dir, `${previous.path} runs to seq ${lastSeq}, past the start of ${file.path}`);
  }
  for (const event of segment.events) if (event.seq >= read.nextSeq) read.events.push(event);
  read.nextSeq = Math.max(read.nextSeq, file.firstSeq + segment.events.length);
  const summary = { path: file.path, firstSeq: file.firstSeq, eventCount: segment.events.length, validBytes: segment.validBytes, torn: segment.torn };
  read.segments.push(summary);
  if (segment.torn) read.tornTails.push({ path: file.path, ...segment.torn });
}

function readLogDirGapReason(read: LogDirRead, file: SegmentFile): string {
  if (read.skippedSnapshots.length > 0) {
    // The cause is the bad snapshot: the events it covered were compacted away after it was written.
    const bad = read.skippedSnapshots.map((s) => `${s.path} (${s.reason})`).join(', ');
    const older = read.snapshot ? `the older snapshot ${read.snapshot.path}` : 'the start of the log';
    return `corrupt snapshot ${bad}: events ${read.nextSeq}..${file.firstSeq - 1} after ${older} are missing, ` +
      `no longer in the log (${file.path} starts at seq ${file.firstSeq})`;
  }
  const previous = read.segments.at(-1);
  const after = previous ? `after ${previous.path}` : read.snapshot ? `after snapshot ${read.snapshot.path}` : 'at the start';
  return `events ${read.nextSeq}..${file.firstSeq - 1} are missing ${after}: ${file.path} starts at seq ${file.firstSeq} ` +
    `(a segment file was deleted or lost)`;
}
