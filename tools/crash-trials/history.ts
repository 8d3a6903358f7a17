/**
 * Long histories without FUSE, for the churn and recovery-time measurements: the daemon's own
 * pieces (recover, SegmentedLog, Compactor, Engine) over a log directory, driven by commands.
 * Commands are issued in batches without waiting for each reply, as concurrent FUSE requests
 * are, so the writer's group commit batches them.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BUILT_IN_QUOTA_TABLE } from '../../src/config/limits.ts';
import { Compactor, SNAPSHOT_BYTES_MIN } from '../../src/fs/compactor.ts';
import { recover } from '../../src/fs/daemon.ts';
import { Engine, type Durability } from '../../src/fs/engine.ts';
import { SegmentedLog } from '../../src/log/segmented.ts';
import { pruneSegments, writeSnapshot } from '../../src/log/snapshot.ts';
import { openLogForAppend, openSegment, type LogWriter } from '../../src/log/writer.ts';
import {
  DAEMON, emptyState, execute, plainHash, STICKY_XATTR, toPlain, type Caller, type Command, type CommandBody, type Event, type State,
} from '../../src/model/index.ts';
import { Rng } from './rng.ts';

const USER: Caller = { uid: 1000, gid: 1000, pid: 4242, start: 1 };
/** Commands in flight at once; then the batch is awaited. */
const BATCH = 512;

export type DaemonLog = {
  state: State;
  engine: Engine;
  log: SegmentedLog;
  compactor: Compactor | null;
  /** Issues a command now (decide + apply happen before this returns); its reply is awaited in batches. */
  run: (body: CommandBody, by?: Caller) => Promise<void>;
  /** Waits for every reply, and for a running snapshot. */
  drain: () => Promise<void>;
  close: () => Promise<void>;
};

export async function openDaemonLog(dir: string, options: { durability?: Durability; snapshotBytesMin?: number | null } = {}): Promise<DaemonLog> {
  const { state, read } = await recover({ logDir: dir, warn: (message) => console.error(`recover: ${message}`) });
  const log = new SegmentedLog(dir, await openLogForAppend(read));
  const snapshotBytesMin = options.snapshotBytesMin === undefined ? SNAPSHOT_BYTES_MIN : options.snapshotBytesMin;
  const compactor = snapshotBytesMin === null ? null : new Compactor(log, state, { snapshotBytesMin, warn: (m) => console.error(`compactor: ${m}`) });
  const failures: unknown[] = [];
  const engine = new Engine(state, log, options.durability ?? 'none', (error) => failures.push(error), () => compactor?.maybeSnapshot());
  let pending: Promise<unknown>[] = [];
  let t = 1_700_000_000_000;
  const drain = async (): Promise<void> => {
    await Promise.all(pending.splice(0));
    if (failures.length > 0) throw new Error(`log append failed: ${String(failures[0])}`);
  };
  const run = async (body: CommandBody, by: Caller = USER): Promise<void> => {
    pending.push(Promise.resolve(engine.run({ ...body, by, atMs: t++ } as Command)));
    if (pending.length >= BATCH) await drain();
  };
  return {
    state, engine, log, compactor, run,
    drain: async () => {
      await drain();
      await compactor?.snapshot().catch(() => undefined).then(() => undefined);
    },
    close: async () => {
      await drain();
      pending = [];
      await log.close();
    },
  };
}

/**
 * A message-queue history of about `events` events: `queues` sticky queues, messages of 1..256
 * bytes enqueued (create + write) at random, and a queue drained (pops of its head) whenever it
 * holds `depthMax` messages; what is queued at the end stays queued.
 */
export async function writeQueueHistory(session: DaemonLog, options: { events: number; queues?: number; depthMax?: number; seed?: number }): Promise<void> {
  const rng = Rng.derive(options.seed ?? 1, 'history');
  const queues = options.queues ?? 100;
  const depthMax = options.depthMax ?? 64;
  await session.run({ type: 'setQuotas', quotas: BUILT_IN_QUOTA_TABLE }, DAEMON);
  for (let q = 0; q < queues; q++) {
    await session.run({ type: 'mkdir', path: `/q${q}`, mode: 0o755 });
    await session.run({ type: 'setxattr', path: `/q${q}`, key: STICKY_XATTR, value: Buffer.alloc(0), flags: 0 });
  }
  let n = 0;
  while (session.state.seq < options.events) {
    const q = `q${rng.int(0, queues - 1)}`;
    const queue = session.state.queues.get(q)!;
    if (queue.entries.size >= depthMax) {
      while (queue.entries.size > 0 && session.state.seq < options.events) await session.run({ type: 'unlink', path: `/${q}/head` });
      continue;
    }
    const name = `m${++n}`;
    await session.run({ type: 'create', path: `/${q}/${name}`, mode: 0o644 });
    const ino = queue.entries.get(name)!.ino;
    await session.run({ type: 'write', ino, offset: 0, data: Buffer.alloc(rng.int(1, 256), n & 0xff) });
  }
  await session.drain();
}

