// The movie's clock for `--replay SPEED`: events wait in a buffer and are released when the
// clock, running SPEED times faster than real time, reaches their `t`. A quiet stretch longer
// than REPLAY_GAP_MS of log time is cut to a REPLAY_PAUSE_MS pause, so a log with an idle night
// still plays. Pure: the caller passes the real time.
import type { LogEvent } from '../../src/log/reader.ts';

export const REPLAY_GAP_MS = 5000;
export const REPLAY_PAUSE_MS = 1000;
// Released events are dropped from the front of the buffer in batches of this many.
const COMPACT_EVENTS = 10_000;

const timeOf = (event: LogEvent): number => (typeof event.t === 'number' ? event.t : 0);

export class ReplayClock {
  readonly speed: number;
  clockMs: number | null = null; // log time shown now; null until the first event arrives
  #buffer: LogEvent[] = [];
  #index = 0;
  #realMs: number | null = null;

  constructor(speed: number) {
    if (!(speed > 0)) throw new RangeError(`replay speed must be above 0, not ${speed}`);
    this.speed = speed;
  }

  // Events read but not yet shown.
  get pending(): number { return this.#buffer.length - this.#index; }

  push(events: readonly LogEvent[]): void {
    this.#buffer.push(...events);
  }

  clear(): void {
    this.#buffer = [];
    this.#index = 0;
  }

  // Moves the clock by the real time since the last tick, times the speed; returns what is due.
  tick(realMs: number): LogEvent[] {
    const next = this.#buffer[this.#index];
    if (this.clockMs === null && next !== undefined) this.clockMs = timeOf(next);
    if (this.clockMs !== null && this.#realMs !== null) this.clockMs += (realMs - this.#realMs) * this.speed;
    this.#realMs = realMs;
    if (this.clockMs === null) return [];
    if (next !== undefined && timeOf(next) - this.clockMs > REPLAY_GAP_MS) this.clockMs = timeOf(next) - REPLAY_PAUSE_MS;
    const due: LogEvent[] = [];
    while (this.#index < this.#buffer.length && timeOf(this.#buffer[this.#index]!) <= this.clockMs) due.push(this.#buffer[this.#index++]!);
    if (this.#index >= COMPACT_EVENTS) {
      this.#buffer = this.#buffer.slice(this.#index);
      this.#index = 0;
    }
    return due;
  }
}
