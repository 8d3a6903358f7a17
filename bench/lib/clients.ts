/**
 * Runs bench/clients/queue_client.py processes. Each prints "ready" once python has started and
 * its messages are prepared; go() releases it, so that python's start-up is never timed and
 * concurrent clients start together. Its JSON line is the result.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './targets.ts';

/** The system python, not a pyenv shim (a shell script that would run per client). */
export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const CLIENT = join(REPO, 'bench/clients/queue_client.py');

export type ClientResult = {
  count: number;
  bytes: number;
  links?: number;
  /** time.monotonic() seconds at the start and end of the timed loop. */
  t0: number;
  t1: number;
  /** CPU seconds (user+system) of the client during its timed loop. */
  cpu: number;
  names?: string[];
  lost?: number;
  short?: number;
  looks?: number;
  sleeps?: number;
  bad?: string[];
  badCount?: number;
};

export type Client = { ready: Promise<void>; go: () => void; result: Promise<ClientResult> };

export function spawnClient(args: string[]): Client {
  const child = spawn(PYTHON, [CLIENT, ...args, '--sync'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.startsWith('ready\n')) onReady();
  });
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const result = new Promise<ClientResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.replace(/^ready\n/, '').trim();
      let parsed: (ClientResult & { error?: string }) | null = null;
      try {
        parsed = JSON.parse(line) as ClientResult & { error?: string };
      } catch {
        parsed = null;
      }
      if (code !== 0 || parsed === null) return reject(new Error(`client ${args.join(' ')} exited ${code}: ${err || line}`));
      if (parsed.error !== undefined) return reject(new Error(`client ${args.join(' ')}: ${parsed.error}`));
      if ((parsed.badCount ?? 0) > 0) return reject(new Error(`client ${args.join(' ')}: ${parsed.badCount} bad messages, e.g. ${JSON.stringify(parsed.bad)}`));
      resolve(parsed);
    });
  });
  // A failed client must not leave the others waiting for go.
  result.catch(() => onReady());
  return { ready, go: () => child.stdin.end('go\n'), result };
}

/** Starts all clients together; resolves with their results in order. */
export async function runTogether(argsList: string[][]): Promise<ClientResult[]> {
  const clients = argsList.map(spawnClient);
  await Promise.all(clients.map((client) => client.ready));
  for (const client of clients) client.go();
  return Promise.all(clients.map((client) => client.result));
}

/** Seconds from the first client's start to the last one's end. */
export function span(results: ClientResult[]): number {
  return Math.max(...results.map((r) => r.t1)) - Math.min(...results.map((r) => r.t0));
}
