/**
 * Where file contents live. Small files are carved from slabs kept for file data alone: in Node's
 * shared Buffer pool each small message would sit between short-lived log frames, and one queued
 * message would then pin a whole 8 KiB pool slab (about 250 B per queued 16-byte message,
 * measured by bench/run.ts "memory"). Here slabs hold nothing but file data, and a FIFO queue
 * frees them whole as it is popped. Larger files get a buffer of their own.
 */
const SLAB_BYTES = 16 * 1024;
const SMALL_BYTES_MAX = 512;
const ALIGN = 8;

let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let used = 0;

/** An uninitialised buffer of `bytes` for file contents (callers fill every byte they expose). */
export function allocData(bytes: number): Buffer {
  if (bytes > SMALL_BYTES_MAX) return Buffer.allocUnsafeSlow(bytes);
  if (used + bytes > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    used = 0;
  }
  const data = slab.subarray(used, used + bytes);
  used += Math.ceil(bytes / ALIGN) * ALIGN;
  return data;
}

/** A copy of `source` in file-data memory. */
export function dataFrom(source: Uint8Array): Buffer {
  const data = allocData(source.length);
  data.set(source);
  return data;
}
