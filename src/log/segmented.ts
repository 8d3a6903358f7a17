/**
 * The log as a chain of segments: appends go to the newest segment, and rotate() closes it
 * (flushed and fsynced) and continues in a new one, so that a snapshot can make the old ones
 * droppable. Appends made while a rotation runs wait for it, in call order.
 */
import { openSegment, type LogWriter, type WriterLimits, writerLimitsDefault } from './writer.ts';

export class SegmentedLog {
  #writer: LogWriter;
  #rotation: Promise<void> | null = null;
  /** Bytes in closed segments of this run, so totalBytes grows across rotations. */
  #closedBytes = 0;

  constructor(readonly dir: string, writer: LogWriter, readonly limits: WriterLimits = writerLimitsDefault) {
    this.#writer = writer;
  }

  get mountId(): Buffer { return this.#writer.mountId; }
  /** Bytes written by this run (all segments), a clock for compaction thresholds. */
  get totalBytes(): number { return this.#closedBytes + this.#writer.bytesWritten; }

  /** As LogWriter.append (WRITTEN when the events are in the kernel already). */
  append(events: readonly object[], options: { durable: boolean }): Promise<void> {
    if (this.#rotation === null) return this.#writer.append(events, options);
    return this.#rotation.then(() => this.#writer.append(events, options));
  }

  sync(): Promise<void> {
    if (this.#rotation === null) return this.#writer.sync();
    return this.#rotation.then(() => this.#writer.sync());
  }

  /** Resolves once every event appended before the call is durable and a new segment takes appends. */
  rotate(): Promise<void> {
    this.#rotation ??= this.#rotateOnce().finally(() => (this.#rotation = null));
    return this.#rotation;
  }

  async #rotateOnce(): Promise<void> {
    const old = this.#writer;
    await old.close();
    this.#closedBytes += old.bytesWritten;
    this.#writer = await openSegment(this.dir, { mountId: old.mountId, firstSeq: old.nextSeq }, this.limits);
  }

  async close(): Promise<void> {
    if (this.#rotation !== null) await this.#rotation;
    await this.#writer.close();
  }
}
