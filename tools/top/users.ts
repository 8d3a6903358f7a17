// uid -> user name, from /etc/passwd read once at start (a missing file or uid prints the number).
import { readFileSync } from 'node:fs';

export function parsePasswd(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    const [name, , uid] = line.split(':');
    if (name && uid !== undefined && /^\d+$/.test(uid) && !names.has(Number(uid))) names.set(Number(uid), name);
  }
  return names;
}

export function userNames(passwdPath = '/etc/passwd'): (uid: number) => string {
  let names = new Map<number, string>();
  try {
    names = parsePasswd(readFileSync(passwdPath, 'utf8'));
  } catch {
    // No passwd file (a container): numbers it is.
  }
  return (uid) => names.get(uid) ?? String(uid);
}
