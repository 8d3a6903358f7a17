// Typed wrapper around the patched fuse-native 2.2.6 (patches/fuse-native-2.2.6.patch, applied and
// built by scripts/build-fuse-native.mjs). fuse-native ships no types; only what eventfs uses is typed.
//
// What the wrapper adds over the stock package:
// - `timeout: false` by default (the stock 15 s op timeout answers ETIMEDOUT and drops late replies).
// - Every -o option comes from `buildMountOptions()`, including the ones fuse-native never passes
//   (use_ino, hard_remove, negative_timeout, zero timeouts, ...).
// - `fuse.context()`: the caller of the op being handled (uid, gid, and the kernel-reported thread id).
//
// Callback conventions (fuse-native): the first callback argument is always a NUMBER: 0 or a
// negative errno (`Fuse.ENOENT`, ...). `null`/`undefined` makes the native signal throw "Expected
// number" on a nextTick, which crashes the process and leaves the kernel request hanging.
// read/write answer the byte count as that first argument (`cb(n)`), getxattr the value length.
//
// Paths: fd-based ops (read, write, release, flush, fsync, fgetattr, ftruncate, releasedir,
// fsyncdir) receive `null` as path for a file that was unlinked while open (hard_remove): serve
// them from the fd.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

/** The caller of a FUSE request, as the kernel reported it. */
export interface CallerContext {
  uid: number
  gid: number
  /** The caller's THREAD id (fuse_get_context()->pid); map it to the process with Tgid (src/proc). 0 for kernel-internal requests (e.g. release). */
  pid: number
}

/** What getattr/fgetattr answer. Times are Date or ms since the epoch (millisecond precision). */
export interface Stat {
  mode: number
  uid: number
  gid: number
  size: number
  /** Inode number shown by stat only with `useIno`; uint32 (higher bits are lost). */
  ino?: number
  /** Defaults to 1 when omitted or 0. */
  nlink?: number
  dev?: number
  rdev?: number
  blksize?: number
  blocks?: number
  atime: Date | number
  mtime: Date | number
  ctime: Date | number
}

export interface StatFs {
  bsize?: number
  frsize?: number
  blocks?: number
  bfree?: number
  bavail?: number
  files?: number
  ffree?: number
  favail?: number
  fsid?: number
  flag?: number
  namemax?: number
}

/** 0 or a negative errno. */
export type Errno = number
export type DoneCb = (err: Errno) => void
/** Result of read/write: bytes transferred (>= 0) or a negative errno. */
export type CountCb = (result: number) => void

/** fuse-native op handlers (argument orders are those of fuse-native's index.js, not its README). */
export interface FuseOps {
  init?(cb: DoneCb): void
  access?(path: string, mode: number, cb: DoneCb): void
  statfs?(path: string, cb: (err: Errno, statfs?: StatFs) => void): void
  getattr?(path: string, cb: (err: Errno, stat?: Stat) => void): void
  /** Called by libfuse only for requests that carry a file handle; NOT for fstat(2) on Linux (see native.test.ts). */
  fgetattr?(path: string | null, fd: number, cb: (err: Errno, stat?: Stat) => void): void
  flush?(path: string | null, fd: number, cb: DoneCb): void
  fsync?(path: string | null, datasync: number, fd: number, cb: DoneCb): void
  fsyncdir?(path: string | null, datasync: number, fd: number, cb: DoneCb): void
  /** Stats given here are ignored by libfuse 2 (no readdirplus); names and stats must have equal length if stats are given. */
  readdir?(path: string, cb: (err: Errno, names?: string[], stats?: Stat[]) => void): void
  truncate?(path: string, size: number, cb: DoneCb): void
  ftruncate?(path: string | null, fd: number, size: number, cb: DoneCb): void
  /** atime/mtime in ms since the epoch. */
  utimens?(path: string, atime: number, mtime: number, cb: DoneCb): void
  readlink?(path: string, cb: (err: Errno, target?: string) => void): void
  chown?(path: string, uid: number, gid: number, cb: DoneCb): void
  chmod?(path: string, mode: number, cb: DoneCb): void
  mknod?(path: string, mode: number, dev: number, cb: DoneCb): void
  /** `value` is only valid until cb is called: copy it. */
  setxattr?(path: string, name: string, value: Buffer, position: number, flags: number, cb: DoneCb): void
  /** Answer cb(0, buffer) with the value, cb(0, null) for ENODATA. */
  getxattr?(path: string, name: string, position: number, cb: (err: Errno, value?: Buffer | null) => void): void
  listxattr?(path: string, cb: (err: Errno, names?: string[]) => void): void
  removexattr?(path: string, name: string, cb: DoneCb): void
  /** Answer cb(0, fh); fh is a uint32 and 0 means "no handle". */
  open?(path: string, flags: number, cb: (err: Errno, fd?: number) => void): void
  /** Stock bug kept: `flags` actually receives the (still 0) file handle. */
  opendir?(path: string, flags: number, cb: (err: Errno, fd?: number) => void): void
  /** `buf` is detached once cb runs: fill it before calling cb. */
  read?(path: string | null, fd: number, buf: Buffer, len: number, position: number, cb: CountCb): void
  /** `buf` is detached once cb runs: copy what you keep (Buffer.from(buf.subarray(0, len))). */
  write?(path: string | null, fd: number, buf: Buffer, len: number, position: number, cb: CountCb): void
  release?(path: string | null, fd: number, cb: DoneCb): void
  releasedir?(path: string | null, fd: number, cb: DoneCb): void
  create?(path: string, mode: number, cb: (err: Errno, fd?: number) => void): void
  unlink?(path: string, cb: DoneCb): void
  rename?(src: string, dest: string, cb: DoneCb): void
  /** link(existing, newPath). */
  link?(src: string, dest: string, cb: DoneCb): void
  /** symlink(target, linkPath): `target` is the link's content. */
  symlink?(target: string, path: string, cb: DoneCb): void
  mkdir?(path: string, mode: number, cb: DoneCb): void
  rmdir?(path: string, cb: DoneCb): void
}

