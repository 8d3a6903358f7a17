/**
 * Quotas on a real mount: unprivileged users flooding mkdir, create and write get EDQUOT at
 * exactly their configured limits, other users are unaffected, the daemon keeps answering, hard
 * links count as files but not bytes, group limits follow the caller's gid, root is limited
 * unless exempt, and the decisions replay from the log.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { decide, resolve, type Caller, type Command, type CommandBody, type State } from '../../src/model/index.ts';
import { startMount, type TestMount } from '../helpers/mount.ts';
import { stickyQueue } from '../helpers/queues.ts';
import {
  ensureAccessUsers, errnoOf, FLOOD_BYTES, FLOOD_DIRS, FLOOD_FILES, foldLog, pyHeld, pyJson, shAs, shOk, writeConfig,
  type AccessUsers,
} from './access-helpers.ts';

let users: AccessUsers;
let config: ReturnType<typeof writeConfig>;
let m: TestMount;

// Defaults (q2, q4 and root get these), and the overrides below.
const DEFAULTS = { dirs: 4, files: 20, filesPerDir: 8, bytes: 64 * 1024 };
const Q1 = { dirs: 3, files: 12, filesPerDir: 5, bytes: 10_000 };
const Q3 = { files: 3, bytes: 1000 };
const GRP = { dirs: 2 };

before(async () => {
  users = ensureAccessUsers();
  config = writeConfig({
    main: [
      '; quotas for the access tests',
      '[eventfs-config]',
      `default_max_dirs = ${DEFAULTS.dirs}`,
      `default_max_files = ${DEFAULTS.files}`,
      `default_max_files_per_dir = ${DEFAULTS.filesPerDir}`,
      'default_max_bytes = 64K',
      'quotas = quotas',
      '',
    ].join('\n'),
    quotas: {
      q1: `[eventfs-quota]\nuser = ${users.q1.name}\nmax_dirs = ${Q1.dirs}\nmax_files = ${Q1.files}\nmax_files_per_dir = ${Q1.filesPerDir}\nmax_bytes = ${Q1.bytes}\n`,
      q3: `[eventfs-quota]\nuser = ${users.q3.name}\nmax_files = ${Q3.files}\nmax_bytes = ${Q3.bytes}\n`,
      grp: `[eventfs-quota]\ngroup = ${users.grp.name}\nmax_dirs = ${GRP.dirs}\n`,
    },
  });
  // No periodic sweep: dead creators' queues are reaped only when something looks, so the tests
  // show that quota decisions never count what a dead process left behind.
  m = await startMount({ args: ['-c', config.path, '-o', 'sweep_ms=3600000'] });
});

after(async () => {
  await m?.stop();
  config?.remove();
});

const as = (user: { name: string }, group?: { name: string }) => ({ user: user.name, group: group?.name });
const callerOf = (user: { uid: number; gid: number }): Caller => ({ uid: user.uid, gid: user.gid, pid: 1, start: 1 });
const command = (body: CommandBody, by: Caller): Command => ({ ...body, by, atMs: 0 } as Command);
/** What decide says, offline, about `body` by `by` against the folded log. */
const replayed = (state: State, body: CommandBody, by: Caller): string => {
  const decision = decide(state, command(body, by));
  return decision.ok ? 'OK' : decision.errno;
};
const inoOf = (state: State, path: string): number => {
  const node = resolve(state, path);
  assert.ok(typeof node !== 'string' && node.kind === 'file', `${path} is a file in the folded state`);
  return node.inode.ino;
};
/**
 * The log folded once it caught up with the mount: listing the root reaps queues of dead
 * creators, and their reap events reach the disk a moment after the listing answers.
 */
const settledState = async (): Promise<State> => {
  const shown = JSON.stringify(shOk(`ls ${m.mnt}`).split('\n').filter(Boolean).sort());
  for (let attempt = 0; ; attempt++) {
    const state = await foldLog(m.logDir);
    if (JSON.stringify([...state.queues.keys()].sort()) === shown || attempt === 50) return state;
    await sleep(100);
  }
};
/** Responsiveness: the root still lists (no timing assertion; a hang fails by the command timeout). */
const listsRoot = (user: { name: string }): string[] => shOk(`ls ${m.mnt}`, as(user)).split('\n').filter(Boolean);

