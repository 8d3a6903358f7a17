/**
 * One episode of crash trials on one log directory: start a daemon, make the queues (sticky ones,
 * and ones of a creator process that lives through the episode), then per trial: run producers
 * and consumers, `kill -9` the daemon at a random moment (or the moment a snapshot starts), clear
 * the stale mount, restart on the same log directory with fresh random options, and check the
 * recovered mount against every acknowledgement so far (ledger.ts).
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, mkdtemp, opendir, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { messageContent, sha256Hex } from './content.ts';
import { startDaemon, unmount, type DaemonLauncher, type RunningDaemon } from './daemon.ts';
import { newLedger, parseAcks, record, settle, verify, type Recovered, type SeenMessage, type Verdict } from './ledger.ts';
import { Rng } from './rng.ts';

const WORKLOAD = fileURLToPath(new URL('./workload.py', import.meta.url));
/** The interpreter itself, not a pyenv shim (a shell script that costs ~100 ms per start). */
const PYTHON = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
const STICKY = ['s0', 's1'];
const OWNED = ['c0'];
const WATCHED = [...STICKY, ...OWNED];

export type TrialResult = {
  trial: number;
  episode: number;
  ok: boolean;
  failures: string[];
  /** Options of the daemon that was killed. */
  mountOptions: string[];
  kill: { how: 'timer' | 'snapshot'; afterMs: number; tmpFiles: number };
  workers: { producers: number; consumers: number };
  acks: { enqueued: number; dequeued: number; unknown: number };
  tornTails: number;
  restartMs: number;
  stats: Verdict['stats'] | null;
  keptDir: string | null;
  /** Milliseconds spent in each phase of the trial. */
  phases: Record<string, number>;
};

export type EpisodeOptions = {
  seed: number;
  episode: number;
  firstTrial: number;
  trials: number;
  launcher: DaemonLauncher;
  keep: boolean;
  onTrial: (result: TrialResult) => void;
};

type Worker = { child: ChildProcess; acks: string; output: () => string };

/** Processes and mounts alive right now, so an interrupted run can clean up (abortAll). */
const liveChildren = new Set<ChildProcess>();
const liveMounts = new Set<string>();
const track = (child: ChildProcess): ChildProcess => {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  return child;
};

/** SIGKILLs every process the trials started and lazily unmounts every mount (for SIGINT). */
export function abortAll(): void {
  for (const child of liveChildren) child.kill('SIGKILL');
  for (const mnt of liveMounts) unmount(mnt);
}

