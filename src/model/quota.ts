/**
 * Quota accounting. Queues count against their owner, names (create or link) against whoever
 * made them, bytes once per inode against the inode's owner. A hard link is therefore one more
 * file in its target queue but no more bytes.
 */
import { limitsFor, type Limits } from '../config/limits.ts';
import type { State, Usage } from './state.ts';

export type Charge = { uid: number; gid: number; usage: Usage; perDirFiles?: number };

const ZERO: Usage = { dirs: 0, files: 0, bytes: 0 };

export function usageOf(table: Map<number, Usage>, id: number): Usage {
  return table.get(id) ?? ZERO;
}

/** Adds delta to the usage of id (apply's bookkeeping). */
export function addUsage(table: Map<number, Usage>, id: number, delta: Partial<Usage>): void {
  let usage = table.get(id);
  if (usage === undefined) {
    usage = { dirs: 0, files: 0, bytes: 0 };
    table.set(id, usage);
  }
  usage.dirs += delta.dirs ?? 0;
  usage.files += delta.files ?? 0;
  usage.bytes += delta.bytes ?? 0;
  if (usage.dirs === 0 && usage.files === 0 && usage.bytes === 0) table.delete(id);
}

/**
 * Whether charging `delta` to uid/gid keeps them within their limits. Only growth is checked:
 * a lowered quota never blocks removing things. `filesInDir` is the target queue's depth.
 */
export function withinQuota(state: State, uid: number, gid: number, delta: Usage, filesInDir: number): boolean {
  const table = state.quotas;
  if (table === null) return true;
  if (uid === 0 && table.rootExempt) return true;
  const limits = limitsFor(table, uid, gid);
  return fits(limits.user, usageOf(state.userUsage, uid), delta, filesInDir)
    && fits(limits.group, usageOf(state.groupUsage, gid), delta, filesInDir);
}

/**
 * Whether moving `delta` (a file's bytes, a queue's directory) to a new owner keeps that owner
 * within its limits: the user side only when the uid changes, the group side only when the gid does.
 */
export function withinQuotaTransfer(state: State, from: { uid: number; gid: number }, to: { uid: number; gid: number }, delta: Usage): boolean {
  const table = state.quotas;
  if (table === null) return true;
  const limits = limitsFor(table, to.uid, to.gid);
  const userFits = from.uid === to.uid || (to.uid === 0 && table.rootExempt) || fits(limits.user, usageOf(state.userUsage, to.uid), delta, 0);
  const groupFits = from.gid === to.gid || fits(limits.group, usageOf(state.groupUsage, to.gid), delta, 0);
  return userFits && groupFits;
}

function fits(limits: Limits, usage: Usage, delta: Usage, filesInDir: number): boolean {
  if (delta.dirs > 0 && !under(limits.maxDirs, usage.dirs + delta.dirs)) return false;
  if (delta.files > 0 && !under(limits.maxFiles, usage.files + delta.files)) return false;
  if (delta.files > 0 && !under(limits.maxFilesPerDir, filesInDir + delta.files)) return false;
  if (delta.bytes > 0 && !under(limits.maxBytes, usage.bytes + delta.bytes)) return false;
  return true;
}

const under = (limit: number | null, value: number): boolean => limit === null || value <= limit;