describe('the quota table', () => {
  it('is recorded in the log as the config defines it', async () => {
    const state = await settledState();
    assert.deepEqual(state.quotas, loadConfig(config.path));
    assert.deepEqual(state.quotas!.users[String(users.q1.uid)], {
      maxDirs: Q1.dirs, maxFiles: Q1.files, maxFilesPerDir: Q1.filesPerDir, maxBytes: Q1.bytes,
    });
  });
});

describe('a mkdir flood', () => {
  it('gets EDQUOT at exactly max_dirs, other users are unaffected, the daemon answers, and replay agrees', async () => {
    const flood = await pyHeld<{ count: number; error: string; extraErrors: string[] }>(FLOOD_DIRS, [m.mnt, 'q1d', '200'], as(users.q1));
    try {
      assert.deepEqual(flood.result, { count: Q1.dirs, error: 'EDQUOT', extraErrors: ['EDQUOT'] });
      // Another user, with the default limits, is not affected by q1's flood.
      const other = pyJson<{ count: number; error: string }>(FLOOD_DIRS, [m.mnt, 'q2d', '0'], as(users.q2));
      assert.deepEqual(other, { count: DEFAULTS.dirs, error: 'EDQUOT', extraErrors: [] });
      assert.deepEqual(listsRoot(users.q3).filter((name) => name.startsWith('q1d')), ['q1d0', 'q1d1', 'q1d2']);
      // Replay: against the folded log, the same mkdir by q1 is EDQUOT, by q3 it is not.
      const state = await settledState();
      assert.equal(replayed(state, { type: 'mkdir', path: '/again', mode: 0o755 }, callerOf(users.q1)), 'EDQUOT');
      assert.equal(replayed(state, { type: 'mkdir', path: '/again', mode: 0o755 }, callerOf(users.q3)), 'OK');
    } finally {
      await flood.release();
    }
    // The limit counts live queues: once the flooder's queues are reaped, q1 may make them again.
    const again = pyJson(FLOOD_DIRS, [m.mnt, 'q1e', '0'], as(users.q1));
    assert.deepEqual(again, { count: Q1.dirs, error: 'EDQUOT', extraErrors: [] });
  });

  it('limits root like anyone else when the config does not exempt it', () => {
    const flood = pyJson(FLOOD_DIRS, [m.mnt, 'rootd', '0']);
    assert.deepEqual(flood, { count: DEFAULTS.dirs, error: 'EDQUOT', extraErrors: [] });
  });
});

