/**
 * The FUSE op table: path -> command -> engine -> reply. No business rules here; every rule is
 * in src/model/decide.ts. Each op captures its caller synchronously (the context belongs to the
 * request being dispatched) before anything asynchronous happens.
 */
import { limitsFor } from '../config/limits.ts';
import {
  listQueue, resolve, type Caller, type Command, type CommandBody, type Errno, type Node,
} from '../model/index.ts';
import type { Engine, Outcome } from './engine.ts';
import { toFuseCode } from './errno.ts';
import type { Handles } from './handles.ts';
import { UTIME_NOW_MS, UTIME_OMIT_MS, type DoneCb, type FuseOps, type StatFs } from './native.ts';
import type { Reaper } from './reaper.ts';
import { statFile, statFor } from './stat.ts';

export type OpsDeps = {
  engine: Engine;
  handles: Handles;
  reaper: Reaper;
  /** The caller of the request being dispatched (valid only synchronously inside an op). */
  caller: () => Caller;
  now: () => number;
  /** Whether libfuse keeps a name's node on a positive unlink result (native.ts PATCHED_LIBFUSE). */
  patchedLibfuse: boolean;
  /** Logs an unexpected exception; the request then fails with EIO. */
  report: (error: unknown) => void;
};

/** libfuse 2 renames an open file it is asked to unlink to .fuse_hiddenNNNN, and unlinks that on release. */
const HIDDEN_PREFIX = '.fuse_hidden';
const isHiddenName = (path: string): boolean => path.slice(path.lastIndexOf('/') + 1).startsWith(HIDDEN_PREFIX);
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const NAME_BYTES_MAX = 255;
const BLOCK_BYTES = 4096;
const UINT32_MAX = 0xffffffff;
/** The positive unlink result our libfuse reads as "done, the name stays". */
const NAME_STAYS = 1;

