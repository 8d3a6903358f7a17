/**
 * Starting, killing and stopping real eventfs daemons for the crash trials.
 *
 * A trial starts the daemon twice, so its start-up cost dominates. By default the daemon's own
 * entry point (src/cli/eventfs.ts, unchanged) is bundled once per run with esbuild (which tsx
 * brings along) into a temporary directory laid out like the repository (package.json next to
 * src/, node_modules linked), and run with plain node: the same code, started in a third of the
 * time tsx takes to compile it. `--daemon tsx` runs bin/eventfs.js instead.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

export type DaemonLauncher = { argv: string[]; cleanup: () => void; kind: 'bundle' | 'tsx' };

export async function daemonLauncher(kind: 'bundle' | 'tsx'): Promise<DaemonLauncher> {
  if (kind === 'tsx') return { argv: [join(REPO, 'bin/eventfs.js')], cleanup: () => undefined, kind };
  const dir = mkdtempSync(join(tmpdir(), 'eventfs-crash-build-'));
  try {
    // esbuild comes with tsx; it is not a dependency of eventfs itself.
    const esbuild = (await import('esbuild' as string)) as { build: (options: object) => Promise<unknown> };
    await esbuild.build({
      entryPoints: [join(REPO, 'src/cli/eventfs.ts')], outfile: join(dir, 'src/cli/eventfs.mjs'),
      bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning',
    });
    copyFileSync(join(REPO, 'package.json'), join(dir, 'package.json'));
    symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return { argv: [join(dir, 'src/cli/eventfs.mjs')], cleanup: () => rmSync(dir, { recursive: true, force: true }), kind };
}

export type RunningDaemon = {
  child: ChildProcess;
  /** Everything the daemon printed on stderr. */
  stderr: () => string;
  /** Milliseconds from spawn to "ready". */
  startMs: number;
  /** SIGKILL, and wait for the process to be gone. */
  kill9: () => Promise<void>;
  /** SIGTERM (clean unmount), SIGKILL after a while; resolves with the exit code. */
  stop: () => Promise<number | null>;
};

export class DaemonStartError extends Error {
  constructor(readonly code: number | null, readonly stderr: string) {
    super(`eventfs exited with code ${code} before mounting: ${stderr.trim()}`);
  }
}

export function startDaemon(launcher: DaemonLauncher, options: { mnt: string; logDir: string; mountOptions: string[] }): Promise<RunningDaemon> {
  mkdirSync(options.mnt, { recursive: true });
  const args = [...launcher.argv, '-f', '--log-dir', options.logDir, ...options.mountOptions.flatMap((o) => ['-o', o]), options.mnt];
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'], env: { ...process.env, EVENTFS_READY_FD: '3' },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const gone = (): boolean => child.exitCode !== null || child.signalCode !== null;
  return new Promise((resolve, reject) => {
    let said = '';
    child.stdio[3]!.on('data', (chunk: Buffer) => {
      said += chunk.toString();
      if (!said.startsWith('ready')) return;
      resolve({
        child,
        stderr: () => stderr,
        startMs: performance.now() - started,
        kill9: async () => {
          if (!gone()) child.kill('SIGKILL');
          await exited;
        },
        stop: async () => {
          if (gone()) return child.exitCode;
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          const code = await exited;
          clearTimeout(timer);
          return code;
        },
      });
    });
    void exited.then((code) => {
      // stderr may still be draining when 'exit' fires.
      setTimeout(() => reject(new DaemonStartError(code, stderr + said)), 50);
    });
  });
}

/** fusermount -uz: lazy, so it also clears the stale mount a killed daemon leaves. */
export function unmount(mnt: string): void {
  spawnSync('fusermount', ['-uz', mnt], { stdio: 'ignore' });
}
