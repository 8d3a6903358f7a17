/**
 * Fate-sharing: a queue dies with the process that created it. Checked on access (a lookup of a
 * queue, a listing of the root), so `ls` right after the creator exits already shows it gone, and
 * by a periodic sweep, so nothing lingers unseen. Reaps are commands like any other: they go
 * through decide (which spares sticky queues) and into the log.
 */
import { isSticky, parsePath, type Creator, type Queue, type State } from '../model/index.ts';

export type ReaperDeps = {
  state: State;
  isAlive: (creator: Creator) => boolean;
  /** Issues the reap command for the creator seen dead; its decide+apply happen before this returns. */
  reap: (queue: string, creator: Creator) => void;
};

export class Reaper {
  /** Creators known dead: a dead process stays dead, so /proc need not be asked twice. */
  private readonly dead = new Set<string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: ReaperDeps) {}

  checkPath(path: string): void {
    const parsed = parsePath(path);
    // Any path below a queue is walked through a lookup of the queue itself (entry_timeout=0).
    if (parsed.depth !== 1) return;
    const queue = this.deps.state.queues.get(parsed.queue);
    if (queue !== undefined) this.check(queue);
  }

  checkAll(): void {
    for (const queue of [...this.deps.state.queues.values()]) this.check(queue);
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => this.checkAll(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private check(queue: Queue): void {
    if (isSticky(queue) || this.isAlive(queue.creator)) return;
    this.deps.reap(queue.name, queue.creator);
  }

  private isAlive(creator: Creator): boolean {
    const key = `${creator.pid}:${creator.start}`;
    if (this.dead.has(key)) return false;
    if (this.deps.isAlive(creator)) return true;
    this.dead.add(key);
    return false;
  }
}
