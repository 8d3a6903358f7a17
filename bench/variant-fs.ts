/**
 * A diagnostic daemon between the floor and eventfs: eventfs's own op table, model and reaper
 * (src/fs/ops.ts, src/model, src/fs/reaper.ts), mounted with the same options as
 * src/fs/daemon.ts mountFuse, with layers switched on or off so the cost of each shows:
 *
 *   --log=off      events are decided and applied, then dropped (default)
 *   --log=async    src/log's LogWriter (as eventfs appends, without snapshots)
 *   --durability=none|close|always   what the engine waits for (default none)
 *   --proc=off     the caller is the fuse context as is, creators are taken as alive (default)
 *   --proc=plain   src/proc/liveness.ts: /proc/TID/status and /proc/PID/stat read per question
 *   --proc=cached  src/proc/cache.ts: one pread on a held descriptor per question (as eventfs)
 *
 * Not a filesystem to use: nothing is recovered and fate-sharing may be off.
 *
 * Usage: node --import tsx bench/variant-fs.ts [--log=off|async] [--durability=none|close|always] [--proc=off|plain|cached] MOUNTPOINT
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { BUILT_IN_QUOTA_TABLE } from '../src/config/limits.ts';
import { Engine, type EventSink } from '../src/fs/engine.ts';
import { Handles } from '../src/fs/handles.ts';
import { Fuse, PATCHED_LIBFUSE } from '../src/fs/native.ts';
import { makeOps } from '../src/fs/ops.ts';
import { Reaper } from '../src/fs/reaper.ts';
import { MOUNT_ID_BYTES } from '../src/log/format.ts';
import { openSegment, WRITTEN } from '../src/log/writer.ts';
import { DAEMON, emptyState } from '../src/model/index.ts';
import { ProcCache } from '../src/proc/cache.ts';
import { callerIdentity, isAlive } from '../src/proc/liveness.ts';

const nullSink: EventSink = { append: () => WRITTEN, sync: () => Promise.resolve() };

async function makeSink(log: string, dir: string): Promise<EventSink> {
  if (log === 'off') return nullSink;
  const mountId = randomBytes(MOUNT_ID_BYTES);
  // Seq 1 is the setQuotas below.
  if (log !== 'async') throw new Error(`--log=${log}: off or async`);
  return openSegment(dir, { mountId, firstSeq: 1 });
}

async function main(argv: string[]): Promise<void> {
  const option = (name: string, fallback: string): string => argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
  const log = option('log', 'off');
  const proc = option('proc', 'off');
  const durability = option('durability', 'none') as 'none' | 'close' | 'always';
  const mountpoint = argv.filter((arg) => !arg.startsWith('--'))[0];
  if (mountpoint === undefined) throw new Error('usage: variant-fs.ts [--log=off|async] [--proc=off|plain|cached] MOUNTPOINT');
  const logDir = mkdtempSync('/tmp/eventfs-bench-variant-log-');
  const state = emptyState();
  const engine = new Engine(state, await makeSink(log, logDir), durability, (error) => console.error(error));
  await engine.run({ type: 'setQuotas', quotas: BUILT_IN_QUOTA_TABLE, by: DAEMON, atMs: Date.now() });
  const cache = new ProcCache();
  const alive = proc === 'off' ? () => true : proc === 'plain' ? isAlive : (c: { pid: number; start: number }) => cache.isAlive(c);
  const identify = proc === 'plain' ? callerIdentity : (tid: number) => cache.callerIdentity(tid);
  const reap = (queue: string): void => void engine.run({ type: 'reap', queue, by: DAEMON, atMs: Date.now() });
  const reaper = new Reaper({ state, isAlive: alive, reap });
  let fuse: Fuse | null = null;
  const caller = () => {
    const context = fuse!.context();
    if (proc === 'off') return { uid: context.uid, gid: context.gid, pid: context.pid, start: 0 };
    const identity = context.pid === 0 ? null : identify(context.pid);
    return { uid: context.uid, gid: context.gid, pid: identity?.pid ?? context.pid, start: identity?.start ?? 0 };
  };
  const report = (error: unknown) => console.error(`internal error: ${error instanceof Error ? error.stack : String(error)}`);
  const ops = makeOps({ engine, handles: new Handles(), reaper, caller, now: Date.now, report, patchedLibfuse: PATCHED_LIBFUSE });
  fuse = new Fuse(mountpoint, ops, {
    useIno: true, entryTimeout: 0, attrTimeout: 0, negativeTimeout: 0,
    allowOther: process.getuid?.() === 0, defaultPermissions: true,
    fsname: 'variantfs', subtype: 'variantfs', force: true,
  });
  await fuse.mountAsync();
  reaper.start(250);
  const fd = process.env.EVENTFS_READY_FD;
  if (fd !== undefined) createWriteStream('', { fd: Number(fd) }).end('ready\n');
  await new Promise<void>((done) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => done());
  });
  reaper.stop();
  await fuse.unmountAsync().catch(() => undefined);
  cache.close();
  rmSync(logDir, { recursive: true, force: true });
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`variant-fs: ${error instanceof Error ? error.stack : String(error)}`);
  process.exitCode = 1;
});
