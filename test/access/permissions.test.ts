/**
 * Permissions on a real mount as root mounts it (allow_other, default_permissions): the kernel
 * enforces the mode bits of the uid/gid eventfs reports, so a user cannot pop, read, write or
 * remove another user's queue unless the mode allows; head/tail (root-owned symlinks) do not get
 * around the target's permissions; chmod/chown follow POSIX; only a queue's owner or root may set
 * or remove user.eventfs_sticky; group-shared queues work.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startMount, type TestMount } from '../helpers/mount.ts';
import {
  attempt, attempts, ensureAccessUsers, pyHeld, putFile, shOk, stickyQueueAs, writeConfig, type AccessUsers, type As,
} from './access-helpers.ts';

let users: AccessUsers;
let config: ReturnType<typeof writeConfig>;
let m: TestMount;
let q1: As, q2: As, q3: As, q1InShare: As;

before(async () => {
  users = ensureAccessUsers();
  [q1, q2, q3] = [users.q1, users.q2, users.q3].map((user) => ({ user: user.name }));
  q1InShare = { user: users.q1.name, group: users.share.name };
  config = writeConfig({ main: '[eventfs-config]\n' }); // built-in limits: nothing here is about quotas
  m = await startMount({ args: ['-c', config.path] });
});

after(async () => {
  await m?.stop();
  config?.remove();
});

const p = (path: string): string => `${m.mnt}/${path}`;
const modeOf = (path: string): string => attempt(['stat', p(path)]);
const queueNames = (): string[] => attempt(['listdir', m.mnt]).slice(3).split(',');

describe('the mount', () => {
  it('is mounted with allow_other and default_permissions', () => {
    const line = shOk('cat /proc/self/mounts').split('\n').find((entry) => entry.split(' ')[1] === m.mnt);
    assert.ok(line, 'the mount is listed');
    assert.match(line, /\bdefault_permissions\b/);
    assert.match(line, /\ballow_other\b/);
  });

  it('has a root that anyone may add queues to but only owners remove from (1777, like /tmp)', () => {
    assert.equal(modeOf(''), 'OK:1777 0 0');
  });
});

describe('a private queue (0700) with a 0600 file', () => {
  before(() => {
    stickyQueueAs(p('priv'), 0o700, q1);
    putFile(p('priv/m'), 'secret', 0o600, q1);
  });

  it('is closed to another user: no listing, reading (by name or via head), popping, writing or removing', () => {
    assert.deepEqual(attempts([
      ['listdir', p('priv')], ['read', p('priv/m')], ['read', p('priv/head')], ['readlink', p('priv/head')],
      ['unlink', p('priv/head')], ['unlink', p('priv/tail')], ['unlink', p('priv/m')], ['append', p('priv/m')],
      ['create', p('priv/new')], ['rmdir', p('priv')],
    ], q2), ['EACCES', 'EACCES', 'EACCES', 'EACCES', 'EACCES', 'EACCES', 'EACCES', 'EACCES', 'EACCES', 'EPERM']);
  });

  it('is open to its owner and to root', () => {
    assert.deepEqual(attempts([['read', p('priv/head')], ['listdir', p('priv')]], q1), ['OK:secret', 'OK:head,m,tail']);
    assert.equal(attempt(['read', p('priv/tail')]), 'OK:secret');
  });
});

describe('a readable queue (0755) whose head is a 0600 file', () => {
  before(() => {
    stickyQueueAs(p('ro'), 0o755, q1);
    putFile(p('ro/secret'), 'for q1 only', 0o600, q1);
    putFile(p('ro/public'), 'for everyone', 0o644, q1);
  });

  it('head and tail are root-owned 0777 symlinks', () => {
    assert.deepEqual(attempts([['stat', p('ro/head')], ['stat', p('ro/tail')]], q2), ['OK:777 0 0', 'OK:777 0 0']);
  });

  it('lets another user list it and read what the file modes allow, but head does not bypass the target', () => {
    assert.deepEqual(attempts([
      ['listdir', p('ro')], ['readlink', p('ro/head')], ['read', p('ro/head')], ['read', p('ro/secret')],
      ['read', p('ro/tail')], ['read', p('ro/public')],
    ], q2), ['OK:head,public,secret,tail', 'OK:secret', 'EACCES', 'EACCES', 'OK:for everyone', 'OK:for everyone']);
  });

  it('does not let another user pop (via head, tail or name), add, write, truncate, chmod through head or link out', () => {
    assert.deepEqual(attempts([
      ['unlink', p('ro/head')], ['unlink', p('ro/tail')], ['unlink', p('ro/public')], ['create', p('ro/new')],
      ['append', p('ro/public')], ['truncate', p('ro/public'), 0], ['append', p('ro/tail')],
      ['chmod', p('ro/head'), 0o666], ['lchown', p('ro/head'), users.q2.uid, users.q2.gid],
      ['setxattr', p('ro/head'), 'user.note'],
    ], q2), ['EACCES', 'EACCES', 'EACCES', 'EACCES', 'EACCES', 'EACCES', 'EACCES', 'EPERM', 'EPERM', 'EACCES']);
    // fs.protected_hardlinks: a file one may read but not write cannot be linked into one's own queue.
    const held = pyHeld<string>(
      'import errno, json, os, sys\nos.mkdir(sys.argv[2])\ntry:\n    os.link(sys.argv[1], sys.argv[2] + "/stolen"); r = "OK"\nexcept OSError as e:\n    r = errno.errorcode[e.errno]\nprint(json.dumps(r), flush=True)\nsys.stdin.readline()\n',
      [p('ro/public'), p('q2own')], q2);
    return held.then(async ({ result, release }) => {
      await release();
      assert.equal(result, 'EPERM');
      // Nothing changed: the same files, modes and contents.
      assert.deepEqual(attempts([['listdir', p('ro')], ['read', p('ro/public')], ['stat', p('ro/secret')]], q1),
        ['OK:head,public,secret,tail', 'OK:for everyone', `OK:600 ${users.q1.uid} ${users.q1.gid}`]);
    });
  });
});

describe('a world-writable queue (0777)', () => {
  before(() => {
    stickyQueueAs(p('open'), 0o777, q1);
    putFile(p('open/m1'), 'one', 0o600, q1);
    putFile(p('open/m2'), 'two', 0o600, q1);
  });

  it('lets another user add and pop, as write permission on a directory does in POSIX', () => {
    assert.deepEqual(attempts([['read', p('open/head')], ['unlink', p('open/head')], ['create', p('open/from-q2')]], q2),
      ['EACCES', 'OK', 'OK']);
    assert.equal(attempt(['listdir', p('open')], q1), 'OK:from-q2,head,m2,tail');
  });
});

describe('a sticky world-writable queue (1777)', () => {
  before(() => {
    stickyQueueAs(p('drop'), 0o1777, q1);
    putFile(p('drop/a'), 'from q1', 0o644, q1);
  });

  it("lets others add and remove their own files by name, but not others' files, and not pop via the root-owned head/tail", () => {
    assert.equal(modeOf('drop'), `OK:1777 ${users.q1.uid} ${users.q1.gid}`);
    assert.deepEqual(attempts([
      ['create', p('drop/b')], ['create', p('drop/c')], ['unlink', p('drop/a')], ['unlink', p('drop/head')],
      ['unlink', p('drop/tail')], ['unlink', p('drop/b')],
    ], q2), ['OK', 'OK', 'EPERM', 'EPERM', 'EPERM', 'OK']);
    assert.deepEqual(attempts([['unlink', p('drop/head')], ['unlink', p('drop/tail')], ['listdir', p('drop')]], q1),
      ['OK', 'OK', 'OK:'], 'the queue owner pops');
  });
});

describe("another user's empty queue", () => {
  it('cannot be removed by another user, even with mode 0777 (the root is sticky); its owner can', () => {
    stickyQueueAs(p('empty'), 0o777, q1);
    assert.equal(attempt(['rmdir', p('empty')], q2), 'EPERM');
    assert.equal(attempt(['rmdir', p('empty')], q1), 'OK');
    assert.ok(!queueNames().includes('empty'));
  });
});

describe('a group-shared queue', () => {
  before(() => {
    // q1 works with eventfs-qshare as its primary group: the queue and its file belong to that group.
    stickyQueueAs(p('team'), 0o770, q1InShare);
    putFile(p('team/plan'), 'the plan', 0o640, q1InShare);
  });

  it("belongs to the creator's group", () => {
    assert.equal(modeOf('team'), `OK:770 ${users.q1.uid} ${users.share.gid}`);
    assert.equal(modeOf('team/plan'), `OK:640 ${users.q1.uid} ${users.share.gid}`);
  });

  it('is shared with a member of that group (a supplementary group is enough)', () => {
    assert.deepEqual(attempts([
      ['listdir', p('team')], ['read', p('team/head')], ['create', p('team/from-q2')], ['append', p('team/plan')],
      ['unlink', p('team/head')], ['readlink', p('team/head')],
    ], q2), ['OK:head,plan,tail', 'OK:the plan', 'OK', 'EACCES', 'OK', 'OK:from-q2']);
  });

  it('is closed to a non-member', () => {
    assert.deepEqual(attempts([['listdir', p('team')], ['read', p('team/head')], ['create', p('team/x')], ['unlink', p('team/head')]], q3),
      ['EACCES', 'EACCES', 'EACCES', 'EACCES']);
  });
});

describe('chmod and chown', () => {
  before(() => {
    stickyQueueAs(p('attr'), 0o755, q1);
    putFile(p('attr/f'), 'x', 0o644, q1);
  });

  it('the owner may chmod its queue and files; another user may not; root may', () => {
    assert.deepEqual(attempts([['chmod', p('attr/f'), 0o600], ['chmod', p('attr'), 0o751]], q1), ['OK', 'OK']);
    assert.deepEqual(attempts([['chmod', p('attr/f'), 0o666], ['chmod', p('attr'), 0o777]], q2), ['EPERM', 'EPERM']);
    assert.deepEqual(attempts([['stat', p('attr/f')], ['stat', p('attr')]]),
      [`OK:600 ${users.q1.uid} ${users.q1.gid}`, `OK:751 ${users.q1.uid} ${users.q1.gid}`]);
    assert.equal(attempt(['chmod', p('attr/f'), 0o640]), 'OK');
    assert.equal(modeOf('attr/f'), `OK:640 ${users.q1.uid} ${users.q1.gid}`);
  });

  it('only root gives a queue or file to another user', () => {
    assert.deepEqual(attempts([
      ['chown', p('attr/f'), users.q2.uid, -1], ['chown', p('attr'), users.q2.uid, -1],
    ], q1), ['EPERM', 'EPERM']);
    assert.equal(attempt(['chown', p('attr/f'), users.q2.uid, -1], q2), 'EPERM', 'not even to oneself');
    assert.equal(attempt(['chown', p('attr/f'), users.q2.uid, -1]), 'OK');
    assert.equal(modeOf('attr/f'), `OK:640 ${users.q2.uid} ${users.q1.gid}`);
    assert.equal(attempt(['chown', p('attr/f'), users.q1.uid, -1]), 'OK');
  });

  it('the owner may chgrp to its own group, not to a group it is not in; a non-owner may not chgrp', () => {
    assert.equal(attempt(['chown', p('attr/f'), -1, users.share.gid]), 'OK', 'root sets any group');
    assert.equal(attempt(['chown', p('attr/f'), -1, users.grp.gid], q1), 'EPERM', 'q1 is not in eventfs-qgrp');
    assert.equal(attempt(['chown', p('attr/f'), -1, users.q2.gid], q2), 'EPERM', 'q2 does not own the file');
    assert.equal(attempt(['chown', p('attr/f'), -1, users.q1.gid], q1), 'OK', "q1's primary group");
    assert.equal(modeOf('attr/f'), `OK:640 ${users.q1.uid} ${users.q1.gid}`);
    assert.equal(attempt(['chown', p('attr'), -1, users.share.gid], q1InShare), 'OK', 'the primary group of the caller, queue too');
    assert.equal(modeOf('attr'), `OK:751 ${users.q1.uid} ${users.share.gid}`);
  });

  it('the owner may chgrp to a supplementary group it belongs to', {
    todo: 'known limitation: the caller eventfs sees carries only its primary gid, so decide() refuses (EPERM) a chgrp to a supplementary group the kernel would allow',
  }, () => {
    assert.equal(attempt(['chown', p('attr/f'), -1, users.share.gid], q1), 'OK');
  });
});

describe('the sticky xattr (user.eventfs_sticky)', () => {
  it("cannot be removed from another user's queue, even with write permission on it", () => {
    stickyQueueAs(p('keep'), 0o777, q1);
    assert.deepEqual(attempts([['removexattr', p('keep'), 'user.eventfs_sticky'], ['setxattr', p('keep'), 'user.note']], q2),
      ['EPERM', 'OK'], 'other user.* attributes need only write permission');
    assert.ok(queueNames().includes('keep'), 'still sticky, still there');
    assert.equal(attempt(['removexattr', p('keep'), 'user.eventfs_sticky'], q1), 'OK', 'the owner may');
    assert.ok(!queueNames().includes('keep'), 'its creator is long gone: reaped');
  });

  it("cannot be set on another user's queue; root may set it, and remove it", async () => {
    const live = await pyHeld('import os, sys\nos.mkdir(sys.argv[1])\nos.chmod(sys.argv[1], 0o777)\nprint("null", flush=True)\nsys.stdin.readline()\n',
      [p('live')], q1);
    try {
      assert.equal(attempt(['setxattr', p('live'), 'user.eventfs_sticky'], q2), 'EPERM');
      assert.equal(attempt(['setxattr', p('live'), 'user.eventfs_sticky']), 'OK', 'root');
    } finally {
      await live.release();
    }
    assert.ok(queueNames().includes('live'), 'made sticky by root, it outlives its creator');
    assert.equal(attempt(['removexattr', p('live'), 'user.eventfs_sticky'], q2), 'EPERM');
    assert.equal(attempt(['removexattr', p('live'), 'user.eventfs_sticky']), 'OK', 'root');
    assert.ok(!queueNames().includes('live'), 'reaped once no longer sticky');
  });
});
