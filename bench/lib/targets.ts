/**
 * What the bench measures against: a tmpfs, the no-log floor (bench/floor-fs.ts) and eventfs in
 * a durability mode (bin/eventfs.js -f, started as test/helpers/mount.ts starts it, with its own
 * log directory). Everything lives under one root in /tmp and every stop() unmounts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { DAEMON_NODE_FLAGS } from '../../src/cli/node-flags.ts';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const EVENTFS_BIN = join(REPO, 'bin/eventfs.js');
export const FLOOR_FS = join(REPO, 'bench/floor-fs.ts');
export const VARIANT_FS = join(REPO, 'bench/variant-fs.ts');

export type Durability = 'none' | 'close' | 'always';
export type TargetKind = 'tmpfs' | 'floor' | 'variant' | 'eventfs';

export type Target = {
  /** Short label: tmpfs, floor, none, close, always. */
  label: string;
  kind: TargetKind;
  durability: Durability | null;
  mnt: string;
  logDir: string | null;
  /** The daemon's pid (null for tmpfs). */
  pid: number | null;
  /** Milliseconds from spawn to "ready" (0 for tmpfs). */
  readyMs: number;
  stderr: () => string;
  stop: () => Promise<void>;
};

export type StartOptions = {
  /** Extra node flags for the daemon, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Extra eventfs -o options, e.g. snapshot_bytes=N. */
  mountOptions?: string[];
  /** Use this log directory (e.g. a prepared history) instead of ROOT/logs. */
  logDir?: string;
};

export function startTmpfs(root: string): Target {
  const mnt = join(root, 'mnt');
  mkdirSync(mnt, { recursive: true });
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4g,mode=1777', 'bench-tmpfs', mnt], { encoding: 'utf8' });
  if (mounted.status !== 0) throw new Error(`mount -t tmpfs ${mnt} failed: ${mounted.stderr}`);
  return {
    label: 'tmpfs', kind: 'tmpfs', durability: null, mnt, logDir: null, pid: null, readyMs: 0, stderr: () => '',
    stop: async () => {
      spawnSync('umount', ['-l', mnt], { stdio: 'ignore' });
    },
  };
}

export function startFloor(root: string, options: StartOptions = {}): Promise<Target> {
  const mnt = join(root, 'mnt');
  mkdirSync(mnt, { recursive: true });
  return startDaemon({ label: 'floor', kind: 'floor', durability: null, mnt, logDir: null }, [...(options.nodeArgs ?? []), '--import', 'tsx', FLOOR_FS, mnt]);
}

/** bench/variant-fs.ts: eventfs's ops and model with layers switched (see there), e.g. ['--log=off', '--proc=off']. */
export function startVariant(root: string, label: string, flags: string[], options: StartOptions = {}): Promise<Target> {
  const mnt = join(root, 'mnt');
  mkdirSync(mnt, { recursive: true });
  return startDaemon({ label, kind: 'variant', durability: null, mnt, logDir: null }, [...(options.nodeArgs ?? []), '--import', 'tsx', VARIANT_FS, ...flags, mnt]);
}

export function startEventfs(root: string, durability: Durability, options: StartOptions = {}): Promise<Target> {
  const mnt = join(root, 'mnt');
  const logDir = options.logDir ?? join(root, 'logs');
  mkdirSync(mnt, { recursive: true });
  const opts = [`durability=${durability}`, ...(options.mountOptions ?? [])].join(',');
  const args = [...(options.nodeArgs ?? []), EVENTFS_BIN, '-f', '--log-dir', logDir, '-o', opts, mnt];
  return startDaemon({ label: durability, kind: 'eventfs', durability, mnt, logDir }, args);
}

type Identity = Pick<Target, 'label' | 'kind' | 'durability' | 'mnt' | 'logDir'>;

function startDaemon(identity: Identity, args: string[]): Promise<Target> {
  const started = performance.now();
  // Every daemon runs with the V8 flags eventfs's own detached daemon gets, so that the floor,
  // the variants and eventfs differ only in their code.
  const daemon = spawn(process.execPath, [...DAEMON_NODE_FLAGS, ...args], {
    cwd: REPO, stdio: ['ignore', 'pipe', 'pipe', 'pipe'], env: { ...process.env, EVENTFS_READY_FD: '3' },
  });
  let stderr = '';
  daemon.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  daemon.stdout!.resume();
  return new Promise((resolve, reject) => {
    let said = '';
    const onExit = (code: number | null) => reject(new Error(`${identity.label} exited (${code}) before mounting: ${stderr}${said}`));
    daemon.once('exit', onExit);
    daemon.stdio[3]!.on('data', (chunk: Buffer) => {
      said += chunk.toString();
      if (!said.startsWith('ready')) return;
      daemon.off('exit', onExit);
      const readyMs = performance.now() - started;
      resolve({ ...identity, pid: daemon.pid!, readyMs, stderr: () => stderr, stop: () => stopDaemon(daemon, identity.mnt) });
    });
  });
}

async function stopDaemon(daemon: ChildProcess, mnt: string): Promise<void> {
  if (daemon.exitCode === null && daemon.signalCode === null) {
    const exited = new Promise<void>((resolve) => daemon.once('exit', () => resolve()));
    daemon.kill('SIGTERM');
    const timer = setTimeout(() => daemon.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
  spawnSync('fusermount', ['-uz', mnt], { stdio: 'ignore' });
}

/** VmRSS of a process, in bytes. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (match === null) throw new Error(`/proc/${pid}/status: no VmRSS`);
  return Number(match[1]) * 1024;
}

/** user+system CPU time of a process so far, in seconds (/proc/PID/stat fields 14 and 15). */
export function cpuSeconds(pid: number): number {
  return cpuTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')) / clockTicks();
}

/** utime + stime, in clock ticks, of a /proc/PID/stat or /proc/PID/task/TID/stat text. */
export function cpuTicks(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

let clockTicksPerSecond: number | null = null;

/** Clock ticks per second, the unit of /proc/PID/stat's CPU times. */
export function clockTicks(): number {
  clockTicksPerSecond ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  return clockTicksPerSecond;
}
