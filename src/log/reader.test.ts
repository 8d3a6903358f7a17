import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LogCorruptError, LogDirError, LogVersionError } from './errors.ts';
import { encodeHeader, frameCrc, HEADER_BYTES, segmentName } from './format.ts';
import { readFrames, readLogDir, readSegmentFile } from './reader.ts';
import type { FrameStep } from './reader.ts';
import { buildSegment, MOUNT_ID_TEST, testEvents, withTempDir } from './testing.ts';

function steps(buf: Buffer): FrameStep[] {
  return [...readFrames(buf, HEADER_BYTES)];
}

function values(all: FrameStep[]): unknown[] {
  return all.flatMap((step) => (step.kind === 'record' ? [step.value] : []));
}

const events = testEvents(3);
const { buf: segment, offsets } = buildSegment(events, 1);

describe('readFrames', () => {
  it('reads every record of a clean segment, then eof at the end', () => {
    const all = steps(segment);
    assert.deepEqual(values(all), events);
    assert.deepEqual(all.at(-1), { kind: 'eof', offset: segment.length });
    assert.deepEqual(all.slice(0, 3).map((step) => step.offset), offsets);
  });

  it('reads a cut at every byte offset as a prefix and reports the torn record once', () => {
    for (let cut = HEADER_BYTES; cut <= segment.length; cut++) {
      const all = steps(segment.subarray(0, cut));
      const whole = offsets.filter((offset, i) => (offsets[i + 1] ?? segment.length) <= cut).length;
      assert.deepEqual(values(all), events.slice(0, whole), `cut ${cut}`);
      const last = all.at(-1)!;
      if (cut === HEADER_BYTES || offsets.includes(cut) || cut === segment.length) {
        assert.deepEqual(last, { kind: 'eof', offset: cut }, `cut ${cut}`);
      } else {
        assert.equal(last.kind, 'torn-tail', `cut ${cut}`);
        assert.equal(last.offset, offsets[whole], `cut ${cut}`);
        assert.equal(last.kind === 'torn-tail' && last.bytesDropped, cut - offsets[whole]!, `cut ${cut}`);
      }
    }
  });

  it('calls a flipped bit in the middle record corruption at that record, since a good one follows', () => {
    for (let byte = offsets[1]!; byte < offsets[2]!; byte++) {
      const damaged = Buffer.from(segment);
      damaged[byte]! ^= 0x10;
      const last = steps(damaged).at(-1)!;
      assert.equal(last.kind, 'corrupt', `byte ${byte}`);
      assert.equal(last.offset, offsets[1], `byte ${byte}`);
      assert.equal(last.kind === 'corrupt' && last.resumeOffset, offsets[2], `byte ${byte}`);
    }
  });

  it('calls a flipped bit in the last record a torn tail, since nothing valid follows', () => {
    for (let byte = offsets[2]!; byte < segment.length; byte++) {
      const damaged = Buffer.from(segment);
      damaged[byte]! ^= 0x01;
      const all = steps(damaged);
      assert.deepEqual(values(all), events.slice(0, 2), `byte ${byte}`);
      assert.equal(all.at(-1)!.kind, 'torn-tail', `byte ${byte}`);
      assert.equal(all.at(-1)!.offset, offsets[2], `byte ${byte}`);
    }
  });

  it('calls a zero-filled tail (a crash after the size grew) a torn tail', () => {
    const all = steps(Buffer.concat([segment, Buffer.alloc(4096)]));
    assert.deepEqual(values(all), events);
    assert.deepEqual(all.at(-1), { kind: 'torn-tail', offset: segment.length, bytesDropped: 4096, reason: 'impossible record length 0 (allowed 1..67108864)' });
  });

  it('recognizes a large valid record after a damaged one, and a large torn record as a torn tail', () => {
    const big = { type: 'test', seq: 2, data: randomBytes(3 * 1024 * 1024) };
    const { buf, offsets: at } = buildSegment([events[0]!, big, { type: 'test', seq: 3 }], 1);
    const damaged = Buffer.from(buf);
    damaged[at[0]! + 9]! ^= 0x01;
    const last = steps(damaged).at(-1)!;
    assert.equal(last.kind, 'corrupt');
    assert.equal(last.offset, at[0]);
    assert.equal(last.kind === 'corrupt' && last.resumeOffset, at[1]);
    const torn = steps(buf.subarray(0, at[2]! - 1000));
    assert.deepEqual(torn.at(-1), { kind: 'torn-tail', offset: at[1], bytesDropped: at[2]! - 1000 - at[1]!, reason: `short payload: ${at[2]! - 1000 - at[1]! - 8} of ${at[2]! - at[1]! - 8} bytes` });
  });

  it('calls a CRC-valid record whose payload is not msgpack corruption, whatever follows', () => {
    const payload = Buffer.from([0x01, 0x02]); // two values where one is expected
    const { buf } = buildSegment([], 1);
    const frame = Buffer.alloc(10);
    frame.writeUInt32LE(2, 0);
    frame.writeUInt32LE(frameCrc(payload, frame.subarray(0, 4)), 4);
    payload.copy(frame, 8);
    const last = steps(Buffer.concat([buf, frame, Buffer.from('garbage')])).at(-1)!;
    assert.equal(last.kind, 'corrupt');
  });
});

