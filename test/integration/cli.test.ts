/**
 * The eventfs command line: each mistake has a one-line error and its own exit code, detaching
 * returns only once the mount is ready, and SIGTERM unmounts cleanly after flushing the log.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { isMounted } from '../../src/fs/mountinfo.ts';
import { EVENTFS_BIN, sh, startMount, stopDaemon, unmountQuietly } from '../helpers/mount.ts';
import { stickyQueue } from '../helpers/queues.ts';

let root: string;
before(() => (root = mkdtempSync(join(tmpdir(), 'eventfs-cli-'))));
after(() => rmSync(root, { recursive: true, force: true }));

const eventfs = (...args: string[]) => spawnSync(process.execPath, [EVENTFS_BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
const emptyDir = (name: string): string => {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  return dir;
};

describe('eventfs usage errors', () => {
  it('--help prints the usage and exits 0', () => {
    const result = eventfs('--help');
    assert.equal(result.status, 0);
    assert.match(result.stdout, /Usage: eventfs \[options\] <mountpoint>/);
    assert.match(result.stdout, /durability=always\|close\|none/);
  });

  it('--version prints the version', () => {
    const result = eventfs('--version');
    assert.equal(result.status, 0);
    assert.match(result.stdout, /^\d+\.\d+\.\d+\n$/);
  });

  it('an unknown flag exits 64', () => {
    const result = eventfs('--frobnicate', emptyDir('a'));
    assert.equal(result.status, 64);
    assert.match(result.stderr, /unknown option '--frobnicate'/);
  });

  it('an unknown -o option exits 64 with a one-line error', () => {
    const result = eventfs('-f', '-o', 'durability=close,bogus', '--log-dir', join(root, 'l1'), emptyDir('b'));
    assert.equal(result.status, 64);
    assert.equal(result.stderr.trim().split('\n').length, 1);
    assert.match(result.stderr, /unknown mount option 'bogus'/);
  });

  it('a bad durability value exits 64', () => {
    const result = eventfs('-f', '-o', 'durability=sometimes', '--log-dir', join(root, 'l2'), emptyDir('c'));
    assert.equal(result.status, 64);
    assert.match(result.stderr, /durability' takes always, close or none/);
  });

  it('a missing mountpoint exits 64', () => {
    const result = eventfs('-f', '--log-dir', join(root, 'l3'), join(root, 'nowhere'));
    assert.equal(result.status, 64);
    assert.match(result.stderr, /does not exist/);
  });

  it('a non-empty mountpoint exits 64', () => {
    const dir = emptyDir('full');
    writeFileSync(join(dir, 'x'), 'x');
    const result = eventfs('-f', '--log-dir', join(root, 'l4'), dir);
    assert.equal(result.status, 64);
    assert.match(result.stderr, /is not empty/);
  });

  it('a missing mountpoint argument exits 64', () => {
    const result = eventfs('-f');
    assert.equal(result.status, 64);
    assert.match(result.stderr, /missing required argument/);
  });

  it('a bad config file exits 78 naming the file', () => {
    const config = join(root, 'bad.conf');
    writeFileSync(config, '[eventfs-config]\ndefault_max_dirs = lots\n');
    const result = eventfs('-f', '-c', config, '--log-dir', join(root, 'l5'), emptyDir('d'));
    assert.equal(result.status, 78);
    assert.match(result.stderr, /bad\.conf:2: key 'default_max_dirs'/);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  });
});

describe('eventfs running', () => {
  it('refuses a path that is already mounted', async () => {
    const m = await startMount();
    try {
      const result = eventfs('-f', '--log-dir', join(root, 'l6'), m.mnt);
      assert.equal(result.status, 64);
      assert.match(result.stderr, /already a mountpoint/);
    } finally {
      await m.stop();
    }
  });

  it('detaches: exits 0 only once the mount is ready, and the daemon exits on fusermount -u', async () => {
    const mnt = emptyDir('detached');
    const result = eventfs('--log-dir', join(root, 'l7'), mnt);
    let pid = 0;
    try {
      assert.equal(result.status, 0, result.stderr);
      assert.ok(isMounted(mnt), 'mounted when the command returned');
      pid = Number(readFileSync(join(root, 'l7', 'LOCK'), 'utf8').split(' ')[0]);
      stickyQueue(`${mnt}/q`);
      assert.equal(sh(`ls ${mnt}`), 'q\n');
      sh(`fusermount -u ${mnt}`);
    } finally {
      unmountQuietly(mnt);
    }
    for (let i = 0; i < 50 && existsSync(`/proc/${pid}`); i++) await sleep(100);
    assert.ok(pid > 0 && !existsSync(`/proc/${pid}`), `the daemon (pid ${pid}) exited after fusermount -u`);
  });

  it('SIGTERM flushes the log and unmounts; a restart shows the same queues', async () => {
    const logDir = join(root, 'l8');
    const first = await startMount({ logDir, root: join(root, 'r8') });
    stickyQueue(`${first.mnt}/kept`);
    sh(`printf payload > ${first.mnt}/kept/m1`);
    assert.equal(await stopDaemon(first.daemon), 0);
    assert.ok(!isMounted(first.mnt), 'unmounted after SIGTERM');
    const second = await startMount({ logDir, root: join(root, 'r8b') });
    try {
      assert.equal(sh(`cat ${second.mnt}/kept/head`), 'payload');
    } finally {
      await second.stop();
    }
  });
});
