import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkFrame, decodeEvent, decodeHeader, encodeEvent, encodeFrame, encodeFramePayload, encodeHeader, FORMAT_VERSION,
  FRAME_HEADER_BYTES, HEADER_BYTES, RECORD_BYTES_MAX, SEGMENT_NAME, segmentName, SNAPSHOT_NAME, snapshotName,
} from './format.ts';
import { piecewiseBytes } from './testing.ts';

const mountId = Buffer.from([...Array(16).keys()]);

describe('file header', () => {
  it('round-trips version, mount id and firstSeq', () => {
    const buf = encodeHeader({ version: FORMAT_VERSION, mountId, firstSeq: 2 ** 53 - 1 });
    assert.equal(buf.length, HEADER_BYTES);
    assert.deepEqual(decodeHeader(buf), { ok: true, header: { version: 1, mountId, firstSeq: 2 ** 53 - 1 } });
  });

  it('matches the bytes of the worked example in FORMAT.md', () => {
    const buf = encodeHeader({ version: 1, mountId, firstSeq: 1 });
    assert.equal(buf.subarray(0, 12).toString('hex'), '4556454e5446530001000000');
    assert.equal(buf.subarray(28).toString('hex'), '0100000000000000d7481448');
  });

  it('refuses a file with another magic', () => {
    const buf = encodeHeader({ version: 1, mountId, firstSeq: 1 });
    buf[0] = 0x46;
    assert.deepEqual(decodeHeader(buf), { ok: false, refuse: true, reason: 'not an eventfs log (bad magic)' });
  });

  it('refuses a newer format version even though its crc is unknown to us', () => {
    const buf = encodeHeader({ version: FORMAT_VERSION + 1, mountId, firstSeq: 1 });
    const result = decodeHeader(buf);
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.refuse, true);
    assert.match(!result.ok ? result.reason : '', /newer eventfs: format version 2 > 1/);
  });

  it('reports a flipped bit, a truncated header and an empty file as corruption, not refusal', () => {
    const flipped = encodeHeader({ version: 1, mountId, firstSeq: 7 });
    flipped[20]! ^= 0x01;
    assert.deepEqual(decodeHeader(flipped), { ok: false, refuse: false, reason: 'file header crc mismatch' });
    const whole = encodeHeader({ version: 1, mountId, firstSeq: 7 });
    assert.deepEqual(decodeHeader(whole.subarray(0, 39)), { ok: false, refuse: false, reason: 'file header truncated: 39 of 40 bytes' });
    assert.deepEqual(decodeHeader(Buffer.alloc(0)), { ok: false, refuse: false, reason: 'file header truncated: 0 of 40 bytes' });
  });

  it('rejects a mount id of the wrong size and an unsafe firstSeq when encoding', () => {
    assert.throws(() => encodeHeader({ version: 1, mountId: Buffer.alloc(15), firstSeq: 1 }), RangeError);
    assert.throws(() => encodeHeader({ version: 1, mountId, firstSeq: 2 ** 53 }), RangeError);
    assert.throws(() => encodeHeader({ version: 1, mountId, firstSeq: 1.5 }), RangeError);
  });
});

