/**
 * Restarts on real mounts: sticky queues come back exactly (order, bytes, owners, modes, xattrs,
 * hard links), after a clean stop and after kill -9; a queue whose creator still lives survives;
 * queues whose creators died while no daemon ran are reaped at recovery, as events in the log; and
 * a second daemon on the same log directory is refused while the first keeps working.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { readLogDir } from '../../src/log/reader.ts';
import { EVENTFS_BIN, python, sh, startMount, stopDaemon, unmountQuietly, type TestMount } from '../helpers/mount.ts';
import { creatorProcess, killAndWait } from '../helpers/queues.ts';
import { WALK_PY } from './support.ts';

let root: string;
before(() => (root = mkdtempSync(join(tmpdir(), 'eventfs-restart-'))));
after(() => rmSync(root, { recursive: true, force: true }));

/** Everything a user can set up, in one short-lived process: only stickiness keeps these queues. */
const SETUP_PY = `
import os, sys
m = sys.argv[1]
for q, mode in (("alpha", 0o750), ("beta", 0o1777)):
    os.mkdir(f"{m}/{q}", mode)
    os.chmod(f"{m}/{q}", mode)
    os.setxattr(f"{m}/{q}", "user.eventfs_sticky", b"")
os.setxattr(f"{m}/alpha", "user.note", b"queue xattr")
os.chown(f"{m}/beta", 1234, 5678)
for i in range(7):
    with open(f"{m}/alpha/m{i}", "wb") as f:
        f.write(bytes([i]) * (i * 1500) + b"end")
os.chmod(f"{m}/alpha/m1", 0o600)
os.chown(f"{m}/alpha/m2", 1234, 5678)
os.truncate(f"{m}/alpha/m2", 10)
os.setxattr(f"{m}/alpha/m3", "user.k", b"\\x00\\x01binary")
os.link(f"{m}/alpha/m4", f"{m}/beta/copy-of-m4")
with open(f"{m}/beta/own", "wb") as f:
    f.write(b"beta's own")
os.unlink(f"{m}/alpha/head")   # pops m0
os.unlink(f"{m}/alpha/m5")     # from the middle
`;

const walk = (m: TestMount): unknown => JSON.parse(python(WALK_PY, [m.mnt]));

async function mountAt(name: string, args: string[] = []): Promise<TestMount> {
  return startMount({ logDir: join(root, name, 'logs'), root: join(root, name), args });
}

describe('a restart brings sticky queues back exactly', () => {
  for (const how of ['SIGTERM', 'kill -9'] as const) {
    it(`after ${how}: order, bytes, owners, modes, xattrs and hard links`, async () => {
      const name = how === 'SIGTERM' ? 'clean' : 'killed';
      const first = await mountAt(name);
      let seen: unknown;
      try {
        python(SETUP_PY, [first.mnt]);
        seen = walk(first);
        if (how === 'SIGTERM') {
          assert.equal(await stopDaemon(first.daemon), 0);
        } else {
          first.daemon.kill('SIGKILL');
          await new Promise((resolve) => first.daemon.once('exit', resolve));
          unmountQuietly(first.mnt);
        }
      } finally {
        await first.stop();
      }
      const second = await mountAt(name);
      try {
        assert.deepEqual(walk(second), seen);
        const view = seen as Record<string, { entries: unknown[][]; head: string }>;
        assert.deepEqual(view.alpha!.entries.map((e) => e[0]), ['m1', 'm2', 'm3', 'm4', 'm6']);
        assert.equal(view.alpha!.head, 'm1');
        // The hard link is still one inode: a write through one name shows through the other.
        sh(`printf more >> ${second.mnt}/alpha/m4`);
        assert.match(sh(`cat ${second.mnt}/beta/copy-of-m4`), /endmore$/);
      } finally {
        await second.stop();
      }
    });
  }
});

describe('fate-sharing across restarts', () => {
  it('a queue whose creator still lives survives a restart, and is reaped once the creator dies', async () => {
    const first = await mountAt('alive');
    const creator = await creatorProcess([`${first.mnt}/live`]);
    try {
      sh(`printf payload > ${first.mnt}/live/m1`);
      await first.stop();
      const second = await mountAt('alive');
      try {
        assert.equal(sh(`cat ${second.mnt}/live/head`), 'payload');
        await killAndWait(creator);
        for (let i = 0; i < 50 && sh(`ls ${second.mnt}`).includes('live'); i++) await sleep(100);
        assert.equal(sh(`ls ${second.mnt}`), '', 'reaped by the sweep once its creator died');
      } finally {
        await second.stop();
      }
    } finally {
      await killAndWait(creator);
    }
  });

  it('queues whose creators died while no daemon ran are reaped at recovery, as events', async () => {
    const first = await mountAt('dead');
    const creator = await creatorProcess([`${first.mnt}/doomed`, `${first.mnt}/kept`]);
    try {
      sh(`printf x > ${first.mnt}/doomed/m1`);
      python('import os, sys\nos.setxattr(sys.argv[1], "user.eventfs_sticky", b"")', [`${first.mnt}/kept`]);
      await first.stop();
    } finally {
      await killAndWait(creator);
    }
    const seqBefore = (await readLogDir(join(root, 'dead', 'logs'))).nextSeq - 1;
    const second = await mountAt('dead');
    try {
      assert.equal(sh(`ls ${second.mnt}`), 'kept\n');
    } finally {
      await second.stop();
    }
    const read = await readLogDir(join(root, 'dead', 'logs'));
    const reaps = read.events.filter((event) => event.seq > seqBefore && event.type === 'queueReaped');
    assert.deepEqual(reaps.map((event) => event.queue), ['doomed']);
  });
});

describe('one daemon per log directory', () => {
  it('a second daemon on the same log directory exits 75 naming the first; the first keeps working', async () => {
    const first = await mountAt('locked');
    try {
      const other = join(root, 'locked', 'other');
      mkdirSync(other);
      const result = spawnSync(process.execPath, [EVENTFS_BIN, '-f', '--log-dir', first.logDir, other], { encoding: 'utf8', timeout: 30_000 });
      unmountQuietly(other);
      assert.equal(result.status, 75, result.stderr);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`^eventfs: log directory ${first.logDir} is in use by pid ${first.daemon.pid}\\b`));
      python('import os, sys\nos.mkdir(sys.argv[1])\nos.setxattr(sys.argv[1], "user.eventfs_sticky", b"")\nopen(sys.argv[1] + "/m", "w").write("still here")', [`${first.mnt}/q`]);
      assert.equal(sh(`cat ${first.mnt}/q/head`), 'still here');
    } finally {
      await first.stop();
    }
  });
});
