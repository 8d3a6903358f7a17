/** Test support for tools/replay: in-process runs of the CLI, fixture paths, temporary dirs. */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runCli } from './cli.ts';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const FIXTURES = join(REPO, 'test/fixtures');
export const REPLAY_FIXTURES = join(FIXTURES, 'replay');
export const fixture = (name: string): string => join(REPLAY_FIXTURES, `${name}.bin`);

export type Run = { code: number; stdout: string; stderr: string };

/** Runs eventfs-replay in this process, with `stdin` as its input and no TTY unless asked. */
export async function run(argv: string[], options: { stdin?: Buffer; isTTY?: boolean; env?: Record<string, string> } = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (text: string) => (stdout += text), isTTY: options.isTTY ?? false },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: Readable.from(options.stdin === undefined ? [] : [options.stdin]),
    env: options.env ?? {},
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

export async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'eventfs-replay-test-'));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const REPLAY_BIN = join(REPO, 'bin/eventfs-replay.js');

/** Runs bin/eventfs-replay.js as a user would, in a child process. */
export function spawnReplay(args: string[], options: { stdin?: Buffer; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...(options.env ?? {}) };
    const child = spawn(process.execPath, [REPLAY_BIN, ...args], { cwd: REPO, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.stdin ?? Buffer.alloc(0));
  });
}
