import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fold, stateHash } from '../../src/model/index.ts';
import { replayFixtures, writeLogDir } from '../../test/fixtures/replay/generate.ts';
import { PLAIN } from './format.ts';
import { loadLog } from './load.ts';
import { formatSummary, summarize } from './summary.ts';
import { FIXTURES, fixture, withTempDir } from './testing.ts';

const jobs = replayFixtures().find((f) => f.name === 'jobs')!.events;

describe('summarize', () => {
  it('gives the format, mount id, events, time span, queues and state hash', async () => {
    const summary = summarize(await loadLog(fixture('jobs'), null), null);
    assert.equal(summary.formatVersion, 1);
    assert.equal(summary.mountId, Buffer.from('eventfs-replay-t').toString('hex'));
    assert.deepEqual(summary.events, { count: 11, firstSeq: 1, lastSeq: 11 });
    assert.deepEqual(summary.time, { first: '2024-01-01T00:00:00.000Z', last: '2024-01-01T00:00:10.000Z', spanMs: 10_000 });
    assert.deepEqual(summary.tornTails, []);
    assert.ok(!('error' in summary.end));
    assert.equal(summary.end.stateHash, stateHash(fold(jobs)));
    assert.deepEqual(summary.end.queues, [
      { name: 'jobs', depth: 2, bytes: 13, owner: { uid: 1000, gid: 1000 }, mode: 0o755, sticky: false, creator: { pid: 4242, start: 1_234_567 } },
    ]);
  });

  it('reports a torn tail and still folds the rest', async () => {
    const summary = summarize(await loadLog(join(FIXTURES, 'torn-tail.bin'), null), null);
    assert.equal(summary.tornTails.length, 1);
    assert.ok(!('error' in summary.end));
    assert.equal(summary.end.stateHash, 'e304922821b70037ef1815d4d96b26e77ce10b8243cccfd8e35e996d9e30c9c5');
  });

  it('reports an event that cannot apply instead of a state', async () => {
    const summary = summarize(await loadLog(fixture('freed-link'), null), null);
    assert.ok('error' in summary.end);
    assert.equal(summary.end.seq, 9);
    assert.match(summary.end.error, /seq 9 \(linkCreated\) cannot apply.*--first-bad/);
  });

  it('shows only the queues asked for', async () => {
    const summary = summarize(await loadLog(join(FIXTURES, 'multicast.bin'), null), new Set(['news']));
    assert.ok(!('error' in summary.end));
    assert.deepEqual(summary.end.queues.map((q) => q.name), ['news']);
  });

  it('counts the recorded snapshot hashes of a log directory', async () => {
    await withTempDir(async (dir) => {
      await writeLogDir(dir, jobs, { snapshotsAt: [5, 9] });
      const summary = summarize(await loadLog(dir, null), null);
      assert.equal(summary.checkpoints, 2);
      assert.equal(summary.kind, 'dir');
      assert.equal(summary.files.length, 5);
    });
  });
});

describe('formatSummary', () => {
  it('fits in 80 columns for ordinary logs', async () => {
    const lines = formatSummary(summarize(await loadLog(fixture('jobs'), null), null), PLAIN);
    for (const line of lines) assert.ok(line.length <= 80, `too wide (${line.length}): ${line}`);
    assert.match(lines.join('\n'), /^tail +clean/m);
    assert.match(lines.join('\n'), /^ +jobs +2 +13 +1000:1000 +0755 +no +4242$/m);
  });

  it('says a torn tail is not an error', async () => {
    const text = formatSummary(summarize(await loadLog(join(FIXTURES, 'torn-tail.bin'), null), null), PLAIN).join('\n');
    assert.match(text, /torn at byte 829 .*: 60 bytes dropped/);
    assert.match(text, /not an error/);
  });

  it('escapes queue names', async () => {
    const text = formatSummary(summarize(await loadLog(fixture('escapes'), null), null), PLAIN).join('\n');
    assert.ok(!text.includes('\x1b'), 'no raw escape character reaches the terminal');
    assert.match(text, /"evil\\x1b\[2J" +1 +29 .* yes/);
  });
});
