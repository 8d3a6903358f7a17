// Appends events to a segment with group commit. Invariant: frames reach the file in append()
// call order, and an append resolves only after its bytes are in the kernel (write completed)
// and, if durable, after a datasync that started after that write. See FORMAT.md.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { access, open, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, writeFully, writeFullySync } from './dir.ts';
import { encodeEvent, encodeFramePayload, encodeHeader, FORMAT_VERSION, HEADER_BYTES, MOUNT_ID_BYTES, RECORD_BYTES_MAX, segmentName, TMP_SUFFIX } from './format.ts';
import { isLogEvent } from './reader.ts';
import type { LogDirRead } from './reader.ts';

// The file under a writer. `write` appends at the current end and resolves once every byte is
// in the kernel; `writeNow` does the same before returning, if this file can (false: it did
// nothing, use write); `truncate` also moves the end. Tests substitute FakeLogFile to inject faults.
export interface LogFile {
  write(buf: Buffer): Promise<void>;
  writeNow(buf: Buffer): boolean;
  datasync(): Promise<void>;
  truncate(lengthBytes: number): Promise<void>;
  close(): Promise<void>;
}

export class FileHandleLogFile implements LogFile {
  constructor(private readonly handle: FileHandle, private endBytes: number) {}

  // Written on the calling (JS) thread: a batch of frames goes to the page cache in microseconds,
  // while FileHandle.write's trip through the libuv pool costs two thread switches before every
  // reply that waits for it (the largest cost of a mutating op with durability=none; see
  // bench/README.md). datasync stays asynchronous.
  async write(buf: Buffer): Promise<void> {
    this.writeNow(buf);
  }

  writeNow(buf: Buffer): boolean {
    writeFullySync(this.handle.fd, buf, this.endBytes);
    this.endBytes += buf.length;
    return true;
  }

  async datasync(): Promise<void> {
    await this.handle.datasync();
  }