/** Mount options; every -o option is produced by buildMountOptions(). */
export interface MountOptions {
  /** `-o use_ino`: stat shows our `ino` instead of libfuse node ids. */
  useIno?: boolean
  /** `-o hard_remove`: unlink of an open file calls unlink (no .fuse_hidden rename); fd ops then get a null path. */
  hardRemove?: boolean
  /** Seconds; 0 is passed too (the stock code drops falsy values). */
  entryTimeout?: number
  attrTimeout?: number
  negativeTimeout?: number
  acAttrTimeout?: number
  allowOther?: boolean
  allowRoot?: boolean
  defaultPermissions?: boolean
  autoUnmount?: boolean
  fsname?: string
  subtype?: string
  uid?: number
  gid?: number
  umask?: number
  kernelCache?: boolean
  autoCache?: boolean
  directIo?: boolean
  maxRead?: number
  blksize?: number
  noforget?: boolean
  debug?: boolean
  /** Raw extra options, e.g. 'max_write=131072'. */
  extra?: string[]
}

export type TimeoutOption = number | false | ({ default?: number } & Partial<Record<keyof FuseOps, number | false>>)

export interface FuseOptions extends MountOptions {
  /** Per-op timeout in ms; default here is false (no timeout). */
  timeout?: TimeoutOption
  /**
   * Called when an op handler throws synchronously; the request is then answered EIO. (Unguarded,
   * the exception would escape to the event loop and the kernel request would never be answered:
   * the caller hangs unkillably in D state until the connection is aborted.) Default: console.error.
   */
  onError?: (error: unknown, op: string) => void
  /** Unmount a stale (ENOTCONN) mount at the mountpoint first. */
  force?: boolean
  /** Create the mountpoint if missing. */
  mkdir?: boolean
}

/** Max bytes of the -o string: fuse-native copies it into a 1024-byte buffer (silently truncated). */
const MAX_OPTIONS_LENGTH = 1023

function optValue (name: string, v: string | number): string {
  const s = String(v)
  if (s === '' || /[,\s\\]/.test(s)) throw new Error(`mount option ${name}: invalid value ${JSON.stringify(s)}`)
  return `${name}=${s}`
}

function nonNegative (name: string, v: number): string {
  if (!Number.isFinite(v) || v < 0) throw new Error(`mount option ${name}: must be a non-negative number, got ${v}`)
  return optValue(name, v)
}

