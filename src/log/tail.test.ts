import assert from 'node:assert/strict';
import { appendFile, rename, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { encodeFrame, encodeHeader, FORMAT_VERSION, HEADER_BYTES, segmentName } from './format.ts';
import { writeSnapshot } from './snapshot.ts';
import { LogTail, pollSegment, SegmentTail, type TailBatch } from './tail.ts';
import { buildSegment, MOUNT_ID_TEST, testEvents, withTempDir } from './testing.ts';

const seqs = (events: { seq: number }[]): number[] => events.map((event) => event.seq);

describe('SegmentTail', () => {
  const events = testEvents(3);
  const { buf, offsets } = buildSegment(events, 1);

  it('yields nothing until the 40-byte header is complete, then the records', () => {
    const tail = new SegmentTail('segment-000000000001.log');
    assert.deepEqual(tail.push(buf.subarray(0, 39)).events, []);
    assert.ok(tail.header === null);
    assert.deepEqual(seqs(tail.push(buf.subarray(39)).events), [1, 2, 3]);
    assert.equal((tail.header as { firstSeq: number } | null)?.firstSeq, 1);
    assert.equal(tail.recordOffset, buf.length);
  });

  it('reads a segment pushed one byte at a time: each record once, when its last byte arrives', () => {
    const tail = new SegmentTail('s.log');
    const seen: number[] = [];
    for (let i = 0; i < buf.length; i++) {
      const pushed = tail.push(buf.subarray(i, i + 1));
      assert.equal(pushed.stall, null, `byte ${i}`);
      seen.push(...seqs(pushed.events));
      const whole = offsets.filter((_, k) => (offsets[k + 1] ?? buf.length) <= i + 1).length;
      assert.equal(seen.length, whole, `after byte ${i}`);
    }
    assert.deepEqual(seen, [1, 2, 3]);
    assert.equal(tail.pendingBytes, 0);
  });

  it('keeps a partial record pending and counts it in readOffset, not recordOffset', () => {
    const tail = new SegmentTail('s.log');
    const cut = offsets[1]! + 5;
    assert.deepEqual(seqs(tail.push(buf.subarray(0, cut)).events), [1]);
    assert.equal(tail.recordOffset, offsets[1]);
    assert.equal(tail.readOffset, cut);
    assert.equal(tail.pendingBytes, 5);
  });

  it('stalls at a complete record with a bad crc, and stays stalled', () => {
    const damaged = Buffer.from(buf);
    damaged[offsets[1]! + 9]! ^= 0xff;
    const tail = new SegmentTail('s.log');
    const pushed = tail.push(damaged);
    assert.deepEqual(seqs(pushed.events), [1]);
    assert.equal(pushed.stall?.offset, offsets[1]);
    assert.match(pushed.stall!.reason, /crc mismatch|corrupt|record/);
    assert.deepEqual(tail.push(encodeFrame({ type: 'test', seq: 4 })).events, []);
  });

  it('stalls on an event whose seq does not continue the segment', () => {
    const { buf: skipping } = buildSegment([...testEvents(1), ...testEvents(1, 3)], 1);
    const pushed = new SegmentTail('s.log').push(skipping);
    assert.deepEqual(seqs(pushed.events), [1]);
    assert.match(pushed.stall!.reason, /seq 3 where 2 was expected/);
  });

  it('stalls on a bad header instead of throwing', () => {
    const pushed = new SegmentTail('s.log').push(Buffer.alloc(HEADER_BYTES + 10, 0x41));
    assert.equal(pushed.stall?.offset, 0);
    assert.match(pushed.stall!.reason, /not an eventfs log/);
  });

  it('a shrink that keeps every whole record drops only the pending bytes', () => {
    const tail = new SegmentTail('s.log');
    tail.push(buf.subarray(0, offsets[2]! + 3));
    assert.equal(tail.truncate(offsets[2]! + 1), 'kept');
    assert.equal(tail.readOffset, offsets[2]! + 1);
    assert.equal(tail.truncate(offsets[2]!), 'kept');
    assert.equal(tail.pendingBytes, 0);
  });

  it('a shrink below the last whole record is a rewrite', () => {
    const tail = new SegmentTail('s.log');
    tail.push(buf);
    assert.equal(tail.truncate(offsets[2]! + 1), 'rewritten');
  });

  it('after rewind, rereads from the last whole record and continues', () => {
    const damaged = Buffer.from(buf);
    damaged[offsets[2]! + 9]! ^= 0xff;
    const tail = new SegmentTail('s.log');
    tail.push(damaged);
    assert.notEqual(tail.stall, null);
    tail.rewind();
    assert.deepEqual(seqs(tail.push(buf.subarray(offsets[2]!)).events), [3]);
  });
});

describe('pollSegment', () => {
  it('reads records appended in pieces, keeping a split record for the next read', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, segmentName(1));
      const { buf, offsets } = buildSegment(testEvents(4), 1);
      const tail = new SegmentTail(path);
      const cuts = [20, HEADER_BYTES, offsets[1]! + 3, offsets[1]! + 11, offsets[3]! + 1, buf.length];
      const seen: number[][] = [];
      let ino: number | null = null;
      let written = 0;
      await writeFile(path, Buffer.alloc(0));
      for (const cut of cuts) {
        await appendFile(path, buf.subarray(written, cut));
        written = cut;
        const polled = await pollSegment(tail, ino);
        ino = polled.ino;
        assert.equal(polled.isRewritten, false);
        seen.push(seqs(polled.events));
      }
      assert.deepEqual(seen, [[], [], [1], [], [2, 3], [4]]);
    });
  });

  it('reads at most chunkBytesMax per call and says how much is left', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, segmentName(1));
      const { buf } = buildSegment(testEvents(50), 1);
      await writeFile(path, buf);
      const tail = new SegmentTail(path);
      let polled = await pollSegment(tail, null, 100);
      assert.equal(polled.bytesBehind, buf.length - 100);
      const all: number[] = seqs(polled.events);
      while (polled.bytesBehind > 0) {
        polled = await pollSegment(tail, polled.ino, 100);
        all.push(...seqs(polled.events));
      }
      assert.deepEqual(all, Array.from({ length: 50 }, (_, i) => i + 1));
    });
  });

  it('reports a file replaced by another inode as rewritten', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, segmentName(1));
      const { buf } = buildSegment(testEvents(2), 1);
      await writeFile(path, buf);
      const tail = new SegmentTail(path);
      const first = await pollSegment(tail, null);
      await writeFile(join(dir, 'other'), buf);
      await rename(join(dir, 'other'), path);
      assert.equal((await pollSegment(tail, first.ino)).isRewritten, true);
    });
  });

  it('reports a file cut below its last whole record as rewritten', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, segmentName(1));
      const { buf, offsets } = buildSegment(testEvents(3), 1);
      await writeFile(path, buf);
      const tail = new SegmentTail(path);
      const first = await pollSegment(tail, null);
      await truncate(path, offsets[1]!);
      assert.equal((await pollSegment(tail, first.ino)).isRewritten, true);
    });
  });

  it('follows a torn tail that the next daemon cuts off and writes over', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, segmentName(1));
      const { buf, offsets } = buildSegment(testEvents(3), 1);
      const torn = Buffer.concat([buf.subarray(0, offsets[2]!), Buffer.alloc(12, 0xee)]);
      await writeFile(path, torn);
      const tail = new SegmentTail(path);
      const first = await pollSegment(tail, null);
      assert.deepEqual(seqs(first.events), [1, 2]);
      assert.notEqual(first.stall, null);
      // Cut and rewritten between two polls: the file is no shorter than before.
      await writeFile(path, Buffer.concat([buf, encodeFrame({ type: 'test', seq: 4 })]));
      const second = await pollSegment(tail, first.ino);
      assert.deepEqual(seqs(second.events), [3, 4]);
      assert.equal(second.stall, null);
    });
  });

  it('reports a missing file', async () => {
    await withTempDir(async (dir) => {
      const polled = await pollSegment(new SegmentTail(join(dir, 'gone.log')), null);
      assert.equal(polled.isMissing, true);
    });
  });
});