describe('records', () => {
  it('round-trip every value type an event may carry', () => {
    const event = {
      type: 'fileWritten', seq: 2 ** 40, t: 1_700_000_000_000, neg: -(2 ** 33), ratio: 0.1, ok: true, none: null,
      name: 'naïve ✓', list: [1, 'two', [false]], nested: { a: { b: [] } }, data: Buffer.from([0, 1, 254, 255]),
    };
    const frame = encodeFrame(event);
    const check = checkFrame(frame, 0, RECORD_BYTES_MAX);
    assert.deepEqual(check, { ok: true, payloadBytes: frame.length - FRAME_HEADER_BYTES, end: frame.length });
    assert.deepEqual(decodeEvent(frame.subarray(FRAME_HEADER_BYTES)), event);
  });

  it('decode Buffers as Buffers that do not alias the read buffer', () => {
    const data = Buffer.from('file contents');
    const payload = Buffer.from(encodeEvent({ type: 'w', seq: 1, data }));
    const decoded = decodeEvent(payload) as { data: Buffer };
    assert.ok(Buffer.isBuffer(decoded.data));
    assert.ok(decoded.data.equals(data));
    payload.fill(0);
    assert.ok(decoded.data.equals(data), 'clearing the read buffer must not change the decoded Buffer');
    assert.notEqual(decoded.data.buffer, payload.buffer);
  });

  it('use no msgpackr record extension, so any msgpack reader can decode them', () => {
    const payload = encodeEvent({ type: 'x', seq: 1 });
    assert.equal(payload.toString('hex'), 'de0002a474797065a178a373657101');
  });

  it('match the bytes of the worked example in FORMAT.md', () => {
    assert.equal(encodeFrame({ type: 'x', seq: 1 }).subarray(0, 8).toString('hex'), '0f000000f047557c');
    assert.equal(encodeFrame({ type: 'y', seq: 2 }).subarray(0, 8).toString('hex'), '0f0000001ddf3580');
  });

  it('do not round-trip a __proto__ key or -0 (msgpackr renames the key, and packs -0 as 0)', () => {
    const decoded = decodeEvent(encodeEvent(JSON.parse('{"__proto__": 1, "z": -0}'))) as Record<string, unknown>;
    assert.deepEqual(Object.keys(decoded), ['__proto_', 'z']);
    assert.ok(Object.is(decoded.z, 0));
  });

  it('reject an empty payload and one over the limit', () => {
    assert.throws(() => encodeFramePayload(Buffer.alloc(0), 16), RangeError);
    assert.throws(() => encodeFramePayload(Buffer.alloc(17), 16), RangeError);
    assert.equal(encodeFramePayload(Buffer.alloc(16, 0x80), 16).length, 24);
  });

  it('detect a flipped bit anywhere in the frame', () => {
    const frame = encodeFrame({ type: 'x', seq: 1, data: Buffer.alloc(40, 7) });
    for (let bit = 0; bit < frame.length * 8; bit++) {
      const damaged = Buffer.from(frame);
      damaged[bit >> 3]! ^= 1 << (bit & 7);
      assert.equal(checkFrame(damaged, 0, RECORD_BYTES_MAX).ok, false, `bit ${bit}`);
    }
  });

  it('never accept a zero-filled region, since the crc covers the length', () => {
    assert.match(String((checkFrame(Buffer.alloc(64), 0, RECORD_BYTES_MAX) as { reason: string }).reason), /impossible record length 0/);
  });

  it('report short headers, short payloads and impossible lengths with their sizes', () => {
    const frame = encodeFrame({ type: 'x', seq: 1 });
    assert.deepEqual(checkFrame(frame.subarray(0, 5), 0, RECORD_BYTES_MAX), { ok: false, reason: 'short record header: 5 of 8 bytes' });
    assert.deepEqual(checkFrame(frame.subarray(0, 10), 0, RECORD_BYTES_MAX), { ok: false, reason: 'short payload: 2 of 15 bytes' });
    const huge = Buffer.from(frame);
    huge.writeUInt32LE(RECORD_BYTES_MAX + 1, 0);
    assert.match((checkFrame(huge, 0, RECORD_BYTES_MAX) as { reason: string }).reason, /impossible record length 67108865/);
  });
});

describe('encodePiecewise', () => {
  // An iterable with a length that is not an array: packed one item at a time.
  const lazy = <T>(items: T[]) => ({ length: items.length, [Symbol.iterator]: () => items.values() });

  it('gives encodeEvent\'s bytes for a value without lazy lists', () => {
    const value = { seq: 7, state: { a: [1, 'x', null], b: Buffer.from('hi'), c: { d: true } }, hash: 'ab' };
    assert.ok(piecewiseBytes(value).equals(encodeEvent(value)));
  });

  it('gives the bytes of the materialised value, at every size of list and map header', () => {
    for (const count of [0, 1, 15, 16, 65535, 65536]) {
      const items = Array.from({ length: count }, (_, i) => [`m${i}`, i]);
      const value = { seq: count, state: { queues: lazy(items.map((entry) => ({ entry, more: lazy([entry]) }))) } };
      const plain = { seq: count, state: { queues: items.map((entry) => ({ entry, more: [entry] })) } };
      assert.ok(piecewiseBytes(value).equals(encodeEvent(plain)), `${count} items`);
    }
    const wide = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i === 0 ? lazy([1]) : i]));
    assert.ok(piecewiseBytes(wide).equals(encodeEvent({ ...wide, k0: [1] })), 'a map of 16 or more keys');
  });
});

describe('file names', () => {
  it('zero-pad seqs to 12 digits and parse back, including past 10^12', () => {
    assert.equal(segmentName(42), 'segment-000000000042.log');
    assert.equal(snapshotName(42), 'snapshot-000000000042.snap');
    assert.equal(SEGMENT_NAME.exec(segmentName(10 ** 13))?.[1], '10000000000000');
    assert.equal(SNAPSHOT_NAME.exec('snapshot-000000000042.snap.tmp'), null);
  });
});
