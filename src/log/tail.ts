// Incremental tailing of a log that another process is appending to (eventfs-top). Follows
// PITFALLS 29/30: a byte offset per file, reads from that offset to the current size, keeps a
// partial record for the next read, and treats a shrink below the last record or a new inode as
// a rewrite. SegmentTail is pure (bytes in, events out, framing by reader.ts); LogTail does the
// I/O: it lists the directory, picks the snapshot to start from and moves from segment to segment.
// Nothing here watches the filesystem: callers poll when chokidar (or a timer) says so.
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { listLogDir, type SegmentFile, type SnapshotFile } from './dir.ts';
import { SnapshotCorruptError } from './errors.ts';
import { FRAME_HEADER_BYTES, HEADER_BYTES, RECORD_BYTES_MAX, type LogHeader } from './format.ts';
import { isLogEvent, readFrameAt, readSegmentHeader, type LogEvent } from './reader.ts';
import { readSnapshot, type SnapshotRead } from './snapshot.ts';

const EMPTY = Buffer.alloc(0);

// Why a tail cannot advance: a record that is complete but bad (torn and about to be cut by the
// next daemon, or corrupt), a bad header, or events that do not continue the seq.
export type TailStall = { path: string; offset: number; reason: string };

export type TailPush = { events: LogEvent[]; stall: TailStall | null };

// The bytes of one segment as they arrive. Offsets are file offsets: `recordOffset` is the end
// of the last whole record (or of the header), `readOffset` the end of what was pushed so far;
// the bytes between them are an incomplete record, kept for the next push.
export class SegmentTail {
  readonly path: string;
  header: LogHeader | null = null;
  eventCount = 0;
  stall: TailStall | null = null;
  #recordOffset = 0;
  #pending: Buffer = EMPTY;

  constructor(path: string) {
    this.path = path;
  }

