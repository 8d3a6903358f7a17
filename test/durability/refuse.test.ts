/**
 * A log that cannot be trusted is refused at mount: `eventfs -f` exits 65 with one line that
 * names the file (and the offset), says what to do (eventfs-replay --salvage), shows no stack
 * trace, and leaves every file of the log directory as it was. A torn tail, by contrast, is what
 * a crash leaves: the mount starts, and warns naming the file and offset.
 */
import assert from 'node:assert/strict';
import { crc32c } from '@node-rs/crc32';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HEADER_BYTES, HEADER_CRC_OFFSET, VERSION_OFFSET } from '../../src/log/format.ts';
import { readSegmentFile } from '../../src/log/reader.ts';
import { writeSnapshot } from '../../src/log/snapshot.ts';
import { openSegment } from '../../src/log/writer.ts';
import { recover } from '../../src/fs/daemon.ts';
import { plainHash, toPlain } from '../../src/model/index.ts';
import { python, REPO, startMount } from '../helpers/mount.ts';
import { enqueue, eventfsRefused, openLogSession, queueView, writeSmallHistory, type LogSession } from './support.ts';

let root: string;
before(() => (root = mkdtempSync(join(tmpdir(), 'eventfs-refuse-'))));
after(() => rmSync(root, { recursive: true, force: true }));

async function history(name: string, more: (session: LogSession) => Promise<void> = async () => undefined): Promise<string> {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const session = await openLogSession(dir);
  await writeSmallHistory(session);
  await more(session);
  await session.close();
  return dir;
}

const files = (dir: string, prefix: string): string[] => readdirSync(dir).filter((n) => n.startsWith(prefix)).sort().map((n) => join(dir, n));
const contents = (dir: string): Map<string, string> =>
  new Map(readdirSync(dir).filter((n) => n !== 'LOCK').map((n) => [n, readFileSync(join(dir, n)).toString('hex')]));

