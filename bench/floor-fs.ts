/**
 * The no-log floor: a minimal in-memory fuse-native filesystem with no log, no rules, no quotas
 * and no caller lookups in /proc; just enough for the bench clients (queues as directories, files
 * in creation order, head/tail symlinks, hard links, pops through head/tail, libfuse's hide-rename
 * of open files, getxattr answering "no such attribute"). It runs on the same patched
 * fuse-native (src/fs/native.ts) with the same mount options as src/fs/daemon.ts's mountFuse, so
 * it is the fastest a Node FUSE daemon gets here: what eventfs is measured against.
 *
 * Usage: node --import tsx bench/floor-fs.ts MOUNTPOINT
 * Prints "ready" on fd 3 when EVENTFS_READY_FD=3 (like bin/eventfs.js -f); SIGTERM unmounts.
 */
import { createWriteStream } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Errnos, Fuse, type FuseOps, type Stat } from '../src/fs/native.ts';

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const { ENOENT } = Errnos;

type Inode = { ino: number; mode: number; uid: number; gid: number; nlink: number; size: number; data: Buffer; mtimeMs: number };
type Entry = { name: string; inode: Inode; prev: Entry | null; next: Entry | null };
type Dir = { ino: number; mode: number; uid: number; gid: number; mtimeMs: number; entries: Map<string, Entry>; head: Entry | null; tail: Entry | null; hidden: Map<string, Inode> };

const dirs = new Map<string, Dir>();
const handles = new Map<number, Inode>();
let nextIno = 2;
let nextFh = 1;
const rootTime = Date.now();
const EMPTY = Buffer.alloc(0);

/** '/q/name' -> ['q', 'name']; '/q' -> ['q', null]; '/' -> [null, null]. */
function split(path: string): [string | null, string | null] {
  if (path === '/') return [null, null];
  const slash = path.indexOf('/', 1);
  if (slash < 0) return [path.slice(1), null];
  return [path.slice(1, slash), path.slice(slash + 1)];
}

function statDir(dir: Dir): Stat {
  return { mode: S_IFDIR | dir.mode, uid: dir.uid, gid: dir.gid, size: dir.entries.size, ino: dir.ino, nlink: 2, atime: dir.mtimeMs, mtime: dir.mtimeMs, ctime: dir.mtimeMs };
}

function statFile(inode: Inode): Stat {
  return { mode: S_IFREG | inode.mode, uid: inode.uid, gid: inode.gid, size: inode.size, ino: inode.ino, nlink: inode.nlink, atime: inode.mtimeMs, mtime: inode.mtimeMs, ctime: inode.mtimeMs };
}

function statLink(dir: Dir, which: string, target: string): Stat {
  return { mode: S_IFLNK | 0o777, uid: 0, gid: 0, size: Buffer.byteLength(target), ino: dir.ino + (which === 'head' ? 1 : 2), nlink: 1, atime: dir.mtimeMs, mtime: dir.mtimeMs, ctime: dir.mtimeMs };
}

function linkTarget(dir: Dir, name: string): Entry | null | undefined {
  if (name === 'head') return dir.head;
  if (name === 'tail') return dir.tail;
  return undefined;
}

function append(dir: Dir, name: string, inode: Inode): void {
  const entry: Entry = { name, inode, prev: dir.tail, next: null };
  if (dir.tail === null) dir.head = entry;
  else dir.tail.next = entry;
  dir.tail = entry;
  dir.entries.set(name, entry);
  inode.nlink++;
  dir.mtimeMs = Date.now();
}

function remove(dir: Dir, entry: Entry): void {
  if (entry.prev === null) dir.head = entry.next;
  else entry.prev.next = entry.next;
  if (entry.next === null) dir.tail = entry.prev;
  else entry.next.prev = entry.prev;
  dir.entries.delete(entry.name);
  entry.inode.nlink--;
  dir.mtimeMs = Date.now();
}

