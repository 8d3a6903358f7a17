/**
 * A log directory holding a long history, for the recovery measurement: the events of
 * bench/fold.ts's generator (producers filling ~100 queues, consumers popping them), written by
 * src/log's own segment writer, so a daemon mounting on it does exactly what it does after a long
 * uptime without snapshots: read the segment, check every frame, decode and fold every event,
 * then reap the queues whose (long gone) creators are dead.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MOUNT_ID_BYTES } from '../../src/log/format.ts';
import { openSegment } from '../../src/log/writer.ts';
import { foldBenchDefaults, generateEvents } from '../fold.ts';

const CHUNK_EVENTS = 10_000;

export async function writeHistory(dir: string, events: number): Promise<{ events: number; bytes: number }> {
  mkdirSync(dir, { recursive: true });
  const generated = generateEvents({ ...foldBenchDefaults, events });
  const writer = await openSegment(dir, { mountId: randomBytes(MOUNT_ID_BYTES), firstSeq: 1 });
  for (let i = 0; i < generated.length; i += CHUNK_EVENTS) {
    await writer.append(generated.slice(i, i + CHUNK_EVENTS), { durable: false });
  }
  await writer.close();
  return { events: generated.length, bytes: dirBytes(dir) };
}

/** Total size of the regular files directly in dir. */
export function dirBytes(dir: string): number {
  let bytes = 0;
  for (const name of readdirSync(dir)) {
    const stat = statSync(join(dir, name));
    if (stat.isFile()) bytes += stat.size;
  }
  return bytes;
}
