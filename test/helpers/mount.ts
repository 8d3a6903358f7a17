/**
 * Real mounts for integration tests: each test file gets its own temporary mountpoint and log
 * directory, a daemon started exactly as users start it (bin/eventfs.js), and a stop() that
 * always unmounts, even when the daemon died.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const EVENTFS_BIN = join(REPO, 'bin/eventfs.js');
/** The system python: a pyenv shim on PATH may not run for the unprivileged test users. */
export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

export type TestMount = {
  mnt: string;
  logDir: string;
  daemon: ChildProcess;
  /** What the daemon printed on stderr so far (warnings, internal errors). */
  stderr: () => string;
  stop: () => Promise<void>;
};

export type MountOptions = { args?: string[]; logDir?: string; root?: string };

export async function startMount(options: MountOptions = {}): Promise<TestMount> {
  const root = options.root ?? mkdtempSync(join(tmpdir(), 'eventfs-test-'));
  const mnt = join(root, 'mnt');
  mkdirSync(mnt, { recursive: true });
  chmodSync(root, 0o755); // other test users must reach the mountpoint
  const logDir = options.logDir ?? join(root, 'logs');
  const args = [EVENTFS_BIN, '-f', '--log-dir', logDir, ...(options.args ?? []), mnt];
  const daemon = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'], env: { ...process.env, EVENTFS_READY_FD: '3' },
  });
  let stderr = '';
  daemon.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  daemon.stdout!.resume();
  await untilReady(daemon, () => stderr);
  const stop = async (): Promise<void> => {
    await stopDaemon(daemon);
    unmountQuietly(mnt);
    if (options.root === undefined && options.logDir === undefined) rmSync(root, { recursive: true, force: true });
  };
  return { mnt, logDir, daemon, stderr: () => stderr, stop };
}

function untilReady(daemon: ChildProcess, stderr: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    let said = '';
    daemon.stdio[3]!.on('data', (chunk: Buffer) => {
      said += chunk.toString();
      if (said.startsWith('ready')) resolve();
    });
    daemon.on('exit', (code) => reject(new Error(`eventfs exited (${code}) before mounting: ${stderr()}${said}`)));
  });
}

export async function stopDaemon(daemon: ChildProcess, timeoutMs = 10_000): Promise<number | null> {
  if (daemon.exitCode !== null || daemon.signalCode !== null) return daemon.exitCode;
  const exited = new Promise<number | null>((resolve) => daemon.once('exit', (code) => resolve(code)));
  daemon.kill('SIGTERM');
  const timer = setTimeout(() => daemon.kill('SIGKILL'), timeoutMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/** fusermount -uz: lazy, so it also clears a stale ("Transport endpoint is not connected") mount. */
export function unmountQuietly(mnt: string): void {
  spawnSync('fusermount', ['-uz', mnt], { stdio: 'ignore' });
}

/** Runs a shell command as a user would; returns stdout, throws with stderr on failure. */
export function sh(command: string, options: { cwd?: string; user?: string; input?: string } = {}): string {
  const argv = options.user === undefined ? ['sh', '-c', command] : ['runuser', '-u', options.user, '--', 'sh', '-c', command];
  return execFileSync(argv[0]!, argv.slice(1), { cwd: options.cwd, input: options.input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Runs a shell command and returns its exit status and output instead of throwing. */
export function shStatus(command: string, options: { cwd?: string; user?: string } = {}): { status: number; stdout: string; stderr: string } {
  const argv = options.user === undefined ? ['sh', '-c', command] : ['runuser', '-u', options.user, '--', 'sh', '-c', command];
  const result = spawnSync(argv[0]!, argv.slice(1), { cwd: options.cwd, encoding: 'utf8' });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Runs a python3 program (source on stdin) with arguments; returns stdout. */
export function python(source: string, args: string[] = [], options: { user?: string } = {}): string {
  const argv = options.user === undefined ? [PYTHON, '-', ...args] : ['runuser', '-u', options.user, '--', PYTHON, '-', ...args];
  return execFileSync(argv[0]!, argv.slice(1), { input: source, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}
