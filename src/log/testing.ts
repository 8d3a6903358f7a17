// Test support for src/log and its users: an in-memory LogFile with fault injection, segment
// builders and temporary directories. Not imported by production code.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFrame, encodeHeader, encodePiecewise, FORMAT_VERSION, HEADER_BYTES } from './format.ts';
import type { LogFile } from './writer.ts';

export const MOUNT_ID_TEST = Buffer.from('00112233445566778899aabbccddeeff', 'hex');

// encodePiecewise's pieces as one buffer, to compare with encodeEvent's.
export function piecewiseBytes(value: unknown): Buffer {
  const pieces: Buffer[] = [];
  encodePiecewise(value, (piece) => pieces.push(Buffer.from(piece)));
  return Buffer.concat(pieces);
}

export function testEvents(count: number, firstSeq = 1): { type: string; seq: number; data: Buffer }[] {
  return Array.from({ length: count }, (_, i) => ({ type: 'test', seq: firstSeq + i, data: Buffer.from(`event ${firstSeq + i}`) }));
}

// A segment image and the offset of each record in it.
export function buildSegment(events: readonly object[], firstSeq: number, mountId = MOUNT_ID_TEST): { buf: Buffer; offsets: number[] } {
  const parts = [encodeHeader({ version: FORMAT_VERSION, mountId, firstSeq })];
  const offsets: number[] = [];
  let offset = HEADER_BYTES;
  for (const event of events) {
    const frame = encodeFrame(event);
    offsets.push(offset);
    parts.push(frame);
    offset += frame.length;
  }
  return { buf: Buffer.concat(parts), offsets };
}

export async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'eventfs-log-'));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// An in-memory LogFile: every call takes a turn of the event loop (like real I/O), and faults can
// be injected: torn writes, failing datasyncs, paused I/O, power loss.

export function injectedError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected fault`), { code });
}

export class FakeLogFile implements LogFile {
  contents: Buffer; // what the kernel holds (page cache)
  durable: Buffer; // what survives a power loss for sure: the contents at the last datasync
  writeSizes: number[] = [];
  datasyncCount = 0;
  closed = false;
  // The next write stores only this many bytes of its buffer, then fails with EIO.
  tornWriteBytes: number | null = null;
  // The next datasync fails with this error (e.g. injectedError('EIO')).
  datasyncError: Error | null = null;
  // Whether writeNow writes (as a file in the page cache does) or declines (as slow I/O would).
  writesAtOnce = false;
  #paused: Promise<void> | null = null;

  constructor(initial: Buffer = Buffer.alloc(0)) {
    this.contents = Buffer.from(initial);
    this.durable = Buffer.from(initial);
  }

  // I/O started after this call waits until the returned function is called.
  pause(): () => void {
    let resume!: () => void;
    this.#paused = new Promise<void>((resolve) => { resume = resolve; });
    return () => {
      this.#paused = null;
      resume();
    };
  }

  async write(buf: Buffer): Promise<void> {
    await this.#turn();
    this.#store(buf);
  }

  writeNow(buf: Buffer): boolean {
    if (!this.writesAtOnce || this.#paused !== null) return false;
    if (this.closed) throw new Error('FakeLogFile: use after close');
    this.#store(buf);
    return true;
  }

  #store(buf: Buffer): void {
    this.writeSizes.push(buf.length);
    if (this.tornWriteBytes !== null) {
      const kept = buf.subarray(0, this.tornWriteBytes);
      this.tornWriteBytes = null;
      this.contents = Buffer.concat([this.contents, kept]);
      throw injectedError('EIO');
    }
    this.contents = Buffer.concat([this.contents, buf]);
  }

  async datasync(): Promise<void> {
    await this.#turn();
    this.datasyncCount++;
    if (this.datasyncError) {
      const error = this.datasyncError;
      this.datasyncError = null;
      throw error;
    }
    this.durable = Buffer.from(this.contents);
  }

  async truncate(lengthBytes: number): Promise<void> {
    await this.#turn();
    this.contents = Buffer.from(this.contents.subarray(0, lengthBytes));
  }

  async close(): Promise<void> {
    await this.#turn();
    this.closed = true;
  }

  // The file after a power loss that kept `unsyncedBytesKept` bytes written after the last
  // datasync (assumes appends only since then, which is how LogWriter uses a file).
  afterPowerLoss(unsyncedBytesKept: number): Buffer {
    const kept = Math.min(this.durable.length + unsyncedBytesKept, this.contents.length);
    return Buffer.from(this.contents.subarray(0, kept));
  }

  async #turn(): Promise<void> {
    if (this.closed) throw new Error('FakeLogFile: use after close');
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.#paused) await this.#paused;
  }
}
