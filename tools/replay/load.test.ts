import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LogCorruptError, LogDirError, LogVersionError } from '../../src/log/errors.ts';
import { readLogDir } from '../../src/log/reader.ts';
import { buildSegment } from '../../src/log/testing.ts';
import { emptyState, fold, fromPlain, stateHash, type Event, type PlainState } from '../../src/model/index.ts';
import { REPLAY_MOUNT_ID, replayFixtures, writeLogDir } from '../../test/fixtures/replay/generate.ts';
import { InputError } from './exit.ts';
import { baseSeq, lastSeq, loadLog } from './load.ts';
import { stateAt } from './replay.ts';
import { FIXTURES, fixture, withTempDir } from './testing.ts';

const jobs = replayFixtures().find((f) => f.name === 'jobs')!.events;

describe('loadLog of a segment file', () => {
  it('reads every event with the offset of its record', async () => {
    const log = await loadLog(fixture('jobs'), null);
    assert.equal(log.kind, 'file');
    assert.equal(log.records.length, jobs.length);
    assert.deepEqual(log.records.map((r) => r.offset), buildSegment(jobs, 1, REPLAY_MOUNT_ID).offsets);
    assert.deepEqual(log.base, { kind: 'empty' });
    assert.ok(log.mountId!.equals(REPLAY_MOUNT_ID));
    assert.equal(log.formatVersion, 1);
  });

  it('reports a torn tail without failing', async () => {
    const log = await loadLog(join(FIXTURES, 'torn-tail.bin'), null);
    assert.equal(log.tornTails.length, 1);
    assert.equal(log.tornTails[0]!.offset, 829);
    assert.equal(log.tornTails[0]!.bytesDropped, 60);
    assert.equal(lastSeq(log), 7);
  });

  it('refuses a corrupt record in the middle, naming its offset', async () => {
    await assert.rejects(loadLog(join(FIXTURES, 'corrupt-middle.bin'), null), (error: unknown) => error instanceof LogCorruptError && error.offset === 434);
  });

  it('refuses events of a newer schema version', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'new.log');
      await writeFile(path, buildSegment([{ ...jobs[0]!, v: 99 }], 1, REPLAY_MOUNT_ID).buf);
      await assert.rejects(loadLog(path, null), (error: unknown) => error instanceof LogVersionError && /schema version 99/.test(error.message));
    });
  });

  it('marks the base as missing for a segment that starts after seq 1, and says where to look', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'segment-000000000005.log');
      await writeFile(path, buildSegment(jobs.slice(4), 5, REPLAY_MOUNT_ID).buf);
      const log = await loadLog(path, null);
      assert.equal(log.base.kind, 'missing');
      assert.equal(baseSeq(log), 4);
      assert.match(log.base.kind === 'missing' ? log.base.reason : '', /snapshot at seq 4.*replay its log directory/);
      assert.throws(() => stateAt(log, lastSeq(log)), InputError);
    });
  });

  it('reads a snapshot file as a base with no events', async () => {
    await withTempDir(async (dir) => {
      await writeLogDir(dir, jobs, { snapshotsAt: [5] });
      const log = await loadLog(join(dir, 'snapshot-000000000005.snap'), null);
      assert.equal(log.kind, 'snapshot');
      assert.equal(baseSeq(log), 5);
      assert.equal(log.records.length, 0);
      assert.equal(stateHash(stateAt(log, 5)), stateHash(fold(jobs.slice(0, 5))));
    });
  });
});

describe('loadLog of stdin', () => {
  it('reads the bytes given', async () => {
    const log = await loadLog('-', await readFile(fixture('jobs')));
    assert.equal(log.kind, 'stdin');
    assert.equal(log.records.length, jobs.length);
    assert.ok(log.records.every((r) => r.file === '-'));
  });

  it('names stdin, not a temporary file, in errors', async () => {
    await assert.rejects(loadLog('-', await readFile(join(FIXTURES, 'corrupt-middle.bin'))), (error: unknown) => {
      assert.ok(error instanceof LogCorruptError);
      assert.equal(error.file, '-');
      assert.match(error.message, /^-: corrupt log at byte offset 434/);
      return true;
    });
  });

  it('refuses empty input as not an eventfs log', async () => {
    await assert.rejects(loadLog('-', Buffer.alloc(0)), LogCorruptError);
  });
});

