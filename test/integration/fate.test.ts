/**
 * Fate-sharing: a queue dies with the process (not the thread) that created it, unless sticky.
 * Includes the seed's README example end to end.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { python, sh, shStatus, startMount, type TestMount, PYTHON } from '../helpers/mount.ts';
import { creatorProcess, killAndWait, stickyQueue } from '../helpers/queues.ts';

let m: TestMount;
before(async () => (m = await startMount()));
after(async () => await m?.stop());

const exists = (path: string): boolean => shStatus(`test -e ${path}`).status === 0;
const logText = (): string => readdirSync(m.logDir).filter((f) => f.endsWith('.log') && f.startsWith('segment'))
  .map((f) => readFileSync(join(m.logDir, f)).toString('latin1')).join('');

describe('fate-sharing', () => {
  it("reproduces the seed's example: a sleeper's queue dies with it", async () => {
    const sleeper = await creatorProcess([`${m.mnt}/demo`]);
    try {
      sh(`echo hello > ${m.mnt}/demo/msg && echo world > ${m.mnt}/demo/msg2`);
      assert.equal(sh(`ls ${m.mnt}/demo`), 'head\nmsg\nmsg2\ntail\n');
      assert.equal(sh(`cat ${m.mnt}/demo/head`), 'hello\n');
      sh(`rm ${m.mnt}/demo/head`);
      assert.equal(sh(`cat ${m.mnt}/demo/tail`), 'world\n');
      sh(`rm ${m.mnt}/demo/tail`);
      assert.equal(sh(`ls ${m.mnt}/demo`), '');
      sh(`echo again > ${m.mnt}/demo/msg3`);
    } finally {
      await killAndWait(sleeper);
    }
    assert.ok(!sh(`ls ${m.mnt}`).split('\n').includes('demo'), 'demo is gone right after its creator');
    assert.ok(!exists(`${m.mnt}/demo`));
  });

  it('reaps without any access within a second (periodic sweep), as a logged event', async () => {
    const sleeper = await creatorProcess([`${m.mnt}/swept`]);
    const before = logText().split('queueReaped').length;
    await killAndWait(sleeper);
    await sleep(1000);
    assert.ok(logText().split('queueReaped').length > before, 'a queueReaped event was logged');
    assert.ok(!exists(`${m.mnt}/swept`));
  });

  it('a queue made by a thread lives as long as the process, not the thread', async () => {
    const source = [
      'import os, sys, threading, time',
      't = threading.Thread(target=lambda: os.mkdir(sys.argv[1]))',
      't.start(); t.join()',
      'print("made", flush=True)',
      'sys.stdin.readline()',
    ].join('\n');
    const child = spawn(PYTHON, ['-c', source, `${m.mnt}/threaded`], { stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise((resolve) => child.stdout!.once('data', resolve));
    await sleep(600);
    assert.ok(exists(`${m.mnt}/threaded`), 'alive after the creating thread ended');
    child.stdin!.end('\n');
    await new Promise((resolve) => child.once('exit', resolve));
    assert.ok(!exists(`${m.mnt}/threaded`), 'gone with the process');
  });

  it('a sticky queue outlives its creator, and removing the xattr re-arms the reaper', () => {
    stickyQueue(`${m.mnt}/keep`);
    sh(`echo kept > ${m.mnt}/keep/m`);
    assert.equal(sh(`cat ${m.mnt}/keep/head`), 'kept\n');
    sh(`setfattr -x user.eventfs_sticky ${m.mnt}/keep`);
    assert.ok(!exists(`${m.mnt}/keep`), 'creator long dead: reaped on the next access');
  });

  it('a queue created by a short-lived mkdir is gone once mkdir exits', () => {
    sh(`mkdir ${m.mnt}/brief`);
    assert.ok(!exists(`${m.mnt}/brief`));
  });
});

describe('readiness', () => {
  it('a consumer blocked in inotify on a queue wakes when a producer creates a file', async () => {
    stickyQueue(`${m.mnt}/ready`);
    const source = [
      'import ctypes, os, struct, sys',
      'libc = ctypes.CDLL("libc.so.6", use_errno=True)',
      'fd = libc.inotify_init()',
      'assert libc.inotify_add_watch(fd, sys.argv[1].encode(), 0x100) >= 0  # IN_CREATE',
      'print("watching", flush=True)',
      'data = os.read(fd, 4096)',
      'wd, mask, cookie, length = struct.unpack_from("iIII", data)',
      'print(data[16:16 + length].rstrip(b"\\0").decode(), flush=True)',
    ].join('\n');
    const consumer = spawn(PYTHON, ['-c', source, `${m.mnt}/ready`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    consumer.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    while (!out.includes('watching')) await sleep(20);
    python('import sys\nopen(sys.argv[1], "w").write("job")', [`${m.mnt}/ready/job-1`]);
    const code = await Promise.race([new Promise((resolve) => consumer.once('exit', resolve)), sleep(5000).then(() => 'timeout')]);
    if (code === 'timeout') consumer.kill();
    assert.equal(code, 0);
    assert.match(out, /job-1/);
  });
});