/** `cycles` enqueue+dequeue cycles on one queue: create, write `payloadBytes`, pop the head. */
export async function churn(session: DaemonLog, options: { cycles: number; payloadBytes: number; onProgress?: (cycle: number) => Promise<void> }): Promise<void> {
  if (!session.state.queues.has('churn')) {
    await session.run({ type: 'mkdir', path: '/churn', mode: 0o755 });
    await session.run({ type: 'setxattr', path: '/churn', key: STICKY_XATTR, value: Buffer.alloc(0), flags: 0 });
  }
  const payload = Buffer.alloc(options.payloadBytes, 0x61);
  const queue = session.state.queues.get('churn')!;
  for (let i = 1; i <= options.cycles; i++) {
    await session.run({ type: 'create', path: `/churn/m${i}`, mode: 0o644 });
    await session.run({ type: 'write', ino: queue.entries.get(`m${i}`)!.ino, offset: 0, data: payload });
    await session.run({ type: 'unlink', path: '/churn/head' });
    if (options.onProgress !== undefined && i % 10_000 === 0) await options.onProgress(i);
  }
  await session.drain();
}

/** Bytes of the files in a log directory (what `du -b` of its files would add up). */
export async function dirBytes(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  for (const name of await readdir(dir)) {
    const info = await stat(join(dir, name)).catch(() => null);
    if (info?.isFile()) {
      bytes += info.size;
      files++;
    }
  }
  return { bytes, files };
}

/** Milliseconds of the daemon's recovery (read the directory, verify the snapshot, fold). */
export async function timeRecovery(dir: string): Promise<{ ms: number; seq: number; events: number }> {
  const started = performance.now();
  const { state, read } = await recover({ logDir: dir, warn: () => undefined });
  return { ms: performance.now() - started, seq: state.seq, events: read.events.length };
}

/**
 * The same kind of history written straight with the model and the log writer (no Engine, no
 * waiting per command): fast enough to make a million events in a test. With `snapshotAt`, the
 * log is compacted once there, as the daemon would: a new segment, a snapshot, the covered
 * segment dropped. Returns the final state.
 */
export async function writeQueueHistoryDirect(dir: string, options: {
  events: number;
  /** Compact at the first batch boundary at or after each of these seqs. */
  snapshotAt?: number | number[];
  queues?: number;
  depthMax?: number;
  seed?: number;
  /** Events written per append (and so the granularity of snapshotAt). */
  batchEvents?: number;
  /** Called after each event (every command of this history makes exactly one). */
  onEvent?: (state: State) => void;
}): Promise<State> {
  const rng = Rng.derive(options.seed ?? 1, 'history');
  const queues = options.queues ?? 100;
  const depthMax = options.depthMax ?? 64;
  const mountId = Buffer.from(Array.from({ length: 16 }, () => rng.int(0, 255)));
  const state = emptyState();
  let writer: LogWriter = await openSegment(dir, { mountId, firstSeq: 1 });
  let batch: Event[] = [];
  let t = 1_700_000_000_000;
  const snapshotsAt = options.snapshotAt === undefined ? [] : [options.snapshotAt].flat();
  const flush = async (): Promise<void> => {
    await writer.append(batch, { durable: false });
    batch = [];
    if (snapshotsAt.length > 0 && state.seq >= snapshotsAt[0]!) {
      while (snapshotsAt.length > 0 && state.seq >= snapshotsAt[0]!) snapshotsAt.shift();
      await writer.close();
      writer = await openSegment(dir, { mountId, firstSeq: state.seq + 1 });
      const plain = toPlain(state, { copyData: true });
      await writeSnapshot(dir, { seq: state.seq, state: plain, hash: plainHash(plain) }, mountId);
      await pruneSegments(dir, state.seq);
    }
  };
  const run = (body: CommandBody, by: Caller = USER): void => {
    const decision = execute(state, { ...body, by, atMs: t++ } as Command);
    if (!decision.ok) return;
    batch.push(...decision.events);
    options.onEvent?.(state);
  };
  run({ type: 'setQuotas', quotas: BUILT_IN_QUOTA_TABLE }, DAEMON);
  for (let q = 0; q < queues; q++) {
    run({ type: 'mkdir', path: `/q${q}`, mode: 0o755 });
    run({ type: 'setxattr', path: `/q${q}`, key: STICKY_XATTR, value: Buffer.alloc(0), flags: 0 });
  }
  let n = 0;
  while (state.seq < options.events) {
    const q = `q${rng.int(0, queues - 1)}`;
    const queue = state.queues.get(q)!;
    if (queue.entries.size >= depthMax) {
      while (queue.entries.size > 0 && state.seq < options.events) run({ type: 'unlink', path: `/${q}/head` });
    } else {
      const name = `m${++n}`;
      run({ type: 'create', path: `/${q}/${name}`, mode: 0o644 });
      run({ type: 'write', ino: queue.entries.get(name)!.ino, offset: 0, data: Buffer.alloc(rng.int(1, 256), n & 0xff) });
    }
    if (batch.length >= (options.batchEvents ?? 10_000)) await flush();
  }
  await flush();
  await writer.close();
  return state;
}