/** The single `-o...` argument for these options ('' when none). Throws on invalid values or if too long. */
export function buildMountOptions (opts: MountOptions): string {
  const o: string[] = []
  if (opts.debug) o.push('debug')
  if (opts.allowOther) o.push('allow_other')
  if (opts.allowRoot) o.push('allow_root')
  if (opts.autoUnmount) o.push('auto_unmount')
  if (opts.defaultPermissions) o.push('default_permissions')
  if (opts.useIno) o.push('use_ino')
  if (opts.hardRemove) o.push('hard_remove')
  if (opts.kernelCache) o.push('kernel_cache')
  if (opts.autoCache) o.push('auto_cache')
  if (opts.directIo) o.push('direct_io')
  if (opts.noforget) o.push('noforget')
  if (opts.fsname !== undefined) o.push(optValue('fsname', opts.fsname))
  if (opts.subtype !== undefined) o.push(optValue('subtype', opts.subtype))
  if (opts.entryTimeout !== undefined) o.push(nonNegative('entry_timeout', opts.entryTimeout))
  if (opts.attrTimeout !== undefined) o.push(nonNegative('attr_timeout', opts.attrTimeout))
  if (opts.negativeTimeout !== undefined) o.push(nonNegative('negative_timeout', opts.negativeTimeout))
  if (opts.acAttrTimeout !== undefined) o.push(nonNegative('ac_attr_timeout', opts.acAttrTimeout))
  if (opts.uid !== undefined) o.push(nonNegative('uid', opts.uid))
  if (opts.gid !== undefined) o.push(nonNegative('gid', opts.gid))
  if (opts.umask !== undefined) o.push(optValue('umask', opts.umask.toString(8).padStart(4, '0')))
  if (opts.maxRead !== undefined) o.push(nonNegative('max_read', opts.maxRead))
  if (opts.blksize !== undefined) o.push(nonNegative('blksize', opts.blksize))
  for (const e of opts.extra ?? []) {
    if (e === '' || /[,\s]/.test(e)) throw new Error(`mount option: invalid extra option ${JSON.stringify(e)}`)
    o.push(e)
  }
  const s = o.length > 0 ? '-o' + o.join(',') : ''
  if (Buffer.byteLength(s) > MAX_OPTIONS_LENGTH) throw new Error(`mount options too long (${Buffer.byteLength(s)} > ${MAX_OPTIONS_LENGTH} bytes)`)
  return s
}

// --- the untyped CommonJS class, typed as much as eventfs needs
interface FuseNativeInstance {
  readonly mnt: string
  readonly opts: FuseOptions
  readonly ops: FuseOps
  mount (cb: (err: Error | null) => void): void
  unmount (cb: (err: Error | null) => void): void
  context (): CallerContext | null
  _fuseOptions (): string
}

interface FuseNativeClass {
  new (mnt: string, ops: FuseOps, opts?: FuseOptions): FuseNativeInstance
  unmount (mnt: string, cb: (err: Error | null) => void): void
  readonly hasCallerContext?: boolean
}

const require = createRequire(import.meta.url)
const FuseNative = require('fuse-native') as FuseNativeClass
const ERRNO = require('fuse-native') as Record<string, number>

/**
 * Whether the addon runs on eventfs's patched libfuse (patches/libfuse-2.9.9-eventfs.patch, via the
 * addon's rpath), which takes a positive unlink result as "success, the name stays". On the stock
 * libfuse a positive result would reach the caller as ERANGE, so it must not be used there.
 */
export const PATCHED_LIBFUSE = readFileSync('/proc/self/maps', 'utf8').includes('/.eventfs/libfuse/libfuse.so.2')

/** The native reply of getxattr/listxattr: a length or negative errno, and the buffer to detach. */
type XattrSignal = (result: number, buffer: ArrayBufferLike) => void

export class Fuse extends FuseNative {
  constructor (mnt: string, ops: FuseOps, opts: FuseOptions = {}) {
    if (FuseNative.hasCallerContext !== true) {
      throw new Error('fuse-native is not the eventfs-patched build: run `node scripts/build-fuse-native.mjs`')
    }
    buildMountOptions(opts) // validate early (mount would otherwise fail later, inside fuse-native)
    super(mnt, guardOps(ops, opts.onError ?? reportToConsole), { timeout: false, ...opts })
  }

  override _fuseOptions (): string {
    return buildMountOptions(this.opts)
  }

  /**
   * The caller of the op being handled. Call it synchronously at the start of an op handler,
   * before any await or callback: it throws anywhere else (the value belongs to one request).
   */
  override context (): CallerContext {
    const c = super.context()
    if (c === null) throw new Error('fuse.context() called outside the synchronous part of an op handler')
    return c
  }

  /**
   * Stock fuse-native copies a value longer than the caller's buffer (truncated) and still reports
   * its full length, which libfuse then sends from past the end of its buffer. A caller asking with
   * a buffer too small gets ERANGE, as getxattr(2) and listxattr(2) promise.
   */
  _op_getxattr (signal: XattrSignal, path: string, name: string, valueBuf: Buffer, position: number): void {
    this.ops.getxattr!(path, name, position, (err, value) => {
      if (err) return signal(err, valueBuf.buffer)
      if (!value) return signal(Errnos.ENODATA, valueBuf.buffer)
      if (valueBuf.length > 0 && value.length > valueBuf.length) return signal(Errnos.ERANGE, valueBuf.buffer)
      value.copy(valueBuf)
      return signal(value.length, valueBuf.buffer)
    })
  }