  get recordOffset(): number { return this.#recordOffset; }
  get readOffset(): number { return this.#recordOffset + this.#pending.length; }
  get pendingBytes(): number { return this.#pending.length; }
  // The seq the next record of this segment must carry (null until the header is read).
  get nextSeq(): number | null { return this.header === null ? null : this.header.firstSeq + this.eventCount; }

  // Bytes that follow readOffset. Stops at the first bad record and stays there (`stall`).
  push(chunk: Buffer): TailPush {
    if (this.stall !== null) return { events: [], stall: this.stall };
    const buf = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const events: LogEvent[] = [];
    let offset = this.header === null ? this.#pushHeader(buf) : 0;
    if (offset > 0 || this.header !== null) offset = this.#pushRecords(buf, offset, events);
    this.#recordOffset += offset;
    // A copy, so a large read buffer is not kept alive by a few leftover bytes.
    this.#pending = offset === buf.length ? EMPTY : Buffer.from(buf.subarray(offset));
    return { events, stall: this.stall };
  }

  // The file is now `sizeBytes` long. A shrink that keeps every whole record (a torn tail being
  // cut off) only drops pending bytes; a shrink below recordOffset means the file was rewritten.
  truncate(sizeBytes: number): 'kept' | 'rewritten' {
    if (sizeBytes < this.#recordOffset) return 'rewritten';
    if (sizeBytes < this.readOffset) this.#pending = Buffer.from(this.#pending.subarray(0, sizeBytes - this.#recordOffset));
    return 'kept';
  }

  // Forgets the pending bytes and any stall, so the next push rereads from recordOffset: a bad
  // record at the tail may have been cut off and rewritten in place since it was read.
  rewind(): void {
    this.#pending = EMPTY;
    this.stall = null;
  }

  #pushHeader(buf: Buffer): number {
    if (buf.length < HEADER_BYTES) return 0;
    try {
      this.header = readSegmentHeader(buf.subarray(0, HEADER_BYTES), this.path);
    } catch (error) {
      this.stall = { path: this.path, offset: 0, reason: (error as Error).message };
      return 0;
    }
    return HEADER_BYTES;
  }

  // Whole records only: a frame whose length is legal but whose payload has not all arrived is
  // left pending (not a torn tail: the writer is still writing it).
  #pushRecords(buf: Buffer, start: number, events: LogEvent[]): number {
    let offset = start;
    while (buf.length - offset >= FRAME_HEADER_BYTES) {
      const payloadBytes = buf.readUInt32LE(offset);
      const isLegal = payloadBytes >= 1 && payloadBytes <= RECORD_BYTES_MAX;
      if (isLegal && offset + FRAME_HEADER_BYTES + payloadBytes > buf.length) break;
      const step = readFrameAt(buf, offset);
      if (step.kind !== 'record') {
        const reason = step.kind === 'eof' ? 'unexpected end' : step.reason;
        this.stall = { path: this.path, offset: this.#recordOffset + offset, reason };
        break;
      }
      const problem = this.#recordProblem(step.value);
      if (problem !== null) {
        this.stall = { path: this.path, offset: this.#recordOffset + offset, reason: problem };
        break;
      }
      events.push(step.value as LogEvent);
      this.eventCount++;
      offset = step.nextOffset;
    }
    return offset;
  }

  #recordProblem(value: unknown): string | null {
    if (!isLogEvent(value)) return 'record is not an event object {type: string, seq: integer >= 1}';
    const seqExpected = this.nextSeq!;
    if (value.seq !== seqExpected) return `event seq ${value.seq} where ${seqExpected} was expected`;
    return null;
  }
}

// What one read of a segment file found.
export type SegmentPoll = {
  events: LogEvent[];
  stall: TailStall | null;
  // The file shrank below its last whole record or is another inode: start over.
  isRewritten: boolean;
  isMissing: boolean;
  // Bytes left to read after this poll (reads are bounded by chunkBytesMax).
  bytesBehind: number;
  sizeBytes: number;
};

export const TAIL_CHUNK_BYTES = 4 * 1024 * 1024;

// Reads what was appended to `tail.path` since the last call, at most `chunkBytesMax` bytes.
// `ino` is the inode seen by earlier calls (null the first time); the caller keeps it.
export async function pollSegment(tail: SegmentTail, ino: number | null, chunkBytesMax = TAIL_CHUNK_BYTES): Promise<SegmentPoll & { ino: number }> {
  const none = { events: [], stall: tail.stall, isRewritten: false, isMissing: false, bytesBehind: 0 };
  const info = await stat(tail.path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (info === null) return { ...none, isMissing: true, sizeBytes: 0, ino: ino ?? 0 };
  const sizeBytes = info.size;
  if ((ino !== null && info.ino !== ino) || tail.truncate(sizeBytes) === 'rewritten') {
    return { ...none, isRewritten: true, sizeBytes, ino: info.ino };
  }
  if (tail.stall !== null) tail.rewind();
  const length = Math.min(sizeBytes - tail.readOffset, chunkBytesMax);
  if (length <= 0) return { ...none, stall: tail.stall, sizeBytes, ino: info.ino };
  const chunk = await readRange(tail.path, tail.readOffset, length);
  const pushed = tail.push(chunk);
  return { ...pushed, isRewritten: false, isMissing: false, bytesBehind: sizeBytes - tail.readOffset, sizeBytes, ino: info.ino };
}

async function readRange(path: string, position: number, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(length);
    const { bytesRead } = await handle.read(buf, 0, length, position);
    return bytesRead === length ? buf : buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

// Where a LogTail starts: the newest valid snapshot (what the daemon recovers from: the current
// state, fast) or the oldest point the directory still holds (a replay shows as much as it can).
export type TailStart = 'newest' | 'oldest';

export type TailBatch = {
  // Non-null when the consumer must drop what it folded and start again from this base
  // (null snapshot: the empty state). The first batch with any data always carries one.
  reset: { snapshot: SnapshotRead | null } | null;
  events: LogEvent[]; // dense, continuing the base (or the previous batch)
  // True when more is already on disk: poll again at once (catch-up is read in chunks).
  hasMore: boolean;
  mountId: Buffer | null;
  logBytes: number; // segments and snapshots of the directory (or the one file)
  pendingBytes: number; // an incomplete record at the end of the current segment (torn if the writer is gone)
  problems: string[]; // why the tail is not advancing, if it is not; empty when all is well
};

type Listing = { segments: SegmentFile[]; snapshots: SnapshotFile[] };
type Following = { file: SegmentFile; tail: SegmentTail; ino: number | null };

// Follows a log directory (or a single segment file) from a snapshot through its segments.
export class LogTail {
  readonly path: string;
  readonly start: TailStart;
  #listing: Listing | null = null;
  #isFile = false;
  #current: Following | null = null;
  #nextSeq = 1;
  #baseSeq = 0;
  #mountId: Buffer | null = null;
  #isStarted = false;
  #problems: string[] = [];
  readonly #sizes = new Map<string, number>();
  readonly #badSnapshots = new Set<string>();

  constructor(path: string, start: TailStart = 'newest') {
    this.path = path;
    this.start = start;
  }

  get nextSeq(): number { return this.#nextSeq; }

  // One step: lists the directory if asked (or not yet done), then reads the current segment.
  async poll(options: { isListing: boolean } = { isListing: false }): Promise<TailBatch> {
    this.#problems = [];
    if (options.isListing || this.#listing === null) this.#listing = await this.#list();
    const reset = this.#isStarted ? null : await this.#begin();
    if (!this.#isStarted) return this.#batch(null, [], false);
    const events: LogEvent[] = [];
    const hasMore = await this.#advance(events);
    return this.#batch(reset, events, hasMore);
  }

  #batch(reset: TailBatch['reset'], events: LogEvent[], hasMore: boolean): TailBatch {
    let logBytes = 0;
    for (const size of this.#sizes.values()) logBytes += size;
    // Bytes behind a stall are the bad record and what follows it, not an unfinished record.
    const tail = this.#current?.tail;
    const pendingBytes = tail === undefined || tail.stall !== null ? 0 : tail.pendingBytes;
    return { reset, events, hasMore, mountId: this.#mountId, logBytes, pendingBytes, problems: this.#problems };
  }

  async #list(): Promise<Listing> {
    this.#sizes.clear();
    const info = await stat(this.path).catch(() => null);
    if (info === null) {
      this.#problems.push(`no log at ${this.path} (waiting for it)`);
      return { segments: [], snapshots: [] };
    }
    this.#isFile = info.isFile();
    if (this.#isFile) {
      this.#sizes.set(this.path, info.size);
      return { segments: [{ path: this.path, firstSeq: 0 }], snapshots: [] };
    }
    const listing = await listLogDir(this.path);
    for (const file of [...listing.segments, ...listing.snapshots]) {
      const size = (await stat(file.path).catch(() => null))?.size;
      if (size !== undefined) this.#sizes.set(file.path, size);
    }
    return listing;
  }

  // Picks the base snapshot (the segment holding the next seq is opened on the first read);
  // null if there is nothing to read yet.
  async #begin(): Promise<TailBatch['reset']> {
    const listing = this.#listing!;
    if (listing.segments.length === 0 && listing.snapshots.length === 0) return null;
    const snapshot = this.#isFile ? null : await this.#chooseSnapshot(listing);
    this.#baseSeq = snapshot?.seq ?? 0;
    this.#nextSeq = this.#baseSeq + 1;
    this.#mountId = snapshot?.header.mountId ?? null;
    this.#current = null;
    this.#isStarted = true;
    return { snapshot };
  }

  async #chooseSnapshot(listing: Listing): Promise<SnapshotRead | null> {
    const oldestSegment = listing.segments[0]?.firstSeq;
    if (this.start === 'oldest' && oldestSegment === 1) return null;
    // For a replay, the oldest snapshot that the remaining segments continue.
    const candidates = this.start === 'oldest'
      ? listing.snapshots.filter((s) => oldestSegment === undefined || s.seq >= oldestSegment - 1)
      : [...listing.snapshots].reverse();
    for (const file of candidates) {
      if (this.#badSnapshots.has(file.path)) continue;
      try {
        return await readSnapshot(file.path);
      } catch (error) {
        if (!(error instanceof SnapshotCorruptError)) throw error;
        this.#badSnapshots.add(file.path);
        this.#problems.push(`skipped ${basename(file.path)}: ${error.reason}`);
      }
    }
    return null;
  }

  // Reads the current segment and moves on to the next one once it is read to its end.
  // Returns whether more is already on disk.
  async #advance(events: LogEvent[]): Promise<boolean> {
    const current = this.#current ?? this.#openNext();
    if (current === null) return false;
    const polled = await pollSegment(current.tail, current.ino);
    current.ino = polled.ino;
    if (!polled.isMissing) this.#sizes.set(current.file.path, polled.sizeBytes);
    if (polled.isRewritten || polled.isMissing) {
      return this.#restart(`${basename(current.file.path)} was ${polled.isMissing ? 'removed' : 'rewritten'}`);
    }
    // Files of two mounts never fold together (a log directory deleted and reused makes the
    // current segment vanish instead, which starts over above).
    if (current.tail.header !== null && !this.#acceptMountId(current.tail.header.mountId)) {
      this.#problems.push(`${basename(current.file.path)} belongs to another mount (${current.tail.header.mountId.toString('hex')})`);
      return false;
    }
    for (const event of polled.events) {
      if (event.seq < this.#nextSeq) continue; // covered by the snapshot
      if (event.seq > this.#nextSeq) return this.#gap(current.file, event.seq);
      events.push(event);
      this.#nextSeq++;
    }
    if (polled.stall !== null) this.#problems.push(`${basename(polled.stall.path)} at byte ${polled.stall.offset}: ${polled.stall.reason}`);
    if (polled.bytesBehind > 0) return true;
    return this.#finishSegment(current);
  }

  #acceptMountId(mountId: Buffer): boolean {
    if (this.#mountId === null) this.#mountId = mountId;
    return this.#mountId.equals(mountId);
  }

  // The newest segment holding seq nextSeq; a first segment starting later is a gap.
  #openNext(): Following | null {
    const segments = this.#listing!.segments;
    const holding = segments.filter((s) => s.firstSeq <= this.#nextSeq).at(-1);
    if (holding === undefined) {
      if (segments[0] !== undefined) this.#gap(segments[0], segments[0].firstSeq);
      return null;
    }
    this.#current = { file: holding, tail: new SegmentTail(holding.path), ino: null };
    return this.#current;
  }

  // The segment is read to its current end. If a newer segment exists, the writer has moved on.
  #finishSegment(current: Following): boolean {
    const next = this.#listing!.segments.find((s) => s.firstSeq > current.file.firstSeq);
    if (next === undefined || this.#isFile) return false;
    if (current.tail.stall !== null || current.tail.pendingBytes > 0) return false;
    if (this.#nextSeq === next.firstSeq) {
      this.#current = { file: next, tail: new SegmentTail(next.path), ino: null };
      return true;
    }
    if (this.#nextSeq > next.firstSeq) {
      this.#problems.push(`${basename(current.file.path)} runs to seq ${this.#nextSeq - 1}, past the start of ${basename(next.path)}`);
      return false;
    }
    return this.#gap(next, next.firstSeq);
  }

  // Events before `seq` are not on disk: compacted away while this tail lagged behind. A newer
  // readable snapshot that covers them lets the tail start over; otherwise it says why it waits.
  #gap(file: SegmentFile, seq: number): boolean {
    const covering = this.#listing!.snapshots.some((s) => s.seq >= seq - 1 && s.seq > this.#baseSeq && !this.#badSnapshots.has(s.path));
    if (covering) return this.#restart(`events ${this.#nextSeq}..${seq - 1} were compacted away`);
    this.#problems.push(`events ${this.#nextSeq}..${seq - 1} are missing before ${basename(file.path)}`);
    return false;
  }

  #restart(reason: string): boolean {
    this.#problems.push(`${reason}; reading the log again`);
    this.#isStarted = false;
    this.#current = null;
    this.#listing = null;
    this.#mountId = null;
    return true;
  }
}
