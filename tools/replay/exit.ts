/**
 * Exit codes of eventfs-replay, one per kind of outcome, so a script (or `git bisect run`) can
 * tell them apart. A torn tail is not an error: the daemon died mid-write and nothing that was
 * acknowledged is missing.
 */
import { LogCorruptError, LogDirError, LogVersionError, SnapshotCorruptError } from '../../src/log/errors.ts';

export const EXIT = {
  /** The log reads, folds and (for --verify, --exec) checks out. */
  ok: 0,
  /** An invariant fails, an event cannot apply, a checkpoint hash or the mount differs. */
  violated: 1,
  /** The input cannot be read: missing, corrupt, a newer format, a broken log directory. */
  unreadable: 2,
  /** Bad arguments (sysexits.h EX_USAGE). */
  usage: 64,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A mistake in the command line or in what it asks of this log (e.g. --at past the end). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Input that cannot be replayed, for reasons src/log has no error class for. */
export class InputError extends Error {
  override readonly name = 'InputError';
}

const UNREADABLE = [LogCorruptError, LogDirError, LogVersionError, SnapshotCorruptError, InputError];

/** Errors of the file system (ENOENT, EACCES, EISDIR ...) while reading the input. */
const isSystemError = (error: unknown): error is NodeJS.ErrnoException =>
  error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && (error as NodeJS.ErrnoException).syscall !== undefined;

/** The exit code for an error that ended a run; anything unexpected is rethrown by the caller. */
export function exitCodeOf(error: unknown): ExitCode | null {
  if (error instanceof UsageError) return EXIT.usage;
  if (UNREADABLE.some((kind) => error instanceof kind)) return EXIT.unreadable;
  if (isSystemError(error)) return EXIT.unreadable;
  return null;
}

/** A one-line reason for an error, naming the file for system errors. */
export function errorMessage(error: unknown): string {
  if (isSystemError(error)) return `${error.path ?? ''}: ${error.code}: ${systemReason(error)}`.replace(/^: /, '');
  return error instanceof Error ? error.message : String(error);
}

function systemReason(error: NodeJS.ErrnoException): string {
  const reasons: Record<string, string> = {
    ENOENT: 'no such file or directory', EACCES: 'permission denied', EISDIR: 'is a directory', ENOTDIR: 'not a directory',
  };
  return reasons[error.code!] ?? error.message;
}
