// On-disk constants and the msgpack codec of the event log. The spec is ./FORMAT.md; change it
// first, and bump FORMAT_VERSION for any change an old reader would misread.
import { crc32c } from '@node-rs/crc32';
import { FLOAT32_OPTIONS, Packr } from 'msgpackr';

// "EVENTFS\0": identifies a segment or snapshot file.
export const MAGIC = Buffer.from('EVENTFS\0', 'latin1');
export const FORMAT_VERSION = 1;

// Header is magic (8 bytes), version u32le (4), mountId (16), firstSeq u64le (8), headerCrc u32le (4).
export const MAGIC_BYTES = 8;
export const VERSION_OFFSET = 8;
export const MOUNT_ID_OFFSET = 12;
export const MOUNT_ID_BYTES = 16;
export const FIRST_SEQ_OFFSET = 28;
export const HEADER_CRC_OFFSET = 36;
export const HEADER_BYTES = 8 + 4 + 16 + 8 + 4;

// Record is length u32le (4 bytes), crc32c u32le (4), then `length` payload bytes.
export const FRAME_HEADER_BYTES = 4 + 4;
// Largest payload of a segment record; a larger length field is corruption (or a torn tail).
export const RECORD_BYTES_MAX = 64 * 1024 * 1024;
// Largest payload of a snapshot's single record (the whole folded state).
export const SNAPSHOT_RECORD_BYTES_MAX = 1024 * 1024 * 1024;

export type LogHeader = { version: number; mountId: Buffer; firstSeq: number };

// One codec for every record, configured for a durable log (see FORMAT.md "Records"):
// no record extension or shared structures (only msgpackr could read them, PITFALLS 32-33), no
// sequential mode (records must decode from their own offset, 34), int64 as number (36), and
// copied binaries so decoded Buffers never alias the read buffer (37).
const packr = new Packr({
  useRecords: false,
  mapsAsObjects: true,
  sequential: false,
  structuredClone: false,
  moreTypes: false,
  bundleStrings: false,
  useFloat32: FLOAT32_OPTIONS.NEVER,
  int64AsType: 'number',
  copyBuffers: true,
  encodeUndefinedAsNil: false,
});

// The returned Buffer is a view of a packr slab that later packs never overwrite.
export function encodeEvent(value: unknown): Buffer {
  return packr.pack(value);
}

/**
 * encodeEvent's bytes, handed piece by piece to `put` (which must copy each piece before it
 * returns: a piece is a view of packr's slab), for a value that may hold lazy lists (iterables
 * with a length that are not arrays, e.g. the model's LazyList): those are packed one item at a
 * time, so a large snapshot is encoded without its state ever existing as one object graph.
 * Other values are packed whole.
 */
export function encodePiecewise(value: unknown, put: (piece: Uint8Array) => void): void {
  const walk = (part: unknown): void => {
    if (isLazyList(part) || (Array.isArray(part) && part.some(holdsLazyList))) {
      put(arrayHeader(part.length));
      for (const item of part) walk(item);
    } else if (isPlainObject(part) && holdsLazyList(part)) {
      const entries = Object.entries(part);
      put(mapHeader(entries.length));
      for (const [key, item] of entries) {
        put(packr.pack(key));
        walk(item);
      }
    } else put(packr.pack(part));
  };
  walk(value);
}

interface LazyListLike extends Iterable<unknown> { readonly length: number }

function isLazyList(value: unknown): value is LazyListLike {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value) &&
    typeof (value as Partial<LazyListLike>)[Symbol.iterator] === 'function' && typeof (value as Partial<LazyListLike>).length === 'number';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

function holdsLazyList(value: unknown): boolean {
  if (isLazyList(value)) return true;
  if (Array.isArray(value)) return value.some(holdsLazyList);
  return isPlainObject(value) && Object.values(value).some(holdsLazyList);
}

// As packr writes them: fixarray under 16 items, else array16 or array32; a map is always map16.
function arrayHeader(count: number): Buffer {
  if (count < 16) return Buffer.from([0x90 | count]);
  if (count < 0x10000) return Buffer.from([0xdc, count >>> 8, count & 0xff]);
  const header = Buffer.allocUnsafe(5);
  header[0] = 0xdd;
  header.writeUInt32BE(count, 1);
  return header;
}

function mapHeader(count: number): Buffer {
  if (count >= 0x10000) throw new RangeError(`encodePiecewise: a map of ${count} keys`);
  return Buffer.from([0xde, count >>> 8, count & 0xff]);
}

const PACK_SLAB_BYTES = 8192;

// After encoding something large (a snapshot): packr keeps packing into the slab it last grew,
// so without this every later event would keep a slab the size of the largest snapshot alive.
// Views returned earlier stay valid (they keep the old slab until they are dropped).
export function releasePackSlab(): void {
  packr.useBuffer(Buffer.allocUnsafeSlow(PACK_SLAB_BYTES));
}

// Throws on malformed msgpack or trailing bytes; callers treat that as corruption.
export function decodeEvent(payload: Buffer): unknown {
  return packr.unpack(payload);
}

export function frameCrc(payload: Buffer, lengthBytes: Buffer): number {
  return crc32c(payload, crc32c(lengthBytes));
}

