/**
 * Power-loss simulation: what `kill -9` cannot show.
 *
 * A workload runs the real Engine, SegmentedLog and Compactor (snapshots and pruning included)
 * over a real directory, while every file-system call the log makes under that directory is
 * recorded (open/create, write, fsync/fdatasync, truncate, rename, unlink, directory fsync): the
 * calls go through node:fs/promises, which is wrapped for the duration (syncBuiltinESMExports
 * updates the bindings src/log imported). Each command's reply is recorded too, with whether it
 * promised durability (Engine.isDurable's rule: durability=always, or a namespace change in
 * `close`; flush/fsync/close of a written file: Engine.sync()).
 *
 * Then, for every point of that trace, the disk a power loss may leave is built:
 *   - each file holds what was fsynced, plus any prefix of what was written after (the page
 *     cache writes back in order; FORMAT.md "Known downsides" covers the other case, tried
 *     separately as "holes");
 *   - the directory holds what the last completed directory fsync covered, plus any prefix of
 *     the creates/renames/unlinks made after it;
 * recovery (the daemon's recover()) runs on it, and the recovered state must be the fold of a
 * prefix of the events that contains every event a reply had promised durable by then. Some
 * states are then continued (openLogForAppend, one more event) and recovered again, so cut tails
 * and snapshots ahead of the log are exercised as the next mount would.
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { BUILT_IN_QUOTA_TABLE } from '../../src/config/limits.ts';
import { Compactor } from '../../src/fs/compactor.ts';
import { recover } from '../../src/fs/daemon.ts';
import { Engine, type Durability, type EventSink } from '../../src/fs/engine.ts';
import { LogCorruptError } from '../../src/log/errors.ts';
import { SegmentedLog } from '../../src/log/segmented.ts';
import { openLogForAppend } from '../../src/log/writer.ts';
import {
  apply, DAEMON, emptyState, stateHash, type Caller, type Command, type CommandBody, type Event, type State,
} from '../../src/model/index.ts';
import { Rng } from './rng.ts';

// ---------------------------------------------------------------- the trace

export type TraceEntry =
  | { kind: 'create'; name: string; file: number } // open(..., 'w') of a new name
  | { kind: 'write'; file: number; position: number; bytes: Buffer }
  | { kind: 'truncate'; file: number; length: number }
  | { kind: 'fsync'; file: number; contents: Buffer } // completed; contents as of its start
  | { kind: 'rename'; from: string; to: string }
  | { kind: 'unlink'; name: string }
  | { kind: 'dirsync'; namespaceOps: number } // completed; covers the first namespaceOps namespace ops
  | { kind: 'reply'; lastSeq: number; durable: boolean };

const require = createRequire(import.meta.url);
const fsp = require('node:fs/promises') as typeof import('node:fs/promises');
const fsSync = require('node:fs') as typeof import('node:fs');

/**
 * Records the calls src/log makes under `dir` (and performs them). Names are relative to `dir`;
 * only a flat directory is modelled, which is what a log directory is.
 */