describe('a create flood', () => {
  it('gets EDQUOT at max_files_per_dir in each queue and at max_files in all; replay agrees', async () => {
    const queues = ['q1fa', 'q1fb', 'q1fc'].map((name) => `${m.mnt}/${name}`);
    const flood = await pyHeld<{ counts: number[]; error: string }>(FLOOD_FILES, queues, as(users.q1));
    try {
      // 5 + 5 fill two queues to max_files_per_dir; the third stops at the max_files total of 12.
      assert.deepEqual(flood.result, { counts: [Q1.filesPerDir, Q1.filesPerDir, Q1.files - 2 * Q1.filesPerDir], error: 'EDQUOT' });
      assert.equal(errnoOf(shAs(`: > ${queues[2]}/more`, as(users.q1))), 'EDQUOT');
      // A link is a file too.
      assert.equal(errnoOf(shAs(`ln ${queues[0]}/f0 ${queues[2]}/linked`, as(users.q1))), 'EDQUOT');
      // Another user, with the default limits, fills its own queues as if q1 had done nothing.
      const other = pyJson<{ counts: number[]; error: string }>(FLOOD_FILES, [`${m.mnt}/q2fa`, `${m.mnt}/q2fb`, `${m.mnt}/q2fc`], as(users.q2));
      assert.deepEqual(other, { counts: [DEFAULTS.filesPerDir, DEFAULTS.filesPerDir, DEFAULTS.files - 2 * DEFAULTS.filesPerDir], error: 'EDQUOT' });
      assert.ok(listsRoot(users.q3).includes('q1fc'));
      const state = await settledState();
      assert.equal(replayed(state, { type: 'create', path: '/q1fc/replayed', mode: 0o644 }, callerOf(users.q1)), 'EDQUOT');
      assert.equal(replayed(state, { type: 'create', path: '/q1fa/replayed', mode: 0o644 }, callerOf(users.q1)), 'EDQUOT');
      assert.equal(replayed(state, { type: 'link', from: '/q1fa/f0', to: '/q1fc/replayed' }, callerOf(users.q1)), 'EDQUOT');
      assert.equal(replayed(state, { type: 'create', path: '/q1fc/replayed', mode: 0o644 }, callerOf(users.q3)), 'OK');
      // Popping one file frees one: q1 may create exactly one more.
      shOk(`rm ${queues[2]}/head`, as(users.q1));
      shOk(`: > ${queues[2]}/one-more`, as(users.q1));
      assert.equal(errnoOf(shAs(`: > ${queues[2]}/two-more`, as(users.q1))), 'EDQUOT');
    } finally {
      await flood.release();
    }
  });

  it('by two users at once stops each at its own limits', async () => {
    const [q1, q2] = await Promise.all([
      pyHeld<{ counts: number[]; error: string }>(FLOOD_FILES, ['a', 'b', 'c'].map((x) => `${m.mnt}/c1${x}`), as(users.q1)),
      pyHeld<{ counts: number[]; error: string }>(FLOOD_FILES, ['a', 'b', 'c'].map((x) => `${m.mnt}/c2${x}`), as(users.q2)),
    ]);
    try {
      assert.deepEqual(q1.result, { counts: [5, 5, 2], error: 'EDQUOT' });
      assert.deepEqual(q2.result, { counts: [8, 8, 4], error: 'EDQUOT' });
      assert.ok(listsRoot(users.q4).includes('c2c'));
    } finally {
      await Promise.all([q1.release(), q2.release()]);
    }
  });
});

describe('a write flood', () => {
  it('writes exactly max_bytes before EDQUOT; growth by truncate is refused too; replay agrees', async () => {
    const q = `${m.mnt}/q1bytes`;
    // 3000 does not divide 10000: the 4th block is refused whole, then single bytes fill up to the limit.
    const flood = await pyHeld<{ written: number; error: string; size: number }>(FLOOD_BYTES, [q, '3000'], as(users.q1));
    try {
      assert.deepEqual(flood.result, { written: Q1.bytes, error: 'EDQUOT', size: Q1.bytes });
      // Bytes, not files, are exhausted: an empty file is fine, a byte in it is not.
      shOk(`: > ${q}/empty`, as(users.q1));
      assert.equal(errnoOf(shAs(`/usr/bin/printf y >> ${q}/empty`, as(users.q1))), 'EDQUOT');
      assert.equal(errnoOf(shAs(`truncate -s 10 ${q}/empty`, as(users.q1))), 'EDQUOT');
      assert.equal(shOk(`stat -c %s ${q}/empty`), '0\n');
      // Another user writes its own 64K.
      const other = pyJson<{ written: number; error: string }>(FLOOD_BYTES, [`${m.mnt}/q2bytes`, '4096'], as(users.q2));
      assert.deepEqual(other, { written: DEFAULTS.bytes, error: 'EDQUOT', size: DEFAULTS.bytes });
      const state = await settledState();
      const ino = inoOf(state, '/q1bytes/empty');
      assert.equal(replayed(state, { type: 'write', ino, offset: 0, data: Buffer.from('y') }, callerOf(users.q1)), 'EDQUOT');
      assert.equal(replayed(state, { type: 'truncate', ino, size: 10 }, callerOf(users.q1)), 'EDQUOT');
      assert.equal(state.userUsage.get(users.q1.uid)?.bytes, Q1.bytes);
      // Shrinking is always allowed, and frees what it gives up.
      shOk(`truncate -s 9990 ${q}/f`, as(users.q1));
      shOk(`/usr/bin/printf 0123456789 >> ${q}/empty`, as(users.q1));
      assert.equal(errnoOf(shAs(`/usr/bin/printf y >> ${q}/empty`, as(users.q1))), 'EDQUOT');
      // Popping the big file frees its bytes.
      shOk(`rm ${q}/head`, as(users.q1));
      shOk(`head -c 9000 /dev/zero >> ${q}/empty`, as(users.q1));
    } finally {
      await flood.release();
    }
  });

  it('charges bytes to the file owner, whoever writes them', async () => {
    // q2 writes into q1's world-writable file: q1's byte quota is what runs out.
    const q = `${m.mnt}/q1owner`;
    stickyQueue(q, 0o777, users.q1.name);
    try {
      shOk(`umask 0; : > ${q}/f`, as(users.q1));
      const result = pyJson<{ written: number; error: string }>(
        'import errno, json, sys\nf = open(sys.argv[1], "ab", buffering=0)\nn = 0\ntry:\n    while True:\n        n += f.write(b"z" * 1000)\nexcept OSError as e:\n    print(json.dumps({"written": n, "error": errno.errorcode[e.errno]}))\n',
        [`${q}/f`], as(users.q2));
      assert.deepEqual(result, { written: Q1.bytes, error: 'EDQUOT' });
      const state = await settledState();
      assert.equal(state.userUsage.get(users.q1.uid)?.bytes, Q1.bytes);
      assert.equal(state.inodes.get(inoOf(state, '/q1owner/f'))!.uid, users.q1.uid);
    } finally {
      shOk(`rm -f ${q}/f && rmdir ${q}`);
    }
  });
});

