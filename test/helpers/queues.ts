/** Ways a test makes queues, as users would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { python, PYTHON } from './mount.ts';

/** A sticky queue made by a short-lived python process (mkdir + setxattr in one process). */
export function stickyQueue(path: string, mode = 0o777, user?: string): void {
  python(`import os, sys\nos.mkdir(sys.argv[1], ${mode})\nos.chmod(sys.argv[1], ${mode})\nos.setxattr(sys.argv[1], "user.eventfs_sticky", b"")\n`, [path], { user });
}

/** A long-lived creator: a python process that makes the queues given and then sleeps until killed. */
export async function creatorProcess(paths: string[]): Promise<ChildProcess> {
  const source = 'import os, sys, time\nfor p in sys.argv[1:]:\n    os.mkdir(p)\nprint("ready", flush=True)\ntime.sleep(3600)\n';
  const child = spawn(PYTHON, ['-c', source, ...paths], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`creator exited with ${code}`)));
  });
  return child;
}

export function killAndWait(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