// Plain data as events carry it, minus the two shapes msgpackr does not preserve (format.test.ts).
const valueArb = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.integer(), fc.double({ noNaN: true }).filter((x) => !Object.is(x, -0)), fc.string(), fc.boolean(), fc.constant(null),
    fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string().filter((key) => key !== '__proto__'), tie('value'), { maxKeys: 4, noNullPrototype: true }),
  ),
})).value;

describe('readFrames property', () => {
  it('reads every truncation of a valid log as a prefix of its events', () => {
    const logArb = fc.array(valueArb, { minLength: 1, maxLength: 6 }).map((bodies) => {
      const all = bodies.map((body, i) => ({ type: 'test', seq: i + 1, body }));
      return { all, ...buildSegment(all, 1) };
    });
    const property = fc.property(logArb, fc.nat(), ({ all, buf }, cutSeed) => {
      const cut = HEADER_BYTES + (cutSeed % (buf.length - HEADER_BYTES + 1));
      const got = values(steps(buf.subarray(0, cut)));
      assert.deepEqual(got, all.slice(0, got.length));
      const last = steps(buf.subarray(0, cut)).at(-1)!;
      assert.ok(last.kind === 'eof' || last.kind === 'torn-tail', `cut ${cut}: ${last.kind}`);
      if (cut === buf.length) assert.equal(got.length, all.length);
    });
    fc.assert(property, { seed: 42, numRuns: 3000 });
  });
});

describe('readSegmentFile', () => {
  it('returns events, offsets and the valid length of a clean segment', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'segment-000000000001.log');
      await writeFile(path, segment);
      const read = await readSegmentFile(path);
      assert.deepEqual(read.events, events);
      assert.deepEqual(read.offsets, offsets);
      assert.equal(read.end, 'clean');
      assert.equal(read.validBytes, segment.length);
      assert.deepEqual(read.header.mountId, MOUNT_ID_TEST);
    });
  });

  it('reports a torn tail with its offset and the bytes dropped', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'segment-000000000001.log');
      await writeFile(path, segment.subarray(0, segment.length - 3));
      const read = await readSegmentFile(path);
      assert.equal(read.end, 'torn-tail');
      assert.deepEqual(read.events, events.slice(0, 2));
      assert.equal(read.validBytes, offsets[2]);
      assert.deepEqual(read.torn, { offset: offsets[2], bytesDropped: segment.length - 3 - offsets[2]!, reason: read.torn?.reason });
    });
  });

  it('throws LogCorruptError naming the file, the offset and the salvage tool', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'segment-000000000001.log');
      const damaged = Buffer.from(segment);
      damaged[offsets[1]! + 12]! ^= 0x04;
      await writeFile(path, damaged);
      const error = await readSegmentFile(path).catch((e: unknown) => e);
      assert.ok(error instanceof LogCorruptError);
      assert.equal(error.file, path);
      assert.equal(error.offset, offsets[1]);
      assert.match(error.message, new RegExp(`${path}: corrupt log at byte offset ${offsets[1]}: crc mismatch`));
      assert.match(error.message, /eventfs-replay --salvage/);
    });
  });

  it('steps over a corrupt record in salvage mode and lists what it skipped', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'segment-000000000001.log');
      const damaged = Buffer.from(segment);
      damaged[offsets[1]! + 12]! ^= 0x04;
      await writeFile(path, damaged);
      const read = await readSegmentFile(path, { salvage: true });
      assert.deepEqual(read.events, [events[0], events[2]]);
      assert.equal(read.skipped[0]?.offset, offsets[1]);
      assert.equal(read.skipped[0]?.bytesDropped, offsets[2]! - offsets[1]!);
      assert.match(read.skipped[1]?.reason ?? '', /event seq 3 where 2 was expected/);
    });
  });

  it('throws LogCorruptError for a record out of seq order, and for a header that disagrees with the name', async () => {
    await withTempDir(async (dir) => {
      const gappy = join(dir, 'segment-000000000001.log');
      await writeFile(gappy, buildSegment([events[0]!, events[2]!], 1).buf);
      await assert.rejects(readSegmentFile(gappy), { name: 'LogCorruptError', reason: 'event seq 3 where 2 was expected' });
      const misnamed = join(dir, 'segment-000000000005.log');
      await writeFile(misnamed, segment);
      await assert.rejects(readSegmentFile(misnamed), { name: 'LogCorruptError', offset: 0 });
    });
  });

  it('refuses a file of a newer format with LogVersionError and a corrupt header with LogCorruptError', async () => {
    await withTempDir(async (dir) => {
      const newer = join(dir, 'newer.log');
      await writeFile(newer, Buffer.concat([encodeHeader({ version: 9, mountId: MOUNT_ID_TEST, firstSeq: 1 }), segment.subarray(HEADER_BYTES)]));
      await assert.rejects(readSegmentFile(newer), (error: unknown) => error instanceof LogVersionError && /format version 9 > 1/.test(error.message));
      const stranger = join(dir, 'stranger.log');
      await writeFile(stranger, 'not a log at all, just text');
      await assert.rejects(readSegmentFile(stranger), LogVersionError);
      const short = join(dir, 'short.log');
      await writeFile(short, segment.subarray(0, 20));
      await assert.rejects(readSegmentFile(short), { name: 'LogCorruptError', offset: 0 });
    });
  });
});