describe('hard links', () => {
  it('count as one more file in the target queue, but no more bytes', async () => {
    const source = `
import errno, json, os, sys
a, b = sys.argv[1], sys.argv[2]
os.mkdir(a); os.mkdir(b)
def attempt(fn, *args):
    try:
        fn(*args)
        return "OK"
    except OSError as e:
        return errno.errorcode[e.errno]
with open(a + "/m", "wb", buffering=0) as f:
    f.write(b"m" * ${Q3.bytes})                       # all of q3's bytes
steps = {
    "link1": attempt(os.link, a + "/m", b + "/m"),     # 2 files, still ${Q3.bytes} bytes
    "link2": attempt(os.link, a + "/m", b + "/m2"),    # 3 files: max_files
    "link3": attempt(os.link, a + "/m", a + "/m3"),    # a 4th name: refused
    "create": attempt(lambda: os.close(os.open(a + "/n", os.O_CREAT | os.O_WRONLY))),
    "grow": attempt(lambda: os.truncate(a + "/m", ${Q3.bytes + 1})),
}
steps["nlink"] = os.stat(a + "/m").st_nlink
steps["unlink"] = attempt(os.unlink, b + "/m2")
steps["relink"] = attempt(os.link, a + "/m", b + "/m4")
print(json.dumps(steps), flush=True)
sys.stdin.readline()
`;
    const held = await pyHeld<Record<string, string | number>>(source, [`${m.mnt}/q3a`, `${m.mnt}/q3b`], as(users.q3));
    try {
      assert.deepEqual(held.result, {
        link1: 'OK', link2: 'OK', link3: 'EDQUOT', create: 'EDQUOT', grow: 'EDQUOT', nlink: 3, unlink: 'OK', relink: 'OK',
      });
      const state = await settledState();
      assert.deepEqual(state.userUsage.get(users.q3.uid), { dirs: 2, files: Q3.files, bytes: Q3.bytes });
      assert.equal(replayed(state, { type: 'link', from: '/q3a/m', to: '/q3a/again' }, callerOf(users.q3)), 'EDQUOT');
      // Popping names frees files; the bytes stay charged while any name holds the inode.
      shOk(`rm ${m.mnt}/q3b/head`, as(users.q3));
      shOk(`rm ${m.mnt}/q3b/head`, as(users.q3));
      const after = await settledState();
      assert.deepEqual(after.userUsage.get(users.q3.uid), { dirs: 2, files: 1, bytes: Q3.bytes });
      assert.equal(errnoOf(shAs(`/usr/bin/printf x > ${m.mnt}/q3b/new`, as(users.q3))), 'EDQUOT', 'bytes still all used');
      shOk(`rm ${m.mnt}/q3a/m ${m.mnt}/q3b/new`, as(users.q3));
      shOk(`/usr/bin/printf x > ${m.mnt}/q3b/new`, as(users.q3));
    } finally {
      await held.release();
    }
  });

  it('are counted against the linker and the target queue depth', async () => {
    // q2's world-writable queue holds 5 files (q1's max_files_per_dir): q1 cannot link into it,
    // although q1 has files to spare; q2 (8 per queue) can.
    const shared = `${m.mnt}/q2shared`;
    stickyQueue(shared, 0o777, users.q2.name);
    try {
      shOk(`for i in 1 2 3 4 5; do : > ${shared}/m$i; done`, as(users.q2));
      const held = await pyHeld<Record<string, string>>(`
import errno, json, os, sys
q, shared = sys.argv[1], sys.argv[2]
os.mkdir(q)
os.close(os.open(q + "/mine", os.O_CREAT | os.O_WRONLY, 0o644))
try:
    os.link(q + "/mine", shared + "/from-q1")
    r = "OK"
except OSError as e:
    r = errno.errorcode[e.errno]
print(json.dumps({"link": r}), flush=True)
sys.stdin.readline()
`, [`${m.mnt}/q1src`, shared], as(users.q1));
      try {
        assert.deepEqual(held.result, { link: 'EDQUOT' });
        shOk(`ln ${shared}/m1 ${shared}/m1-again`, as(users.q2));
        const state = await settledState();
        assert.equal(state.userUsage.get(users.q2.uid)?.files, 6);
        assert.equal(state.inodes.get(inoOf(state, '/q2shared/m1'))!.nlink, 2);
      } finally {
        await held.release();
      }
    } finally {
      shOk(`rm -f ${shared}/* && rmdir ${shared}`);
    }
  });
});

