import { constants } from 'node:os';
import type { Errno } from '../model/index.ts';

/** The one place model errnos become FUSE reply codes (negative errno numbers). */
export function toFuseCode(errno: Errno | 'EIO' | 'EBADF' | 'ERANGE'): number {
  const code = constants.errno[errno];
  if (code === undefined) throw new Error(`no errno number for ${errno}`);
  return -code;
}
