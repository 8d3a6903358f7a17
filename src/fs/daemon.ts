/**
 * A running mount: recover the state from the log directory, open a new segment, mount FUSE,
 * sweep for dead creators, and on stop flush the log and unmount cleanly.
 */
import type { QuotaTable } from '../config/limits.ts';
import { acquireLock, type LogLock } from '../log/lock.ts';
import { readLogDir, readSegmentFile, type LogDirRead } from '../log/reader.ts';
import { SegmentedLog } from '../log/segmented.ts';
import { LogCorruptError, SnapshotCorruptError } from '../log/errors.ts';
import { openLogForAppend } from '../log/writer.ts';
import {
  apply, ApplyError, DAEMON, type Creator, emptyState, fromPlain, plainHash, type Event, type PlainState, type State,
} from '../model/index.ts';
import { ProcCache } from '../proc/cache.ts';
import { Compactor } from './compactor.ts';
import { Engine, type Durability } from './engine.ts';
import { Handles } from './handles.ts';
import { Fuse, PATCHED_LIBFUSE } from './native.ts';
import { isMounted } from './mountinfo.ts';
import { makeOps } from './ops.ts';
import { Reaper } from './reaper.ts';
import { nativeSha256 } from './sha256.ts';

export type DaemonOptions = {
  mountpoint: string;
  logDir: string;
  durability: Durability;
  quotas: QuotaTable;
  /** allow_other: other users may use the mount (default when root); modes are always enforced. */
  allowOther: boolean;
  sweepMs: number;
  /** Snapshot once this much log (and at least the last snapshot's size) was written since the last one. */
  snapshotBytesMin: number;
  debug: boolean;
  warn: (message: string) => void;
};

export class Daemon {
  /** Resolves when the mount went away without stop() (fusermount -u by the user). */
  readonly unmounted: Promise<void>;
  private watch: NodeJS.Timeout | null = null;

  private constructor(
    private readonly mountpoint: string,
    private readonly fuse: Fuse,
    private readonly log: SegmentedLog,
    private readonly lock: LogLock,
    private readonly reaper: Reaper,
    private readonly proc: ProcCache,
    readonly engine: Engine,
    sweepMs: number,
  ) {
    this.unmounted = new Promise((resolve) => {
      this.watch = setInterval(() => {
        if (!isMounted(this.mountpoint)) resolve();
      }, sweepMs);
    });
  }

  static async start(options: DaemonOptions): Promise<Daemon> {
    const lock = await acquireLock(options.logDir);
    try {
      const { state, read } = await recover(options);
      const log = new SegmentedLog(options.logDir, await openLogForAppend(read));
      const compactor = new Compactor(log, state, { snapshotBytesMin: options.snapshotBytesMin, warn: options.warn });
      const onFailure = (error: unknown) => options.warn(`log write failed: ${String(error)}`);
      const engine = new Engine(state, log, options.durability, onFailure, () => compactor.maybeSnapshot());
      const reap = (queue: string, creator: Creator): void => void engine.run({ type: 'reap', queue, creator, by: DAEMON, atMs: Date.now() });
      // Caller identities and creator liveness are asked per op: one descriptor per thread or
      // process answers with a single pread instead of opening /proc files (src/proc/cache.ts).
      const proc = new ProcCache();
      const reaper = new Reaper({ state, isAlive: (creator) => proc.isAlive(creator), reap });
      if (JSON.stringify(state.quotas) !== JSON.stringify(options.quotas)) {
        await engine.run({ type: 'setQuotas', quotas: options.quotas, by: DAEMON, atMs: Date.now() });
      }
      reaper.checkAll();
      const fuse = mountFuse(options, engine, reaper, proc);
      await fuse.mountAsync();
      reaper.start(options.sweepMs);
      return new Daemon(options.mountpoint, fuse, log, lock, reaper, proc, engine, options.sweepMs);
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  /** Unmount, then make everything appended durable and let go of the log directory. */
  async stop(): Promise<void> {
    this.reaper.stop();
    if (this.watch !== null) clearInterval(this.watch);
    await this.fuse.unmountAsync().catch(() => undefined);
    this.proc.close();
    await this.log.close();
    await this.lock.release();
  }
}

/** The newest valid snapshot plus the events after it; a torn tail is cut by openLogForAppend. */
export async function recover(options: Pick<DaemonOptions, 'logDir' | 'warn'>): Promise<{ state: State; read: LogDirRead }> {
  const read = await readLogDir(options.logDir);
  for (const skipped of read.skippedSnapshots) {
    options.warn(`${skipped.path}: ${skipped.reason}; recovering from ${read.snapshot?.path ?? 'the start of the log'} instead`);
  }
  for (const torn of read.tornTails) {
    options.warn(`${torn.path}: torn tail at byte ${torn.offset} (${torn.bytesDropped} bytes of an unacknowledged write dropped)`);
  }
  const state = read.snapshot === null ? emptyState() : loadSnapshot(read.snapshot);
  for (const event of read.events as unknown as Event[]) {
    try {
      apply(state, event);
    } catch (error) {
      // An intact record whose event does not fit (ApplyError), or is not even shaped like one
      // (apply then trips over its fields): never a crash with a stack trace, never half-applied.
      throw await locateBadEvent(read, event, error);
    }
  }
  return { state, read };
}

/** An event that cannot apply: name its file and offset, like other corruption. */
async function locateBadEvent(read: LogDirRead, event: Event, error: unknown): Promise<Error> {
  const what = error instanceof ApplyError ? error.message : `event seq ${event.seq} (${String(event.type).slice(0, 40)}) cannot apply: ${(error as Error).message}`;
  const reason = what.length > 300 ? `${what.slice(0, 300)}...` : what;
  const segment = read.segments.find((s) => s.firstSeq <= event.seq && event.seq < s.firstSeq + s.eventCount);
  if (segment === undefined) return error instanceof ApplyError ? error : new ApplyError(event.seq, String(event.type), reason);
  const { offsets } = await readSegmentFile(segment.path);
  return new LogCorruptError(segment.path, offsets[event.seq - segment.firstSeq] ?? 0, reason);
}

/** A snapshot's CRC guards its bytes; its hash guards the meaning (same fold, same state). */
function loadSnapshot(snapshot: { path: string; state: unknown; hash: unknown }): State {
  const plain = snapshot.state as PlainState;
  if (plainHash(plain, nativeSha256) !== snapshot.hash) throw new SnapshotCorruptError(snapshot.path, 'state does not match its recorded hash');
  return fromPlain(plain);
}

function mountFuse(options: DaemonOptions, engine: Engine, reaper: Reaper, proc: ProcCache): Fuse {
  let fuse: Fuse | null = null;
  const caller = () => {
    const context = fuse!.context();
    // A caller that vanished mid-request keeps its thread id and no start time: its queue is reaped.
    const identity = context.pid === 0 ? null : proc.callerIdentity(context.pid);
    return { uid: context.uid, gid: context.gid, pid: identity?.pid ?? context.pid, start: identity?.start ?? 0 };
  };
  const report = (error: unknown) => options.warn(`internal error: ${error instanceof Error ? error.stack : String(error)}`);
  const ops = makeOps({ engine, handles: new Handles(), reaper, caller, now: Date.now, report, patchedLibfuse: PATCHED_LIBFUSE });
  fuse = new Fuse(options.mountpoint, ops, {
    useIno: true, entryTimeout: 0, attrTimeout: 0, negativeTimeout: 0,
    allowOther: options.allowOther, defaultPermissions: true,
    fsname: 'eventfs', subtype: 'eventfs', debug: options.debug,
  });
  return fuse;
}