export function makeOps(deps: OpsDeps): FuseOps {
  const { engine, handles, reaper } = deps;
  const state = engine.state;

  /** Runs a command for the current caller and answers cb with 0 or the errno (at once when it can). */
  const run = (cb: DoneCb, body: CommandBody, by: Caller = deps.caller()): void => {
    const cmd = { ...body, by, atMs: deps.now() } as Command;
    const outcome = engine.run(cmd);
    reply(cb, outcome instanceof Promise ? outcome.then((late) => retryIfOverQuota(cmd, late)) : retryIfOverQuota(cmd, outcome));
  };
  /** Answers cb with 0 or the errno: at once for an outcome, when it settles for a promise. */
  const reply = (cb: DoneCb, outcome: Outcome | Promise<Outcome>): void => {
    if (outcome instanceof Promise) outcome.then((late) => answer(cb, late), (error) => fail(cb, error));
    else answer(cb, outcome);
  };
  /**
   * Queues of dead creators still count against quotas until the reaper sees them (on access, or
   * at its next sweep). Before answering EDQUOT, reap whatever is dead and decide once more, so a
   * user whose previous process just exited is not refused for what that process left behind.
   * (No costlier than `ls` of the root, which sweeps the same way.)
   */
  const retryIfOverQuota = (cmd: Command, outcome: Outcome): Outcome | Promise<Outcome> => {
    if (outcome !== 'EDQUOT') return outcome;
    const seq = state.seq;
    reaper.checkAll();
    return state.seq === seq ? 'EDQUOT' : engine.run(cmd);
  };
  const fail = (cb: (code: number) => void, error: unknown): void => {
    deps.report(error);
    cb(toFuseCode('EIO'));
  };
  /**
   * After `rm QUEUE/head` (or tail) the name still stands, naming the next file. Our libfuse takes
   * a positive unlink result as success without forgetting its node for the name, so a reader
   * racing the pop never finds head gone (patches/libfuse-2.9.9-eventfs.patch).
   */
  const namesStay = (path: string): boolean => deps.patchedLibfuse && typeof resolve(state, path) !== 'string';
  /** Resolves a path; a lookup of a queue first reaps it if its creator is gone. */
  const lookup = (path: string): Node | Errno => {
    reaper.checkPath(path);
    return resolve(state, path);
  };
  const openFile = (path: string, cb: (code: number, fh?: number) => void): void => {
    const node = resolve(state, path);
    if (typeof node === 'string') return cb(toFuseCode(node));
    if (node.kind !== 'file') return cb(toFuseCode('EISDIR'));
    cb(0, handles.add(node.inode, path));
  };
  /** flush/fsync/release of a written file wait for its data to be durable (close mode's promise). */
  const settle = (fh: number, force: boolean, cb: DoneCb): void => {
    const handle = handles.get(fh);
    if (handle === undefined || (!handle.dirty && !force) || (engine.durability === 'none' && !force)) return cb(0);
    handle.dirty = false;
    reply(cb, engine.sync());
  };

  return {
    init: (cb) => cb(0),
    access: (_path, _mode, cb) => cb(0),
    statfs: (_path, cb) => cb(0, statfsFor(engine, deps.caller())),
    getattr(path, cb) {
      const node = lookup(path);
      if (typeof node !== 'string') return cb(0, statFor(state, node));
      // fstat of an open file that libfuse hid on unlink arrives as a getattr of its hidden name.
      const hidden = isHiddenName(path) ? handles.byPath(path) : undefined;
      if (hidden !== undefined) return cb(0, statFile(hidden.inode));
      cb(toFuseCode(node));
    },
    fgetattr(path, fd, cb) {
      const handle = handles.get(fd);
      if (handle !== undefined) return cb(0, statFile(handle.inode));
      if (path === null) return cb(toFuseCode('EBADF'));
      const node = resolve(state, path);
      if (typeof node === 'string') return cb(toFuseCode(node));
      cb(0, statFor(state, node));
    },
    readdir(path, cb) {
      if (path === '/') reaper.checkAll();
      const node = lookup(path);
      if (typeof node === 'string') return cb(toFuseCode(node));
      if (node.kind === 'root') return cb(0, ['.', '..', ...state.queues.keys()]);
      if (node.kind === 'queue') return cb(0, ['.', '..', ...listQueue(node.queue)]);
      cb(toFuseCode('ENOTDIR'));
    },
    readlink(path, cb) {
      const node = resolve(state, path);
      if (typeof node === 'string') return cb(toFuseCode(node));
      if (node.kind !== 'link') return cb(toFuseCode('EINVAL'));
      cb(0, node.entry.name);
    },
    open: (path, _flags, cb) => openFile(path, cb),
    create(path, mode, cb) {
      const by = deps.caller();
      run((code) => (code === 0 ? openFile(path, cb) : cb(code)), { type: 'create', path, mode }, by);
    },
    mknod(path, mode, _dev, cb) {
      if ((mode & S_IFMT) !== S_IFREG && (mode & S_IFMT) !== 0) return cb(toFuseCode('EPERM'));
      run(cb, { type: 'create', path, mode });
    },
    read(_path, fd, buf, len, position, cb) {
      const handle = handles.get(fd);
      if (handle === undefined) return cb(toFuseCode('EBADF'));
      const { data, size } = handle.inode;
      const end = Math.min(size, position + len);
      cb(end > position ? data.copy(buf, 0, position, end) : 0);
    },
    write(_path, fd, buf, len, position, cb) {
      const handle = handles.get(fd);
      if (handle === undefined) return cb(toFuseCode('EBADF'));
      // The buffer is detached once cb runs, and the event keeps these bytes: copy them.
      const data = Buffer.from(buf.subarray(0, len));
      handle.dirty = true;
      run((code) => cb(code === 0 ? len : code), { type: 'write', ino: handle.inode.ino, offset: position, data });
    },
    truncate(path, size, cb) {
      const node = resolve(state, path);
      if (typeof node === 'string') return cb(toFuseCode(node));
      if (node.kind !== 'file') return cb(toFuseCode('EISDIR'));
      run(cb, { type: 'truncate', ino: node.inode.ino, size });
    },
    ftruncate(_path, fd, size, cb) {
      const handle = handles.get(fd);
      if (handle === undefined) return cb(toFuseCode('EBADF'));
      handle.dirty = true;
      run(cb, { type: 'truncate', ino: handle.inode.ino, size });
    },
    flush: (_path, fd, cb) => settle(fd, false, cb),
    fsync: (_path, _datasync, fd, cb) => settle(fd, true, cb),
    release(_path, fd, cb) {
      settle(fd, false, (code) => {
        handles.release(fd);
        cb(code);
      });
    },
    unlink(path, cb) {
      // The release of a hidden open file: its name left the model when it was hidden.
      if (isHiddenName(path) && typeof resolve(state, path) === 'string') return cb(0);
      run((code) => cb(code === 0 && namesStay(path) ? NAME_STAYS : code), { type: 'unlink', path });
    },
    mkdir: (path, mode, cb) => run(cb, { type: 'mkdir', path, mode }),
    rmdir: (path, cb) => run(cb, { type: 'rmdir', path }),
    link: (from, to, cb) => run(cb, { type: 'link', from, to }),
    rename(from, to, cb) {
      // Queues are ordered by creation: a rename would be a silent re-creation, so it is refused.
      // The one rename eventfs takes is libfuse hiding an open file it was asked to unlink.
      if (!isHiddenName(to)) return cb(toFuseCode('ENOSYS'));
      run((code) => {
        if (code === 0) handles.repath(from, to);
        cb(code);
      }, { type: 'unlink', path: from });
    },
    symlink: (_target, _path, cb) => cb(toFuseCode('EPERM')),
    chmod: (path, mode, cb) => run(cb, { type: 'chmod', path, mode }),
    chown: (path, uid, gid, cb) => run(cb, { type: 'chown', path, uid, gid }),
    utimens(path, atime, mtime, cb) {
      // touch -m / -a leave one time alone (UTIME_OMIT); plain touch asks for the current time.
      const node = resolve(state, path);
      const times = typeof node === 'string' ? null : node.kind === 'queue' ? node.queue : node.kind === 'file' ? node.inode : null;
      const now = deps.now();
      const pick = (value: number, current: number): number => (value === UTIME_NOW_MS ? now : value === UTIME_OMIT_MS ? current : value);
      run(cb, { type: 'utimens', path, atimeMs: pick(atime, times?.atimeMs ?? now), mtimeMs: pick(mtime, times?.mtimeMs ?? now) });
    },
    setxattr(path, name, value, _position, flags, cb) {
      run(cb, { type: 'setxattr', path, key: name, value: Buffer.from(value), flags });
    },
    getxattr(path, name, _position, cb) {
      const node = resolve(state, path);
      if (typeof node === 'string') return cb(toFuseCode(node));
      cb(0, xattrsOf(node)?.get(name) ?? null);
    },
    listxattr(path, cb) {
      const node = resolve(state, path);
      if (typeof node === 'string') return cb(toFuseCode(node));
      cb(0, [...(xattrsOf(node)?.keys() ?? [])]);
    },
    removexattr: (path, name, cb) => run(cb, { type: 'removexattr', path, key: name }),
  };
}

