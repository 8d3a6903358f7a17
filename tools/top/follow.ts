// The I/O edge of eventfs-top: tails the log (src/log/tail.ts) when chokidar says a file changed,
// asks the LOCK whether the daemon lives, and keeps the model folded. Rendering asks it for a
// view now and then (App flushes every 100-250 ms, PITFALLS 24); nothing here touches React.
import { watch, type FSWatcher } from 'chokidar';
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { setImmediate as yieldTurn } from 'node:timers/promises';
import { listLogDir } from '../../src/log/dir.ts';
import { LOCK_NAME, SEGMENT_NAME, SNAPSHOT_NAME } from '../../src/log/format.ts';
import { isProcessAlive, readLockOwner } from '../../src/log/lock.ts';
import type { LogEvent } from '../../src/log/reader.ts';
import { LogTail, type TailBatch } from '../../src/log/tail.ts';
import { createModel, ingest, resetModel, type TopModel } from './model.ts';
import { ReplayClock } from './replay.ts';
import { deriveView, type DaemonStatus, type TopView } from './view.ts';

export type ViewRequest = { detailQueue: string | null; streamMax: number };

// What the screen reads. `version` changes whenever anything shown may have changed.
export interface TopSource {
  readonly version: number;
  view(request: ViewRequest): TopView;
}

export type FollowOptions = {
  path: string;
  replaySpeed: number | null; // null: follow the log live
  userName: (uid: number) => string;
  pollGapMs: number; // polls at most this often however fast chokidar fires
  statusMs: number; // LOCK check and directory listing, also a safety net for missed events
};

export const followDefaults = { pollGapMs: 100, statusMs: 1000 } as const;

const REPLAY_TICK_MS = 50;
const REPLAY_BUFFER_EVENTS = 20_000;
const SPARK_WIDTH = 20;

export class LogFollower implements TopSource {
  readonly model: TopModel = createModel();
  readonly options: FollowOptions;
  readonly tail: LogTail;
  version = 0;
  daemon: DaemonStatus = { kind: 'waiting' };
  #logBytes = 0;
  #pendingBytes = 0;
  #problems: string[] = [];
  #watcher: FSWatcher | null = null;
  #timers: NodeJS.Timeout[] = [];
  #isPolling = false;
  #isPollQueued = false;
  #isListingQueued = false;
  #lastPollMs = 0;
  #isStopped = false;
  #replay: ReplayClock | null = null;
  #isReplayRead = false; // the whole log is in the replay buffer (or shown)

  constructor(options: FollowOptions) {
    this.options = options;
    this.tail = new LogTail(options.path, options.replaySpeed === null ? 'newest' : 'oldest');
    if (options.replaySpeed !== null) {
      this.#replay = new ReplayClock(options.replaySpeed);
      this.daemon = { kind: 'replay', speed: options.replaySpeed, isFinished: false };
    }
  }

  // The clock of the screen: the wall clock while a daemon lives; the last event's time for a
  // finished log (post-mortem shows the final rates, not zeros); the movie's clock in a replay.
  nowMs(): number {
    if (this.#replay !== null) {
      const isFinished = this.daemon.kind === 'replay' && this.daemon.isFinished;
      return (isFinished ? this.model.lastEventMs : this.#replay.clockMs) ?? this.model.lastEventMs ?? Date.now();
    }
    if (this.daemon.kind === 'gone' || this.daemon.kind === 'file') return this.model.lastEventMs ?? Date.now();
    return Date.now();
  }

  view(request: ViewRequest): TopView {
    const isFinal = this.daemon.kind === 'gone' || this.daemon.kind === 'file';
    const torn = isFinal && this.#pendingBytes > 0 ? [`torn tail: ${this.#pendingBytes} bytes of an unfinished record at the end of the log`] : [];
    return deriveView(this.model, {
      nowMs: this.nowMs(), daemon: this.daemon, logBytes: this.#logBytes, problems: [...this.#problems, ...torn],
      detailQueue: request.detailQueue, streamMax: request.streamMax, sparkWidth: SPARK_WIDTH, userName: this.options.userName,
    });
  }

  // Reads everything already on disk (live) or fills the replay buffer, and checks the LOCK.
  async catchUp(): Promise<void> {
    await this.checkDaemon();
    if (this.#replay !== null) return this.#replayFill();
    await this.#pollUntilCaughtUp(true);
  }

  async start(): Promise<void> {
    await this.catchUp();
    if (this.#isStopped) return;
    if (this.#replay !== null) {
      this.#timers.push(setInterval(() => void this.#replayTick(), REPLAY_TICK_MS));
      return;
    }
    this.#watcher = this.#watch();
    this.#timers.push(setInterval(() => {
      void this.checkDaemon();
      this.#schedule(true);
    }, this.options.statusMs));
  }

  async stop(): Promise<void> {
    this.#isStopped = true;
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    await this.#watcher?.close();
    this.#watcher = null;
  }

