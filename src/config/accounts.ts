// Name-to-id lookup in /etc/passwd and /etc/group, the default for quota files that name a user
// or group. Only the files are consulted (no NSS, LDAP or sssd): a site that keeps accounts
// elsewhere writes numeric ids in its quota files, or injects its own lookup into loadConfig.

import { describeFsError } from './config-error.ts';

/** The account databases the default lookup reads. */
export const PASSWD_PATH = '/etc/passwd';
export const GROUP_PATH = '/etc/group';

/**
 * The id (third field) of the first entry called `name` in passwd- or group-format `text`, or
 * undefined if there is none. Comments, blank lines, NIS `+`/`-` entries and lines without a
 * numeric id are skipped.
 * @example findAccountId('root:x:0:0:root:/root:/bin/sh\n', 'root') // 0
 */
export function findAccountId(text: string, name: string): number | undefined {
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields.length < 3 || fields[0] !== name) continue;
    if (!/^\d+$/.test(fields[2]!)) continue;
    return Number(fields[2]);
  }
  return undefined;
}

/**
 * A lookup over the database at `path`, read through `readFile` once, on first use (most configs
 * use numeric ids or no quota files, and then the database is never read).
 */
export function databaseLookup(path: string, readFile: (path: string) => string): (name: string) => number | undefined {
  let text: string | undefined;
  return (name) => {
    text ??= readDatabase(path, readFile);
    return findAccountId(text, name);
  };
}

function readDatabase(path: string, readFile: (path: string) => string): string {
  try {
    return readFile(path);
  } catch (error) {
    throw new Error(`cannot read ${path}: ${describeFsError(error)}`);
  }
}
