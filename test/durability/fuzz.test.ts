/**
 * Corrupt-log fuzzing (tools/crash-trials/fuzz.ts), fixed seed: thousands of damaged copies of the
 * fixture segments and of a generated log directory (segments and snapshots); each reads as a
 * prefix of the original history or is refused with a log error, never anything else.
 * EVENTFS_FUZZ_CASES=N multiplies the cases (CI: 1), EVENTFS_FUZZ_SEED picks another seed.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { recover } from '../../src/fs/daemon.ts';
import { LogCorruptError } from '../../src/log/errors.ts';
import { emptyState, stateHash } from '../../src/model/index.ts';
import { readSegmentFile } from '../../src/log/reader.ts';
import { openSegment } from '../../src/log/writer.ts';
import { fuzzDir, fuzzSegments, LOG_ERRORS } from '../../tools/crash-trials/fuzz.ts';
import { writeQueueHistoryDirect } from '../../tools/crash-trials/history.ts';

const SCALE = Number(process.env.EVENTFS_FUZZ_CASES ?? 1);
const SEED = Number(process.env.EVENTFS_FUZZ_SEED ?? 20261126);
const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

let root: string;
before(async () => (root = await mkdtemp(join(tmpdir(), 'eventfs-fuzz-'))));
after(async () => await rm(root, { recursive: true, force: true }));

/**
 * A log directory with two segments and two snapshots (compacted three times, at fixed seqs), and
 * its history's state hashes. Deterministic: the same bytes on every run.
 */
async function generatedLog(): Promise<{ dir: string; hashes: string[] }> {
  const dir = await mkdtemp(join(root, 'log-'));
  const hashes = [stateHash(emptyState())];
  await writeQueueHistoryDirect(dir, {
    events: 1500, queues: 5, depthMax: 8, seed: SEED, batchEvents: 50, snapshotAt: [600, 1000, 1300],
    onEvent: (state) => void (hashes[state.seq] = stateHash(state)),
  });
  const names = await readdir(dir);
  assert.ok(names.filter((n) => n.endsWith('.snap')).length === 2 && names.filter((n) => n.endsWith('.log')).length === 2, names.join(' '));
  return { dir, hashes };
}

function report(what: string, stats: { cases: number; prefix: number; refused: number; failures: string[] }): void {
  console.log(`# fuzz ${what}: ${stats.cases} cases, ${stats.prefix} read as a prefix, ${stats.refused} refused, ${stats.failures.length} failures`);
}

describe('damaged logs read as a prefix or are refused with a log error', () => {
  it('segments: the fixtures and a generated log', async () => {
    const segments: { name: string; bytes: Buffer }[] = [];
    for (const name of (await readdir(FIXTURES)).filter((n) => n.endsWith('.bin')).sort()) {
      const bytes = await readFile(join(FIXTURES, name));
      const path = join(root, name);
      await writeFile(path, bytes);
      // Only fixtures that read as a log are originals (corrupt-middle.bin is damaged already).
      if (await readSegmentFile(path).then(() => true, () => false)) segments.push({ name, bytes });
    }
    const { dir } = await generatedLog();
    for (const name of (await readdir(dir)).filter((n) => n.endsWith('.log'))) segments.push({ name, bytes: await readFile(join(dir, name)) });
    assert.ok(segments.length >= 3);
    const scratch = await mkdtemp(join(root, 'segments-'));
    const stats = await fuzzSegments(segments, 3000 * SCALE, SEED, scratch);
    report(`segments (${segments.map((s) => s.name).join(', ')})`, stats);
    assert.deepEqual(stats.failures.slice(0, 10), []);
    assert.ok(stats.prefix > 0 && stats.refused > 0);
  });

  it('log directories: segments and snapshots, recovered as the daemon does', async () => {
    const { dir, hashes } = await generatedLog();
    const scratch = await mkdtemp(join(root, 'dirs-'));
    const stats = await fuzzDir(dir, hashes, 1500 * SCALE, SEED, scratch);
    report('log directories', stats);
    assert.deepEqual(stats.failures.slice(0, 10), []);
    assert.ok(stats.prefix > 0 && stats.refused > 0);
  });

  it('intact records holding malformed events are refused at their offset, not a crash', async () => {
    const base = { v: 1, t: 1, uid: 0, gid: 0, pid: 0 };
    const prefix = [
      { ...base, seq: 1, type: 'queueCreated', queue: 'q', ino: 2, mode: 0o755, creator: { pid: 1, start: 1 } },
      { ...base, seq: 2, type: 'fileCreated', queue: 'q', name: 'm', ino: 5, mode: 0o644 },
    ];
    const malformed: object[] = [
      { type: 'queueCreated', queue: 'r', ino: 6, mode: 0o755, creator: null },
      { type: 'dataWritten', ino: 5, offset: 0, data: 'a string' },
      { type: 'dataWritten', ino: 5, offset: -5, data: Buffer.from('x') },
      { type: 'dataWritten', ino: 5, offset: 1e15, data: Buffer.from('x') },
      { type: 'entryRemoved', queue: 42, name: 'm', via: 'name' },
      { type: 'xattrSet', ino: 5, key: 'user.k', value: 5 },
      { type: 'linkCreated', queue: 'q' },
      { type: 'teleported', queue: 'q' },
      { type: 'fileTruncated', ino: 5, size: -1 },
      { type: 'ownerChanged', ino: 5, owner: null },
    ];
    for (const [i, body] of malformed.entries()) {
      const dir = await mkdtemp(join(root, `malformed-${i}-`));
      const writer = await openSegment(dir, { mountId: Buffer.alloc(16, 1), firstSeq: 1 });
      await writer.append([...prefix, { ...base, seq: 3, ...body }], { durable: true });
      await writer.close();
      const { offsets } = await readSegmentFile(writer.path);
      await assert.rejects(recover({ logDir: dir, warn: () => undefined }), (error: Error) => {
        assert.ok(error instanceof LogCorruptError, `${JSON.stringify(body)}: ${error.name}: ${error.message}`);
        assert.equal(error.offset, offsets[2]);
        assert.match(error.message, /event seq 3 .* cannot apply/);
        return true;
      });
    }
    assert.equal(LOG_ERRORS.length, 4);
  });
});