export async function runEpisode(options: EpisodeOptions): Promise<TrialResult[]> {
  const rng = Rng.derive(options.seed, 'episode', options.episode);
  const dir = await mkdtemp(join(tmpdir(), `eventfs-crash-${options.seed}-${options.episode}-`));
  const mnt = join(dir, 'mnt');
  const logDir = join(dir, 'logs');
  const acksDir = join(dir, 'acks');
  await mkdir(acksDir, { recursive: true });
  const tag = `${options.seed}-${options.episode}`;
  const results: TrialResult[] = [];
  const ledger = newLedger();
  const reaped: string[] = [];
  let daemon: RunningDaemon | null = null;
  let creator: ChildProcess | null = null;
  let failed = false;
  liveMounts.add(mnt);
  try {
    let mountOptions = pickMountOptions(rng);
    daemon = await startDaemon(options.launcher, { mnt, logDir, mountOptions });
    track(daemon.child);
    creator = await startCreator(mnt);
    for (let i = 0; i < options.trials; i++) {
      const trial = options.firstTrial + i;
      const trialRng = Rng.derive(options.seed, 'trial', trial);
      const workers = startWorkers(trialRng, { mnt, acksDir, tag, trial, reaped });
      const result: TrialResult = {
        trial, episode: options.episode, ok: false, failures: [], mountOptions,
        kill: { how: 'timer', afterMs: 0, tmpFiles: 0 },
        workers: { producers: workers.producers, consumers: workers.consumers },
        acks: { enqueued: 0, dequeued: 0, unknown: 0 }, tornTails: 0, restartMs: 0, stats: null, keptDir: null, phases: {},
      };
      let mark = performance.now();
      const phase = (name: string): void => {
        const now = performance.now();
        result.phases[name] = Math.round(now - mark);
        mark = now;
      };
      results.push(result);
      await untilReady(workers.all, 10_000);
      phase('workers');
      result.kill = await killAtRandom(trialRng, daemon, logDir);
      phase('run');
      const crashed = await untilExited(workers.all, 15_000);
      unmount(mnt);
      phase('unmount');
      for (const worker of workers.all) {
        const records = parseAcks(await readFile(worker.acks, 'utf8').catch(() => ''));
        record(ledger, records);
        for (const r of records) {
          if (r.op === 'enqueued') result.acks.enqueued++;
          if (r.op === 'dequeued') result.acks.dequeued++;
        }
        const last = records.filter((r) => r.op !== 'stopped').at(-1);
        if (last?.op === 'enqueue-attempt' || last?.op === 'dequeue-attempt') result.acks.unknown++;
      }
      result.failures.push(...crashed);
      const finish = (): void => {
        result.ok = result.failures.length === 0;
        if (!result.ok) failed = true;
        if (!result.ok && options.keep) result.keptDir = dir;
        options.onTrial(result);
      };
      mountOptions = pickMountOptions(rng);
      try {
        daemon = await startDaemon(options.launcher, { mnt, logDir, mountOptions });
        track(daemon.child);
      } catch (error) {
        daemon = null;
        result.failures.push(`restart failed: ${(error as Error).message}`);
        finish();
        break;
      }
      result.restartMs = daemon.startMs;
      phase('restart');
      result.tornTails = (daemon.stderr().match(/torn tail/g) ?? []).length;
      const recovered = await readRecovered(mnt);
      phase('read');
      const verdict = verify(ledger, recovered, {
        watched: WATCHED, reaped, sha256Of: (name, length) => sha256Hex(messageContent(tag, name, length)),
      });
      if (/internal error|Error:|\n\s+at /.test(daemon.stderr())) verdict.failures.push(`the daemon complained: ${daemon.stderr().trim().slice(0, 500)}`);
      settle(ledger, recovered);
      result.stats = verdict.stats;
      result.failures.push(...verdict.failures);
      phase('verify');
      finish();
      if (!result.ok) break;
    }
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    if (daemon !== null) await daemon.stop().catch(() => undefined);
    unmount(mnt);
    liveMounts.delete(mnt);
    if (creator !== null) await killAndWait(creator);
    if (!(failed && options.keep)) await rm(dir, { recursive: true, force: true });
  }
  return results;
}

/** Options of a daemon start: any durability (kill -9 loses nothing acknowledged in any mode), often tiny snapshot thresholds. */
function pickMountOptions(rng: Rng): string[] {
  const options = [`durability=${rng.pick(['always', 'close', 'none'])}`];
  const snapshotBytes = rng.pick([4096, 4096, 16384, null]);
  if (snapshotBytes !== null) options.push(`snapshot_bytes=${snapshotBytes}`);
  return options;
}

function python(role: string, config: object): ChildProcess {
  return track(spawn(PYTHON, [WORKLOAD, role, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] }));
}

/**
 * The sticky queues are made by a process that exits at once (so only their xattr keeps them),
 * the others by a creator that lives through the episode.
 */