  async truncate(lengthBytes: number): Promise<void> {
    await this.handle.truncate(lengthBytes);
    this.endBytes = lengthBytes;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/**
 * What append answers when the events are in the kernel already: a caller that compares the answer
 * to it can reply at once instead of waiting a turn of the microtask queue (durability=none's
 * hot path), and any other caller just awaits a resolved promise.
 */
export const WRITTEN: Promise<void> = Promise.resolve();

export type WriterLimits = {
  batchBytesMax: number; // one write() carries at most this much (a single larger append goes alone)
  pendingAppendsMax: number; // appends admitted and unresolved; further appends wait their turn
  batchDelayMs: number; // 0: a batch is the appends of the current tick plus those during I/O
};

export const writerLimitsDefault: Readonly<WriterLimits> = Object.freeze({
  batchBytesMax: 1024 * 1024,
  pendingAppendsMax: 4096,
  batchDelayMs: 0,
});

export type LogWriterOptions = { path: string; mountId: Buffer; bytesWritten: number; nextSeq: number; limits: WriterLimits };

type Pending = { frames: Buffer; durable: boolean; resolve: () => void; reject: (error: Error) => void };

export class LogWriter {
  readonly path: string;
  readonly mountId: Buffer;
  readonly #file: LogFile;
  readonly #limits: WriterLimits;
  #nextSeq: number;
  #bytesWritten: number;
  #bytesSynced: number;
  #blocked: Pending[] = []; // over pendingAppendsMax: not yet admitted, in call order
  #queue: Pending[] = []; // admitted, not yet written
  #inFlight: Pending[] = []; // in the write or datasync now running
  #syncWaiters: Pending[] = []; // written, waiting for the next datasync
  #admitted = 0;
  #pumping = false;
  #writing = false; // a batch write is in progress (the pump awaits it)
  #closing = false;
  #closed: Promise<void> | null = null;
  #poison: Error | null = null;

  constructor(file: LogFile, options: LogWriterOptions) {
    const { batchBytesMax, pendingAppendsMax, batchDelayMs } = options.limits;
    if (!(batchBytesMax >= 1 && pendingAppendsMax >= 1 && batchDelayMs >= 0)) throw new RangeError('LogWriter: bad limits');
    this.#file = file;
    this.path = options.path;
    this.mountId = options.mountId;
    this.#limits = options.limits;
    this.#nextSeq = options.nextSeq;
    this.#bytesWritten = options.bytesWritten;
    this.#bytesSynced = options.bytesWritten;
  }

  get nextSeq(): number { return this.#nextSeq; }
  get bytesWritten(): number { return this.#bytesWritten; }
  get bytesSynced(): number { return this.#bytesSynced; }
  get poisoned(): Error | null { return this.#poison; }

  // Events are encoded now, so callers may reuse the objects; their seqs must continue nextSeq.
  // A non-durable append with nothing ahead of it is written at once, on this thread, and answered
  // with WRITTEN (see there); anything else joins the next group commit.
  append(events: readonly object[], options: { durable: boolean }): Promise<void> {
    if (this.#poison) return Promise.reject(this.#poison);
    if (this.#closing) return Promise.reject(new Error(`log writer for ${this.path} is closed`));
    let frames: Buffer;
    try {
      frames = this.#encode(events);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#nextSeq += events.length;
    if (!options.durable && this.#queue.length === 0 && this.#blocked.length === 0 && !this.#writing) {
      try {
        if (this.#file.writeNow(frames)) {
          this.#bytesWritten += frames.length;
          return WRITTEN;
        }
      } catch (error) {
        return this.#failedWrite(error);
      }
    }
    return this.#enqueue(frames, options.durable);
  }

  // Resolves once everything appended before the call is durable.
  sync(): Promise<void> {
    if (this.#poison) return Promise.reject(this.#poison);
    if (this.#closing) return Promise.reject(new Error(`log writer for ${this.path} is closed`));
    return this.#enqueue(Buffer.alloc(0), true);
  }

  // Flushes and syncs what was appended, then closes the file. Rejects if the writer is poisoned
  // (the file is closed anyway). Calling it again returns the same promise.
  close(): Promise<void> {
    this.#closed ??= this.#closeOnce();
    return this.#closed;
  }

  async #closeOnce(): Promise<void> {
    this.#closing = true;
    let failure: unknown = this.#poison;
    if (!failure) await this.#enqueue(Buffer.alloc(0), true).catch((error: unknown) => { failure = error; });
    await this.#file.close();
    if (failure) throw failure;
  }

  #encode(events: readonly object[]): Buffer {
    const frames: Buffer[] = [];
    for (const [i, event] of events.entries()) {
      const seqExpected = this.#nextSeq + i;
      if (!isLogEvent(event)) throw new TypeError('append: an event must be an object {type: string, seq: integer >= 1}');
      if (event.seq !== seqExpected) throw new RangeError(`append: event seq ${event.seq} where ${seqExpected} was expected`);
      frames.push(encodeFramePayload(encodeEvent(event), RECORD_BYTES_MAX));
    }
    return frames.length === 1 ? frames[0]! : Buffer.concat(frames);
  }

  #enqueue(frames: Buffer, durable: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const pending: Pending = { frames, durable, resolve, reject };
      const full = this.#admitted >= this.#limits.pendingAppendsMax;
      if (full || this.#blocked.length > 0) this.#blocked.push(pending);
      else this.#admit(pending);
    });
  }

  #admit(pending: Pending): void {
    this.#admitted++;
    this.#queue.push(pending);
    if (this.#pumping) return;
    this.#pumping = true;
    // Deferring the first write lets every append of this tick share it (and its datasync).
    if (this.#limits.batchDelayMs > 0) setTimeout(() => void this.#pump(), this.#limits.batchDelayMs);
    else queueMicrotask(() => void this.#pump());
  }

  // One cycle writes the appends admitted before it began, then runs one datasync for every
  // durable append written so far. Appends arriving meanwhile form the next cycle.
  async #pump(): Promise<void> {
    try {
      while (this.#queue.length > 0 || this.#syncWaiters.length > 0) {
        // Every admitted append is queued or awaiting sync between cycles; synced never passes written.
        assert.equal(this.#admitted, this.#queue.length + this.#syncWaiters.length);
        assert.ok(this.#bytesSynced <= this.#bytesWritten);
        let cycleCount = this.#queue.length;
        while (cycleCount > 0) cycleCount -= await this.#flushBatch(cycleCount);
        if (this.#syncWaiters.length > 0) await this.#syncBatch();
      }
    } catch (error) {
      this.#poisonWith(error as Error);
    } finally {
      this.#pumping = false;
    }
  }

  async #flushBatch(countMax: number): Promise<number> {
    let bytes = this.#queue[0]!.frames.length;
    let count = 1;
    while (count < countMax && bytes + this.#queue[count]!.frames.length <= this.#limits.batchBytesMax) {
      bytes += this.#queue[count]!.frames.length;
      count++;
    }
    const batch = this.#queue.splice(0, count);
    this.#inFlight = batch;
    if (bytes > 0) await this.#flushBatchWrite(batch, bytes);
    this.#inFlight = [];
    for (const pending of batch) {
      if (pending.durable) this.#syncWaiters.push(pending);
      else this.#settle(pending);
    }
    return count;
  }

  async #flushBatchWrite(batch: Pending[], bytes: number): Promise<void> {
    const buf = batch.length === 1 ? batch[0]!.frames : Buffer.concat(batch.map((pending) => pending.frames), bytes);
    this.#writing = true;
    try {
      await this.#file.write(buf);
    } catch (error) {
      // Part of the batch may be in the file; cut it so recovery sees a clean end, then stop.
      await this.#file.truncate(this.#bytesWritten).catch(() => undefined);
      throw this.#writeError(error);
    } finally {
      this.#writing = false;
    }
    this.#bytesWritten += bytes;
  }

  // A write made at once failed: stop the writer now (every later append is refused), then cut
  // what part of it reached the file, as the pump does for a batch.
  #failedWrite(cause: unknown): Promise<never> {
    const error = this.#writeError(cause);
    this.#poisonWith(error);
    this.#writing = true; // nothing else writes while the cut runs (the writer is poisoned anyway)
    void this.#file.truncate(this.#bytesWritten).catch(() => undefined).finally(() => (this.#writing = false));
    return Promise.reject(error);
  }

  #writeError(cause: unknown): Error {
    return new Error(`write to ${this.path} failed: ${(cause as Error).message}`, { cause });
  }

  async #syncBatch(): Promise<void> {
    const waiters = this.#syncWaiters.splice(0);
    this.#inFlight = waiters;
    if (this.#bytesSynced < this.#bytesWritten) {
      const bytesWritten = this.#bytesWritten;
      try {
        await this.#file.datasync();
      } catch (error) {
        // After a failed fsync the kernel may have dropped the dirty pages: nothing appended since
        // the last good sync can be promised durable, so the writer stops for good.
        throw new Error(`fdatasync of ${this.path} failed: ${(error as Error).message}; the log writer refuses ` +
          `further appends (restart the daemon to recover from the log)`, { cause: error });
      }
      this.#bytesSynced = bytesWritten;
    }
    this.#inFlight = [];
    for (const pending of waiters) this.#settle(pending);
  }

  #settle(pending: Pending): void {
    pending.resolve();
    this.#admitted--;
    while (this.#blocked.length > 0 && this.#admitted < this.#limits.pendingAppendsMax) {
      this.#admit(this.#blocked.shift()!);
    }
  }

  #poisonWith(error: Error): void {
    this.#poison ??= error; // the first failure is the one worth reporting
    const all = [...this.#inFlight, ...this.#queue, ...this.#syncWaiters, ...this.#blocked];
    this.#inFlight = [];
    this.#queue = [];
    this.#syncWaiters = [];
    this.#blocked = [];
    for (const pending of all) pending.reject(error);
  }
}

// Creates segment-<firstSeq>.log with its header. The header is written to a tmp file and synced
// before the rename, so a segment name never holds a torn header (FORMAT.md "File header").
export async function openSegment(
  dir: string, segment: { mountId: Buffer; firstSeq: number }, limits: WriterLimits = writerLimitsDefault,
): Promise<LogWriter> {
  const path = join(dir, segmentName(segment.firstSeq));
  const exists = await access(path).then(() => true, () => false);
  if (exists) throw new Error(`cannot create ${path}: it already exists`);
  const header = encodeHeader({ version: FORMAT_VERSION, mountId: segment.mountId, firstSeq: segment.firstSeq });
  const tmpPath = path + TMP_SUFFIX;
  const handle = await open(tmpPath, 'w');
  try {
    await writeFully(handle, header, 0);
    await handle.sync();
    await rename(tmpPath, path);
    await fsyncDir(dir);
  } catch (error) {
    await handle.close();
    await unlink(tmpPath).catch(() => undefined);
    throw error;
  }
  const file = new FileHandleLogFile(handle, HEADER_BYTES);
  return new LogWriter(file, { path, mountId: segment.mountId, bytesWritten: HEADER_BYTES, nextSeq: segment.firstSeq, limits });
}

// Continues an existing segment after its last valid record, cutting off a torn tail first.
export async function reopenSegment(
  path: string, segment: { mountId: Buffer; validBytes: number; nextSeq: number }, limits: WriterLimits = writerLimitsDefault,
): Promise<LogWriter> {
  const handle = await open(path, 'r+');
  try {
    await truncateTornTail(handle, path, segment.validBytes);
  } catch (error) {
    await handle.close();
    throw error;
  }
  const file = new FileHandleLogFile(handle, segment.validBytes);
  const options = { path, mountId: segment.mountId, bytesWritten: segment.validBytes, nextSeq: segment.nextSeq, limits };
  return new LogWriter(file, options);
}

// The cut is synced so that stale bytes cannot reappear behind new records after a crash.
async function truncateTornTail(handle: FileHandle, path: string, validBytes: number): Promise<void> {
  const { size } = await handle.stat();
  if (size < validBytes) throw new Error(`${path} shrank to ${size} bytes, below its ${validBytes} valid bytes`);
  if (size === validBytes) return;
  await handle.truncate(validBytes);
  await handle.datasync();
}

// The daemon's way back to appending after readLogDir: continue the newest segment if its last
// event is the newest event, else (empty directory, or a snapshot ahead of the log) start a new
// segment at read.nextSeq. Either way a torn tail is cut off, so it is reported only once.
// A fresh directory gets a random mount id.
export async function openLogForAppend(read: LogDirRead, limits: WriterLimits = writerLimitsDefault): Promise<LogWriter> {
  const mountId = read.mountId ?? randomBytes(MOUNT_ID_BYTES);
  const tail = read.tail;
  if (tail && tail.firstSeq + tail.eventCount === read.nextSeq) {
    return reopenSegment(tail.path, { mountId, validBytes: tail.validBytes, nextSeq: read.nextSeq }, limits);
  }
  if (tail?.torn) {
    const handle = await open(tail.path, 'r+');
    await truncateTornTail(handle, tail.path, tail.validBytes).finally(() => handle.close());
  }
  return openSegment(read.dir, { mountId, firstSeq: read.nextSeq }, limits);
}
