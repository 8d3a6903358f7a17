import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LogLockedError } from './errors.ts';
import { acquireLock, isProcessAlive, parseProcStat } from './lock.ts';
import { withTempDir } from './testing.ts';

async function ownStartTime(): Promise<number> {
  return parseProcStat(await readFile('/proc/self/stat', 'utf8'))!.startTime;
}

// A pid that existed and is gone: a child that has exited and been reaped.
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

describe('acquireLock', () => {
  it('writes our pid and start time to LOCK and removes it on release', async () => {
    await withTempDir(async (dir) => {
      const lock = await acquireLock(dir);
      assert.equal(await readFile(join(dir, 'LOCK'), 'utf8'), `${process.pid} ${await ownStartTime()}\n`);
      await lock.release();
      assert.deepEqual(await readdir(dir), []);
    });
  });

  it('refuses a second daemon while the holder is alive, naming the directory and pid', async () => {
    await withTempDir(async (dir) => {
      const lock = await acquireLock(dir);
      await assert.rejects(acquireLock(dir), (error: unknown) =>
        error instanceof LogLockedError && error.message === `log directory ${dir} is in use by pid ${process.pid}`);
      await lock.release();
      await (await acquireLock(dir)).release();
    });
  });

  it('refuses a LOCK held by another live process', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => child.on('spawn', resolve));
      const startTime = parseProcStat(await readFile(`/proc/${child.pid}/stat`, 'utf8'))!.startTime;
      await withTempDir(async (dir) => {
        await writeFile(join(dir, 'LOCK'), `${child.pid} ${startTime}\n`);
        await assert.rejects(acquireLock(dir), new RegExp(`in use by pid ${child.pid}$`));
        assert.equal(await readFile(join(dir, 'LOCK'), 'utf8'), `${child.pid} ${startTime}\n`, 'the LOCK is left alone');
      });
    } finally {
      child.kill();
    }
  });

  it('takes over a stale LOCK whose pid is dead', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'LOCK'), `${await deadPid()} 12345\n`);
      const lock = await acquireLock(dir);
      assert.equal(lock.owner.pid, process.pid);
      assert.deepEqual((await readdir(dir)).sort(), ['LOCK']);
      await lock.release();
    });
  });

  it('takes over a LOCK whose pid was reused by a process with another start time', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'LOCK'), `${process.pid} ${(await ownStartTime()) + 1}\n`);
      await (await acquireLock(dir)).release();
    });
  });

  it('takes over an unreadable LOCK, which no daemon writes since LOCK is linked in whole', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'LOCK'), 'garbage');
      await (await acquireLock(dir)).release();
    });
  });

  it('does not delete on release a LOCK that another daemon has since taken over', async () => {
    await withTempDir(async (dir) => {
      const lock = await acquireLock(dir);
      await writeFile(join(dir, 'LOCK'), '1 1\n');
      await lock.release();
      assert.equal(await readFile(join(dir, 'LOCK'), 'utf8'), '1 1\n');
    });
  });
});

describe('process liveness', () => {
  it('parses /proc/PID/stat with spaces and parentheses in the command name', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3)).join(' ');
    assert.deepEqual(parseProcStat(`42 (a b) c)) ${fields}`), { state: '3', startTime: 22 });
    assert.equal(parseProcStat('garbage'), null);
  });

  it('treats a zombie as dead, a reaped pid as dead and this process as alive', async () => {
    // `sleep 0` becomes a child of the exec'd `sleep 5`, which never waits for it: a zombie.
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const zombiePid = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (data) => resolve(String(data)))));
      while (parseProcStat(await readFile(`/proc/${zombiePid}/stat`, 'utf8'))?.state !== 'Z') await new Promise((r) => setTimeout(r, 10));
      assert.equal(await isProcessAlive({ pid: zombiePid, startTime: null }), false);
    } finally {
      parent.kill();
    }
    assert.equal(await isProcessAlive({ pid: process.pid, startTime: await ownStartTime() }), true);
    assert.equal(await isProcessAlive({ pid: await deadPid(), startTime: null }), false);
  });
});