describe('loadLog of a log directory', () => {
  it('folds from seq 1 when every segment is there, with each snapshot as a checkpoint', async () => {
    await withTempDir(async (dir) => {
      await writeLogDir(dir, jobs, { snapshotsAt: [5, 9] });
      const log = await loadLog(dir, null);
      assert.deepEqual(log.base, { kind: 'empty' });
      assert.equal(log.records.length, jobs.length);
      assert.deepEqual(log.checkpoints.map((c) => c.seq), [5, 9]);
      const read = await readLogDir(dir);
      const mounted = fold(read.events as unknown as Event[], fromPlain(read.snapshot!.state as PlainState));
      assert.equal(stateHash(stateAt(log, lastSeq(log))), stateHash(mounted), 'the same state as the mount recovers');
    });
  });

  it('starts at the oldest snapshot the remaining segments reach back to', async () => {
    await withTempDir(async (dir) => {
      await writeLogDir(dir, jobs, { snapshotsAt: [5, 9], dropSegmentsBefore: 6 });
      const log = await loadLog(dir, null);
      assert.equal(log.base.kind, 'snapshot');
      assert.equal(baseSeq(log), 5);
      assert.deepEqual(log.checkpoints.map((c) => c.seq), [5, 9]);
      assert.equal(log.records[0]!.event.seq, 6);
    });
  });

  it('starts at the newest snapshot when the segments end before it', async () => {
    await withTempDir(async (dir) => {
      await writeLogDir(dir, jobs, { snapshotsAt: [5, 11] });
      await rm(join(dir, 'segment-000000000006.log'));
      await rm(join(dir, 'segment-000000000012.log'));
      const log = await loadLog(dir, null);
      assert.equal(baseSeq(log), 11);
      assert.equal(log.records.length, 0);
    });
  });

  it('refuses a missing segment in the events the mount needs', async () => {
    await withTempDir(async (dir) => {
      await writeLogDir(dir, jobs, { snapshotsAt: [5, 9] });
      await rm(join(dir, 'segment-000000000006.log'));
      await rm(join(dir, 'snapshot-000000000009.snap'));
      await assert.rejects(loadLog(dir, null), (error: unknown) => error instanceof LogDirError && /events 6\.\.9 are missing/.test(error.message));
    });
  });

  it('skips a damaged snapshot with a note, as the mount does', async () => {
    await withTempDir(async (dir) => {
      await writeLogDir(dir, jobs, { snapshotsAt: [9] });
      await writeFile(join(dir, 'snapshot-000000000009.snap'), Buffer.from('EVENTFS\0garbage'));
      const log = await loadLog(dir, null);
      assert.match(log.notes.join('\n'), /skipped damaged snapshot .*snapshot-000000000009\.snap/);
      assert.deepEqual(log.base, { kind: 'empty' });
      assert.equal(lastSeq(log), jobs.length);
    });
  });

  it('names a damaged snapshot as the cause when the events it covered are gone', async () => {
    await withTempDir(async (dir) => {
      await writeLogDir(dir, jobs, { snapshotsAt: [5, 9], dropSegmentsBefore: 10 });
      await writeFile(join(dir, 'snapshot-000000000009.snap'), Buffer.from('EVENTFS\0garbage'));
      await assert.rejects(loadLog(dir, null), (error: unknown) =>
        error instanceof LogDirError && /events 6\.\.9 are missing.*skipped damaged snapshot .*snapshot-000000000009\.snap/.test(error.message));
    });
  });

  it('stops extending history at a damaged old segment, with a note', async () => {
    await withTempDir(async (dir) => {
      await writeLogDir(dir, jobs, { snapshotsAt: [5] });
      const old = join(dir, 'segment-000000000001.log');
      const bytes = await readFile(old);
      bytes[60]! ^= 0xff;
      await writeFile(old, bytes);
      const log = await loadLog(dir, null);
      assert.equal(baseSeq(log), 5);
      assert.match(log.notes.join('\n'), /older history stops/);
    });
  });

  it('refuses a segment of another mount', async () => {
    await withTempDir(async (dir) => {
      await writeLogDir(dir, jobs, { snapshotsAt: [5] });
      await writeFile(join(dir, 'segment-000000000006.log'), buildSegment(jobs.slice(5), 6, Buffer.alloc(16, 7)).buf);
      await assert.rejects(loadLog(dir, null), (error: unknown) => error instanceof LogDirError && /another mount/.test(error.message));
    });
  });

  it('refuses a directory with no log files', async () => {
    await withTempDir(async (dir) => {
      await assert.rejects(loadLog(dir, null), (error: unknown) => error instanceof InputError && /no eventfs log here/.test(error.message));
    });
  });

  it('reads a fresh mount directory (one empty segment) as an empty log', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'segment-000000000001.log'), buildSegment([], 1, REPLAY_MOUNT_ID).buf);
      const log = await loadLog(dir, null);
      assert.equal(log.records.length, 0);
      assert.equal(stateHash(stateAt(log, 0)), stateHash(emptyState()));
    });
  });
});
