import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readLogDir, readSegmentFile } from '../../src/log/reader.ts';
import { replayFixtures, writeLogDir } from '../../test/fixtures/replay/generate.ts';
import { UsageError } from './exit.ts';
import { PLAIN } from './format.ts';
import { formatSalvage, isIntact, planSalvage, writeSalvage } from './salvage.ts';
import { FIXTURES, fixture, withTempDir } from './testing.ts';

const jobs = replayFixtures().find((f) => f.name === 'jobs')!.events;

describe('planSalvage of a file', () => {
  it('keeps the records before a corrupt one and lists what is dropped', async () => {
    const plan = await planSalvage(join(FIXTURES, 'corrupt-middle.bin'), null);
    assert.deepEqual(plan.kept, { count: 3, firstSeq: 1, lastSeq: 3 });
    assert.equal(plan.pieces[0]!.bytes.length, 434);
    assert.deepEqual(plan.dropped.map((d) => [d.offset, d.bytesDropped]), [[434, 97]]);
    assert.deepEqual(plan.droppedEvents, { count: 3, firstSeq: 5, lastSeq: 7 });
    assert.equal(isIntact(plan), false);
  });

  it('drops a torn tail', async () => {
    const plan = await planSalvage(join(FIXTURES, 'torn-tail.bin'), null);
    assert.deepEqual(plan.kept, { count: 7, firstSeq: 1, lastSeq: 7 });
    assert.deepEqual(plan.dropped.map((d) => [d.offset, d.bytesDropped]), [[829, 60]]);
    assert.equal(plan.droppedEvents, null);
  });

  it('cuts before the first event that cannot apply, since the mount would not start past it', async () => {
    const plan = await planSalvage(fixture('freed-link'), null);
    assert.deepEqual(plan.kept, { count: 8, firstSeq: 1, lastSeq: 8 });
    assert.equal(plan.cutBy?.seq, 9);
    assert.deepEqual(plan.droppedEvents, { count: 4, firstSeq: 9, lastSeq: 12 });
  });

  it('keeps an intact log whole and says so', async () => {
    const plan = await planSalvage(fixture('jobs'), null);
    assert.equal(isIntact(plan), true);
    assert.ok(plan.pieces[0]!.bytes.equals(await readFile(fixture('jobs'))));
    assert.match(formatSalvage(plan, 'out.log', PLAIN).join('\n'), /nothing to drop: the log is intact/);
  });

  it('reads stdin and names it "-"', async () => {
    const plan = await planSalvage('-', await readFile(join(FIXTURES, 'corrupt-middle.bin')));
    assert.deepEqual(plan.kept, { count: 3, firstSeq: 1, lastSeq: 3 });
    assert.equal(plan.dropped[0]!.file, '-');
  });
});

describe('writeSalvage', () => {
  it('writes a prefix the reader takes without complaint', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'fixed.log');
      await writeSalvage(await planSalvage(join(FIXTURES, 'corrupt-middle.bin'), null), out);
      const read = await readSegmentFile(out);
      assert.deepEqual(read.events.map((e) => e.seq), [1, 2, 3]);
      assert.equal(read.torn, null);
    });
  });

  it('refuses to overwrite', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'taken.log');
      await writeFile(out, 'mine');
      await assert.rejects(writeSalvage(await planSalvage(fixture('jobs'), null), out), UsageError);
      assert.equal(await readFile(out, 'utf8'), 'mine');
    });
  });
});

describe('salvage of a log directory', () => {
  it('keeps the newest snapshot and the segments up to the damage, and the mount can read the result', async () => {
    await withTempDir(async (dir) => {
      const logs = join(dir, 'logs');
      await writeLogDir(logs, jobs, { snapshotsAt: [5, 7] });
      const last = join(logs, 'segment-000000000008.log');
      const bytes = await readFile(last);
      const damaged = Buffer.concat([bytes, Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 0x80])]);
      await writeFile(last, damaged);
      await writeFile(join(logs, 'segment-000000000020.log'), (await readFile(join(logs, 'segment-000000000001.log'))));
      const plan = await planSalvage(logs, null);
      assert.equal(plan.base?.seq, 7);
      assert.deepEqual(plan.kept, { count: 4, firstSeq: 8, lastSeq: 11 });
      const out = join(dir, 'fixed');
      await writeSalvage(plan, out);
      assert.deepEqual(plan.dropped.map((d) => [d.file, d.offset, d.bytesDropped]), [[last, bytes.length, 9]]);
      assert.deepEqual(plan.droppedFiles, [join(logs, 'segment-000000000020.log')]);
      assert.deepEqual((await readdir(out)).sort(), ['segment-000000000008.log', 'snapshot-000000000007.snap']);
      const read = await readLogDir(out);
      assert.equal(read.snapshot?.seq, 7);
      assert.deepEqual(read.events.map((e) => e.seq), [8, 9, 10, 11]);
    });
  });

  it('stops at a missing segment and drops the rest', async () => {
    await withTempDir(async (dir) => {
      await writeLogDir(dir, jobs, { snapshotsAt: [3, 6] });
      await rm(join(dir, 'snapshot-000000000006.snap'));
      await rm(join(dir, 'segment-000000000004.log'));
      const plan = await planSalvage(dir, null);
      assert.equal(plan.base?.seq, 3);
      assert.equal(plan.kept, null);
      assert.match(plan.dropped[0]!.reason, /events 4\.\.6 are missing/);
      assert.deepEqual(plan.droppedFiles, []);
    });
  });

  it('refuses a non-empty output directory', async () => {
    await withTempDir(async (dir) => {
      await writeLogDir(join(dir, 'logs'), jobs);
      await mkdir(join(dir, 'out'));
      await writeFile(join(dir, 'out', 'x'), '');
      await assert.rejects(writeSalvage(await planSalvage(join(dir, 'logs'), null), join(dir, 'out')), UsageError);
    });
  });
});
