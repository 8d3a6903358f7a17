/**
 * Corrupt-log fuzzing: damage a good log (bit flips, truncations, splices, duplicated, removed and
 * zeroed ranges, appended garbage, deleted files) and read it back. Each damaged log must either
 * read as a prefix of the original history or be refused with one of the log's own errors
 * (LogCorruptError, LogDirError, LogVersionError, SnapshotCorruptError): never another
 * exception, never an event or a state the original history did not have.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { recover } from '../../src/fs/daemon.ts';
import { LogCorruptError, LogDirError, LogVersionError, SnapshotCorruptError } from '../../src/log/errors.ts';
import { HEADER_BYTES } from '../../src/log/format.ts';
import { encodeEvent } from '../../src/log/format.ts';
import { readSegmentFile, type LogEvent } from '../../src/log/reader.ts';
import { stateHash } from '../../src/model/index.ts';
import { Rng } from './rng.ts';

export const LOG_ERRORS = [LogCorruptError, LogDirError, LogVersionError, SnapshotCorruptError] as const;
const isLogError = (error: unknown): boolean => LOG_ERRORS.some((kind) => error instanceof kind);

export type Damaged = { bytes: Buffer; description: string };

/** One random damage to `bytes`; `donors` are other files of the same log (for splices). */
export function damage(bytes: Buffer, rng: Rng, donors: readonly Buffer[] = []): Damaged {
  const length = bytes.length;
  const at = (): number => rng.int(0, length);
  const range = (max = Math.max(1, Math.floor(length / 4))): [number, number] => {
    const start = rng.chance(0.2) ? rng.int(0, Math.min(length, HEADER_BYTES)) : at();
    return [start, Math.min(length, start + rng.int(1, max))];
  };
  const kind = rng.pick(['flip', 'flip', 'flip', 'truncate', 'truncate', 'splice', 'duplicate', 'remove', 'zero', 'append'] as const);
  switch (kind) {
    case 'flip': {
      const out = Buffer.from(bytes);
      const flips = rng.pick([1, 1, 1, 2, 3, 8]);
      const where: number[] = [];
      for (let i = 0; i < flips && length > 0; i++) {
        const byte = rng.chance(0.15) ? rng.int(0, Math.min(length, HEADER_BYTES) - 1) : rng.int(0, length - 1);
        out[byte]! ^= 1 << rng.int(0, 7);
        where.push(byte);
      }
      return { bytes: out, description: `flip bits at bytes ${where.join(',')}` };
    }
    case 'truncate': {
      const cut = rng.chance(0.3) ? Math.max(0, length - rng.int(1, 40)) : at();
      return { bytes: bytes.subarray(0, cut), description: `truncate to ${cut} of ${length}` };
    }
    case 'splice': {
      const donor = donors.length > 0 && rng.chance(0.5) ? rng.pick(donors) : bytes;
      const [from, to] = range();
      const take = rng.int(1, Math.max(1, Math.min(donor.length, 4096)));
      const donorStart = rng.int(0, Math.max(0, donor.length - take));
      const piece = donor.subarray(donorStart, donorStart + take);
      return { bytes: Buffer.concat([bytes.subarray(0, from), piece, bytes.subarray(to)]), description: `replace ${from}..${to} with ${piece.length} bytes from ${donor === bytes ? 'itself' : 'another file'} at ${donorStart}` };
    }
    case 'duplicate': {
      const [from, to] = range();
      const into = at();
      return { bytes: Buffer.concat([bytes.subarray(0, into), bytes.subarray(from, to), bytes.subarray(into)]), description: `copy ${from}..${to} to ${into}` };
    }
    case 'remove': {
      const [from, to] = range();
      return { bytes: Buffer.concat([bytes.subarray(0, from), bytes.subarray(to)]), description: `remove ${from}..${to}` };
    }
    case 'zero': {
      const [from, to] = range();
      const out = Buffer.from(bytes);
      out.fill(0, from, to);
      return { bytes: out, description: `zero ${from}..${to}` };
    }
    case 'append': {
      const garbage = rng.chance(0.5) ? Buffer.from(Array.from({ length: rng.int(1, 200) }, () => rng.int(0, 255))) : bytes.subarray(...range());
      return { bytes: Buffer.concat([bytes, garbage]), description: `append ${garbage.length} bytes` };
    }
  }
}

const sameEvent = (a: LogEvent, b: LogEvent): boolean => encodeEvent(a).equals(encodeEvent(b));

