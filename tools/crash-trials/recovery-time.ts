/**
 * Recovery time and log size of long histories (a benchmark; prints its figures):
 *
 *   node --import tsx tools/crash-trials/recovery-time.ts [--events N] [--cycles N] [--runs N]
 *
 * 1. A queue history of N events (default 1,000,000) written the way a mount writes it, with
 *    snapshots and compaction: the recovery the daemon does at mount (newest snapshot, fold the
 *    rest) must take under 2 s.
 * 2. The same history with compaction off (one segment, no snapshot): the fold of all N events,
 *    for comparison.
 * 3. `--cycles` enqueue+dequeue cycles (default 1,000,000) with nothing left queued: the log
 *    directory must stay under 1 MiB (its largest size while churning is printed too).
 *
 * Exit code 1 if a bound is missed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { churn, dirBytes, openDaemonLog, timeRecovery, writeQueueHistory } from './history.ts';

const RECOVERY_MS_MAX = 2000;
const CHURN_BYTES_MAX = 1024 * 1024;

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    cycles: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
  },
});
const events = Number(values.events);
const cycles = Number(values.cycles);
const runs = Number(values.runs);
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
let ok = true;

async function measureRecovery(label: string, snapshotBytesMin: number | null | undefined, bound: number | null): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'eventfs-recovery-time-'));
  try {
    const writeStarted = performance.now();
    const session = await openDaemonLog(dir, { snapshotBytesMin });
    await writeQueueHistory(session, { events });
    await session.close();
    const writeSeconds = (performance.now() - writeStarted) / 1000;
    const size = await dirBytes(dir);
    const times: number[] = [];
    const cpu: number[] = [];
    let last = { ms: 0, seq: 0, events: 0 };
    for (let i = 0; i < runs; i++) {
      const before = process.cpuUsage();
      last = await timeRecovery(dir);
      const used = process.cpuUsage(before);
      times.push(last.ms);
      cpu.push((used.user + used.system) / 1000);
    }
    cpu.sort((a, b) => a - b);
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    const verdict = bound === null ? '' : median < bound ? ` (< ${bound} ms: ok)` : ` (bound ${bound} ms: MISSED)`;
    if (bound !== null && median >= bound) ok = false;
    console.log(`recovery, ${label}: history of ${last.seq} events (written in ${writeSeconds.toFixed(1)} s); ` +
      `log directory ${mib(size.bytes)} in ${size.files} files; recovery folds ${last.events} events after the snapshot: ` +
      `median ${median.toFixed(0)} ms of ${runs} [${times.map((t) => t.toFixed(0)).join(', ')}]${verdict}; ` +
      `CPU time median ${cpu[Math.floor(cpu.length / 2)]!.toFixed(0)} ms (wall time on a busy machine exceeds it)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function measureChurn(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'eventfs-churn-'));
  try {
    const started = performance.now();
    const session = await openDaemonLog(dir);
    let largest = 0;
    await churn(session, {
      cycles, payloadBytes: 100,
      onProgress: async () => void (largest = Math.max(largest, (await dirBytes(dir)).bytes)),
    });
    await session.close();
    const size = await dirBytes(dir);
    largest = Math.max(largest, size.bytes);
    const recovery = await timeRecovery(dir);
    const verdict = size.bytes < CHURN_BYTES_MAX ? `< 1 MiB: ok` : 'bound 1 MiB: MISSED';
    if (size.bytes >= CHURN_BYTES_MAX) ok = false;
    console.log(`churn: ${cycles} enqueue+dequeue cycles (${recovery.seq} events, ${((performance.now() - started) / 1000).toFixed(1)} s): ` +
      `log directory ${size.bytes} bytes in ${size.files} files (${verdict}); largest while churning ${largest} bytes; ` +
      `recovery ${recovery.ms.toFixed(0)} ms`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (events > 0) {
  await measureRecovery('as a mount writes it (snapshots + compaction)', undefined, RECOVERY_MS_MAX);
  await measureRecovery('compaction off (one segment, fold everything)', null, null);
}
if (cycles > 0) await measureChurn();
process.exitCode = ok ? 0 : 1;
