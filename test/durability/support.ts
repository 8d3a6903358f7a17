/**
 * Shared pieces of the durability tests: logs built without FUSE (the real Engine, SegmentedLog and
 * Compactor over a temporary directory, driven by commands), what a user can see of a mount, and
 * `eventfs -f` runs that are expected to be refused.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BUILT_IN_QUOTA_TABLE } from '../../src/config/limits.ts';
import { Compactor } from '../../src/fs/compactor.ts';
import { recover } from '../../src/fs/daemon.ts';
import { Engine, type Durability } from '../../src/fs/engine.ts';
import { isMounted } from '../../src/fs/mountinfo.ts';
import { SegmentedLog } from '../../src/log/segmented.ts';
import { openLogForAppend } from '../../src/log/writer.ts';
import { DAEMON, entriesInOrder, type Caller, type CommandBody, type State } from '../../src/model/index.ts';
import { EVENTFS_BIN, unmountQuietly } from '../helpers/mount.ts';

export const ALICE: Caller = { uid: 1000, gid: 1000, pid: 4242, start: 1 };

export type LogSession = {
  engine: Engine;
  log: SegmentedLog;
  compactor: Compactor;
  state: State;
  /** Runs a command; throws if it is refused. */
  run: (body: CommandBody, by?: Caller) => Promise<void>;
  close: () => Promise<void>;
};

/** Opens a log directory the way the daemon does (recover, continue the log), without FUSE. */
export async function openLogSession(dir: string, options: { durability?: Durability; snapshotBytesMin?: number } = {}): Promise<LogSession> {
  const warnings: string[] = [];
  const { state, read } = await recover({ logDir: dir, warn: (message) => warnings.push(message) });
  const log = new SegmentedLog(dir, await openLogForAppend(read));
  const compactor = new Compactor(log, state, { snapshotBytesMin: options.snapshotBytesMin ?? Number.MAX_SAFE_INTEGER, warn: (m) => warnings.push(m) });
  const engine = new Engine(state, log, options.durability ?? 'none', (error) => { throw error; }, () => compactor.maybeSnapshot());
  let t = 1_700_000_000_000;
  const run = async (body: CommandBody, by: Caller = ALICE): Promise<void> => {
    const errno = await engine.run({ ...body, by, atMs: t++ } as Parameters<Engine['run']>[0]);
    if (errno !== null) throw new Error(`${body.type} refused: ${errno}`);
  };
  return { engine, log, compactor, state, run, close: () => log.close() };
}

/** A small history: quotas, a sticky queue with three messages (one popped), a second queue with a link. */
export async function writeSmallHistory(session: LogSession): Promise<void> {
  await session.run({ type: 'setQuotas', quotas: BUILT_IN_QUOTA_TABLE }, DAEMON);
  await session.run({ type: 'mkdir', path: '/q', mode: 0o755 });
  await session.run({ type: 'setxattr', path: '/q', key: 'user.eventfs_sticky', value: Buffer.alloc(0), flags: 0 });
  for (let i = 0; i < 3; i++) await enqueue(session, '/q', `m${i}`, `message ${i}\n`);
  await session.run({ type: 'unlink', path: '/q/head' });
  await session.run({ type: 'mkdir', path: '/r', mode: 0o700 });
  await session.run({ type: 'setxattr', path: '/r', key: 'user.eventfs_sticky', value: Buffer.alloc(0), flags: 0 });
  await session.run({ type: 'link', from: '/q/m2', to: '/r/copy' });
}

export async function enqueue(session: LogSession, queue: string, name: string, data: string | Buffer): Promise<void> {
  await session.run({ type: 'create', path: `${queue}/${name}`, mode: 0o644 });
  const ino = (session.state.queues.get(queue.slice(1))!.entries.get(name)!).ino;
  await session.run({ type: 'write', ino, offset: 0, data: Buffer.from(data) });
}

/** Queues and their entries (name, bytes) in order: what a user sees, independent of how it was built. */
export function queueView(state: State): Record<string, [string, string][]> {
  const view: Record<string, [string, string][]> = {};
  for (const queue of state.queues.values()) {
    view[queue.name] = [...entriesInOrder(queue)].map((entry) => {
      const inode = state.inodes.get(entry.ino)!;
      return [entry.name, inode.data.subarray(0, inode.size).toString('hex')];
    });
  }
  return view;
}

/**
 * What python sees of a mount, as JSON: per queue its mode, owner and xattrs, and its entries in
 * order with inode number, link count, mode, owner, bytes and xattrs.
 */
export const WALK_PY = `
import json, os, sys
root = sys.argv[1]
def xattrs(p):
    return {k: os.getxattr(p, k).hex() for k in sorted(os.listxattr(p))}
view = {}
for q in sorted(os.listdir(root)):
    qp = f"{root}/{q}"
    st = os.stat(qp)
    entries = []
    for n in os.listdir(qp):
        if n in ("head", "tail"):
            continue
        p = f"{qp}/{n}"
        s = os.stat(p)
        entries.append([n, s.st_ino, s.st_nlink, oct(s.st_mode & 0o7777), s.st_uid, s.st_gid, open(p, "rb").read().hex(), xattrs(p)])
    head = os.readlink(f"{qp}/head") if entries else None
    view[q] = {"mode": oct(st.st_mode & 0o7777), "uid": st.st_uid, "gid": st.st_gid, "ino": st.st_ino, "xattrs": xattrs(qp), "head": head, "entries": entries}
print(json.dumps(view, sort_keys=True))
`;

export type Refusal = { status: number | null; stderr: string; stdout: string };

/** Runs `eventfs -f` on a log directory that must be refused; unmounts if it mounted after all. */
export function eventfsRefused(root: string, logDir: string, extra: string[] = []): Refusal {
  const mnt = join(root, `mnt-${Math.random().toString(36).slice(2)}`);
  mkdirSync(mnt, { recursive: true });
  const result = spawnSync(process.execPath, [EVENTFS_BIN, '-f', '--log-dir', logDir, ...extra, mnt], { encoding: 'utf8', timeout: 20_000 });
  if (isMounted(mnt)) unmountQuietly(mnt);
  return { status: result.status, stderr: result.stderr, stdout: result.stdout };
}
