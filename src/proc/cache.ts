// Cheap, exact answers to the two /proc questions the daemon asks on its hot path: who is the
// caller of this request (callerIdentity, every mutating op) and is this queue's creator still
// alive (isAlive, every lookup of a queue). Reading /proc/PID/{status,stat} by path costs an
// open, a read, a close and the kernel formatting ~50 fields per question (tens of microseconds
// each on a VM); this keeps one file descriptor per thread or process instead and asks with a
// single pread of a small file.
//
// Why that is exact, not a guess: an open /proc/PID/* file stays bound to the task it was opened
// for. Once that task is gone, reading it fails with ESRCH, even if its pid has been reused in the
// meantime (verified on Linux 6). So:
// - a caller's identity, resolved by liveness.callerIdentity while a descriptor on the thread's
//   /proc/TID/comm was open, stays valid for as long as a read of that descriptor succeeds: the
//   thread still exists, so its tid has not been reused and its process (tgid, start) is the same;
// - a creator is first checked by liveness.isAlive (start time and state from /proc/PID/stat)
//   while a descriptor on its /proc/PID/statm is open; from then on it is alive as long as that
//   descriptor reads and shows an address space. statm reads all zeros once the process has
//   released its memory on exit: a zombie, or a process whose main thread exited (liveness.ts
//   calls both dead, from state Z), and also a process already inside exit() a moment before it
//   becomes a zombie (dead here a few microseconds earlier than in liveness.ts: it cannot return).
// Descriptors are bounded (oldest evicted first); an evicted or failed entry falls back to
// liveness.ts, which remains the reference.
import { closeSync, openSync, readSync } from 'node:fs'
import { callerIdentity, isAlive, procfsReader, type ProcessIdentity, type ProcReader } from './liveness.ts'

export interface ProcCacheOptions {
  /** Where procfs is mounted (default /proc). */
  root?: string
  /** Most descriptors kept for callers and (separately) for creators. */
  maxEntries?: number
}

type CallerEntry = { fd: number, identity: ProcessIdentity }

const DEFAULT_MAX_ENTRIES = 128
/** statm is seven decimal numbers; comm is at most 16 bytes: both fit. */
const STATM_BYTES_MAX = 256
const ZERO = 0x30
const SPACE = 0x20

export class ProcCache {
  readonly #root: string
  readonly #max: number
  readonly #callers = new Map<number, CallerEntry>()
  readonly #creators = new Map<string, number>()
  readonly #buf = Buffer.alloc(STATM_BYTES_MAX)
  readonly #reader: ProcReader

  constructor (options: ProcCacheOptions = {}) {
    this.#root = options.root ?? '/proc'
    this.#max = options.maxEntries ?? DEFAULT_MAX_ENTRIES
    this.#reader = procfsReader(this.#root)
  }

  /** Same answer as liveness.callerIdentity(tid). */
  callerIdentity (tid: number): ProcessIdentity | null {
    if (!Number.isSafeInteger(tid) || tid <= 0) return null
    const cached = this.#callers.get(tid)
    if (cached !== undefined) {
      if (this.#readable(cached.fd)) return cached.identity
      this.#callers.delete(tid)
      closeQuietly(cached.fd)
    }
    // Open first, resolve, then check the descriptor still reads: the identity read in between
    // then belongs to the thread the descriptor is bound to.
    const fd = this.#open(`${tid}/comm`)
    const identity = callerIdentity(tid, this.#reader)
    if (fd === null) return identity
    if (identity === null || !this.#readable(fd)) {
      closeQuietly(fd)
      return identity
    }
    this.#callers.set(tid, { fd, identity })
    if (this.#callers.size > this.#max) {
      const [oldest, entry] = this.#callers.entries().next().value as [number, CallerEntry]
      this.#callers.delete(oldest)
      closeQuietly(entry.fd)
    }
    return identity
  }

  /** Same answer as liveness.isAlive(id) (see above for the one moment it answers earlier). */
  isAlive (id: ProcessIdentity): boolean {
    if (!Number.isSafeInteger(id.pid) || id.pid <= 0) return false
    const key = `${id.pid}:${id.start}`
    const cached = this.#creators.get(key)
    if (cached !== undefined) {
      if (this.#hasMemory(cached)) return true
      // Gone, a zombie or exiting: dead for good.
      this.#creators.delete(key)
      closeQuietly(cached)
      return false
    }
    // Open first, check with the reference, then check the descriptor still shows the process:
    // the process checked in between is then the one the descriptor is bound to.
    const fd = this.#open(`${id.pid}/statm`)
    if (fd === null) return false
    if (!isAlive(id, this.#reader) || !this.#hasMemory(fd)) {
      closeQuietly(fd)
      return false
    }
    this.#creators.set(key, fd)
    if (this.#creators.size > this.#max) {
      const [oldest, oldFd] = this.#creators.entries().next().value as [string, number]
      this.#creators.delete(oldest)
      closeQuietly(oldFd)
    }
    return true
  }

  /** Closes every descriptor; the cache stays usable (it starts empty again). */
  close (): void {
    for (const entry of this.#callers.values()) closeQuietly(entry.fd)
    for (const fd of this.#creators.values()) closeQuietly(fd)
    this.#callers.clear()
    this.#creators.clear()
  }

  /** Descriptors held now (for tests). */
  get size (): { callers: number, creators: number } {
    return { callers: this.#callers.size, creators: this.#creators.size }
  }

  #open (relative: string): number | null {
    try {
      return openSync(`${this.#root}/${relative}`, 'r')
    } catch (err) {
      if (isGone(err)) return null
      throw err
    }
  }

  /** A /proc/PID/statm descriptor whose process still has an address space ("0 0 0 ..." once released). */
  #hasMemory (fd: number): boolean {
    let length: number
    try {
      length = readSync(fd, this.#buf, 0, STATM_BYTES_MAX, 0)
    } catch {
      return false
    }
    return length > 1 && !(this.#buf[0] === ZERO && this.#buf[1] === SPACE)
  }

  #readable (fd: number): boolean {
    try {
      readSync(fd, this.#buf, 0, 64, 0)
      return true
    } catch {
      return false
    }
  }
}

const isLiveState = (state: string): boolean => state !== 'Z' && state !== 'X' && state !== 'x'

function isGone (err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code
  return code === 'ENOENT' || code === 'ESRCH'
}

function closeQuietly (fd: number): void {
  try {
    closeSync(fd)
  } catch {
    // already closed: nothing to release
  }
}
