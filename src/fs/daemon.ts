/**
 * A running mount: recover the state from the log directory, open a new segment, mount FUSE,
 * sweep for dead creators, and on stop flush the log and unmount cleanly.
 */
import type { QuotaTable } from '../config/limits.ts';
import { acquireLock, type LogLock } from '../log/lock.ts';
import { readLogDir, type LogDirRead } from '../log/reader.ts';
import { openLogForAppend, type LogWriter } from '../log/writer.ts';
import {
  DAEMON, emptyState, fold, fromPlain, type Event, type PlainState, type State,
} from '../model/index.ts';
import { callerIdentity, isAlive } from '../proc/liveness.ts';
import { Engine, type Durability } from './engine.ts';
import { Handles } from './handles.ts';
import { Fuse } from './native.ts';
import { isMounted } from './mountinfo.ts';
import { makeOps } from './ops.ts';
import { Reaper } from './reaper.ts';

export type DaemonOptions = {
  mountpoint: string;
  logDir: string;
  durability: Durability;
  quotas: QuotaTable;
  /** allow_other: other users may use the mount (default when root); modes are always enforced. */
  allowOther: boolean;
  sweepMs: number;
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
    private readonly writer: LogWriter,
    private readonly lock: LogLock,
    private readonly reaper: Reaper,
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
      const writer = await openLogForAppend(read);
      const engine = new Engine(state, writer, options.durability, (error) => options.warn(`log write failed: ${String(error)}`));
      const reap = (queue: string): void => void engine.run({ type: 'reap', queue, by: DAEMON, atMs: Date.now() });
      const reaper = new Reaper({ state, isAlive, reap });
      if (JSON.stringify(state.quotas) !== JSON.stringify(options.quotas)) {
        await engine.run({ type: 'setQuotas', quotas: options.quotas, by: DAEMON, atMs: Date.now() });
      }
      reaper.checkAll();
      const fuse = mountFuse(options, engine, reaper);
      await fuse.mountAsync();
      reaper.start(options.sweepMs);
      return new Daemon(options.mountpoint, fuse, writer, lock, reaper, engine, options.sweepMs);
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
    await this.writer.close();
    await this.lock.release();
  }
}

/** The newest valid snapshot plus the events after it; a torn tail is cut by openLogForAppend. */
async function recover(options: DaemonOptions): Promise<{ state: State; read: LogDirRead }> {
  const read = await readLogDir(options.logDir);
  for (const torn of read.tornTails) {
    options.warn(`${torn.path}: torn tail at byte ${torn.offset} (${torn.bytesDropped} bytes of an unacknowledged write dropped)`);
  }
  const base = read.snapshot === null ? emptyState() : fromPlain(read.snapshot.state as PlainState);
  const state = fold(read.events as unknown as Event[], base);
  return { state, read };
}

function mountFuse(options: DaemonOptions, engine: Engine, reaper: Reaper): Fuse {
  let fuse: Fuse | null = null;
  const caller = () => {
    const context = fuse!.context();
    // A caller that vanished mid-request keeps its thread id and no start time: its queue is reaped.
    const identity = context.pid === 0 ? null : callerIdentity(context.pid);
    return { uid: context.uid, gid: context.gid, pid: identity?.pid ?? context.pid, start: identity?.start ?? 0 };
  };
  const report = (error: unknown) => options.warn(`internal error: ${error instanceof Error ? error.stack : String(error)}`);
  const ops = makeOps({ engine, handles: new Handles(), reaper, caller, now: Date.now, report });
  fuse = new Fuse(options.mountpoint, ops, {
    useIno: true, entryTimeout: 0, attrTimeout: 0, negativeTimeout: 0,
    allowOther: options.allowOther, defaultPermissions: true,
    fsname: 'eventfs', subtype: 'eventfs', debug: options.debug,
  });
  return fuse;
}