function write(inode: Inode, buf: Buffer, len: number, position: number): void {
  const end = position + len;
  if (end > inode.data.length) {
    const grown = Buffer.alloc(inode.size === 0 ? end : Math.max(end, inode.data.length * 2));
    inode.data.copy(grown, 0, 0, inode.size);
    inode.data = grown;
  }
  buf.copy(inode.data, position, 0, len);
  if (end > inode.size) inode.size = end;
  inode.mtimeMs = Date.now();
}

export function makeFloorOps(context: () => { uid: number; gid: number }): FuseOps {
  const openInode = (inode: Inode): number => {
    const fh = nextFh++;
    handles.set(fh, inode);
    return fh;
  };
  const fileOf = (path: string): Inode | undefined => {
    const [q, name] = split(path);
    if (q === null || name === null) return undefined;
    return dirs.get(q)?.entries.get(name)?.inode;
  };
  return {
    init: (cb) => cb(0),
    access: (_path, _mode, cb) => cb(0),
    statfs: (_path, cb) => cb(0, { bsize: 4096, frsize: 4096, blocks: 1 << 20, bfree: 1 << 20, bavail: 1 << 20, files: 1 << 20, ffree: 1 << 20, favail: 1 << 20, namemax: 255 }),
    getattr(path, cb) {
      const [q, name] = split(path);
      if (q === null) return cb(0, { mode: S_IFDIR | 0o1777, uid: 0, gid: 0, size: dirs.size, ino: 1, nlink: 2, atime: rootTime, mtime: rootTime, ctime: rootTime });
      const dir = dirs.get(q);
      if (dir === undefined) return cb(ENOENT);
      if (name === null) return cb(0, statDir(dir));
      const entry = dir.entries.get(name);
      if (entry !== undefined) return cb(0, statFile(entry.inode));
      const link = linkTarget(dir, name);
      if (link) return cb(0, statLink(dir, name, link.name));
      const hidden = dir.hidden.get(name);
      if (hidden !== undefined) return cb(0, statFile(hidden));
      cb(ENOENT);
    },
    fgetattr(path, fd, cb) {
      const inode = handles.get(fd);
      if (inode !== undefined) return cb(0, statFile(inode));
      cb(ENOENT);
    },
    readdir(path, cb) {
      const [q] = split(path);
      if (q === null) return cb(0, ['.', '..', ...dirs.keys()]);
      const dir = dirs.get(q);
      if (dir === undefined) return cb(ENOENT);
      const names = ['.', '..'];
      for (let e = dir.head; e !== null; e = e.next) names.push(e.name);
      if (dir.head !== null) names.push('head', 'tail');
      cb(0, names);
    },
    readlink(path, cb) {
      const [q, name] = split(path);
      const dir = q === null ? undefined : dirs.get(q);
      const link = dir === undefined || name === null ? undefined : linkTarget(dir, name);
      if (!link) return cb(ENOENT);
      cb(0, link.name);
    },
    mkdir(path, mode, cb) {
      const [q] = split(path);
      const { uid, gid } = context();
      const ino = nextIno;
      nextIno += 3;
      dirs.set(q!, { ino, mode: mode & 0o7777, uid, gid, mtimeMs: Date.now(), entries: new Map(), head: null, tail: null, hidden: new Map() });
      cb(0);
    },
    rmdir(path, cb) {
      const [q] = split(path);
      dirs.delete(q!);
      cb(0);
    },
    create(path, mode, cb) {
      const [q, name] = split(path);
      const dir = q === null ? undefined : dirs.get(q);
      if (dir === undefined || name === null) return cb(ENOENT);
      const { uid, gid } = context();
      const inode: Inode = { ino: nextIno++, mode: mode & 0o7777, uid, gid, nlink: 0, size: 0, data: EMPTY, mtimeMs: Date.now() };
      append(dir, name, inode);
      cb(0, openInode(inode));
    },
    open(path, _flags, cb) {
      const inode = fileOf(path);
      if (inode === undefined) return cb(ENOENT);
      cb(0, openInode(inode));
    },
    read(_path, fd, buf, len, position, cb) {
      const inode = handles.get(fd);
      if (inode === undefined) return cb(ENOENT);
      const end = Math.min(inode.size, position + len);
      cb(end > position ? inode.data.copy(buf, 0, position, end) : 0);
    },
    write(_path, fd, buf, len, position, cb) {
      const inode = handles.get(fd);
      if (inode === undefined) return cb(ENOENT);
      write(inode, buf, len, position);
      cb(len);
    },
    truncate(path, size, cb) {
      const inode = fileOf(path);
      if (inode === undefined) return cb(ENOENT);
      inode.size = Math.min(size, inode.size);
      cb(0);
    },
    ftruncate(_path, fd, size, cb) {
      const inode = handles.get(fd);
      if (inode === undefined) return cb(ENOENT);
      inode.size = Math.min(size, inode.size);
      cb(0);
    },
    flush: (_path, _fd, cb) => cb(0),
    fsync: (_path, _datasync, _fd, cb) => cb(0),
    release(_path, fd, cb) {
      handles.delete(fd);
      cb(0);
    },
    unlink(path, cb) {
      const [q, name] = split(path);
      const dir = q === null ? undefined : dirs.get(q);
      if (dir === undefined || name === null) return cb(ENOENT);
      if (dir.hidden.delete(name)) return cb(0);
      const entry = linkTarget(dir, name) ?? dir.entries.get(name);
      if (!entry) return cb(ENOENT);
      remove(dir, entry);
      cb(0);
    },
    link(from, to, cb) {
      const inode = fileOf(from);
      const [q, name] = split(to);
      const dir = q === null ? undefined : dirs.get(q);
      if (inode === undefined || dir === undefined || name === null) return cb(ENOENT);
      append(dir, name, inode);
      cb(0);
    },
    rename(from, to, cb) {
      // Only libfuse hiding an open file it was asked to unlink (same queue, .fuse_hiddenNNN).
      const [q, name] = split(from);
      const [, hiddenName] = split(to);
      const dir = q === null ? undefined : dirs.get(q);
      const entry = dir === undefined || name === null ? undefined : dir.entries.get(name);
      if (dir === undefined || entry === undefined || hiddenName === null) return cb(ENOENT);
      remove(dir, entry);
      dir.hidden.set(hiddenName, entry.inode);
      cb(0);
    },
    // eventfs must serve xattrs (user.eventfs_sticky), and a filesystem that implements getxattr
    // is asked for security.capability before the first write to each file (a filesystem without
    // it answers ENOSYS once and is never asked again). The floor answers ENODATA the same way,
    // so that both see the same request stream.
    getxattr: (_path, _name, _position, cb) => cb(0, null),
    listxattr: (_path, cb) => cb(0, []),
    utimens: (_path, _atime, _mtime, cb) => cb(0),
    chmod: (_path, _mode, cb) => cb(0),
  };
}

async function main(mountpoint: string): Promise<void> {
  let fuse: Fuse | null = null;
  const context = () => fuse!.context();
  // The option set of src/fs/daemon.ts mountFuse (allow_other as eventfs picks it when run as root).
  fuse = new Fuse(mountpoint, makeFloorOps(context), {
    useIno: true, entryTimeout: 0, attrTimeout: 0, negativeTimeout: 0,
    allowOther: process.getuid?.() === 0, defaultPermissions: true,
    fsname: 'floorfs', subtype: 'floorfs', force: true,
  });
  await fuse.mountAsync();
  const fd = process.env.EVENTFS_READY_FD;
  if (fd !== undefined) createWriteStream('', { fd: Number(fd) }).end('ready\n');
  await new Promise<void>((done) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => done());
  });
  await fuse.unmountAsync().catch(() => undefined);
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const mountpoint = process.argv[2];
  if (mountpoint === undefined) {
    console.error('usage: floor-fs.ts MOUNTPOINT');
    process.exitCode = 64;
  } else {
    main(mountpoint).catch((error: unknown) => {
      console.error(`floor-fs: ${error instanceof Error ? error.stack : String(error)}`);
      process.exitCode = 1;
    });
  }
}
