// Snapshots (header + one record {seq, state, hash}) and compaction; FORMAT.md "Directory layout".
// The state and hash are opaque here: the model produces and verifies them.
import { crc32c } from '@node-rs/crc32';
import { closeSync, fsync, openSync, readSync, rmSync } from 'node:fs';
import { readdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fsyncDir, listLogDir, writeFullySync } from './dir.ts';
import { SnapshotCorruptError, LogVersionError } from './errors.ts';
import {
  checkFrame, decodeEvent, decodeHeader, encodeHeader, FORMAT_VERSION,
  encodePiecewise, FRAME_HEADER_BYTES, HEADER_BYTES, releasePackSlab, SNAPSHOT_NAME, SNAPSHOT_RECORD_BYTES_MAX, snapshotName, TMP_SUFFIX,
} from './format.ts';
import type { LogHeader } from './format.ts';

export type Snapshot = { seq: number; state: unknown; hash: unknown };
export type SnapshotRead = Snapshot & { path: string; header: LogHeader };

/** A snapshot whose file is written but not yet visible: commitSnapshot or abortSnapshot it. */
export type PendingSnapshot = { seq: number; path: string; tmpPath: string; fd: number; bytes: number };

const CHUNK_BYTES = 64 * 1024;

// Writes the snapshot's file under a temporary name now, synchronously, encoding the state a
// piece at a time (encodePiecewise) through one 64 KiB chunk: a caller can capture a live state in
// one synchronous step (it changes again as soon as control returns), and memory never holds the
// whole encoded state. The CRC covers the length, known only at the end: the payload is read back
// from the page cache for it.
export function beginSnapshot(dir: string, snapshot: Snapshot, mountId: Buffer): PendingSnapshot {
  if (!Number.isSafeInteger(snapshot.seq) || snapshot.seq < 0) throw new RangeError(`bad snapshot seq ${snapshot.seq}`);
  const path = join(dir, snapshotName(snapshot.seq));
  const tmpPath = path + TMP_SUFFIX;
  const fd = openSync(tmpPath, 'w+');
  try {
    writeFullySync(fd, encodeHeader({ version: FORMAT_VERSION, mountId, firstSeq: snapshot.seq }), 0);
    const payloadAt = HEADER_BYTES + FRAME_HEADER_BYTES;
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    let used = 0;
    let written = 0;
    const flush = (): void => {
      writeFullySync(fd, chunk.subarray(0, used), payloadAt + written);
      written += used;
      used = 0;
    };
    encodePiecewise({ seq: snapshot.seq, state: snapshot.state, hash: snapshot.hash }, (piece) => {
      for (let from = 0; from < piece.length;) {
        if (used === CHUNK_BYTES) flush();
        const take = Math.min(piece.length - from, CHUNK_BYTES - used);
        chunk.set(piece.subarray(from, from + take), used);
        used += take;
        from += take;
      }
    });
    flush();
    releasePackSlab();
    if (written > SNAPSHOT_RECORD_BYTES_MAX) throw new RangeError(`snapshot payload of ${written} bytes is over ${SNAPSHOT_RECORD_BYTES_MAX}`);
    const frameHeader = Buffer.alloc(FRAME_HEADER_BYTES);
    frameHeader.writeUInt32LE(written, 0);
    let crc = crc32c(frameHeader.subarray(0, 4));
    for (let at = 0; at < written; at += CHUNK_BYTES) {
      const length = Math.min(CHUNK_BYTES, written - at);
      if (readSync(fd, chunk, 0, length, payloadAt + at) !== length) throw new Error(`${tmpPath}: short read back`);
      crc = crc32c(chunk.subarray(0, length), crc);
    }
    frameHeader.writeUInt32LE(crc, 4);
    writeFullySync(fd, frameHeader, HEADER_BYTES);
    return { seq: snapshot.seq, path, tmpPath, fd, bytes: payloadAt + written };
  } catch (error) {
    closeSync(fd);
    rmSync(tmpPath, { force: true });
    throw error;
  }
}

// Atomic: readers see either no file or the whole snapshot, never a prefix. Only call it once the
// events up to the snapshot's seq are durable (LogWriter.sync()), or a crash can leave a snapshot
// ahead of the log.
export async function commitSnapshot(pending: PendingSnapshot): Promise<string> {
  try {
    await new Promise<void>((resolve, reject) => fsync(pending.fd, (error) => (error ? reject(error) : resolve())));
  } catch (error) {
    abortSnapshot(pending);
    throw error;
  }
  closeSync(pending.fd);
  await rename(pending.tmpPath, pending.path);
  await fsyncDir(dirname(pending.path));
  return pending.path;
}

