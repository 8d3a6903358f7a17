/**
 * The command line end to end: every mode, every exit code, --json everywhere, colour only on a
 * TTY. Most runs are in-process (runCli with captured streams); a few spawn bin/eventfs-replay.js
 * exactly as a user would, to check the wiring and the real exit status.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fold, stateHash } from '../../src/model/index.ts';
import { replayFixtures, writeLogDir } from '../../test/fixtures/replay/generate.ts';
import { FIXTURES, fixture, run, spawnReplay, withTempDir } from './testing.ts';

const jobs = replayFixtures().find((f) => f.name === 'jobs')!.events;

describe('bin/eventfs-replay.js', () => {
  it('exits 0 with a summary of a good log', async () => {
    const result = await spawnReplay([fixture('jobs')]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^events +11, seq 1\.\.11$/m);
    assert.equal(result.stderr, '');
  });

  it('exits 1 when an invariant is violated', async () => {
    const result = await spawnReplay(['--verify', fixture('named-head')]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /VIOLATED after seq 4/);
  });

  it('exits 2 on a corrupt log, and says what --salvage would keep', async () => {
    const result = await spawnReplay([join(FIXTURES, 'corrupt-middle.bin')]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /corrupt log at byte offset 434/);
    assert.match(result.stderr, /the valid prefix holds seq 1\.\.3/);
  });

  it('exits 64 on a usage error and points to --help', async () => {
    const result = await spawnReplay(['--bogus', fixture('jobs')]);
    assert.equal(result.code, 64);
    assert.match(result.stderr, /unknown option '--bogus'/);
    assert.match(result.stderr, /eventfs-replay --help/);
  });

  it('reads the log from stdin with -', async () => {
    const result = await spawnReplay(['--events', '-'], { stdin: await readFile(fixture('jobs')) });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim().split('\n').length, 11);
  });

  it('prints no colour when NO_COLOR is set or stdout is not a TTY', async () => {
    const result = await spawnReplay(['--events', fixture('jobs')], { env: { NO_COLOR: '1', FORCE_COLOR: '1' } });
    assert.ok(!result.stdout.includes('\x1b'));
  });
});

describe('--help', () => {
  it('documents every mode, every filter and every exit code, and exits 0', async () => {
    const result = await run(['--help']);
    assert.equal(result.code, 0);
    for (const option of ['--at', '--until', '--events', '--queue', '--type', '--pid', '--uid', '--since', '--show-data', '--verify', '--first-bad', '--exec', '--salvage', '--json']) {
      assert.ok(result.stdout.includes(option), `--help mentions ${option}`);
    }
    assert.match(result.stdout, /Exit codes:\n +0 +ok.*torn tail.*\n[\s\S]* 1 +an invariant is violated[\s\S]* 2 +the input is unreadable[\s\S]* 64 +usage error/);
    for (const line of result.stdout.split('\n')) assert.ok(line.length <= 80, `help line too wide: ${line}`);
  });
});

describe('exit codes', () => {
  const cases: [string, string[], number][] = [
    ['a good log', [fixture('jobs')], 0],
    ['a torn tail (not an error)', [join(FIXTURES, 'torn-tail.bin')], 0],
    ['--verify of a good log', ['--verify', fixture('jobs')], 0],
    ['--first-bad of a good log', ['--first-bad', fixture('jobs')], 0],
    ['--verify of a log with an event that cannot apply', ['--verify', fixture('freed-link')], 1],
    ['--first-bad of a log with an invariant violation', ['--first-bad', fixture('named-head')], 1],
    ['the summary of a log that does not fold', [fixture('head-mismatch')], 1],
    ['--at past an event that cannot apply', ['--at', '10', fixture('freed-link')], 1],
    ['--events of a log that does not fold', ['--events', fixture('freed-link')], 1],
    ['a corrupt log', [join(FIXTURES, 'corrupt-middle.bin')], 2],
    ['--verify of a corrupt log', ['--verify', join(FIXTURES, 'corrupt-middle.bin')], 2],
    ['a missing file', ['/nonexistent/log.bin'], 2],
    ['a file that is not a log', [join(FIXTURES, 'replay', 'generate.ts')], 2],
    ['no LOG', [], 64],
    ['two LOGs', [fixture('jobs'), fixture('jobs')], 64],
    ['two modes', ['--verify', '--events', fixture('jobs')], 64],
    ['--at and --until together', ['--at', '1', '--until', '2', fixture('jobs')], 64],
    ['--at with --events', ['--at', '1', '--events', fixture('jobs')], 64],
    ['a filter without --events', ['--type', 'fileCreated', fixture('jobs')], 64],
    ['an unknown --type', ['--events', '--type', 'nope', fixture('jobs')], 64],
    ['a bad --pid', ['--events', '--pid', 'abc', fixture('jobs')], 64],
    ['a bad time', ['--at', 'yesterday', fixture('jobs')], 64],
    ['--at past the end', ['--at', '99', fixture('jobs')], 64],
    ['--queue with --verify', ['--verify', '--queue', 'jobs', fixture('jobs')], 64],
    ['--exec of a directory that is not a mount', ['--exec', FIXTURES, fixture('jobs')], 64],
  ];
  for (const [what, argv, code] of cases) {
    it(`is ${code} for ${what}`, async () => {
      const result = await run(argv);
      assert.equal(result.code, code, result.stdout + result.stderr);
      if (code === 0) assert.equal(result.stderr, '');
      if (code === 1) assert.match(result.stdout + result.stderr, /VIOLATED|cannot apply|invariant/, 'a violation is explained');
      if (code > 1) assert.notEqual(result.stderr, '', 'an error always says why on stderr');
    });
  }
});

describe('the summary', () => {
  it('reports the events, the queues at the end and the state hash', async () => {
    const { stdout } = await run([fixture('jobs')]);
    assert.match(stdout, /^format +version 1, mount id 6576656e7466732d7265706c61792d74$/m);
    assert.match(stdout, /^time +2024-01-01T00:00:00.000Z \.\. 2024-01-01T00:00:10.000Z \(10 s\)$/m);
    assert.match(stdout, /^tail +clean/m);
    assert.match(stdout, new RegExp(`^hash +${stateHash(fold(jobs))}$`, 'm'));
  });

  it('reports corruption on stdout too, with what is readable around it', async () => {
    const { stdout, code } = await run([join(FIXTURES, 'corrupt-middle.bin')]);
    assert.equal(code, 2);
    assert.match(stdout, /^corrupt +at byte 434 of .*corrupt-middle.bin: crc mismatch/m);
    assert.match(stdout, /^valid +seq 1\.\.3 \(3 events\) before the damage/m);
    assert.match(stdout, /^after +seq 5\.\.7 \(3 events\) readable after the damage/m);
  });

  it('is JSON with --json', async () => {
    const { stdout } = await run(['--json', fixture('jobs')]);
    const summary = JSON.parse(stdout);
    assert.equal(summary.events.count, 11);
    assert.equal(summary.end.stateHash, stateHash(fold(jobs)));
    assert.equal(summary.end.queues[0].name, 'jobs');
  });

  it('is JSON with --json for errors too, with the exit code', async () => {
    const { stdout, code } = await run(['--json', join(FIXTURES, 'corrupt-middle.bin')]);
    assert.equal(code, 2);
    const parsed = JSON.parse(stdout);
    assert.equal(parsed.ok, false);
    assert.equal(parsed.exitCode, 2);
    assert.equal(parsed.error.kind, 'LogCorruptError');
    assert.deepEqual(parsed.valid, { count: 3, firstSeq: 1, lastSeq: 3 });
  });

  it('exits 2 for a log directory whose files do not fit together', async () => {
    await withTempDir(async (dir) => {
      await writeLogDir(dir, jobs, { snapshotsAt: [5, 9], dropSegmentsBefore: 10 });
      await writeFile(join(dir, 'snapshot-000000000009.snap'), Buffer.from('EVENTFS\0garbage'));
      const { stderr, code } = await run([dir]);
      assert.equal(code, 2);
      assert.match(stderr, /events 6\.\.9 are missing/);
    });
  });

  it('says when a lone segment lacks the snapshot its state starts from (exit 2)', async () => {
    await withTempDir(async (dir) => {
      await writeLogDir(dir, jobs, { snapshotsAt: [5] });
      const { stdout, code } = await run([join(dir, 'segment-000000000006.log')]);
      assert.equal(code, 2);
      assert.match(stdout, /^state +unknown: the log starts at seq 6, so its state needs the snapshot at seq 5/m);
    });
  });
});

describe('--at and --until', () => {
  it('shows the queues and messages at a seq, with head and tail', async () => {
    const { stdout, code } = await run(['--at', '7', fixture('jobs')]);
    assert.equal(code, 0);
    assert.match(stdout, /^state at seq 7 of 11 \(2024-01-01T00:00:06.000Z\): 1 queue$/m);
    assert.match(stdout, /^ +head a  tail c$/m);
    assert.match(stdout, /^ +1 +a +6 +0644 +1000:1000 +1 +5$/m);
    assert.ok(!stdout.includes('"first\\n"'), 'no data without --show-data');
  });

  it('shows message contents, escaped, with --show-data', async () => {
    const { stdout } = await run(['--until', '7', '--show-data', fixture('jobs')]);
    assert.match(stdout, /^ +"first\\n"$/m);
    const escaped = await run(['--until', '4', '--show-data', fixture('escapes')]);
    assert.ok(!escaped.stdout.includes('\x1b'), 'no raw escape reaches the terminal');
    assert.match(escaped.stdout, /\\x1b\[31mred/);
  });

  it('takes an ISO time: the state after the last event at or before it', async () => {
    const { stdout } = await run(['--until', '2024-01-01T00:00:06.999Z', fixture('jobs')]);
    assert.match(stdout, /^state at seq 7 of 11/m);
  });

  it('is JSON with --json, data as base64 with --show-data', async () => {
    const parsed = JSON.parse((await run(['--at', '3', '--json', '--show-data', fixture('jobs')])).stdout);
    assert.equal(parsed.seq, 3);
    assert.equal(parsed.time, '2024-01-01T00:00:02.000Z');
    const message = parsed.queues[0].messages[0];
    assert.equal(Buffer.from(message.base64, 'base64').toString(), 'first\n');
    assert.deepEqual(message.owner, { uid: 1000, gid: 1000 });
  });

  it('shows only the queues given with --queue', async () => {
    const { stdout } = await run(['--at', '11', '--queue', 'news', join(FIXTURES, 'multicast.bin')]);
    assert.match(stdout, /queue news /);
    assert.ok(!stdout.includes('bob-inbox'));
  });
});

describe('--events', () => {
  it('prints one line per event, in order', async () => {
    const { stdout } = await run(['--events', fixture('jobs')]);
    const lines = stdout.split('\n').filter((line) => line !== '');
    assert.equal(lines.length, 11);
    assert.equal(lines[0], ' 1 @40   2024-01-01T00:00:00.000Z queueCreated jobs 0755 pid=4242 uid=1000');
  });

  it('combines filters', async () => {
    const { stdout } = await run(['--events', '--queue', 'jobs', '--type', 'entryRemoved', '--uid', '1001', '--since', '9', fixture('jobs')]);
    assert.deepEqual(stdout.trim().split('\n').map((line) => Number(line.trim().split(' ')[0])), [11]);
  });

  it('prints JSON Lines with --json', async () => {
    const { stdout } = await run(['--events', '--json', '--pid', '4343', fixture('jobs')]);
    const events = stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(events.map((e) => [e.seq, e.type, e.target]), [[8, 'entryRemoved', 'jobs/a'], [11, 'entryRemoved', 'jobs/d']]);
  });

  it('colours a TTY, and not with NO_COLOR', async () => {
    assert.ok((await run(['--events', fixture('jobs')], { isTTY: true })).stdout.includes('\x1b['));
    assert.ok(!(await run(['--events', fixture('jobs')], { isTTY: true, env: { NO_COLOR: '1' } })).stdout.includes('\x1b'));
  });

  it('notes a torn tail on stderr, keeping stdout for the events', async () => {
    const { stdout, stderr, code } = await run(['--events', join(FIXTURES, 'torn-tail.bin')]);
    assert.equal(code, 0);
    assert.equal(stdout.trim().split('\n').length, 7);
    assert.match(stderr, /torn tail at byte 829 .*not an error/);
  });
});

describe('--verify and --first-bad', () => {
  it('--first-bad prints the known bad event of the inconsistent fixture and the states around it', async () => {
    const { stdout, code } = await run(['--first-bad', fixture('head-mismatch')]);
    assert.equal(code, 1);
    assert.match(stdout, /^first bad event\n 6 @\d+ +2024-01-01T00:00:04.500Z entryRemoved jobs\/b \(head\) pid=4343 uid=1001$/m);
    assert.match(stdout, /popped name is not the head/);
    assert.match(stdout, /^state before \(seq 5\)$/m);
  });

  it('--first-bad --json gives the event, the states and the verdict', async () => {
    const parsed = JSON.parse((await run(['--first-bad', '--json', fixture('named-head')])).stdout);
    assert.equal(parsed.ok, false);
    assert.equal(parsed.event.event.seq, 4);
    assert.equal(parsed.verify.failure.kind, 'invariant');
    assert.equal(parsed.before.seq, 3);
    assert.equal(parsed.after.seq, 4);
  });

  it('--verify --json says ok and gives the hash', async () => {
    const parsed = JSON.parse((await run(['--verify', '--json', fixture('jobs')])).stdout);
    assert.equal(parsed.ok, true);
    assert.equal(parsed.stateHash, stateHash(fold(jobs)));
  });

  it('--verify of a log directory compares the recorded snapshot hashes', async () => {
    await withTempDir(async (dir) => {
      await writeLogDir(dir, jobs, { snapshotsAt: [5, 9], divergeAt: 9 });
      const { stdout, code } = await run(['--verify', dir]);
      assert.equal(code, 1);
      assert.match(stdout, /^snapshot +seq 5 hash matches/m);
      assert.match(stdout, /^snapshot +seq 9 hash differs/m);
    });
  });
});

describe('--salvage', () => {
  it('writes the valid prefix, lists what was dropped, and the result reads cleanly', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'fixed.log');
      const { stdout, code } = await run(['--salvage', out, join(FIXTURES, 'corrupt-middle.bin')]);
      assert.equal(code, 0);
      assert.match(stdout, /^kept +seq 1\.\.3 \(3 events\), 434 bytes in 1 file$/m);
      assert.match(stdout, /^dropped +97 bytes at byte 434 of .*: crc mismatch/m);
      assert.match(stdout, /^dropped +seq 5\.\.7 \(3 events\): readable, but after the cut$/m);
      assert.match(stdout, /^mount +put .* in an empty log directory as segment-000000000001\.log$/m);
      const check = await run(['--verify', out]);
      assert.equal(check.code, 0, check.stdout);
    });
  });

  it('salvages stdin into a file', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'fixed.log');
      const { code } = await run(['--salvage', out, '-'], { stdin: await readFile(join(FIXTURES, 'corrupt-middle.bin')) });
      assert.equal(code, 0);
      assert.equal((await run(['--json', out])).stdout.includes('"count": 3'), true);
    });
  });

  it('refuses to overwrite OUT (exit 64) and fails on an unreadable header (exit 2)', async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, 'taken');
      await writeFile(out, '');
      assert.equal((await run(['--salvage', out, fixture('jobs')])).code, 64);
      const bad = join(dir, 'bad.log');
      await writeFile(bad, Buffer.from('EVENTFS\0short'));
      assert.equal((await run(['--salvage', join(dir, 'out2'), bad])).code, 2);
    });
  });

  it('is JSON with --json', async () => {
    await withTempDir(async (dir) => {
      const parsed = JSON.parse((await run(['--json', '--salvage', join(dir, 'o.log'), join(FIXTURES, 'torn-tail.bin')])).stdout);
      assert.equal(parsed.ok, true);
      assert.equal(parsed.intact, false);
      assert.deepEqual(parsed.kept, { count: 7, firstSeq: 1, lastSeq: 7 });
    });
  });
});
