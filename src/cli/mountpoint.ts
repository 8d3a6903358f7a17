/** Checks a mountpoint before mounting, so each mistake gets its own one-line error. */
import { readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { isMounted } from '../fs/mountinfo.ts';
import { UsageError } from './options.ts';

export function checkMountpoint(path: string): string {
  const absolute = resolve(path);
  if (isMounted(absolute)) throw new UsageError(`${absolute} is already a mountpoint (unmount it first: fusermount -u ${absolute})`);
  let stat;
  try {
    stat = statSync(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTCONN') throw new UsageError(`${absolute} is a stale FUSE mount: run fusermount -uz ${absolute}`);
    if (code === 'ENOENT') throw new UsageError(`mountpoint ${absolute} does not exist`);
    throw new UsageError(`mountpoint ${absolute}: ${(error as Error).message}`);
  }
  if (!stat.isDirectory()) throw new UsageError(`mountpoint ${absolute} is not a directory`);
  if (readdirSync(absolute).length > 0) throw new UsageError(`mountpoint ${absolute} is not empty`);
  return absolute;
}