export class FsTracer {
  readonly trace: TraceEntry[] = [];
  readonly #dir: string;
  readonly #names = new Map<string, number>(); // current name -> file id (what the kernel shows)
  readonly #contents = new Map<number, Buffer>();
  #nextFile = 1;
  #namespaceOps = 0;
  readonly #saved = { open: fsp.open, rename: fsp.rename, unlink: fsp.unlink };
  readonly #savedSync = {
    writeSync: fsSync.writeSync, fsyncSync: fsSync.fsyncSync, fdatasyncSync: fsSync.fdatasyncSync, ftruncateSync: fsSync.ftruncateSync,
    openSync: fsSync.openSync, closeSync: fsSync.closeSync, fsync: fsSync.fsync, rmSync: fsSync.rmSync,
  };
  /** Descriptors of traced files, for the synchronous calls that take a descriptor. */
  readonly #fds = new Map<number, number>();

  constructor(dir: string) {
    this.#dir = resolvePath(dir);
  }

  install(): void {
    const self = this;
    const { open, rename, unlink } = this.#saved;
    fsp.open = async function tracedOpen(path: Parameters<typeof open>[0], flags?: Parameters<typeof open>[1], mode?: Parameters<typeof open>[2]) {
      const handle = await open(path, flags, mode);
      const name = self.#nameOf(path);
      if (name === undefined) return handle;
      if (name === '') return self.#wrapDir(handle);
      return self.#wrapFile(handle, name, String(flags ?? 'r'));
    } as typeof open;
    fsp.rename = async function tracedRename(from: Parameters<typeof rename>[0], to: Parameters<typeof rename>[1]) {
      const a = self.#nameOf(from);
      const b = self.#nameOf(to);
      if (a !== undefined && b !== undefined) {
        self.trace.push({ kind: 'rename', from: a, to: b });
        self.#namespaceOps++;
        const file = self.#names.get(a);
        self.#names.delete(a);
        if (file !== undefined) self.#names.set(b, file);
      }
      return rename(from, to);
    } as typeof rename;
    fsp.unlink = async function tracedUnlink(path: Parameters<typeof unlink>[0]) {
      const name = self.#nameOf(path);
      if (name !== undefined) {
        self.trace.push({ kind: 'unlink', name });
        self.#namespaceOps++;
        self.#names.delete(name);
      }
      return unlink(path);
    } as typeof unlink;
    const saved = this.#savedSync;
    fsSync.writeSync = function tracedWriteSync(fd: number, buffer: unknown, ...rest: unknown[]): number {
      const file = self.#fds.get(fd);
      if (file !== undefined && Buffer.isBuffer(buffer)) {
        const [offset = 0, length = buffer.length - (offset as number), position] = rest as [number?, number?, number?];
        if (typeof position !== 'number') throw new Error('FsTracer: writeSync without a position is not modelled');
        const written = (saved.writeSync as (...args: unknown[]) => number)(fd, buffer, offset, length, position);
        self.#write(file, position, Buffer.from(buffer.subarray(offset, offset + written)));
        return written;
      }
      return (saved.writeSync as (...args: unknown[]) => number)(fd, buffer, ...rest);
    } as typeof fsSync.writeSync;
    const syncCall = (original: (fd: number) => void) => (fd: number): void => {
      const file = self.#fds.get(fd);
      const contents = file === undefined ? null : Buffer.from(self.#contents.get(file)!);
      original(fd);
      if (file !== undefined) self.trace.push({ kind: 'fsync', file, contents: contents! });
    };
    fsSync.fsyncSync = syncCall(saved.fsyncSync);
    fsSync.fdatasyncSync = syncCall(saved.fdatasyncSync);
    fsSync.ftruncateSync = function tracedFtruncateSync(fd: number, length = 0): void {
      const file = self.#fds.get(fd);
      saved.ftruncateSync(fd, length);
      if (file !== undefined) self.#truncate(file, length);
    };
    // Snapshots are written through descriptors opened synchronously (src/log/snapshot.ts).
    fsSync.openSync = function tracedOpenSync(path: Parameters<typeof fsSync.openSync>[0], flags?: Parameters<typeof fsSync.openSync>[1], mode?: Parameters<typeof fsSync.openSync>[2]): number {
      const fd = saved.openSync(path, flags ?? 'r', mode);
      const name = self.#nameOf(path);
      if (name !== undefined && name !== '') {
        const file = self.#opened(name, String(flags ?? 'r'));
        if (file !== undefined) self.#fds.set(fd, file);
      }
      return fd;
    } as typeof fsSync.openSync;
    fsSync.closeSync = function tracedCloseSync(fd: number): void {
      self.#fds.delete(fd);
      saved.closeSync(fd);
    };
    fsSync.fsync = function tracedFsync(fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void {
      const file = self.#fds.get(fd);
      const contents = file === undefined ? null : Buffer.from(self.#contents.get(file)!);
      saved.fsync(fd, (error) => {
        if (error === null && file !== undefined) self.trace.push({ kind: 'fsync', file, contents: contents! });
        callback(error);
      });
    } as typeof fsSync.fsync;
    fsSync.rmSync = function tracedRmSync(path: Parameters<typeof fsSync.rmSync>[0], options?: Parameters<typeof fsSync.rmSync>[1]): void {
      const name = self.#nameOf(path);
      const existed = name !== undefined && self.#names.has(name);
      saved.rmSync(path, options);
      if (existed) {
        self.trace.push({ kind: 'unlink', name: name! });
        self.#namespaceOps++;
        self.#names.delete(name!);
      }
    };
    syncBuiltinESMExports();
  }

  uninstall(): void {
    Object.assign(fsp, this.#saved);
    Object.assign(fsSync, this.#savedSync);
    syncBuiltinESMExports();
  }

  /** What the kernel holds for each current name, as the trace tells it (to check the trace is complete). */
  files(): Map<string, Buffer> {
    return new Map([...this.#names].map(([name, file]) => [name, this.#contents.get(file)!]));
  }

  #write(file: number, position: number, bytes: Buffer): void {
    this.trace.push({ kind: 'write', file, position, bytes });
    this.#contents.set(file, overwrite(this.#contents.get(file)!, position, bytes));
  }

  #truncate(file: number, length: number): void {
    this.trace.push({ kind: 'truncate', file, length });
    this.#contents.set(file, resize(this.#contents.get(file)!, length));
  }

  /** '' for the directory itself, a name for a file in it, undefined for anything else. */
  #nameOf(path: unknown): string | undefined {
    if (typeof path !== 'string') return undefined;
    const full = resolvePath(path);
    if (full === this.#dir) return '';
    if (!full.startsWith(this.#dir + '/')) return undefined;
    const name = full.slice(this.#dir.length + 1);
    return name.includes('/') ? undefined : name;
  }

  /** A file in the directory opened with these flags: created or truncated by a 'w' open. */
  #opened(name: string, flags: string): number | undefined {
    let file = this.#names.get(name);
    if (flags.startsWith('w')) {
      if (file === undefined) {
        file = this.#nextFile++;
        this.#names.set(name, file);
        this.trace.push({ kind: 'create', name, file });
        this.#namespaceOps++;
        this.#contents.set(file, Buffer.alloc(0));
      } else {
        this.trace.push({ kind: 'truncate', file, length: 0 });
        this.#contents.set(file, Buffer.alloc(0));
      }
    }
    return file;
  }

  #wrapFile(handle: FileHandle, name: string, flags: string): FileHandle {
    const file = this.#opened(name, flags);
    if (file === undefined) return handle; // a file the log only reads, or one that existed before tracing
    const id = file;
    const self = this;
    this.#fds.set(handle.fd, id);
    const overrides: Partial<Record<keyof FileHandle, unknown>> = {
      async write(buffer: Buffer, offset: number, length: number, position: number) {
        if (typeof position !== 'number') throw new Error('FsTracer: FileHandle.write without a position is not modelled');
        self.#write(id, position, Buffer.from(buffer.subarray(offset, offset + length)));
        return handle.write(buffer, offset, length, position);
      },
      async writev(buffers: Buffer[], position: number) {
        if (typeof position !== 'number') throw new Error('FsTracer: FileHandle.writev without a position is not modelled');
        self.#write(id, position, Buffer.concat(buffers));
        return handle.writev(buffers, position);
      },
      async truncate(length = 0) {
        self.#truncate(id, length);
        return handle.truncate(length);
      },
      async close() {
        self.#fds.delete(handle.fd);
        return handle.close();
      },
      async sync() {
        const contents = Buffer.from(self.#contents.get(id)!);
        await handle.sync();
        self.trace.push({ kind: 'fsync', file: id, contents });
      },
      async datasync() {
        const contents = Buffer.from(self.#contents.get(id)!);
        await handle.datasync();
        self.trace.push({ kind: 'fsync', file: id, contents });
      },
    };
    return proxy(handle, overrides);
  }

  #wrapDir(handle: FileHandle): FileHandle {
    const self = this;
    return proxy(handle, {
      async sync() {
        const namespaceOps = self.#namespaceOps;
        await handle.sync();
        self.trace.push({ kind: 'dirsync', namespaceOps });
      },
    });
  }
}

function proxy(handle: FileHandle, overrides: Partial<Record<keyof FileHandle, unknown>>): FileHandle {
  return new Proxy(handle, {
    get(target, key, receiver) {
      if (key in overrides) return overrides[key as keyof FileHandle];
      const value = Reflect.get(target, key, receiver) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function overwrite(contents: Buffer, position: number, bytes: Buffer): Buffer {
  const out = Buffer.alloc(Math.max(contents.length, position + bytes.length));
  contents.copy(out);
  bytes.copy(out, position);
  return out;
}

function resize(contents: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  contents.copy(out, 0, 0, Math.min(length, contents.length));
  return out;
}

// ---------------------------------------------------------------- the disk after a power loss

type FileState = { contents: Buffer; durable: Buffer };
type NamespaceOp = { kind: 'create'; name: string; file: number } | { kind: 'rename'; from: string; to: string } | { kind: 'unlink'; name: string };

/** Everything the first `point` trace entries did, as the kernel saw it and as the disk surely has it. */
export type CrashPoint = {
  point: number;
  files: Map<number, FileState>;
  namespaceOps: NamespaceOp[];
  /** How many of namespaceOps the last completed directory fsync covered. */
  namespaceDurable: number;
  /** The highest seq a reply had promised durable by then (0: none). */
  durableSeq: number;
};

/** Walks the trace once, yielding the state at each point 0..trace.length. */
export function* crashPoints(trace: readonly TraceEntry[]): Generator<CrashPoint> {
  const files = new Map<number, FileState>();
  const namespaceOps: NamespaceOp[] = [];
  let namespaceDurable = 0;
  let durableSeq = 0;
  for (let point = 0; ; point++) {
    // Copies: a caller may keep points (file contents are never mutated in place, only replaced).
    const filesNow = new Map([...files].map(([id, file]) => [id, { ...file }]));
    yield { point, files: filesNow, namespaceOps: namespaceOps.slice(), namespaceDurable, durableSeq };
    const entry = trace[point];
    if (entry === undefined) return;
    switch (entry.kind) {
      case 'create':
        files.set(entry.file, { contents: Buffer.alloc(0), durable: Buffer.alloc(0) });
        namespaceOps.push(entry);
        break;
      case 'write': {
        const file = files.get(entry.file)!;
        file.contents = overwrite(file.contents, entry.position, entry.bytes);
        break;
      }
      case 'truncate': {
        const file = files.get(entry.file)!;
        file.contents = resize(file.contents, entry.length);
        break;
      }
      case 'fsync': files.get(entry.file)!.durable = entry.contents; break;
      case 'rename': namespaceOps.push(entry); break;
      case 'unlink': namespaceOps.push(entry); break;
      case 'dirsync': namespaceDurable = Math.max(namespaceDurable, entry.namespaceOps); break;
      case 'reply': if (entry.durable) durableSeq = Math.max(durableSeq, entry.lastSeq); break;
    }
  }
}

export type DiskChoice = 'synced-only' | 'everything' | 'random' | 'holes';

/**
 * The files (name -> bytes) a power loss at this point may leave. `synced-only` and `everything`
 * are the extremes; `random` picks a prefix of the pending namespace ops and, per file, a prefix
 * of its unsynced bytes; `holes` is `everything` with one unsynced page never written (zeros).
 */
export function diskAfterPowerLoss(crash: CrashPoint, choice: DiskChoice, rng: Rng): Map<string, Buffer> {
  const pending = crash.namespaceOps.length - crash.namespaceDurable;
  const opsKept = choice === 'synced-only' ? 0 : choice === 'random' ? rng.int(0, pending) : pending;
  const names = new Map<string, number>();
  for (const op of crash.namespaceOps.slice(0, crash.namespaceDurable + opsKept)) {
    if (op.kind === 'create') names.set(op.name, op.file);
    else if (op.kind === 'unlink') names.delete(op.name);
    else {
      const file = names.get(op.from);
      names.delete(op.from);
      if (file !== undefined) names.set(op.to, file);
    }
  }
  const disk = new Map<string, Buffer>();
  for (const [name, id] of names) {
    const { contents, durable } = crash.files.get(id)!;
    let common = 0;
    while (common < durable.length && common < contents.length && durable[common] === contents[common]) common++;
    let bytes: Buffer;
    if (choice === 'synced-only') bytes = durable;
    else if (choice === 'random') bytes = rng.chance(0.1) ? durable : contents.subarray(0, rng.int(common, contents.length));
    else bytes = contents;
    if (choice === 'holes' && contents.length - common > 8) {
      const page = 512;
      const start = rng.int(common, contents.length - 1);
      const alignedStart = start - (start % page);
      const from = Math.max(common, alignedStart);
      bytes = Buffer.from(contents);
      bytes.fill(0, from, Math.min(contents.length, alignedStart + page));
    }
    disk.set(name, Buffer.from(bytes));
  }
  return disk;
}

// ---------------------------------------------------------------- the workload

const CALLERS: Caller[] = [
  { uid: 0, gid: 0, pid: 100, start: 1 },
  { uid: 1000, gid: 1000, pid: 200, start: 2 },
];

export type Workload = {
  trace: TraceEntry[];
  /** Every event appended, in seq order (events[i].seq === i + 1). */
  events: Event[];
  /** stateHash after folding the first n events, for n = 0..events.length. */
  hashes: string[];
  snapshots: number;
  failures: string[];
};

export type WorkloadOptions = { seed: number; durability: Durability; commands: number; snapshotBytesMin: number };

/** Runs a random queue workload through the real engine and log over `dir`, tracing the file system. */
export async function runTracedWorkload(dir: string, options: WorkloadOptions): Promise<Workload> {
  const rng = Rng.derive(options.seed, 'powerloss-workload');
  const tracer = new FsTracer(dir);
  const events: Event[] = [];
  const failures: string[] = [];
  let snapshots = 0;
  tracer.install();
  try {
    const { state, read } = await recover({ logDir: dir, warn: (message) => failures.push(`recovery warned: ${message}`) });
    const log = new SegmentedLog(dir, await openLogForAppend(read));
    const warn = (message: string): void => void failures.push(`compactor: ${message}`);
    const compactor = new Compactor(log, state, { snapshotBytesMin: options.snapshotBytesMin, warn });
    const sink: EventSink = {
      append(appended, appendOptions) {
        events.push(...appended);
        return log.append(appended, appendOptions);
      },
      sync: () => log.sync(),
    };
    const engine = new Engine(state, sink, options.durability, (error) => failures.push(`append failed: ${String(error)}`), () => compactor.maybeSnapshot());
    const durableType = (type: Command['type']): boolean =>
      options.durability === 'always' || (options.durability === 'close' && type !== 'write' && type !== 'truncate');
    let t = 1_700_000_000_000;
    const inFlight: Promise<void>[] = [];
    const run = (body: CommandBody, by: Caller = rng.pick(CALLERS)): void => {
      const seqBefore = state.seq;
      const reply = Promise.resolve(engine.run({ ...body, by, atMs: t++ } as Command));
      const lastSeq = state.seq;
      // A reply promises something only if the command produced events (else it answers at once).
      const durable = lastSeq > seqBefore && durableType(body.type);
      inFlight.push(reply.then((errno) => {
        if (errno === null && lastSeq > seqBefore) tracer.trace.push({ kind: 'reply', lastSeq, durable });
      }));
    };
    const syncNow = (): void => {
      const seqAt = state.seq;
      inFlight.push(engine.sync().then((errno) => {
        if (errno === null) tracer.trace.push({ kind: 'reply', lastSeq: seqAt, durable: options.durability !== 'none' });
      }));
    };
    run({ type: 'setQuotas', quotas: BUILT_IN_QUOTA_TABLE }, DAEMON);
    let names = 0;
    for (let issued = 0; issued < options.commands;) {
      // A burst of concurrent commands: they share writes and fsyncs (group commit).
      const burst = rng.int(1, 6);
      for (let b = 0; b < burst; b++, issued++) workloadStep(state, rng, run, syncNow, () => `m${++names}`);
      if (rng.chance(0.5)) {
        await Promise.all(inFlight.splice(0));
      } else {
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    await Promise.all(inFlight.splice(0));
    await compactor.snapshot();
    await log.close();
    snapshots = tracer.trace.filter((e) => e.kind === 'rename' && e.to.endsWith('.snap')).length;
    // The simulation is only as good as its trace: every byte on disk must have been traced.
    for (const [name, bytes] of tracer.files()) {
      const actual = await readFile(join(dir, name)).catch(() => null);
      if (actual === null || !actual.equals(bytes)) failures.push(`the trace of ${name} does not match the file (an untraced way of writing?)`);
    }
    const traced = new Set(tracer.files().keys());
    for (const name of await readdir(dir)) if (!traced.has(name)) failures.push(`${name} exists but was never traced`);
  } finally {
    tracer.uninstall();
  }
  const hashes = [stateHash(emptyState())];
  const reference = emptyState();
  for (const event of events) {
    apply(reference, event);
    hashes.push(stateHash(reference));
  }
  return { trace: tracer.trace, events, hashes, snapshots, failures };
}

function workloadStep(state: State, rng: Rng, run: (body: CommandBody, by?: Caller) => void, syncNow: () => void, newName: () => string): void {
  const queues = [...state.queues.keys()];
  const queue = queues.length > 0 ? rng.pick(queues) : null;
  const files = queue === null ? [] : [...state.queues.get(queue)!.entries.keys()];
  const file = files.length > 0 ? rng.pick(files) : null;
  const roll = rng.next();
  if (queue === null || (roll < 0.06 && queues.length < 4)) {
    const name = `q${rng.int(0, 5)}`;
    run({ type: 'mkdir', path: `/${name}`, mode: 0o755 });
    if (rng.chance(0.7)) run({ type: 'setxattr', path: `/${name}`, key: 'user.eventfs_sticky', value: Buffer.alloc(0), flags: 0 });
  } else if (roll < 0.45) {
    const name = newName();
    run({ type: 'create', path: `/${queue}/${name}`, mode: 0o644 });
    const entry = state.queues.get(queue)?.entries.get(name);
    if (entry === undefined) return;
    let offset = 0;
    for (let w = rng.int(0, 3); w > 0; w--) {
      const data = Buffer.alloc(rng.pick([1, 20, 300, 3000]), rng.int(0, 255));
      run({ type: 'write', ino: entry.ino, offset, data });
      offset += data.length;
    }
    if (rng.chance(0.7)) syncNow(); // close() of a written file
  } else if (roll < 0.55 && file !== null) {
    run({ type: 'unlink', path: `/${queue}/${rng.pick(['head', 'tail'])}` });
  } else if (roll < 0.68 && file !== null) {
    run({ type: 'unlink', path: `/${queue}/${file}` });
  } else if (roll < 0.74 && file !== null) {
    run({ type: 'link', from: `/${queue}/${file}`, to: `/${rng.pick(queues)}/${newName()}` });
  } else if (roll < 0.8 && file !== null) {
    const ino = state.queues.get(queue)!.entries.get(file)!.ino;
    run({ type: 'truncate', ino, size: rng.int(0, 50) });
  } else if (roll < 0.86 && file !== null) {
    run({ type: 'setxattr', path: `/${queue}/${file}`, key: `user.k${rng.int(0, 2)}`, value: Buffer.from([rng.int(0, 255)]), flags: 0 });
  } else if (roll < 0.9) {
    run({ type: 'chmod', path: `/${queue}`, mode: rng.pick([0o700, 0o755, 0o777]) });
  } else if (roll < 0.93) {
    run({ type: 'removexattr', path: `/${queue}`, key: 'user.eventfs_sticky' });
  } else if (roll < 0.96) {
    run({ type: 'reap', queue }, DAEMON);
  } else {
    run({ type: 'rmdir', path: `/${queue}` });
  }
}

// ---------------------------------------------------------------- checking every crash point

export type SimulationResult = {
  crashPoints: number;
  disks: number;
  /** Disks recovered, by how recovery went. */
  recovered: number;
  refusedHoles: number;
  continued: number;
  /** Crash points inside a compaction: after a rotation and before its snapshot exists; after the snapshot and before pruning ended. */
  midCompaction: { beforeSnapshot: number; beforePrune: number };
  failures: string[];
};

export type SimulationOptions = { seed: number; randomDisks: number; continueEvery: number; holesEvery: number };

/** Recovers every disk a power loss during `workload` may leave and checks the prefix property. */
export async function checkEveryCrashPoint(workload: Workload, options: SimulationOptions): Promise<SimulationResult> {
  const rng = Rng.derive(options.seed, 'powerloss-disks');
  const result: SimulationResult = {
    crashPoints: 0, disks: 0, recovered: 0, refusedHoles: 0, continued: 0, midCompaction: { beforeSnapshot: 0, beforePrune: 0 }, failures: [],
  };
  const scratch = await mkdtemp(join(tmpdir(), 'eventfs-powerloss-'));
  const phases = compactionPhases(workload.trace);
  try {
    for (const crash of crashPoints(workload.trace)) {
      result.crashPoints++;
      const phase = phases[crash.point];
      if (phase === 'before-snapshot') result.midCompaction.beforeSnapshot++;
      if (phase === 'before-prune') result.midCompaction.beforePrune++;
      const choices: DiskChoice[] = ['synced-only', 'everything', ...Array.from({ length: options.randomDisks }, () => 'random' as const)];
      if (options.holesEvery > 0 && crash.point % options.holesEvery === 0) choices.push('holes');
      for (const [i, choice] of choices.entries()) {
        const disk = diskAfterPowerLoss(crash, choice, rng);
        const dir = join(scratch, `p${crash.point}-${i}`);
        await writeDisk(dir, disk);
        result.disks++;
        const where = `crash point ${crash.point}/${workload.trace.length} (${choice}; durable promised up to seq ${crash.durableSeq})`;
        const failure = await checkDisk(dir, workload, crash.durableSeq, choice === 'holes');
        if (failure === 'refused') result.refusedHoles++;
        else if (failure !== null) result.failures.push(`${where}: ${failure}; files: ${[...disk].map(([n, b]) => `${n}=${b.length}`).join(' ')}`);
        else {
          result.recovered++;
          if (options.continueEvery > 0 && (crash.point + i) % options.continueEvery === 0 && choice !== 'holes') {
            const again = await continueAndRecover(dir, workload);
            result.continued++;
            if (again !== null) result.failures.push(`${where}, continued: ${again}`);
          }
        }
        await rm(dir, { recursive: true, force: true });
        if (result.failures.length >= 20) return result;
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return result;
}

async function writeDisk(dir: string, disk: Map<string, Buffer>): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  for (const [name, bytes] of disk) await writeFile(join(dir, name), bytes);
}

/** null when the disk recovers to a prefix that holds every promised event; 'refused' for an allowed refusal. */
async function checkDisk(dir: string, workload: Workload, durableSeq: number, refusalAllowed: boolean): Promise<string | 'refused' | null> {
  let state: State;
  try {
    state = (await recover({ logDir: dir, warn: () => undefined })).state;
  } catch (error) {
    if (refusalAllowed && error instanceof LogCorruptError) return 'refused';
    return `recovery failed: ${(error as Error).message}`;
  }
  const n = state.seq;
  if (n > workload.events.length) return `recovered seq ${n}, but only ${workload.events.length} events were ever appended`;
  if (n < durableSeq) return `recovered only up to seq ${n}: events up to ${durableSeq} were promised durable`;
  if (stateHash(state) !== workload.hashes[n]) return `the state recovered at seq ${n} is not the fold of the first ${n} events`;
  return null;
}

/** The next mount: continue the log after recovery, append one event, and recover that. */
async function continueAndRecover(dir: string, workload: Workload): Promise<string | null> {
  const { state, read } = await recover({ logDir: dir, warn: () => undefined });
  const n = state.seq;
  const writer = await openLogForAppend(read);
  const event = { v: 1, seq: n + 1, t: 1, uid: 0, gid: 0, pid: 0, type: 'quotasSet', quotas: BUILT_IN_QUOTA_TABLE } as Event;
  await writer.append([event], { durable: true });
  await writer.close();
  let again: State;
  try {
    again = (await recover({ logDir: dir, warn: () => undefined })).state;
  } catch (error) {
    return `the continued log does not recover: ${(error as Error).message}`;
  }
  const expected = structuredCloneState(workload, n);
  apply(expected, event);
  if (again.seq !== n + 1 || stateHash(again) !== stateHash(expected)) return `after continuing at seq ${n + 1} the log folds to something else`;
  return null;
}

function structuredCloneState(workload: Workload, n: number): State {
  const state = emptyState();
  for (const event of workload.events.slice(0, n)) apply(state, event);
  return state;
}

/** For each trace point: inside a compaction, and which half of it. */
function compactionPhases(trace: readonly TraceEntry[]): ('before-snapshot' | 'before-prune' | null)[] {
  const phases: ('before-snapshot' | 'before-prune' | null)[] = [];
  let phase: 'before-snapshot' | 'before-prune' | null = null;
  let segments = 0;
  let dirsyncsAfterSnapshot = 0;
  for (let point = 0; point <= trace.length; point++) {
    phases.push(phase);
    const entry = trace[point];
    if (entry === undefined) break;
    // A rotation creates the next segment (the first segment is the mount's own); the snapshot is
    // renamed into place and its directory fsynced; the prune ends with a second directory fsync.
    if (entry.kind === 'create' && entry.name.startsWith('segment-') && segments++ > 0) phase = 'before-snapshot';
    else if (entry.kind === 'rename' && entry.to.endsWith('.snap')) {
      phase = 'before-prune';
      dirsyncsAfterSnapshot = 0;
    } else if (entry.kind === 'dirsync' && phase === 'before-prune' && ++dirsyncsAfterSnapshot === 2) phase = null;
  }
  return phases;
}

/**
 * Every snapshot (and segment) is written atomically: created under a *.tmp name, fully written
 * and fsynced before the rename, and the rename covered by a directory fsync. Returns violations.
 */
export function checkAtomicWrites(trace: readonly TraceEntry[]): { renames: number; violations: string[] } {
  const violations: string[] = [];
  const fileOf = new Map<string, number>();
  const contents = new Map<number, Buffer>();
  const synced = new Map<number, Buffer>();
  let namespaceOps = 0;
  let renames = 0;
  const pendingRenames: { name: string; op: number }[] = [];
  for (const entry of trace) {
    switch (entry.kind) {
      case 'create':
        fileOf.set(entry.name, entry.file);
        contents.set(entry.file, Buffer.alloc(0));
        namespaceOps++;
        break;
      case 'write': contents.set(entry.file, overwrite(contents.get(entry.file)!, entry.position, entry.bytes)); break;
      case 'truncate': contents.set(entry.file, resize(contents.get(entry.file)!, entry.length)); break;
      case 'fsync': synced.set(entry.file, entry.contents); break;
      case 'unlink': namespaceOps++; break;
      case 'rename': {
        namespaceOps++;
        renames++;
        const file = fileOf.get(entry.from);
        if (!entry.from.endsWith('.tmp')) violations.push(`${entry.to} was renamed from ${entry.from}, not from a *.tmp file`);
        if (file === undefined) violations.push(`${entry.to}: renamed from a file created before the trace`);
        else if (!(synced.get(file)?.equals(contents.get(file)!) ?? false)) violations.push(`${entry.to}: renamed before all of its bytes were fsynced`);
        pendingRenames.push({ name: entry.to, op: namespaceOps });
        break;
      }
      case 'dirsync':
        for (let i = pendingRenames.length - 1; i >= 0; i--) if (pendingRenames[i]!.op <= entry.namespaceOps) pendingRenames.splice(i, 1);
        break;
      case 'reply': break;
    }
  }
  for (const { name } of pendingRenames) violations.push(`${name}: its rename was never covered by a directory fsync`);
  return { renames, violations };
}