export function encodeFramePayload(payload: Buffer, payloadBytesMax: number): Buffer {
  if (payload.length < 1 || payload.length > payloadBytesMax) {
    throw new RangeError(`record payload of ${payload.length} bytes is outside 1..${payloadBytesMax}`);
  }
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeUInt32LE(frameCrc(payload, frame.subarray(0, 4)), 4);
  payload.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

export function encodeFrame(value: unknown): Buffer {
  return encodeFramePayload(encodeEvent(value), RECORD_BYTES_MAX);
}

export type FrameCheck = { ok: true; payloadBytes: number; end: number } | { ok: false; reason: string };

// Validates the record at `offset` without decoding it: length in range, payload inside `buf`,
// CRC matching. `end` is the offset just past the record.
export function checkFrame(buf: Buffer, offset: number, payloadBytesMax: number): FrameCheck {
  const available = buf.length - offset;
  if (available < FRAME_HEADER_BYTES) {
    return { ok: false, reason: `short record header: ${available} of ${FRAME_HEADER_BYTES} bytes` };
  }
  const payloadBytes = buf.readUInt32LE(offset);
  if (payloadBytes < 1 || payloadBytes > payloadBytesMax) {
    return { ok: false, reason: `impossible record length ${payloadBytes} (allowed 1..${payloadBytesMax})` };
  }
  const end = offset + FRAME_HEADER_BYTES + payloadBytes;
  if (end > buf.length) {
    return { ok: false, reason: `short payload: ${available - FRAME_HEADER_BYTES} of ${payloadBytes} bytes` };
  }
  const crcStored = buf.readUInt32LE(offset + 4);
  const crcComputed = frameCrc(buf.subarray(offset + FRAME_HEADER_BYTES, end), buf.subarray(offset, offset + 4));
  if (crcStored !== crcComputed) {
    return { ok: false, reason: `crc mismatch (stored ${hex32(crcStored)}, computed ${hex32(crcComputed)})` };
  }
  return { ok: true, payloadBytes, end };
}

function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

export function encodeHeader(header: LogHeader): Buffer {
  if (header.mountId.length !== MOUNT_ID_BYTES) throw new RangeError('mountId must be 16 bytes');
  if (!Number.isSafeInteger(header.firstSeq) || header.firstSeq < 0) {
    throw new RangeError(`firstSeq ${header.firstSeq} is not a safe non-negative integer`);
  }
  const buf = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(buf, 0);
  buf.writeUInt32LE(header.version, VERSION_OFFSET);
  header.mountId.copy(buf, MOUNT_ID_OFFSET);
  buf.writeBigUInt64LE(BigInt(header.firstSeq), FIRST_SEQ_OFFSET);
  buf.writeUInt32LE(crc32c(buf.subarray(0, HEADER_CRC_OFFSET)), HEADER_CRC_OFFSET);
  return buf;
}

// `refuse` marks files this reader must not interpret (bad magic, newer version): callers refuse
// them and never truncate. Anything else wrong is corruption at offset 0.
export type HeaderResult =
  | { ok: true; header: LogHeader }
  | { ok: false; refuse: boolean; reason: string };

export function decodeHeader(buf: Buffer): HeaderResult {
  const magic = buf.subarray(0, MAGIC_BYTES);
  if (!MAGIC.subarray(0, magic.length).equals(magic)) {
    return { ok: false, refuse: true, reason: 'not an eventfs log (bad magic)' };
  }
  if (buf.length < HEADER_BYTES) {
    return { ok: false, refuse: false, reason: `file header truncated: ${buf.length} of ${HEADER_BYTES} bytes` };
  }
  const version = buf.readUInt32LE(VERSION_OFFSET);
  if (version > FORMAT_VERSION) {
    return { ok: false, refuse: true, reason: `written by a newer eventfs: format version ${version} > ${FORMAT_VERSION}` };
  }
  if (version === 0) return { ok: false, refuse: false, reason: 'format version 0' };
  const crcStored = buf.readUInt32LE(HEADER_CRC_OFFSET);
  const crcComputed = crc32c(buf.subarray(0, HEADER_CRC_OFFSET));
  if (crcStored !== crcComputed) return { ok: false, refuse: false, reason: 'file header crc mismatch' };
  const firstSeq = buf.readBigUInt64LE(FIRST_SEQ_OFFSET);
  if (firstSeq > BigInt(Number.MAX_SAFE_INTEGER)) {
    return { ok: false, refuse: false, reason: `firstSeq ${firstSeq} exceeds 2^53 - 1` };
  }
  const mountId = Buffer.from(buf.subarray(MOUNT_ID_OFFSET, MOUNT_ID_OFFSET + MOUNT_ID_BYTES));
  return { ok: true, header: { version, mountId, firstSeq: Number(firstSeq) } };
}

// File names carry the seq zero-padded to 12 digits, so `ls` shows seq order; readers still sort
// numerically because seqs past 10^12 get longer names.
const SEQ_DIGITS = 12;
export const SEGMENT_NAME = /^segment-(\d{12,16})\.log$/;
export const SNAPSHOT_NAME = /^snapshot-(\d{12,16})\.snap$/;
export const LOCK_NAME = 'LOCK';
export const TMP_SUFFIX = '.tmp';

export function segmentName(firstSeq: number): string {
  return `segment-${String(firstSeq).padStart(SEQ_DIGITS, '0')}.log`;
}

export function snapshotName(seq: number): string {
  return `snapshot-${String(seq).padStart(SEQ_DIGITS, '0')}.snap`;
}
