/**
 * Snapshots and compaction: once the log written since the last snapshot outgrows both a floor
 * and the last snapshot itself, the folded state is written as a snapshot and the segments it
 * covers are dropped. Churn (enqueue then dequeue) therefore keeps the log directory small, and
 * the write amplification of snapshots stays below 2x.
 */
import type { SegmentedLog } from '../log/segmented.ts';
import { abortSnapshot, beginSnapshot, commitSnapshot, pruneSegments } from '../log/snapshot.ts';
import { plainHash, toLazyPlain, type State } from '../model/index.ts';
import { nativeSha256 } from './sha256.ts';

export type CompactorOptions = { snapshotBytesMin: number; warn: (message: string) => void };

/** 128 KiB: with two snapshots and the segments since the older one kept, churn stays under 1 MiB. */
export const SNAPSHOT_BYTES_MIN = 128 * 1024;

export class Compactor {
  #bytesAtSnapshot: number;
  #lastSnapshotBytes = 0;
  #running: Promise<void> | null = null;

  constructor(private readonly log: SegmentedLog, private readonly state: State, private readonly options: CompactorOptions) {
    this.#bytesAtSnapshot = log.totalBytes;
  }

  /**
   * Called after appends: starts a snapshot in the background when the threshold is passed. While
   * one runs, a caller that finds twice the threshold appended since it started is held until it
   * ends: without that backpressure a fast writer and slow fsyncs grow the segment being written
   * during a snapshot (and so the log directory) without bound.
   */
  maybeSnapshot(): Promise<void> | undefined {
    const threshold = Math.max(this.options.snapshotBytesMin, this.#lastSnapshotBytes);
    const grown = this.log.totalBytes - this.#bytesAtSnapshot;
    if (this.#running !== null) return grown >= 2 * threshold ? this.#running.catch(() => undefined) : undefined;
    if (grown < threshold) return undefined;
    this.snapshot().catch((error: unknown) => this.options.warn(`snapshot failed: ${String(error)}`));
    return undefined;
  }

  /** Takes a snapshot now (or joins the one running). */
  snapshot(): Promise<void> {
    this.#running ??= this.#snapshotOnce().finally(() => (this.#running = null));
    return this.#running;
  }

  async #snapshotOnce(): Promise<void> {
    // Captured in one synchronous step, written to a hidden file a queue and an inode at a time:
    // the state goes on changing once control returns, and neither a copy of it nor its encoding
    // is ever held whole in memory.
    const plain = toLazyPlain(this.state);
    const pending = beginSnapshot(this.log.dir, { seq: plain.seq, state: plain, hash: plainHash(plain, nativeSha256) }, this.log.mountId);
    this.#bytesAtSnapshot = this.log.totalBytes;
    try {
      // Rotating first makes every event up to seq durable before the snapshot is visible.
      await this.log.rotate();
    } catch (error) {
      abortSnapshot(pending);
      throw error;
    }
    await commitSnapshot(pending);
    this.#lastSnapshotBytes = pending.bytes;
    await pruneSegments(this.log.dir, pending.seq);
  }
}

