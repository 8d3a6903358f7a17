/** Unprivileged users for permission tests, created on demand (tests run as root). */
import { execFileSync, spawnSync } from 'node:child_process';

export type TestUser = { name: string; uid: number; gid: number };

export function ensureUser(name: string): TestUser {
  if (spawnSync('id', ['-u', name], { stdio: 'ignore' }).status !== 0) {
    execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', '--user-group', name], { stdio: 'ignore' });
  }
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  return { name, uid, gid };
}
