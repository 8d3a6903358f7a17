// CRC32C of any sub-range of a buffer in O(log n), from CRCs of two prefixes. The reader's
// forward scan after a bad record (FORMAT.md "What a reader does") checks thousands of candidate
// records of up to 64 MiB each; checking each one directly is quadratic (a 32 MiB torn record took
// ~18 s), with this it is linear. The arithmetic is zlib's crc32_combine (multmodp/x2nmodp) for
// the reflected Castagnoli polynomial.
import { crc32c } from '@node-rs/crc32';

const POLY_REFLECTED = 0x82f63b78;
// x^0 and x^1 in the reflected representation.
const X0 = 0x80000000;
const X1 = 0x40000000;

// a * b mod p. `a` must be nonzero (powers of x always are).
function multModP(a: number, b: number): number {
  let m = X0;
  let product = 0;
  for (;;) {
    if (a & m) {
      product ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY_REFLECTED : b >>> 1;
  }
  return product >>> 0;
}

// X2N[k] = x^(2^k) mod p.
const X2N: number[] = [X1];
for (let k = 1; k < 32; k++) X2N.push(multModP(X2N[k - 1]!, X2N[k - 1]!));

// x^(8 * bytes) mod p: the effect of appending `bytes` bytes to a CRC.
function shiftBytes(bytes: number): number {
  let power = X0;
  let k = 3;
  for (let n = bytes; n > 0; n = Math.floor(n / 2), k++) {
    if (n & 1) power = multModP(X2N[k & 31]!, power);
  }
  return power;
}

// crc32c(a || b) from crc32c(a), crc32c(b) and b's length.
export function crc32cCombine(crcA: number, crcB: number, bytesB: number): number {
  return (multModP(shiftBytes(bytesB), crcA) ^ crcB) >>> 0;
}

// crc32c(buf[start..end)) given prefixStart = crc32c(buf[base..start)) and
// prefixEnd = crc32c(buf[base..end)) for any common base.
export function crc32cRange(prefixStart: number, prefixEnd: number, bytes: number): number {
  return (prefixEnd ^ multModP(shiftBytes(bytes), prefixStart)) >>> 0;
}

// crc32c(buf[base..position)) for each of `positions` (any order), in one pass over the buffer.
export function crc32cPrefixes(buf: Buffer, base: number, positions: readonly number[]): Map<number, number> {
  const sorted = [...new Set(positions)].sort((a, b) => a - b);
  const prefixes = new Map<number, number>();
  let crc = 0;
  let at = base;
  for (const position of sorted) {
    crc = crc32c(buf.subarray(at, position), crc);
    at = position;
    prefixes.set(position, crc);
  }
  return prefixes;
}
