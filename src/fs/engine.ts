/**
 * The imperative heart of a mount: decide, fold into the live state, append to the log, and only
 * then let the caller's reply go. decide+apply run synchronously, so concurrent FUSE requests see
 * one total order, and the log records exactly that order.
 */
import { WRITTEN } from '../log/writer.ts';
import { apply, decide, type Command, type Errno, type Event, type State } from '../model/index.ts';

export type Durability = 'always' | 'close' | 'none';
export const DURABILITIES: readonly Durability[] = ['always', 'close', 'none'];

/** Where events go: the log writer, or nothing at all for the no-log baseline. */
export interface EventSink {
  /**
   * Resolves once the events reached the kernel, and if durable once they are fsynced; answers
   * WRITTEN (src/log/writer.ts) when they are in the kernel already.
   */
  append(events: Event[], options: { durable: boolean }): Promise<void>;
  /** Resolves once everything appended so far is fsynced. */
  sync(): Promise<void>;
}

/** What a command comes to: null on success, its errno, or EIO when the log could not take its events. */
export type Outcome = Errno | 'EIO' | null;

/** Data writes may lag in `close` mode; their flush/fsync/close waits instead. */
const LAZY_IN_CLOSE_MODE = new Set<Command['type']>(['write', 'truncate']);

export class Engine {
  constructor(
    readonly state: State,
    private readonly sink: EventSink,
    readonly durability: Durability,
    private readonly onFailure: (error: unknown) => void,
    /** Runs after each successful append (the compactor's chance to snapshot); the reply waits for what it returns. */
    private readonly afterAppend: () => void | Promise<void> = () => undefined,
  ) {}

  /**
   * The outcome at once when there is nothing to wait for (a refusal, or events already in the
   * kernel with durability none), so the reply goes out without a trip through the microtask
   * queue; otherwise a promise of it.
   */
  run(cmd: Command): Outcome | Promise<Outcome> {
    const decision = decide(this.state, cmd);
    if (!decision.ok) return decision.errno;
    if (decision.events.length === 0) return null;
    for (const event of decision.events) apply(this.state, event);
    let held: void | Promise<void>;
    try {
      const appended = this.sink.append(decision.events, { durable: this.isDurable(cmd) });
      held = appended === WRITTEN ? this.afterAppend() : appended.then(this.afterAppend);
    } catch (error) {
      return this.failed(error);
    }
    return held === undefined ? null : held.then(() => null, (error: unknown) => this.failed(error));
  }

  /** For flush/fsync/release of a written file: everything so far on disk. */
  sync(): Promise<Outcome> {
    return this.sink.sync().then(() => null, (error: unknown) => this.failed(error));
  }

  private failed(error: unknown): 'EIO' {
    this.onFailure(error);
    return 'EIO';
  }

  private isDurable(cmd: Command): boolean {
    if (this.durability === 'always') return true;
    if (this.durability === 'none') return false;
    return !LAZY_IN_CLOSE_MODE.has(cmd.type);
  }
}
