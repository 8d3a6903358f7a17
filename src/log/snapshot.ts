// Snapshots (header + one record {seq, state, hash}) and compaction; FORMAT.md "Directory layout".
// The state and hash are opaque here: the model produces and verifies them.
import { open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fsyncDir, listLogDir, writeFully } from './dir.ts';
import { SnapshotCorruptError, LogVersionError } from './errors.ts';
import {
  checkFrame, decodeEvent, decodeHeader, encodeFramePayload, encodeHeader, FORMAT_VERSION,
  encodePiecewise, FRAME_HEADER_BYTES, HEADER_BYTES, releasePackSlab, SNAPSHOT_NAME, SNAPSHOT_RECORD_BYTES_MAX, snapshotName, TMP_SUFFIX,
} from './format.ts';
import type { LogHeader } from './format.ts';

export type Snapshot = { seq: number; state: unknown; hash: unknown };
export type SnapshotRead = Snapshot & { path: string; header: LogHeader };

/** A snapshot encoded as its file's one frame, ready to write (see encodeSnapshot). */
export type EncodedSnapshot = { seq: number; frame: Buffer };

// Encoding is separate from writing so a caller can capture a live state in one synchronous step
// (the state may change while the file is written) and hold one buffer, not a copy of the state.
// The state may hold lazy lists (encodePiecewise): the file is the same as for the plain state.
export function encodeSnapshot(snapshot: Snapshot): EncodedSnapshot {
  if (!Number.isSafeInteger(snapshot.seq) || snapshot.seq < 0) throw new RangeError(`bad snapshot seq ${snapshot.seq}`);
  const record = { seq: snapshot.seq, state: snapshot.state, hash: snapshot.hash };
  const frame = encodeFramePayload(encodePiecewise(record), SNAPSHOT_RECORD_BYTES_MAX);
  releasePackSlab();
  return { seq: snapshot.seq, frame };
}

// Atomic: readers see either no file or the whole snapshot, never a prefix. Only call it once the
// events up to `seq` are durable (LogWriter.sync()), or a crash can leave a snapshot ahead of the log.
export async function writeSnapshot(dir: string, snapshot: Snapshot | EncodedSnapshot, mountId: Buffer): Promise<string> {
  const { seq, frame } = 'frame' in snapshot ? snapshot : encodeSnapshot(snapshot);
  const header = encodeHeader({ version: FORMAT_VERSION, mountId, firstSeq: seq });
  const path = join(dir, snapshotName(seq));
  const tmpPath = path + TMP_SUFFIX;
  const handle = await open(tmpPath, 'w');
  try {
    await writeFully(handle, header, 0);
    await writeFully(handle, frame, HEADER_BYTES);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(tmpPath).catch(() => undefined);
    throw error;
  }
  await handle.close();
  await rename(tmpPath, path);
  await fsyncDir(dir);
  return path;
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
