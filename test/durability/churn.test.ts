/**
 * Snapshots bound the log: enqueue+dequeue churn on a real mount leaves the log directory under
 * 1 MiB, and a long history recovers from its snapshot instead of refolding everything.
 * EVENTFS_CHURN_CYCLES=N sets the cycles (CI: 20,000 with durability=none); EVENTFS_HISTORY_EVENTS
 * the length of the history whose recovery time is printed (default 1,000,000, written with the
 * model and the log writer; the < 2 s bound is checked by tools/crash-trials/recovery-time.ts).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { recover } from '../../src/fs/daemon.ts';
import { stateHash } from '../../src/model/index.ts';
import { churn, dirBytes, openDaemonLog, timeRecovery, writeQueueHistoryDirect } from '../../tools/crash-trials/history.ts';
import { python, startMount } from '../helpers/mount.ts';
import { stickyQueue } from '../helpers/queues.ts';

const CYCLES = Number(process.env.EVENTFS_CHURN_CYCLES ?? 20_000);
const HISTORY_EVENTS = Number(process.env.EVENTFS_HISTORY_EVENTS ?? 1_000_000);
const MIB = 1024 * 1024;

let root: string;
before(async () => (root = await mkdtemp(join(tmpdir(), 'eventfs-churn-'))));
after(async () => await rm(root, { recursive: true, force: true }));

/** Churns one queue; every 1000 cycles adds up the log directory's files, and prints the largest. */
const CHURN_PY = `
import os, sys
q, logs, cycles = sys.argv[1], sys.argv[2], int(sys.argv[3])
payload = b"x" * 100
largest = 0
def size():
    total = 0
    for name in os.listdir(logs):
        try:
            total += os.stat(os.path.join(logs, name)).st_size
        except FileNotFoundError:
            pass
    return total
for i in range(cycles):
    with open(f"{q}/m{i}", "wb") as f:
        f.write(payload)
    os.unlink(f"{q}/head")
    if i % 1000 == 0:
        largest = max(largest, size())
print(max(largest, size()))
`;

describe('snapshots bound the log', () => {
  it(`${CYCLES} enqueue+dequeue cycles through a mount leave less than 1 MiB of log directory`, async () => {
    const m = await startMount({ args: ['-o', 'durability=none'], root: join(root, 'mount') });
    let largest: number;
    const started = performance.now();
    try {
      stickyQueue(`${m.mnt}/churn`);
      largest = Number(python(CHURN_PY, [`${m.mnt}/churn`, m.logDir, String(CYCLES)]).trim());
      assert.equal(python('import os, sys\nprint(len(os.listdir(sys.argv[1])))', [`${m.mnt}/churn`]).trim(), '0');
    } finally {
      await m.stop();
    }
    const size = await dirBytes(m.logDir);
    const recovery = await timeRecovery(m.logDir);
    console.log(`# churn: ${CYCLES} cycles in ${((performance.now() - started) / 1000).toFixed(1)} s: log directory ${size.bytes} bytes ` +
      `in ${size.files} files at the end, largest while churning ${largest} bytes; recovery of ${recovery.seq} events ` +
      `(${recovery.events} after the snapshot) ${recovery.ms.toFixed(0)} ms`);
    assert.ok(size.bytes < MIB, `log directory ${size.bytes} bytes`);
  });

  it('a writer faster than snapshots (no FUSE, no fsync per reply) is held back: the log directory stays under 1 MiB', async () => {
    const dir = await mkdtemp(join(root, 'fast-'));
    const session = await openDaemonLog(dir, { durability: 'none' });
    let largest = 0;
    await churn(session, { cycles: 30_000, payloadBytes: 100, onProgress: async () => void (largest = Math.max(largest, (await dirBytes(dir)).bytes)) });
    await session.close();
    const size = await dirBytes(dir);
    console.log(`# unthrottled churn: 30000 cycles, log directory ${size.bytes} bytes at the end, largest at a checkpoint ${largest} bytes`);
    assert.ok(Math.max(largest, size.bytes) < MIB, `log directory ${Math.max(largest, size.bytes)} bytes`);
  });

  it(`a history of ${HISTORY_EVENTS} events recovers from its snapshot (time printed, not asserted)`, async () => {
    const dir = await mkdtemp(join(root, 'history-'));
    const written = await writeQueueHistoryDirect(dir, { events: HISTORY_EVENTS, snapshotAt: HISTORY_EVENTS - 10_000 });
    const before = process.cpuUsage();
    const recovery = await timeRecovery(dir);
    const cpu = process.cpuUsage(before);
    const size = await dirBytes(dir);
    console.log(`# recovery: history of ${recovery.seq} events, log directory ${size.bytes} bytes in ${size.files} files; ` +
      `recovery read the snapshot and folded the ${recovery.events} events after it in ${recovery.ms.toFixed(0)} ms ` +
      `(${((cpu.user + cpu.system) / 1000).toFixed(0)} ms of CPU)`);
    assert.equal(recovery.seq, written.seq);
    assert.ok(written.seq >= HISTORY_EVENTS && recovery.events <= 10_000 + 10_000, 'most of the history is in the snapshot');
    const { state } = await recover({ logDir: dir, warn: () => undefined });
    assert.equal(stateHash(state), stateHash(written));
  });
});
