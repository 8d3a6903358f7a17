// Per-queue activity over a sliding window, keyed by event time `t` (never by when top read the
// event, so a replay or a catch-up shows the rates the log recorded). Pure: the caller passes
// the clock. The window is a ring of fixed buckets: bucket b covers [b*bucketMs, (b+1)*bucketMs).

export type StatsOptions = {
  bucketMs: number;
  bucketCount: number; // how much history the ring keeps (sparklines show at most this many)
  rateBuckets: number; // rates are averaged over the newest this-many buckets
};

export const statsOptionsDefault: Readonly<StatsOptions> = Object.freeze({ bucketMs: 1000, bucketCount: 60, rateBuckets: 5 });

export type QueueSeries = {
  enqueues: number[];
  dequeues: number[];
  depthMax: number[]; // the deepest the queue was during each bucket
  depthNow: number;
};

export type Stats = {
  options: StatsOptions;
  latestBucket: number; // -1 before the first event or clock tick
  events: number[];
  queues: Map<string, QueueSeries>;
};

export type Activity = 'enqueue' | 'dequeue' | 'other';

export function createStats(options: StatsOptions = statsOptionsDefault): Stats {
  return { options, latestBucket: -1, events: new Array(options.bucketCount).fill(0), queues: new Map() };
}

const slotOf = (stats: Stats, bucket: number): number => bucket % stats.options.bucketCount;

// Moves the window forward to the bucket holding `nowMs`: newer buckets start empty, and each
// queue's depth carries over. A clock that went backwards changes nothing.
export function advance(stats: Stats, nowMs: number): void {
  const target = Math.floor(nowMs / stats.options.bucketMs);
  if (target <= stats.latestBucket) return;
  const first = Math.max(stats.latestBucket + 1, target - stats.options.bucketCount + 1);
  for (let bucket = first; bucket <= target; bucket++) {
    const slot = slotOf(stats, bucket);
    stats.events[slot] = 0;
    for (const series of stats.queues.values()) {
      series.enqueues[slot] = 0;
      series.dequeues[slot] = 0;
      series.depthMax[slot] = series.depthNow;
    }
  }
  stats.latestBucket = target;
}

// Counts one event at time `tMs`. `queue` and `depthAfter` (the queue's depth once the event is
// applied) are given for events that touch a queue. An event older than the window still
// updates the depth but no count; one from the past inside the window counts in its bucket.
export function record(stats: Stats, tMs: number, activity: Activity, queue: string | null, depthAfter: number): void {
  advance(stats, tMs);
  const bucket = Math.floor(tMs / stats.options.bucketMs);
  const isInWindow = bucket > stats.latestBucket - stats.options.bucketCount;
  const slot = slotOf(stats, bucket);
  if (isInWindow) stats.events[slot]! += 1;
  if (queue === null) return;
  const series = seriesOf(stats, queue);
  series.depthNow = depthAfter;
  const latest = slotOf(stats, stats.latestBucket);
  series.depthMax[latest] = Math.max(series.depthMax[latest]!, depthAfter);
  if (!isInWindow) return;
  if (activity === 'enqueue') series.enqueues[slot]! += 1;
  if (activity === 'dequeue') series.dequeues[slot]! += 1;
}

function seriesOf(stats: Stats, queue: string): QueueSeries {
  let series = stats.queues.get(queue);
  if (series === undefined) {
    const zeros = (): number[] => new Array(stats.options.bucketCount).fill(0);
    series = { enqueues: zeros(), dequeues: zeros(), depthMax: zeros(), depthNow: 0 };
    stats.queues.set(queue, series);
  }
  return series;
}

// A queue that went away (removed or reaped) takes its history with it: a queue created later
// under the same name starts afresh.
export function forget(stats: Stats, queue: string): void {
  stats.queues.delete(queue);
}

// Per second over the newest rateBuckets buckets at `nowMs`: the complete ones plus the part of
// the current one that has elapsed, so a burst shows at once and fades out smoothly. Buckets past
// the newest event are empty, so a quiet log decays to zero without anyone calling advance().
function perSecond(stats: Stats, counts: number[], nowMs: number): number {
  if (stats.latestBucket < 0) return 0;
  const { bucketMs, bucketCount, rateBuckets } = stats.options;
  const nowBucket = Math.max(stats.latestBucket, Math.floor(nowMs / bucketMs));
  let sum = 0;
  for (let bucket = nowBucket; bucket > nowBucket - rateBuckets && bucket >= 0; bucket--) {
    if (bucket > stats.latestBucket) continue;
    if (bucket <= stats.latestBucket - bucketCount) break;
    sum += counts[slotOf(stats, bucket)]!;
  }
  const elapsedMs = Math.min(Math.max(nowMs - nowBucket * bucketMs, 1), bucketMs);
  return (sum * 1000) / ((rateBuckets - 1) * bucketMs + elapsedMs);
}

export function eventsPerSecond(stats: Stats, nowMs: number): number {
  return perSecond(stats, stats.events, nowMs);
}

export type QueueRates = { enqueuesPerSecond: number; dequeuesPerSecond: number };

export function queueRates(stats: Stats, queue: string, nowMs: number): QueueRates {
  const series = stats.queues.get(queue);
  if (series === undefined) return { enqueuesPerSecond: 0, dequeuesPerSecond: 0 };
  return { enqueuesPerSecond: perSecond(stats, series.enqueues, nowMs), dequeuesPerSecond: perSecond(stats, series.dequeues, nowMs) };
}

// The deepest the queue was in each of the `count` buckets up to `nowMs`, oldest first; buckets
// after the newest event hold the current depth. A queue without recorded activity (e.g. from a
// snapshot) shows its current depth throughout.
export function depthHistory(stats: Stats, queue: string, count: number, depthNow: number, nowMs: number): number[] {
  const series = stats.queues.get(queue);
  const length = Math.min(count, stats.options.bucketCount);
  if (series === undefined || stats.latestBucket < 0) return new Array(length).fill(depthNow);
  const nowBucket = Math.max(stats.latestBucket, Math.floor(nowMs / stats.options.bucketMs));
  const history: number[] = [];
  for (let bucket = nowBucket - length + 1; bucket <= nowBucket; bucket++) {
    if (bucket > stats.latestBucket) history.push(series.depthNow);
    else if (bucket < 0 || bucket <= stats.latestBucket - stats.options.bucketCount) history.push(0);
    else history.push(series.depthMax[slotOf(stats, bucket)]!);
  }
  return history;
}
