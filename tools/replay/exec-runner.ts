/**
 * The helpers of one --exec run: a helper per recorded creator (pid and start time), living until
 * the log reaps its queue, and a helper per uid/gid for every other caller. Steps run one at a
 * time, in the log's order; each returns what the mount did differently, or null.
 */
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { State } from '../../src/model/index.ts';
import { Helper, type Identity, type Reply } from './exec-helper.ts';
import type { HelperOp, Step } from './exec-plan.ts';

/** Routes steps to helpers: creators by (pid, start), everyone else by uid/gid. */
export class Runner {
  private readonly creators = new Map<string, Helper>();
  private readonly creatorOfPid = new Map<number, string>();
  private readonly others = new Map<string, Helper>();
  /** Which helper holds an open descriptor for a recorded inode (see exec-helper.py). */
  private readonly openInodes = new Map<number, Helper>();
  readonly counts = { creators: 0, others: 0, killed: 0 };

  constructor(readonly mountpoint: string, private readonly asRecordedUsers: boolean, private readonly python: string, private readonly reapTimeoutMs: number) {}

  /** Runs a step; returns what went differently from the log, or null. */
  async run(step: Step): Promise<string | null> {
    if (step.kind === 'skip') return null;
    if (step.kind === 'reap') return this.reap(step.queue, step.creator);
    if (step.op.op === 'forget') return this.forget(step.op.ino);
    const helper = await this.helperFor(step);
    const reply = await helper.request(step.op);
    if (step.op.op === 'create' && reply.ok) this.openInodes.set(step.op.ino, helper);
    return reply.ok ? null : failureText(step.op, reply);
  }

  /** Inodes the fold has freed: their helpers close the descriptors they kept. */
  async forgetFreed(state: State): Promise<void> {
    for (const ino of [...this.openInodes.keys()]) if (!state.inodes.has(ino)) await this.forget(ino);
  }

  walk(): Promise<Reply & { queues?: unknown }> {
    return this.other(null).then((helper) => helper.request({ op: 'walk' }));
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.creators.values(), ...this.others.values()].map((helper) => helper.close()));
  }

  private async forget(ino: number): Promise<null> {
    const helper = this.openInodes.get(ino);
    this.openInodes.delete(ino);
    if (helper?.isAlive) await helper.request({ op: 'forget', ino });
    return null;
  }

  private identity(by: { uid: number; gid: number }): Identity {
    return this.asRecordedUsers ? { uid: by.uid, gid: by.gid } : null;
  }

  private async helperFor(step: Step & { kind: 'op' }): Promise<Helper> {
    const identity = this.identity(step.by);
    if (step.creator !== undefined) return this.creator(step.creator, step.by.pid, identity);
    const key = this.creatorOfPid.get(step.by.pid);
    const creator = key === undefined ? undefined : this.creators.get(key);
    if (step.by.pid !== 0 && creator?.isAlive && sameIdentity(creator.identity, identity)) return creator;
    return this.other(identity);
  }

  private async creator(key: string, pid: number, identity: Identity): Promise<Helper> {
    const known = this.creators.get(key);
    if (known?.isAlive) return known;
    const helper = await Helper.start(this.mountpoint, identity, this.python);
    this.creators.set(key, helper);
    this.creatorOfPid.set(pid, key);
    this.counts.creators += 1;
    return helper;
  }

  private async other(identity: Identity): Promise<Helper> {
    const key = identity === null ? 'self' : `${identity.uid}:${identity.gid}`;
    const known = this.others.get(key);
    if (known?.isAlive) return known;
    const helper = await Helper.start(this.mountpoint, identity, this.python);
    this.others.set(key, helper);
    this.counts.others += 1;
    return helper;
  }

  /** Kills the creator (as its death was recorded), then waits for the mount to reap the queue. */
  private async reap(queue: string, key: string): Promise<string | null> {
    const helper = this.creators.get(key);
    if (helper?.isAlive) {
      await helper.kill();
      this.counts.killed += 1;
    }
    const path = join(this.mountpoint, queue);
    const deadline = Date.now() + this.reapTimeoutMs;
    // Each lookup of the queue makes the mount check its creator (src/fs/reaper.ts).
    while (await lstat(path).then(() => true, () => false)) {
      if (Date.now() > deadline) return `queue ${queue} is still there ${this.reapTimeoutMs} ms after its creator's stand-in (pid ${helper?.pid ?? '?'}) died, but the log reaped it`;
      await sleep(20);
    }
    return null;
  }
}

const sameIdentity = (a: Identity, b: Identity): boolean => (a === null ? b === null : b !== null && a.uid === b.uid && a.gid === b.gid);

function failureText(op: HelperOp, reply: Reply & { ok: false }): string {
  const path = 'path' in op ? op.path : 'from' in op ? `${op.from} -> ${op.to}` : '';
  if (reply.errno === 'MISMATCH' && op.op === 'unlink') {
    return `${path} names ${JSON.stringify(reply.actual)} on the mount, but the log popped ${JSON.stringify(op.expect)}`;
  }
  return `${op.op} ${path} failed on the mount with ${reply.errno}${reply.message ? ` (${reply.message})` : ''}, but the log records it as done`;
}
