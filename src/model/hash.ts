/**
 * A canonical state hash: the same state gives the same hash on every run and machine, whatever
 * history led to it (xattrs by key, inodes by number; queue and entry order are part of the state).
 * SHA-256 over a length-prefixed walk of toPlain(state), so no two different states share a stream.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { LazyList, toPlain, type LazyPlainState, type PlainState } from './snapshot.ts';
import type { State } from './state.ts';

/** A SHA-256 implementation: @noble/hashes here (pure); the shell may pass node:crypto's (native, ~15x faster), same digest. */
export type Sha256 = () => { update(data: Uint8Array): unknown; digest(): Uint8Array };

const nobleSha256: Sha256 = () => sha256.create();

export function stateHash(state: State, newSha256: Sha256 = nobleSha256): string {
  return plainHash(toPlain(state), newSha256);
}

/** The same hash from the plain form (a snapshot's state), lazy or not. */
export function plainHash(plain: PlainState | LazyPlainState, newSha256: Sha256 = nobleSha256): string {
  const hasher = newSha256();
  const stream = new HashStream(hasher);
  walk(plain, (value) => stream.value(value));
  stream.flush();
  return Buffer.from(hasher.digest()).toString('hex');
}

function walk(value: unknown, feed: (tagged: unknown) => void): void {
  if (Buffer.isBuffer(value) || value === null || typeof value !== 'object') return feed(value);
  if (Array.isArray(value) || value instanceof LazyList) {
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

const CHUNK_BYTES = 64 * 1024;
const HEADER_BYTES = 5;
const ASCII_INLINE_MAX = 64;

/**
 * The byte stream that is hashed: each value tagged with its type and length, so "ab","c" never
 * hashes like "a","bc". A tag is one latin1 byte ('b' bytes, 's' utf-8 string, 'n' float64 BE,
 * 'z' null, 't' true, 'f' false, 'u' anything else) then the length as a u32 BE, then the bytes.
 * Values are encoded into one chunk that is hashed when full: a state of thousands of files is
 * hundreds of thousands of values, and a hasher call (and a Buffer) per value made snapshots of
 * such states take most of a second.
 */
class HashStream {
  readonly #chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  #at = 0;

  constructor(private readonly hasher: { update(data: Uint8Array): unknown }) {}

  value(value: unknown): void {
    if (Buffer.isBuffer(value)) {
      this.#header('b', value.length);
      this.#bytes(value);
    } else if (typeof value === 'string') {
      if (value.length <= ASCII_INLINE_MAX && this.#ascii(value)) return;
      const length = Buffer.byteLength(value, 'utf8');
      this.#header('s', length);
      if (length > CHUNK_BYTES) return this.#bytes(Buffer.from(value, 'utf8'));
      this.#room(length);
      this.#at += this.#chunk.write(value, this.#at, length, 'utf8');
    } else if (typeof value === 'number') {
      this.#header('n', 8);
      this.#room(8);
      this.#at = this.#chunk.writeDoubleBE(value, this.#at);
    } else {
      this.#header(value === null ? 'z' : value === true ? 't' : value === false ? 'f' : 'u', 0);
    }
  }

  /** Short ASCII strings (keys, names) are copied byte by byte: cheaper than a utf-8 encoder call each. */
  #ascii(value: string): boolean {
    for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0x7f) return false;
    this.#header('s', value.length);
    this.#room(value.length);
    const chunk = this.#chunk;
    let at = this.#at;
    for (let i = 0; i < value.length; i++) chunk[at++] = value.charCodeAt(i);
    this.#at = at;
    return true;
  }

  flush(): void {
    if (this.#at === 0) return;
    this.hasher.update(this.#chunk.subarray(0, this.#at));
    this.#at = 0;
  }

  #header(tag: string, length: number): void {
    this.#room(HEADER_BYTES);
    this.#chunk[this.#at] = tag.charCodeAt(0);
    this.#at = this.#chunk.writeUInt32BE(length, this.#at + 1);
  }

  #bytes(bytes: Uint8Array): void {
    if (bytes.length > CHUNK_BYTES - this.#at) {
      this.flush();
      if (bytes.length >= CHUNK_BYTES) {
        this.hasher.update(bytes);
        return;
      }
    }
    this.#chunk.set(bytes, this.#at);
    this.#at += bytes.length;
  }

  #room(bytes: number): void {
    if (this.#at + bytes > CHUNK_BYTES) this.flush();
  }
}