  _op_listxattr (signal: XattrSignal, path: string, listBuf: Buffer): void {
    this.ops.listxattr!(path, (err, list) => {
      if (err || !list) return signal(err || Errnos.EIO, listBuf.buffer)
      const bytes = list.reduce((sum, key) => sum + Buffer.byteLength(key) + 1, 0)
      if (listBuf.length === 0) return signal(bytes, listBuf.buffer)
      if (bytes > listBuf.length) return signal(Errnos.ERANGE, listBuf.buffer)
      let at = 0
      for (const key of list) {
        at += listBuf.write(key, at)
        listBuf[at++] = 0
      }
      return signal(at, listBuf.buffer)
    })
  }

  /** Resolves once the filesystem is mounted and init has run. */
  mountAsync (): Promise<void> {
    return new Promise((resolve, reject) => this.mount((err) => (err ? reject(err) : resolve())))
  }

  /** `fusermount -uz` (lazy) then release the native side. Resolves even while fds stay open. */
  unmountAsync (): Promise<void> {
    return new Promise((resolve, reject) => this.unmount((err) => (err ? reject(err) : resolve())))
  }

  /** `fusermount -uz MNT` for a (possibly stale) mount not owned by this process. */
  static unmountPath (mnt: string): Promise<void> {
    return new Promise((resolve, reject) => FuseNative.unmount(mnt, (err) => (err ? reject(err) : resolve())))
  }
}

function reportToConsole (error: unknown, op: string): void {
  console.error(`eventfs: ${op} handler threw:`, error)
}

/**
 * Wraps each handler so that a synchronous throw answers EIO (via the handler's callback, its last
 * argument) instead of leaving the kernel request unanswered. The wrapper calls the handler
 * synchronously, so fuse.context() stays valid inside it.
 */
function guardOps (ops: FuseOps, onError: (error: unknown, op: string) => void): FuseOps {
  const guarded: Record<string, unknown> = {}
  for (const [name, fn] of Object.entries(ops) as Array<[string, unknown]>) {
    if (typeof fn !== 'function') continue
    guarded[name] = (...args: unknown[]): void => {
      const cb = args[args.length - 1] as (err: number) => void
      let answered = false
      args[args.length - 1] = (...res: unknown[]) => { answered = true; (cb as (...a: unknown[]) => void)(...res) }
      try {
        (fn as (...a: unknown[]) => void).apply(ops, args) // `this` stays the caller's ops object
      } catch (error) {
        onError(error, name)
        if (!answered) cb(ERRNO.EIO ?? -5)
      }
    }
  }
  return guarded as FuseOps
}

/** What utimens receives for UTIME_NOW and UTIME_OMIT (patch item 5): above any real time in ms. */
export const UTIME_NOW_MS = ERRNO.UTIME_NOW_MS!
export const UTIME_OMIT_MS = ERRNO.UTIME_OMIT_MS!

/** Negative errno values, as fuse-native expects them in callbacks. */
export const Errnos = {
  EPERM: ERRNO.EPERM,
  ENOENT: ERRNO.ENOENT,
  EIO: ERRNO.EIO,
  EBADF: ERRNO.EBADF,
  EAGAIN: ERRNO.EAGAIN,
  EACCES: ERRNO.EACCES,
  EBUSY: ERRNO.EBUSY,
  EEXIST: ERRNO.EEXIST,
  EXDEV: ERRNO.EXDEV,
  ENOTDIR: ERRNO.ENOTDIR,
  EISDIR: ERRNO.EISDIR,
  EINVAL: ERRNO.EINVAL,
  EFBIG: ERRNO.EFBIG,
  ENOSPC: ERRNO.ENOSPC,
  EROFS: ERRNO.EROFS,
  EMLINK: ERRNO.EMLINK,
  ERANGE: ERRNO.ERANGE,
  ENAMETOOLONG: ERRNO.ENAMETOOLONG,
  ENOSYS: ERRNO.ENOSYS,
  ENOTEMPTY: ERRNO.ENOTEMPTY,
  ENODATA: ERRNO.ENODATA,
  EOPNOTSUPP: ERRNO.EOPNOTSUPP,
  EDQUOT: ERRNO.EDQUOT
} as const