describe('group limits', () => {
  it("apply to the caller's gid, on top of the user's own limits", async () => {
    // q2 runs with eventfs-qgrp as its primary group and holds one of the group's 2 queues.
    const holder = await pyHeld(FLOOD_DIRS.replace('while count < 100000', 'while count < 1'), [m.mnt, 'grp2-', '0'], as(users.q2, users.grp));
    try {
      assert.deepEqual(holder.result, { count: 1, error: null, extraErrors: [] });
      assert.equal(shOk(`stat -c %g ${m.mnt}/grp2-0`), `${users.grp.gid}\n`);
      // q4 in the same group gets the one left, although its own limit is 4.
      const q4InGroup = await pyHeld(FLOOD_DIRS, [m.mnt, 'grp4-', '0'], as(users.q4, users.grp));
      try {
        assert.deepEqual(q4InGroup.result, { count: GRP.dirs - 1, error: 'EDQUOT', extraErrors: [] });
        // With its own primary group q4 is not limited by eventfs-qgrp (supplementary groups do not count).
        const q4Alone = pyJson(FLOOD_DIRS, [m.mnt, 'own4-', '0'], as(users.q4));
        assert.deepEqual(q4Alone, { count: DEFAULTS.dirs - 1, error: 'EDQUOT', extraErrors: [] });
        const state = await settledState();
        assert.deepEqual(state.groupUsage.get(users.grp.gid), { dirs: GRP.dirs, files: 0, bytes: 0 });
        assert.equal(replayed(state, { type: 'mkdir', path: '/g', mode: 0o755 }, { ...callerOf(users.q3), gid: users.grp.gid }), 'EDQUOT');
        assert.equal(replayed(state, { type: 'mkdir', path: '/g', mode: 0o755 }, callerOf(users.q3)), 'OK');
      } finally {
        await q4InGroup.release();
      }
    } finally {
      await holder.release();
    }
  });
});

describe('after all the floods', () => {
  it('the daemon is healthy: no internal errors, and the log folds to what the mount shows', async () => {
    assert.doesNotMatch(m.stderr(), /internal error/);
    const shown = listsRoot(users.q2).sort();
    const folded = [...(await settledState()).queues.keys()].sort();
    assert.deepEqual(folded, shown);
  });
});