  async checkDaemon(): Promise<void> {
    if (this.#replay !== null) return;
    const next = await daemonStatus(this.options.path);
    if (JSON.stringify(next) !== JSON.stringify(this.daemon)) {
      this.daemon = next;
      this.version++;
    }
  }

  // Watches the directory (only log files matter) or the one file; any change means "poll".
  #watch(): FSWatcher {
    const root = this.options.path;
    const isLogFile = (path: string): boolean => {
      const name = basename(path);
      return name === LOCK_NAME || SEGMENT_NAME.test(name) || SNAPSHOT_NAME.test(name);
    };
    const watcher = watch(root, { ignoreInitial: true, depth: 0, ignored: (path: string) => path !== root && !isLogFile(path) });
    watcher.on('change', () => this.#schedule(false));
    watcher.on('add', () => this.#schedule(true));
    watcher.on('unlink', () => this.#schedule(true));
    watcher.on('error', (error: unknown) => {
      this.#problems = [`watch: ${(error as Error).message}`];
      this.version++;
    });
    return watcher;
  }

  // Coalesces triggers: at most one poll runs, and polls start at most every pollGapMs.
  #schedule(isListing: boolean): void {
    this.#isListingQueued ||= isListing;
    if (this.#isPollQueued || this.#isStopped) return;
    this.#isPollQueued = true;
    const waitMs = Math.max(0, this.#lastPollMs + this.options.pollGapMs - Date.now());
    const timer = setTimeout(() => void this.#runQueuedPoll(), waitMs);
    timer.unref?.();
  }

  async #runQueuedPoll(): Promise<void> {
    if (this.#isPolling) {
      setTimeout(() => void this.#runQueuedPoll(), this.options.pollGapMs).unref?.();
      return;
    }
    this.#isPollQueued = false;
    const isListing = this.#isListingQueued;
    this.#isListingQueued = false;
    await this.#pollUntilCaughtUp(isListing);
  }

  async #pollUntilCaughtUp(isListing: boolean): Promise<void> {
    this.#isPolling = true;
    try {
      let batch = await this.tail.poll({ isListing });
      this.#take(batch);
      while (batch.hasMore && !this.#isStopped) {
        await yieldTurn(); // a long catch-up must not freeze the screen or the keys
        batch = await this.tail.poll();
        this.#take(batch);
      }
    } catch (error) {
      this.#problems = [`reading the log: ${(error as Error).message}`];
      this.version++;
    } finally {
      this.#isPolling = false;
      this.#lastPollMs = Date.now();
    }
  }

  #take(batch: TailBatch, events: readonly LogEvent[] = batch.events): void {
    if (batch.reset !== null) resetModel(this.model, batch.reset.snapshot, batch.mountId?.toString('hex') ?? null);
    if (this.model.mountId === null && batch.mountId !== null) this.model.mountId = batch.mountId.toString('hex');
    ingest(this.model, events);
    const isChanged = batch.reset !== null || events.length > 0 || batch.logBytes !== this.#logBytes ||
      batch.problems.join('\n') !== this.#problems.join('\n') || batch.pendingBytes !== this.#pendingBytes;
    this.#logBytes = batch.logBytes;
    this.#pendingBytes = batch.pendingBytes;
    this.#problems = batch.problems;
    if (isChanged) this.version++;
  }

  // Replay: reads ahead into the clock's buffer, at most REPLAY_BUFFER_EVENTS at a time.
  async #replayFill(): Promise<void> {
    const replay = this.#replay!;
    while (replay.pending < REPLAY_BUFFER_EVENTS && !this.#isReplayRead) {
      const batch = await this.tail.poll({ isListing: !this.#isReplayRead && replay.pending === 0 });
      // Starting over (the log was rewritten): what was buffered belongs to the old fold.
      if (batch.reset !== null) replay.clear();
      this.#take(batch, []);
      replay.push(batch.events);
      this.#isReplayRead = !batch.hasMore && batch.events.length === 0;
    }
  }

  async #replayTick(): Promise<void> {
    const replay = this.#replay!;
    const due = replay.tick(Date.now());
    if (due.length > 0) {
      ingest(this.model, due);
      this.version++;
    }
    if (replay.pending === 0 && this.#isReplayRead) return this.#replayFinish();
    if (replay.pending < REPLAY_BUFFER_EVENTS / 2 && !this.#isReplayRead && !this.#isPolling) {
      this.#isPolling = true;
      await this.#replayFill().finally(() => { this.#isPolling = false; });
    }
  }

  #replayFinish(): void {
    if (this.daemon.kind === 'replay' && !this.daemon.isFinished) {
      this.daemon = { ...this.daemon, isFinished: true };
      this.version++;
    }
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
  }
}

// live: a LOCK naming a live process; gone: a LOCK naming a dead one, or none (stopped cleanly)
// while there is a log; file: a single segment file was given; waiting: nothing there yet.
export async function daemonStatus(path: string): Promise<DaemonStatus> {
  const info = await stat(path).catch(() => null);
  if (info === null) return { kind: 'waiting' };
  if (info.isFile()) return { kind: 'file' };
  const lockPath = join(path, LOCK_NAME);
  const owner = await readLockOwner(lockPath).catch(() => null);
  if (owner === 'missing' || owner === null) {
    const { segments } = await listLogDir(path).catch(() => ({ segments: [] }));
    return segments.length === 0 ? { kind: 'waiting' } : { kind: 'gone', pid: null };
  }
  if (!(await isProcessAlive(owner))) return { kind: 'gone', pid: owner.pid };
  const startedMs = (await stat(lockPath).catch(() => null))?.mtimeMs ?? null;
  return { kind: 'live', pid: owner.pid, startedMs: startedMs === null ? null : Math.floor(startedMs) };
}