export function abortSnapshot(pending: PendingSnapshot): void {
  try {
    closeSync(pending.fd);
  } catch {
    // already closed
  }
  rmSync(pending.tmpPath, { force: true });
}

// For callers with nothing to capture (tests, tools): begin and commit at once.
export async function writeSnapshot(dir: string, snapshot: Snapshot, mountId: Buffer): Promise<string> {
  return commitSnapshot(beginSnapshot(dir, snapshot, mountId));
}

export async function readSnapshot(path: string): Promise<SnapshotRead> {
  const buf = await readFile(path);
  const result = decodeHeader(buf);
  if (!result.ok && result.refuse) throw new LogVersionError(path, result.reason);
  if (!result.ok) throw new SnapshotCorruptError(path, result.reason);
  const header = result.header;
  const check = checkFrame(buf, HEADER_BYTES, SNAPSHOT_RECORD_BYTES_MAX);
  if (!check.ok) throw new SnapshotCorruptError(path, check.reason);
  if (check.end !== buf.length) throw new SnapshotCorruptError(path, `${buf.length - check.end} trailing bytes`);
  const value = readSnapshotPayload(buf.subarray(HEADER_BYTES + FRAME_HEADER_BYTES, check.end), path);
  if (value.seq !== header.firstSeq) {
    throw new SnapshotCorruptError(path, `payload seq ${value.seq} differs from header seq ${header.firstSeq}`);
  }
  const named = SNAPSHOT_NAME.exec(basename(path));
  if (named && Number(named[1]) !== value.seq) {
    throw new SnapshotCorruptError(path, `seq ${value.seq} does not match the file name`);
  }
  return { path, header, seq: value.seq, state: value.state, hash: value.hash };
}

function readSnapshotPayload(payload: Buffer, path: string): Snapshot {
  let value: unknown;
  try {
    value = decodeEvent(payload);
  } catch (error) {
    throw new SnapshotCorruptError(path, `payload is not valid msgpack: ${(error as Error).message}`);
  }
  const record = value as Partial<Snapshot> | null;
  if (typeof record !== 'object' || record === null || !Number.isSafeInteger(record.seq)) {
    throw new SnapshotCorruptError(path, 'payload is not a {seq, state, hash} object');
  }
  return { seq: record.seq as number, state: record.state, hash: record.hash };
}

export type PruneResult = { deletedSegments: string[]; deletedSnapshots: string[] };

// Keeps the two newest snapshots at or below `snapshotSeq` and every segment holding an event
// after the older of them, so a corrupt newest snapshot can still fall back to the older one
// with a complete log (FORMAT.md "Compaction"). Segment i holds seqs below segment i+1's
// firstSeq; the newest segment is never deleted. Deletes oldest first so a crash mid-way leaves
// a log that is still dense.
export async function pruneSegments(dir: string, snapshotSeq: number): Promise<PruneResult> {
  const { segments, snapshots } = await listLogDir(dir);
  const kept = snapshots.filter((snapshot) => snapshot.seq <= snapshotSeq).slice(-2);
  const result: PruneResult = { deletedSegments: [], deletedSnapshots: [] };
  if (kept.length === 0) return result;
  const floorSeq = kept[0]!.seq;
  for (let i = 0; i + 1 < segments.length; i++) {
    if (segments[i + 1]!.firstSeq - 1 > floorSeq) break;
    await unlink(segments[i]!.path);
    result.deletedSegments.push(segments[i]!.path);
  }
  for (const snapshot of snapshots) {
    if (snapshot.seq >= floorSeq) break;
    await unlink(snapshot.path);
    result.deletedSnapshots.push(snapshot.path);
  }
  await pruneTmpFiles(dir, snapshotSeq);
  await fsyncDir(dir);
  return result;
}

// Leftovers of a crash during writeSnapshot/openSegment. Files named for seqs above
// `snapshotSeq` may still be in progress, so they stay.
async function pruneTmpFiles(dir: string, snapshotSeq: number): Promise<void> {
  for (const name of await readdir(dir)) {
    const match = /^(?:segment|snapshot)-(\d+)\.(?:log|snap)\.tmp$/.exec(name);
    if (match && Number(match[1]) <= snapshotSeq) await unlink(join(dir, name));
  }
}
