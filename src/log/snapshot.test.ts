import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describe, it } from 'node:test';
import { LogVersionError, SnapshotCorruptError } from './errors.ts';
import { encodeHeader, segmentName, snapshotName, VERSION_OFFSET } from './format.ts';
import { readLogDir } from './reader.ts';
import { pruneSegments, readSnapshot, writeSnapshot } from './snapshot.ts';
import { buildSegment, MOUNT_ID_TEST, testEvents, withTempDir } from './testing.ts';

const state = { queues: [['q1', { files: [Buffer.from('payload')] }]], counter: 7 };

async function writeSegment(dir: string, firstSeq: number, count: number): Promise<void> {
  await writeFile(join(dir, segmentName(firstSeq)), buildSegment(testEvents(count, firstSeq), firstSeq).buf);
}

async function flipByte(path: string, offsetFromEnd: number): Promise<void> {
  const buf = await readFile(path);
  buf[buf.length - offsetFromEnd]! ^= 0x20;
  await writeFile(path, buf);
}

describe('snapshots', () => {
  it('round-trip seq, state with Buffers, and hash', async () => {
    await withTempDir(async (dir) => {
      const path = await writeSnapshot(dir, { seq: 12, state, hash: 'abc' }, MOUNT_ID_TEST);
      assert.equal(basename(path), 'snapshot-000000000012.snap');
      const read = await readSnapshot(path);
      assert.deepEqual([read.seq, read.state, read.hash], [12, state, 'abc']);
      assert.deepEqual(read.header.mountId, MOUNT_ID_TEST);
      assert.deepEqual(await readdir(dir), ['snapshot-000000000012.snap'], 'no tmp file is left behind');
    });
  });

  it('reject a flipped bit, a truncated file and trailing bytes with SnapshotCorruptError', async () => {
    await withTempDir(async (dir) => {
      const path = await writeSnapshot(dir, { seq: 3, state, hash: 'h' }, MOUNT_ID_TEST);
      const whole = await readFile(path);
      await flipByte(path, 5);
      await assert.rejects(readSnapshot(path), (e: unknown) => e instanceof SnapshotCorruptError && /crc mismatch/.test(e.message));
      await writeFile(path, whole.subarray(0, whole.length - 1));
      await assert.rejects(readSnapshot(path), /short payload/);
      await writeFile(path, Buffer.concat([whole, Buffer.from([0])]));
      await assert.rejects(readSnapshot(path), /1 trailing bytes/);
    });
  });

  it('refuse a snapshot written by a newer format with LogVersionError, even in readLogDir', async () => {
    await withTempDir(async (dir) => {
      const path = await writeSnapshot(dir, { seq: 3, state, hash: 'h' }, MOUNT_ID_TEST);
      const buf = await readFile(path);
      buf.writeUInt32LE(2, VERSION_OFFSET);
      await writeFile(path, buf);
      await assert.rejects(readSnapshot(path), LogVersionError);
      await assert.rejects(readLogDir(dir), LogVersionError);
    });
  });

  it('are ignored by readLogDir while still a leftover tmp file', async () => {
    await withTempDir(async (dir) => {
      await writeSegment(dir, 1, 4);
      const fake = Buffer.concat([encodeHeader({ version: 1, mountId: MOUNT_ID_TEST, firstSeq: 4 }), Buffer.from('half')]);
      await writeFile(join(dir, `${snapshotName(4)}.tmp`), fake);
      const read = await readLogDir(dir);
      assert.equal(read.snapshot, null);
      assert.deepEqual(read.events, testEvents(4));
      await writeSnapshot(dir, { seq: 4, state, hash: 'h' }, MOUNT_ID_TEST);
      assert.equal((await readLogDir(dir)).snapshot?.seq, 4, 'a later write replaces the leftover');
    });
  });

  it('let readLogDir start from the newest snapshot and fold only later events', async () => {
    await withTempDir(async (dir) => {
      await writeSegment(dir, 1, 5);
      await writeSegment(dir, 6, 5);
      await writeSnapshot(dir, { seq: 7, state, hash: 'h7' }, MOUNT_ID_TEST);
      const read = await readLogDir(dir);
      assert.equal(read.snapshot?.hash, 'h7');
      assert.deepEqual(read.events, testEvents(3, 8));
      assert.equal(read.nextSeq, 11);
    });
  });

  it('fall back to the older snapshot when the newest fails its CRC, and say so', async () => {
    await withTempDir(async (dir) => {
      await writeSegment(dir, 1, 10);
      await writeSnapshot(dir, { seq: 4, state, hash: 'h4' }, MOUNT_ID_TEST);
      const newest = await writeSnapshot(dir, { seq: 8, state, hash: 'h8' }, MOUNT_ID_TEST);
      await flipByte(newest, 3);
      const read = await readLogDir(dir);
      assert.equal(read.snapshot?.seq, 4);
      assert.deepEqual(read.events, testEvents(6, 5));
      assert.deepEqual(read.skippedSnapshots.map((s) => s.path), [newest]);
      assert.match(read.skippedSnapshots[0]!.reason, /crc mismatch/);
    });
  });
});

describe('pruneSegments', () => {
  it('keeps the segment that straddles the older kept snapshot, the newest segment, and two snapshots', async () => {
    await withTempDir(async (dir) => {
      for (const firstSeq of [1, 11, 21, 31]) await writeSegment(dir, firstSeq, 10);
      for (const seq of [5, 15, 25]) await writeSnapshot(dir, { seq, state, hash: `h${seq}` }, MOUNT_ID_TEST);
      await writeFile(join(dir, `${snapshotName(3)}.tmp`), 'leftover');
      const result = await pruneSegments(dir, 25);
      assert.deepEqual(result.deletedSegments.map((p) => basename(p)), [segmentName(1)]);
      assert.deepEqual(result.deletedSnapshots.map((p) => basename(p)), [snapshotName(5)]);
      assert.deepEqual((await readdir(dir)).sort(), [segmentName(11), segmentName(21), segmentName(31), snapshotName(15), snapshotName(25)]);
      const read = await readLogDir(dir);
      assert.deepEqual([read.snapshot?.seq, read.events.length, read.nextSeq], [25, 15, 41]);
    });
  });

  it('leaves a log that still replays from the older snapshot when the newest goes bad', async () => {
    await withTempDir(async (dir) => {
      for (const firstSeq of [1, 11, 21]) await writeSegment(dir, firstSeq, 10);
      await writeSnapshot(dir, { seq: 12, state, hash: 'h12' }, MOUNT_ID_TEST);
      const newest = await writeSnapshot(dir, { seq: 22, state, hash: 'h22' }, MOUNT_ID_TEST);
      await pruneSegments(dir, 22);
      await flipByte(newest, 3);
      const read = await readLogDir(dir);
      assert.equal(read.snapshot?.seq, 12);
      assert.deepEqual(read.events, testEvents(18, 13));
    });
  });

  it('deletes nothing without a snapshot and never deletes the newest segment', async () => {
    await withTempDir(async (dir) => {
      await writeSegment(dir, 1, 10);
      assert.deepEqual(await pruneSegments(dir, 10), { deletedSegments: [], deletedSnapshots: [] });
      await writeSnapshot(dir, { seq: 10, state, hash: 'h' }, MOUNT_ID_TEST);
      assert.deepEqual(await pruneSegments(dir, 10), { deletedSegments: [], deletedSnapshots: [] });
      assert.equal((await readLogDir(dir)).nextSeq, 11);
    });
  });
});
