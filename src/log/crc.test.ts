import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32c } from '@node-rs/crc32';
import fc from 'fast-check';
import { crc32cCombine, crc32cPrefixes, crc32cRange } from './crc.ts';

describe('crc32c arithmetic', () => {
  it('combines the CRCs of two pieces into the CRC of their concatenation', () => {
    const property = fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), (a, b) => {
      const whole = crc32c(Buffer.concat([a, b]));
      assert.equal(crc32cCombine(crc32c(a), crc32c(b), b.length), whole);
    });
    fc.assert(property, { seed: 42, numRuns: 500 });
  });

  it('computes the CRC of any range from two prefix CRCs', () => {
    const property = fc.property(fc.uint8Array({ minLength: 1, maxLength: 500 }), fc.nat(), fc.nat(), fc.nat(), (bytes, x, y, z) => {
      const buf = Buffer.from(bytes);
      const [base, start, end] = [x, y, z].map((n) => n % (buf.length + 1)).sort((p, q) => p - q) as [number, number, number];
      const prefixes = crc32cPrefixes(buf, base, [end, start]);
      assert.equal(crc32cRange(prefixes.get(start)!, prefixes.get(end)!, end - start), crc32c(buf.subarray(start, end)));
    });
    fc.assert(property, { seed: 42, numRuns: 500 });
  });

  it('handles ranges far longer than 2^16 bytes', () => {
    const buf = Buffer.alloc(5_000_000);
    for (let i = 0; i < buf.length; i += 997) buf[i] = i & 0xff;
    const prefixes = crc32cPrefixes(buf, 0, [123, 4_999_999]);
    assert.equal(crc32cRange(prefixes.get(123)!, prefixes.get(4_999_999)!, 4_999_876), crc32c(buf.subarray(123, 4_999_999)));
  });
});