async function pollAll(tail: LogTail): Promise<TailBatch[]> {
  const batches = [await tail.poll({ isListing: true })];
  while (batches.at(-1)!.hasMore) batches.push(await tail.poll());
  return batches;
}

const allSeqs = (batches: TailBatch[]): number[] => batches.flatMap((batch) => seqs(batch.events));

describe('LogTail', () => {
  it('waits for a directory that does not exist yet and says so', async () => {
    await withTempDir(async (dir) => {
      const batch = await new LogTail(join(dir, 'nope')).poll({ isListing: true });
      assert.equal(batch.reset, null);
      assert.match(batch.problems.join(), /no log at/);
    });
  });

  it('starts with a reset to the empty state, then reads appends as they come', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, segmentName(1));
      const { buf, offsets } = buildSegment(testEvents(3), 1);
      await writeFile(path, buf.subarray(0, offsets[1]! + 2));
      const tail = new LogTail(dir);
      const first = await tail.poll({ isListing: true });
      assert.deepEqual(first.reset, { snapshot: null });
      assert.deepEqual(seqs(first.events), [1]);
      assert.equal(first.pendingBytes, 2);
      assert.deepEqual(first.mountId, MOUNT_ID_TEST);
      await appendFile(path, buf.subarray(offsets[1]! + 2));
      const second = await tail.poll();
      assert.equal(second.reset, null);
      assert.deepEqual(seqs(second.events), [2, 3]);
      assert.equal(second.logBytes, buf.length);
    });
  });

  it('moves to a new segment once the old one is read to its end', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, segmentName(1)), buildSegment(testEvents(2), 1).buf);
      const tail = new LogTail(dir);
      assert.deepEqual(allSeqs(await pollAll(tail)), [1, 2]);
      await writeFile(join(dir, segmentName(3)), buildSegment(testEvents(2, 3), 3).buf);
      assert.deepEqual(allSeqs(await pollAll(tail)), [3, 4]);
    });
  });

  it('starts from the newest snapshot and skips the events it covers', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, segmentName(1)), buildSegment(testEvents(5), 1).buf);
      await writeSnapshot(dir, { seq: 3, state: { marker: 'at 3' }, hash: 'h' }, MOUNT_ID_TEST);
      const batches = await pollAll(new LogTail(dir));
      assert.equal(batches[0]!.reset?.snapshot?.seq, 3);
      assert.deepEqual(allSeqs(batches), [4, 5]);
    });
  });

  it("with start 'oldest' replays from seq 1 while segment 1 is still there", async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, segmentName(1)), buildSegment(testEvents(5), 1).buf);
      await writeSnapshot(dir, { seq: 3, state: {}, hash: 'h' }, MOUNT_ID_TEST);
      const batches = await pollAll(new LogTail(dir, 'oldest'));
      assert.deepEqual(batches[0]!.reset, { snapshot: null });
      assert.deepEqual(allSeqs(batches), [1, 2, 3, 4, 5]);
    });
  });

  it('starts over from a snapshot when the segment it was reading was rewritten', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, segmentName(1));
      await writeFile(path, buildSegment(testEvents(3), 1).buf);
      const tail = new LogTail(dir);
      await pollAll(tail);
      await writeFile(join(dir, 'x'), buildSegment(testEvents(4), 1).buf);
      await rename(join(dir, 'x'), path);
      const batches = await pollAll(tail);
      assert.ok(batches.some((batch) => batch.reset !== null), 'a reset');
      assert.deepEqual(allSeqs(batches.slice(batches.findIndex((b) => b.reset !== null))), [1, 2, 3, 4]);
    });
  });

  it('reports a gap between segments that no snapshot covers, without looping', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, segmentName(1)), buildSegment(testEvents(2), 1).buf);
      await writeFile(join(dir, segmentName(5)), buildSegment(testEvents(1, 5), 5).buf);
      const batches = await pollAll(new LogTail(dir));
      assert.deepEqual(allSeqs(batches), [1, 2]);
      assert.match(batches.at(-1)!.problems.join(), /events 3..4 are missing/);
    });
  });

  it('follows a single segment file given by path', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'demo.bin');
      await writeFile(path, buildSegment(testEvents(3), 1).buf);
      assert.deepEqual(allSeqs(await pollAll(new LogTail(path))), [1, 2, 3]);
    });
  });

  it('reports a segment of another mount instead of mixing it in', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, segmentName(1)), buildSegment(testEvents(2), 1).buf);
      const tail = new LogTail(dir);
      await pollAll(tail);
      const other = Buffer.concat([
        encodeHeader({ version: FORMAT_VERSION, mountId: Buffer.alloc(16, 7), firstSeq: 3 }),
        encodeFrame({ type: 'test', seq: 3 }),
      ]);
      await writeFile(join(dir, segmentName(3)), other);
      const batches = [await tail.poll({ isListing: true }), ...(await pollAll(tail))];
      assert.deepEqual(allSeqs(batches), []);
      assert.match(batches.at(-1)!.problems.join(), /another mount/);
    });
  });
});
