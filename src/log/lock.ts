// One daemon per log directory. Node has no flock, so the lock is a LOCK file created atomically
// (written to a tmp file, then hard-linked into place: it is never seen empty) naming the owner's
// pid and start time. A LOCK whose owner is gone (no /proc entry, a zombie, or a reused pid with a
// different start time) is stale and taken over.
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, writeFully } from './dir.ts';
import { LogLockedError } from './errors.ts';
import { LOCK_NAME } from './format.ts';

export type LockOwner = { pid: number; startTime: number | null };
export type LogLock = { path: string; owner: LockOwner; release(): Promise<void> };

const ATTEMPTS_MAX = 3;

export async function acquireLock(dir: string): Promise<LogLock> {
  const path = join(dir, LOCK_NAME);
  const owner: LockOwner = { pid: process.pid, startTime: await procStartTime(process.pid) };
  for (let attempt = 0; attempt < ATTEMPTS_MAX; attempt++) {
    const handle = await acquireLockCreate(dir, path, owner);
    if (handle) return acquireLockHeld(path, owner, handle);
    const holder = await readLockOwner(path);
    if (holder === 'missing') continue;
    if (holder && (await isProcessAlive(holder))) throw new LogLockedError(dir, holder.pid);
    await acquireLockTakeOver(dir, path, holder);
  }
  throw new Error(`log directory ${dir}: could not take LOCK after ${ATTEMPTS_MAX} attempts (contended)`);
}

// Returns the open LOCK file, or null if another LOCK is in place.
async function acquireLockCreate(dir: string, path: string, owner: LockOwner): Promise<FileHandle | null> {
  const tmpPath = `${path}.${process.pid}.tmp`;
  const handle = await open(tmpPath, 'w');
  try {
    await writeFully(handle, Buffer.from(`${owner.pid} ${owner.startTime ?? '-'}\n`), 0);
    await handle.sync();
    await link(tmpPath, path);
  } catch (error) {
    await handle.close();
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return null;
    throw error;
  } finally {
    await unlink(tmpPath).catch(() => undefined);
  }
  await fsyncDir(dir);
  return handle;
}

function acquireLockHeld(path: string, owner: LockOwner, handle: FileHandle): LogLock {
  let released = false;
  return {
    path,
    owner,
    async release() {
      if (released) return;
      released = true;
      // Never delete a LOCK that is no longer ours (taken over after we were presumed dead).
      const holder = await readLockOwner(path);
      if (holder && holder !== 'missing' && sameOwner(holder, owner)) await unlink(path);
      await handle.close();
    },
  };
}

// Moves the stale LOCK aside first: if it turns out to be a live daemon's fresh LOCK (it replaced
// the stale one since we looked), it is put back and we refuse.
async function acquireLockTakeOver(dir: string, path: string, stale: LockOwner | null): Promise<void> {
  const movedPath = `${path}.stale.${process.pid}`;
  try {
    await rename(path, movedPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = await readLockOwner(movedPath);
  const replaced = moved && moved !== 'missing' && !(stale && sameOwner(moved, stale));
  if (replaced && (await isProcessAlive(moved))) {
    await link(movedPath, path).catch(() => undefined);
    await unlink(movedPath);
    throw new LogLockedError(dir, moved.pid);
  }
  await unlink(movedPath);
}

// null: unreadable content (treated as stale); 'missing': no LOCK file.
export async function readLockOwner(path: string): Promise<LockOwner | null | 'missing'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  const match = /^(\d+) (\d+|-)\n$/.exec(text);
  if (!match) return null;
  return { pid: Number(match[1]), startTime: match[2] === '-' ? null : Number(match[2]) };
}

function sameOwner(a: LockOwner, b: LockOwner): boolean {
  return a.pid === b.pid && a.startTime === b.startTime;
}

export async function isProcessAlive(owner: LockOwner): Promise<boolean> {
  const stat = await readProcStat(owner.pid);
  if (!stat) return false;
  if (stat.state === 'Z' || stat.state === 'X') return false;
  return owner.startTime === null || owner.startTime === stat.startTime;
}

async function procStartTime(pid: number): Promise<number | null> {
  return (await readProcStat(pid))?.startTime ?? null;
}

async function readProcStat(pid: number): Promise<{ state: string; startTime: number } | null> {
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

// /proc/PID/stat: "pid (comm) state ppid ...", where comm may contain spaces and parentheses, so
// fields are counted after the last ')'. starttime is field 22 (clock ticks since boot).
export function parseProcStat(text: string): { state: string; startTime: number } | null {
  const close = text.lastIndexOf(')');
  if (close === -1) return null;
  const fields = text.slice(close + 2).trim().split(' ');
  const startTime = Number(fields[22 - 3]);
  if (fields.length < 20 || !Number.isSafeInteger(startTime)) return null;
  return { state: fields[0]!, startTime };
}