async function writeSegment(dir: string, firstSeq: number, count: number, mountId = MOUNT_ID_TEST): Promise<string> {
  const path = join(dir, segmentName(firstSeq));
  await writeFile(path, buildSegment(testEvents(count, firstSeq), firstSeq, mountId).buf);
  return path;
}

describe('readLogDir', () => {
  it('returns nothing for an empty directory, with seq 1 next and no mount id', async () => {
    await withTempDir(async (dir) => {
      const read = await readLogDir(dir);
      assert.deepEqual([read.events, read.mountId, read.snapshot, read.tail, read.nextSeq], [[], null, null, null, 1]);
    });
  });

  it('concatenates segments in seq order and ignores LOCK and tmp files', async () => {
    await withTempDir(async (dir) => {
      await writeSegment(dir, 1, 3);
      await writeSegment(dir, 4, 2);
      const last = await writeSegment(dir, 6, 4);
      await writeFile(join(dir, 'LOCK'), '1 1\n');
      await writeFile(join(dir, `${segmentName(10)}.tmp`), 'half-made');
      const read = await readLogDir(dir);
      assert.deepEqual(read.events, testEvents(9));
      assert.equal(read.nextSeq, 10);
      assert.equal(read.tail?.path, last);
      assert.deepEqual(read.mountId, MOUNT_ID_TEST);
    });
  });

  it('refuses a missing segment with a LogDirError naming the missing seqs and files', async () => {
    await withTempDir(async (dir) => {
      await writeSegment(dir, 1, 3);
      await writeSegment(dir, 9, 2);
      const error = await readLogDir(dir).catch((e: unknown) => e);
      assert.ok(error instanceof LogDirError);
      assert.match(error.message, /events 4\.\.8 are missing after .*segment-000000000001\.log: .*segment-000000000009\.log starts at seq 9/);
    });
  });

  it('refuses a log whose first segment does not start at seq 1 when no snapshot covers it', async () => {
    await withTempDir(async (dir) => {
      await writeSegment(dir, 5, 3);
      await assert.rejects(readLogDir(dir), /events 1\.\.4 are missing at the start/);
    });
  });

  it('refuses overlapping segments and segments of another mount', async () => {
    await withTempDir(async (dir) => {
      await writeSegment(dir, 1, 5);
      await writeSegment(dir, 4, 2);
      await assert.rejects(readLogDir(dir), /runs to seq 5, past the start of/);
    });
    await withTempDir(async (dir) => {
      await writeSegment(dir, 1, 3);
      await writeSegment(dir, 4, 2, Buffer.alloc(16, 9));
      await assert.rejects(readLogDir(dir), /belongs to another mount \(mount id 0909/);
    });
  });

  it('reports a torn tail of the newest segment with its valid length, for truncation', async () => {
    await withTempDir(async (dir) => {
      const path = await writeSegment(dir, 1, 3);
      const { buf, offsets } = buildSegment(testEvents(3), 1);
      await writeFile(path, buf.subarray(0, buf.length - 1));
      const read = await readLogDir(dir);
      assert.deepEqual(read.events, testEvents(2));
      assert.equal(read.tornTails.length, 1);
      assert.equal(read.tornTails[0]?.offset, offsets[2]);
      assert.equal(read.tail?.validBytes, offsets[2]);
      assert.equal(read.nextSeq, 3);
    });
  });
});
