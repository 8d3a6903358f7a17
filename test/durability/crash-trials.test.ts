/**
 * The CI sample of `npm run crash-trials` (tools/crash-trials): real daemons, concurrent python
 * producers and consumers, kill -9 at random moments (some the instant a snapshot starts),
 * restart, and every acknowledgement checked against the recovered mount. Fixed seed;
 * EVENTFS_CRASH_TRIALS=N runs more.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runTrials } from '../../tools/crash-trials/main.ts';

const TRIALS = Number(process.env.EVENTFS_CRASH_TRIALS ?? 12);
const SEED = Number(process.env.EVENTFS_CRASH_TRIALS_SEED ?? 424242);

describe('crash trials', () => {
  it(`${TRIALS} trials (seed ${SEED}): nothing acknowledged is lost, nothing dequeued comes back, no duplicates, no phantoms`, async () => {
    const lines: string[] = [];
    const summary = await runTrials({
      trials: TRIALS, seed: SEED, episodeTrials: 4, skipEpisodes: 0, daemon: 'bundle', keep: false,
      print: (line) => lines.push(line),
    });
    console.log(`# ${summary.line}`);
    const failures = lines.filter((line) => !line.startsWith('trial ') || line.includes('FAIL'));
    assert.deepEqual(failures, []);
    assert.deepEqual(summary.errors, []);
    assert.equal(summary.trials, TRIALS);
    assert.equal(summary.passed, TRIALS);
    assert.ok(summary.results.some((r) => r.acks.enqueued > 0), 'the workload acknowledged enqueues');
  });
});