/**
 * Reads a damaged segment (written to `path`): null if it read as a prefix of `events` or was
 * refused with a log error, else what went wrong.
 */
export async function checkDamagedSegment(path: string, events: readonly LogEvent[]): Promise<{ outcome: 'prefix' | 'refused' } | { failure: string }> {
  let read;
  try {
    read = await readSegmentFile(path);
  } catch (error) {
    if (isLogError(error)) return { outcome: 'refused' };
    return { failure: `threw ${(error as Error).name}: ${(error as Error).message}` };
  }
  if (read.events.length > events.length) return { failure: `read ${read.events.length} events, the original has ${events.length}` };
  for (const [i, event] of read.events.entries()) {
    if (!sameEvent(event, events[i]!)) return { failure: `event ${i} (seq ${event.seq}) differs from the original's` };
  }
  return { outcome: 'prefix' };
}

/**
 * Recovers a damaged log directory the way the daemon does: it must give the fold of a prefix of
 * the original history (`hashes[n]` is the state hash after its first n events) or a log error.
 */
export async function checkDamagedDir(dir: string, hashes: readonly string[]): Promise<{ outcome: 'prefix' | 'refused'; seq?: number } | { failure: string }> {
  let state;
  try {
    state = (await recover({ logDir: dir, warn: () => undefined })).state;
  } catch (error) {
    if (isLogError(error)) return { outcome: 'refused' };
    return { failure: `threw ${(error as Error).name}: ${(error as Error).message}` };
  }
  if (state.seq >= hashes.length) return { failure: `recovered seq ${state.seq}, past the ${hashes.length - 1} events of the original` };
  if (stateHash(state) !== hashes[state.seq]) return { failure: `the state at seq ${state.seq} is not the original's` };
  return { outcome: 'prefix', seq: state.seq };
}

export type FuzzStats = { cases: number; prefix: number; refused: number; failures: string[] };

export function newStats(): FuzzStats {
  return { cases: 0, prefix: 0, refused: 0, failures: [] };
}

/** Damages single segments (fixtures, or any good segment) `cases` times; tmp files go under `scratch`. */
export async function fuzzSegments(segments: readonly { name: string; bytes: Buffer }[], cases: number, seed: number, scratch: string): Promise<FuzzStats> {
  const rng = Rng.derive(seed, 'fuzz-segments');
  const stats = newStats();
  const originals = [];
  for (const segment of segments) {
    const path = join(scratch, 'original.log');
    await writeFile(path, segment.bytes);
    originals.push({ ...segment, events: (await readSegmentFile(path)).events });
  }
  const donors = segments.map((s) => s.bytes);
  for (let i = 0; i < cases; i++) {
    const original = originals[i % originals.length]!;
    const damaged = damage(original.bytes, rng, donors);
    const path = join(scratch, 'damaged.log');
    await writeFile(path, damaged.bytes);
    const result = await checkDamagedSegment(path, original.events);
    stats.cases++;
    if ('failure' in result) stats.failures.push(`${original.name}, ${damaged.description}: ${result.failure}`);
    else stats[result.outcome]++;
  }
  return stats;
}

/**
 * Damages one file of a log directory per case (or deletes it), copies the directory with it and
 * recovers it. `hashes` are the original history's state hashes.
 */
export async function fuzzDir(dir: string, hashes: readonly string[], cases: number, seed: number, scratch: string): Promise<FuzzStats> {
  const rng = Rng.derive(seed, 'fuzz-dir');
  const stats = newStats();
  const names = (await readdir(dir)).filter((name) => /\.(log|snap)$/.test(name)).sort();
  const files = new Map<string, Buffer>();
  for (const name of names) files.set(name, await readFile(join(dir, name)));
  const donors = [...files.values()];
  for (let i = 0; i < cases; i++) {
    const victim = rng.pick(names);
    const copy = join(scratch, `dir-${i}`);
    await mkdir(copy);
    let description = `delete ${victim}`;
    for (const [name, bytes] of files) {
      if (name !== victim) {
        await writeFile(join(copy, name), bytes);
        continue;
      }
      if (rng.chance(0.05)) continue;
      const damaged = damage(bytes, rng, donors);
      description = `${victim}: ${damaged.description}`;
      await writeFile(join(copy, name), damaged.bytes);
    }
    const result = await checkDamagedDir(copy, hashes);
    stats.cases++;
    if ('failure' in result) stats.failures.push(`${description}: ${result.failure}`);
    else stats[result.outcome]++;
    await rm(copy, { recursive: true, force: true });
  }
  return stats;
}
