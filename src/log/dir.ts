// The file names of a log directory (FORMAT.md "Directory layout"), directory fsync, full writes.
import { writeSync } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { SEGMENT_NAME, SNAPSHOT_NAME } from './format.ts';

export type SegmentFile = { path: string; firstSeq: number };
export type SnapshotFile = { path: string; seq: number };
export type LogDirListing = { segments: SegmentFile[]; snapshots: SnapshotFile[] };

// Both lists are sorted by seq, oldest first. Anything else (LOCK, *.tmp) is ignored.
export async function listLogDir(dir: string): Promise<LogDirListing> {
  const segments: SegmentFile[] = [];
  const snapshots: SnapshotFile[] = [];
  for (const name of await readdir(dir)) {
    const segment = SEGMENT_NAME.exec(name);
    if (segment) segments.push({ path: join(dir, name), firstSeq: Number(segment[1]) });
    const snapshot = SNAPSHOT_NAME.exec(name);
    if (snapshot) snapshots.push({ path: join(dir, name), seq: Number(snapshot[1]) });
  }
  segments.sort((a, b) => a.firstSeq - b.firstSeq);
  snapshots.sort((a, b) => a.seq - b.seq);
  return { segments, snapshots };
}

// A rename, create or unlink is durable only once the directory itself is fsynced.
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

// FileHandle.write may write less than asked (e.g. on a signal or a full disk); loop until done.
export async function writeFully(handle: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await handle.write(buf, done, buf.length - done, position + done);
    if (bytesWritten === 0) throw new Error(`write made no progress at offset ${position + done}`);
    done += bytesWritten;
  }
}

// The same on the calling thread: for writes that must be in the kernel before control returns.
export function writeFullySync(fd: number, buf: Uint8Array, position: number): void {
  for (let done = 0; done < buf.length;) {
    const written = writeSync(fd, buf, done, buf.length - done, position + done);
    if (written === 0) throw new Error(`write made no progress at offset ${position + done}`);
    done += written;
  }
}
