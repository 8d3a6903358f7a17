/**
 * Commands are requests from the shell (a FUSE op, the reaper, the mount itself). They carry the
 * caller and the time, so decide() never asks the outside world.
 */
import type { QuotaTable } from '../config/limits.ts';
import type { Creator } from './state.ts';

/** The caller: pid is the thread group id, start its start time (only mkdir records it). */
export type Caller = { uid: number; gid: number; pid: number; start: number };

/** The daemon itself, for commands no process asked for (reaps, mount-time records). */
export const DAEMON: Caller = { uid: 0, gid: 0, pid: 0, start: 0 };

export type CommandBody =
  | { type: 'setQuotas'; quotas: QuotaTable }
  | { type: 'mkdir'; path: string; mode: number }
  | { type: 'rmdir'; path: string }
  | { type: 'create'; path: string; mode: number }
  | { type: 'write'; ino: number; offset: number; data: Buffer }
  | { type: 'truncate'; ino: number; size: number }
  | { type: 'link'; from: string; to: string }
  | { type: 'unlink'; path: string }
  | { type: 'chmod'; path: string; mode: number }
  | { type: 'chown'; path: string; uid: number; gid: number }
  | { type: 'utimens'; path: string; atimeMs: number; mtimeMs: number }
  | { type: 'setxattr'; path: string; key: string; value: Buffer; flags: number }
  | { type: 'removexattr'; path: string; key: string }
  /**
   * Issued by the reaper once it has seen `creator` gone; decide() re-checks stickiness and that
   * the queue still has that creator (it may have been removed and made again meanwhile).
   */
  | { type: 'reap'; queue: string; creator?: Creator };

export type Command = CommandBody & { by: Caller; atMs: number };

/** setxattr flags (linux/xattr.h). */
export const XATTR_CREATE = 1;
export const XATTR_REPLACE = 2;
/** chown's "leave unchanged" value as it arrives from libfuse ((uid_t) -1). */
export const ID_UNCHANGED = 0xffffffff;
