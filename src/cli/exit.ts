/** Exit codes (sysexits.h), one per kind of failure, so scripts can tell them apart. */
import { ConfigError } from '../config/config-error.ts';
import { LogCorruptError, LogDirError, LogLockedError, LogVersionError, SnapshotCorruptError } from '../log/errors.ts';
import { ApplyError } from '../model/index.ts';
import { UsageError } from './options.ts';

export const EXIT = { ok: 0, failure: 1, usage: 64, dataError: 65, inUse: 75, config: 78 } as const;

export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof ConfigError) return EXIT.config;
  if (error instanceof LogLockedError) return EXIT.inUse;
  const corrupt = [LogCorruptError, LogDirError, LogVersionError, SnapshotCorruptError, ApplyError];
  if (corrupt.some((kind) => error instanceof kind)) return EXIT.dataError;
  return EXIT.failure;
}
