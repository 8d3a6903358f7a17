/**
 * A canonical state hash: the same state gives the same hash on every run and machine, whatever
 * history led to it (xattrs by key, inodes by number; queue and entry order are part of the state).
 * SHA-256 over a length-prefixed walk of toPlain(state), so no two different states share a stream.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { toPlain, type PlainState } from './snapshot.ts';
import type { State } from './state.ts';

export function stateHash(state: State): string {
  return plainHash(toPlain(state));
}

/** The same hash from the plain form (a snapshot's state). */
export function plainHash(plain: PlainState): string {
  const hasher = sha256.create();
  walk(plain, (value) => hasher.update(encode(value)));
  return Buffer.from(hasher.digest()).toString('hex');
}

function walk(value: unknown, feed: (tagged: unknown) => void): void {
  if (Buffer.isBuffer(value) || value === null || typeof value !== 'object') return feed(value);
  if (Array.isArray(value)) {
    feed(`[${value.length}`);
    for (const item of value) walk(item, feed);
    return;
  }
  const keys = Object.keys(value).sort();
  feed(`{${keys.length}`);
  for (const key of keys) {
    feed(key);
    walk((value as Record<string, unknown>)[key], feed);
  }
}

/** Each value is tagged with its type and length, so "ab","c" never hashes like "a","bc". */
function encode(value: unknown): Uint8Array {
  if (Buffer.isBuffer(value)) return Buffer.concat([header('b', value.length), value]);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([header('s', bytes.length), bytes]);
  }
  if (typeof value === 'number') {
    const bytes = Buffer.alloc(8);
    bytes.writeDoubleBE(value);
    return Buffer.concat([header('n', 8), bytes]);
  }
  return header(value === null ? 'z' : value === true ? 't' : value === false ? 'f' : 'u', 0);
}

function header(tag: string, length: number): Buffer {
  const bytes = Buffer.alloc(5);
  bytes.write(tag, 0, 'latin1');
  bytes.writeUInt32BE(length, 1);
  return bytes;
}
