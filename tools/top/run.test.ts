// --once, --json, a pipe, and the command line itself (bin/eventfs-top.js).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { MOUNT_ID_TEST, withTempDir } from '../../src/log/testing.ts';
import { openSegment } from '../../src/log/writer.ts';
import { runTop, type TopOptions } from './run.tsx';
import { alice, busyScript, Script } from './testing.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const options = (path: string, fields: Partial<TopOptions> = {}): TopOptions => ({
  path, isOnce: true, isJson: false, replaySpeed: null, flushMs: 200, batchIntervalMs: 50, ...fields,
});

async function run(topOptions: TopOptions): Promise<{ code: number; out: string }> {
  let out = '';
  const stdout = { isTTY: false, columns: undefined, write: (text: string) => { out += text; return true; } };
  const code = await runTop(topOptions, { stdout: stdout as unknown as NodeJS.WriteStream, env: {} });
  return { code, out };
}

async function logDir(dir: string, script: Script, lock: string | null): Promise<void> {
  const writer = await openSegment(dir, { mountId: MOUNT_ID_TEST, firstSeq: 1 });
  await writer.append(script.events, { durable: true });
  await writer.close();
  if (lock !== null) await writeFile(join(dir, 'LOCK'), lock);
}

describe('--once', () => {
  it('prints one plain frame of a log whose daemon is gone, and says so', async () => {
    await withTempDir(async (dir) => {
      await logDir(dir, busyScript(), '999999999 1\n');
      const { code, out } = await run(options(dir));
      assert.equal(code, 0);
      assert.ok(!out.includes('\u001B'), 'no escape codes');
      assert.match(out, /daemon gone \(999999999\): final state at \d\d:\d\d:\d\d/);
      assert.match(out, /^> audit\s+/m);
      assert.match(out, /^ {2}jobs\s+/m);
      assert.doesNotMatch(out, /^ {2}doomed/m, 'a reaped queue is not in the table');
      assert.ok(out.split('\n').every((line) => line.length <= 80));
    });
  });

  it('says a daemon that released its LOCK is gone', async () => {
    await withTempDir(async (dir) => {
      await logDir(dir, new Script().mkdir(alice, 'q'), null);
      assert.match((await run(options(dir))).out, /daemon gone: final state/);
    });
  });

  it('lists every queue, however many, and the last 10 events', async () => {
    await withTempDir(async (dir) => {
      const script = new Script();
      for (let i = 0; i < 40; i++) script.mkdir(alice, `q${String(i).padStart(2, '0')}`);
      await logDir(dir, script, null);
      const { out } = await run(options(dir));
      assert.equal(out.split('\n').filter((line) => /^[ >] q\d\d /.test(line)).length, 40);
      assert.equal(out.split('\n').filter((line) => /^\d\d:\d\d:\d\d\.\d{3} /.test(line)).length, 10);
    });
  });

  it('fails with exit code 1 when there is no log', async () => {
    await withTempDir(async (dir) => {
      const { code, out } = await run(options(join(dir, 'missing')));
      assert.equal(code, 1);
      assert.match(out, /waiting for the log/);
      assert.match(out, /no log at/);
    });
  });
});

describe('--once --json', () => {
  it('prints the numbers as one JSON document', async () => {
    await withTempDir(async (dir) => {
      await logDir(dir, busyScript(), null);
      const doc = JSON.parse((await run(options(dir, { isJson: true }))).out) as {
        daemon: { kind: string }; totals: { queues: number; messages: number; reaps: number; events: number };
        queues: { name: string; depth: number; isSticky: boolean; owner: { uid: number; pid: number } }[]; eventsPerSecond: number;
      };
      assert.equal(doc.daemon.kind, 'gone');
      assert.deepEqual([doc.totals.queues, doc.totals.messages, doc.totals.reaps], [2, 9, 1]);
      assert.deepEqual(doc.queues.map((q) => [q.name, q.depth, q.isSticky, q.owner.uid, q.owner.pid]), [
        ['jobs', 8, false, 1000, 4242], ['audit', 1, true, 1001, 4343],
      ]);
      assert.equal(typeof doc.eventsPerSecond, 'number');
    });
  });
});

describe('a pipe', () => {
  it('gets plain frames, and just one when the log can no longer change', async () => {
    await withTempDir(async (dir) => {
      await logDir(dir, busyScript(), null);
      const { code, out } = await run(options(dir, { isOnce: false }));
      assert.equal(code, 0);
      assert.equal(out.split('\n').filter((line) => line.startsWith('eventfs-top')).length, 1);
      assert.ok(!out.includes('\u001B'));
    });
  });

  it('plays a replay to its end in frames', async () => {
    await withTempDir(async (dir) => {
      await logDir(dir, busyScript(), null);
      const { out } = await run(options(dir, { isOnce: false, replaySpeed: 100 }));
      assert.match(out, /replay done: final state/);
    });
  });
});

describe('bin/eventfs-top.js', () => {
  it('parses --once --json and a segment file argument', async () => {
    const fixture = join(REPO, 'test/fixtures/sticky.bin');
    const { stdout } = await promisify(execFile)(process.execPath, [join(REPO, 'bin/eventfs-top.js'), '--once', '--json', fixture]);
    const doc = JSON.parse(stdout) as { daemon: { kind: string }; queues: { name: string; isSticky: boolean }[] };
    assert.equal(doc.daemon.kind, 'file');
    assert.deepEqual(doc.queues.map((q) => [q.name, q.isSticky]), [['keep', true]]);
  });

  it('refuses a replay speed that is not a positive number', async () => {
    const result = await promisify(execFile)(process.execPath, [join(REPO, 'bin/eventfs-top.js'), '--replay', 'fast', '--once', '.'])
      .then(() => null, (error: { code: number; stderr: string }) => error);
    assert.ok(result !== null && result.code !== 0);
    assert.match(result.stderr, /SPEED must be a number above 0/);
  });
});