async function startCreator(mnt: string): Promise<ChildProcess> {
  execFileSync(PYTHON, [WORKLOAD, 'creator', JSON.stringify({ mnt, sticky: STICKY, owned: [], exit: true })], { stdio: 'ignore' });
  const child = python('creator', { mnt, sticky: [], owned: OWNED });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the creator exited with ${code}: ${output}`)));
  });
  return child;
}

function startWorkers(rng: Rng, at: { mnt: string; acksDir: string; tag: string; trial: number; reaped: string[] }) {
  const producers = rng.int(1, 3);
  const consumers = rng.int(0, 2);
  const all: Worker[] = [];
  const spawnWorker = (role: string, name: string, config: object): void => {
    const acks = join(at.acksDir, `t${at.trial}-${name}`);
    const child = python(role, { ...config, acks, mnt: at.mnt, seed: rng.seed() });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    all.push({ child, acks, output: () => output });
  };
  for (let p = 0; p < producers; p++) {
    const own = rng.chance(0.5) ? `e${at.trial}p${p}` : null;
    if (own !== null) at.reaped.push(own);
    spawnWorker('producer', `p${p}`, {
      tag: at.tag, prefix: `t${at.trial}p${p}`, queues: WATCHED, own,
      max_bytes: rng.pick([2000, 20000]), chunk_bytes: rng.pick([100, 4096, 65536]), pause_ms: rng.pick([0, 0, 5, 20]),
    });
  }
  for (let c = 0; c < consumers; c++) {
    spawnWorker('consumer', `c${c}`, { queues: WATCHED, pause_ms: rng.pick([0, 5, 20, 50]) });
  }
  return { all, producers, consumers };
}

/** Waits until every worker wrote its first line (python is up and about to touch the mount). */
async function untilReady(workers: Worker[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const worker of workers) {
    while (Date.now() < deadline) {
      const text = await readFile(worker.acks, 'utf8').catch(() => '');
      if (text.length > 0 || worker.child.exitCode !== null) break;
      await sleep(5);
    }
  }
}

/**
 * Kills the daemon after a random delay; in some trials instead at the moment a snapshot or a
 * new segment starts being written (a *.tmp file appears), so that kills land mid-snapshot.
 */
async function killAtRandom(rng: Rng, daemon: RunningDaemon, logDir: string): Promise<TrialResult['kill']> {
  const onSnapshot = rng.chance(0.3);
  const delayMs = onSnapshot ? 1500 : rng.int(20, 1000);
  const started = performance.now();
  let watcher: FSWatcher | null = null;
  // 'snapshot' only if a snapshot (or its rotation) did start before the timer ran out.
  let how: 'timer' | 'snapshot' = 'timer';
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, delayMs);
    if (onSnapshot) {
      watcher = watch(logDir, (_event, name) => {
        if (name !== null && name.endsWith('.tmp') && !name.startsWith('LOCK')) {
          how = 'snapshot';
          clearTimeout(timer);
          resolve();
        }
      });
    }
  });
  (watcher as FSWatcher | null)?.close();
  await daemon.kill9();
  const afterMs = Math.round(performance.now() - started);
  const tmpFiles = (await readdir(logDir)).filter((name) => name.endsWith('.tmp') && !name.startsWith('LOCK')).length;
  return { how, afterMs, tmpFiles };
}

/** Waits for the workers to notice the dead daemon; returns failures for those that did not. */
async function untilExited(workers: Worker[], timeoutMs: number): Promise<string[]> {
  const failures: string[] = [];
  await Promise.all(workers.map(async (worker) => {
    const exited = worker.child.exitCode !== null || worker.child.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => worker.child.once('exit', () => resolve()));
    const timer = setTimeout(() => worker.child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
    if (worker.child.signalCode === 'SIGKILL') failures.push(`a worker hung after the crash and was killed: ${worker.acks}`);
    else if (worker.child.exitCode !== 0) failures.push(`a worker crashed (exit ${worker.child.exitCode}): ${worker.output().trim().slice(-500)}`);
  }));
  return failures;
}

/** The recovered mount as a user sees it, read from this process (the daemon is another one). */
async function readRecovered(mnt: string): Promise<Recovered> {
  const root = (await readdir(mnt)).sort();
  const queues = new Map<string, SeenMessage[]>();
  for (const queue of WATCHED) {
    if (!root.includes(queue)) continue;
    const messages: SeenMessage[] = [];
    // Not readdir(): libuv sorts the names, and queue order is what is checked here.
    for await (const dirent of await opendir(join(mnt, queue))) {
      const name = dirent.name;
      if (name === 'head' || name === 'tail') continue;
      const bytes = await readFile(join(mnt, queue, name));
      messages.push({ name, length: bytes.length, sha256: sha256Hex(bytes) });
    }
    queues.set(queue, messages);
  }
  return { root, queues };
}

function killAndWait(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