function answer(cb: DoneCb, outcome: Outcome): void {
  cb(outcome === null ? 0 : toFuseCode(outcome));
}

function xattrsOf(node: Node): Map<string, Buffer> | null {
  if (node.kind === 'queue') return node.queue.xattrs;
  if (node.kind === 'file') return node.inode.xattrs;
  return null;
}

/** df shows the caller's own byte and file budget, so a user sees how close they are to EDQUOT. */
function statfsFor(engine: Engine, caller: Caller): StatFs {
  const { state } = engine;
  const usage = state.userUsage.get(caller.uid) ?? { dirs: 0, files: 0, bytes: 0 };
  const limits = state.quotas === null ? null : limitsFor(state.quotas, caller.uid, caller.gid).user;
  // statvfs fields travel as uint32 through fuse-native: cap "unlimited" below 2^32.
  const blocks = Math.min(UINT32_MAX, Math.ceil((limits?.maxBytes ?? Infinity) / BLOCK_BYTES));
  const filesMax = Math.min(UINT32_MAX, limits?.maxFiles ?? Infinity);
  const used = Math.ceil(usage.bytes / BLOCK_BYTES);
  const free = Math.max(0, blocks - used);
  const ffree = Math.max(0, filesMax - usage.files);
  return { bsize: BLOCK_BYTES, frsize: BLOCK_BYTES, blocks, bfree: free, bavail: free, files: filesMax, ffree, favail: ffree, namemax: NAME_BYTES_MAX };
}