/** The refusal every case must produce: exit 65, one line, no stack, the log untouched. */
function assertRefused(dir: string, file: RegExp): string {
  const before = contents(dir);
  const result = eventfsRefused(root, dir);
  assert.equal(result.status, 65, `exit code (stderr: ${result.stderr})`);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${result.stderr}`);
  assert.doesNotMatch(result.stderr, /\n\s+at |Error:/, 'no stack trace');
  assert.match(lines[0]!, /^eventfs: /);
  assert.match(lines[0]!, file);
  assert.match(lines[0]!, /eventfs-replay --salvage/);
  assert.deepEqual(contents(dir), before, 'the log directory is left as it was');
  return lines[0]!;
}

describe('a log that cannot be trusted is refused (exit 65)', () => {
  it('a bad record followed by good ones: names the segment and the byte offset', async () => {
    const dir = await history('middle');
    const [segment] = files(dir, 'segment-');
    const { offsets } = await readSegmentFile(segment!);
    const bytes = readFileSync(segment!);
    bytes[offsets[4]! + 12]! ^= 0x40; // inside the payload of the fifth record; ten more follow
    writeFileSync(segment!, bytes);
    const line = assertRefused(dir, /segment-000000000001\.log/);
    assert.match(line, new RegExp(`corrupt log at byte offset ${offsets[4]}\\b`));
  });

  it('a missing segment: names the missing events and the segments around the gap', async () => {
    const dir = await history('missing', async (session) => {
      await session.log.rotate();
      await enqueue(session, '/q', 'x', 'x');
      await session.log.rotate();
      await enqueue(session, '/q', 'y', 'y');
    });
    const segments = files(dir, 'segment-');
    assert.equal(segments.length, 3);
    unlinkSync(segments[1]!);
    const line = assertRefused(dir, /segment-000000000001\.log.*segment-\d+\.log/);
    assert.match(line, /events \d+\.\.\d+ are missing/);
  });

  it('a snapshot that fails its checksum, with the log it compacted gone: names the snapshot', async () => {
    const dir = await history('snapshot', async (session) => {
      await session.compactor.snapshot();
      await enqueue(session, '/q', 'x', 'x');
    });
    const [snapshot] = files(dir, 'snapshot-');
    assert.deepEqual(files(dir, 'segment-').length, 1, 'compaction dropped the segment the snapshot covers');
    const bytes = readFileSync(snapshot!);
    bytes[bytes.length - 20]! ^= 0x01;
    writeFileSync(snapshot!, bytes);
    const line = assertRefused(dir, /snapshot-\d+\.snap/);
    assert.match(line, /corrupt snapshot .*crc mismatch/);
  });

  it('a snapshot whose state does not match its recorded hash', async () => {
    const dir = await history('hash', async (session) => {
      await session.compactor.snapshot();
    });
    const [snapshot] = files(dir, 'snapshot-');
    const seq = Number(/snapshot-(\d+)/.exec(snapshot!)![1]);
    const session = await openLogSession(join(root, 'hash'));
    const plain = toPlain(session.state, { copyData: true });
    await session.close();
    unlinkSync(snapshot!);
    const wrongHash = plainHash({ ...plain, rootMtimeMs: plain.rootMtimeMs + 1 });
    const mountId = readFileSync(files(dir, 'segment-')[0]!).subarray(12, 28);
    await writeSnapshot(dir, { seq, state: plain, hash: wrongHash }, Buffer.from(mountId));
    const line = assertRefused(dir, /snapshot-\d+\.snap/);
    assert.match(line, /does not match its recorded hash/);
  });

  it('a log written by a newer format version: names the file and the version', async () => {
    const dir = await history('version');
    const [segment] = files(dir, 'segment-');
    const bytes = readFileSync(segment!);
    bytes.writeUInt32LE(2, VERSION_OFFSET);
    bytes.writeUInt32LE(crc32c(bytes.subarray(0, HEADER_CRC_OFFSET)), HEADER_CRC_OFFSET);
    writeFileSync(segment!, bytes);
    const line = assertRefused(dir, /segment-000000000001\.log/);
    assert.match(line, /newer eventfs: format version 2 > 1/);
  });

  it('an intact record holding an event that cannot apply: names the file and its offset', async () => {
    const dir = join(root, 'apply');
    mkdirSync(dir);
    const writer = await openSegment(dir, { mountId: Buffer.alloc(16, 7), firstSeq: 1 });
    const base = { v: 1, t: 1, uid: 0, gid: 0, pid: 0 };
    await writer.append([
      { ...base, seq: 1, type: 'queueCreated', queue: 'q', ino: 2, mode: 0o755, creator: { pid: 1, start: 1 } },
      { ...base, seq: 2, type: 'entryRemoved', queue: 'q', name: 'nothing', via: 'name' },
    ], { durable: true });
    await writer.close();
    const { offsets } = await readSegmentFile(writer.path);
    const line = assertRefused(dir, /segment-000000000001\.log/);
    assert.match(line, new RegExp(`byte offset ${offsets[1]}: event seq 2 \\(entryRemoved\\) cannot apply`));
  });
});

describe('the advice works', () => {
  it('eventfs-replay --salvage NEW_DIR LOG_DIR gives a log directory eventfs mounts, holding the valid prefix', async () => {
    const dir = await history('salvage');
    const [segment] = files(dir, 'segment-');
    const { offsets } = await readSegmentFile(segment!);
    const bytes = readFileSync(segment!);
    bytes[offsets[6]! + 12]! ^= 0x40; // the seventh record: the six before it are the valid prefix
    writeFileSync(segment!, bytes);
    assert.equal(eventfsRefused(root, dir).status, 65);
    const salvaged = join(root, 'salvaged');
    const replay = spawnSync(process.execPath, [join(REPO, 'bin/eventfs-replay.js'), '--salvage', salvaged, dir], { encoding: 'utf8', timeout: 60_000 });
    assert.ok(replay.status === 0 || replay.status === 1, `eventfs-replay exited ${replay.status}: ${replay.stderr}`);
    const { state } = await recover({ logDir: salvaged, warn: () => undefined });
    assert.equal(state.seq, 6);
    const m = await startMount({ logDir: salvaged, root: join(root, 'salvaged-mount') });
    try {
      assert.equal(python('import os, sys\nprint(sorted(os.listdir(sys.argv[1])))', [m.mnt]).trim(), "['q']");
    } finally {
      await m.stop();
    }
  });
});

describe('what a crash leaves is recovered', () => {
  it('a newest snapshot that fails its checksum falls back to the older one, with a warning naming it', async () => {
    const dir = await history('fallback', async (session) => {
      await session.compactor.snapshot();
      await enqueue(session, '/q', 'x', 'xx');
      await session.compactor.snapshot();
      await enqueue(session, '/q', 'y', 'yy');
    });
    const expected = queueView((await recover({ logDir: dir, warn: () => undefined })).state);
    const snapshots = files(dir, 'snapshot-');
    assert.equal(snapshots.length, 2);
    const bytes = readFileSync(snapshots[1]!);
    bytes[HEADER_BYTES + 10]! ^= 0x10;
    writeFileSync(snapshots[1]!, bytes);
    const warnings: string[] = [];
    const { state } = await recover({ logDir: dir, warn: (message) => warnings.push(message) });
    assert.deepEqual(queueView(state), expected);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, new RegExp(`${snapshots[1]!.replace(/\./g, '\\.')}: crc mismatch.*recovering from .*${snapshots[0]!.split('/').at(-1)!.replace(/\./g, '\\.')}`));
  });

  it('a torn tail mounts, warns once naming the file and offset, and is cut off', async () => {
    const dir = await history('torn');
    const [segment] = files(dir, 'segment-');
    const { offsets } = await readSegmentFile(segment!);
    const bytes = readFileSync(segment!);
    const last = offsets.at(-1)!;
    writeFileSync(segment!, bytes.subarray(0, last + Math.floor((bytes.length - last) / 2)));
    const m = await startMount({ logDir: dir, root: join(root, 'torn-mount') });
    try {
      assert.match(m.stderr(), new RegExp(`segment-000000000001\\.log: torn tail at byte ${last} \\(\\d+ bytes`));
      // The last record was the link r/copy: it is gone, everything before it is there.
      assert.equal(python('import os, sys\nprint(sorted(os.listdir(sys.argv[1])))', [join(m.mnt, 'r')]).trim(), '[]');
      assert.equal(python('import sys\nprint(open(sys.argv[1]).read(), end="")', [join(m.mnt, 'q', 'head')]), 'message 1\n');
    } finally {
      await m.stop();
    }
    assert.equal(readFileSync(segment!).length, last, 'the daemon cut the torn tail off');
    const again = await startMount({ logDir: dir, root: join(root, 'torn-mount-2') });
    try {
      assert.doesNotMatch(again.stderr(), /torn tail/, 'reported once: the daemon cut it before appending');
    } finally {
      await again.stop();
    }
  });
});
