/**
 * DESIGN.md's semantics table, each row on a real mount, driven by sh and python3 as users do.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { python, sh, shStatus, startMount, type TestMount } from '../helpers/mount.ts';
import { stickyQueue } from '../helpers/queues.ts';
import { ensureUser } from '../helpers/users.ts';

let m: TestMount;
before(async () => (m = await startMount()));
after(async () => await m?.stop());

const listdir = (path: string): string[] => JSON.parse(python('import os, sys, json\nprint(json.dumps(os.listdir(sys.argv[1])))', [path]));

describe('the root', () => {
  it('refuses a regular file with EPERM', () => {
    const result = shStatus(`echo x > ${m.mnt}/file`);
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /Operation not permitted/);
  });

  it('holds queues as directories', () => {
    stickyQueue(`${m.mnt}/rootq`);
    assert.match(sh(`stat -c %F ${m.mnt}/rootq`), /directory/);
    assert.ok(listdir(m.mnt).includes('rootq'));
  });

  it('refuses a nested mkdir with EPERM', () => {
    stickyQueue(`${m.mnt}/nest`);
    const result = shStatus(`mkdir ${m.mnt}/nest/sub`);
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /Operation not permitted/);
  });

  it('refuses symlinks created by users', () => {
    stickyQueue(`${m.mnt}/symq`);
    assert.notEqual(shStatus(`ln -s /etc/passwd ${m.mnt}/symq/link`).status, 0);
  });
});

describe('head and tail', () => {
  before(() => {
    stickyQueue(`${m.mnt}/ht`);
    for (const name of ['a1', 'a2', 'a3']) sh(`printf %s ${name}-data > ${m.mnt}/ht/${name}`);
  });

  it('point to the oldest and newest file', () => {
    assert.equal(sh(`readlink ${m.mnt}/ht/head`), 'a1\n');
    assert.equal(sh(`readlink ${m.mnt}/ht/tail`), 'a3\n');
    assert.equal(sh(`cat ${m.mnt}/ht/head`), 'a1-data');
  });

  it('are root-owned symlinks with mode 0777', () => {
    assert.equal(sh(`stat -c '%F %u %a' ${m.mnt}/ht/head`), 'symbolic link 0 777\n');
  });

  it('cannot be created as files', () => {
    const result = shStatus(`: > ${m.mnt}/ht/head.new && ln ${m.mnt}/ht/head.new ${m.mnt}/ht/tail`);
    assert.notEqual(result.status, 0);
    sh(`rm -f ${m.mnt}/ht/head.new`);
  });

  it('pop the oldest with rm head and the newest with rm tail', () => {
    sh(`rm ${m.mnt}/ht/head`);
    assert.deepEqual(listdir(`${m.mnt}/ht`), ['a2', 'a3', 'head', 'tail']);
    sh(`rm ${m.mnt}/ht/tail`);
    assert.deepEqual(listdir(`${m.mnt}/ht`), ['a2', 'head', 'tail']);
    assert.equal(sh(`readlink ${m.mnt}/ht/head`), 'a2\n');
    assert.equal(sh(`readlink ${m.mnt}/ht/tail`), 'a2\n');
  });

  it('vanish when the queue is empty', () => {
    sh(`rm ${m.mnt}/ht/head`);
    assert.deepEqual(listdir(`${m.mnt}/ht`), []);
    assert.notEqual(shStatus(`readlink ${m.mnt}/ht/head`).status, 0);
    assert.match(shStatus(`rm ${m.mnt}/ht/head`).stderr, /No such file/);
  });
});

describe('order', () => {
  it('unlinking from the middle keeps the order of the rest', () => {
    stickyQueue(`${m.mnt}/mid`);
    for (const name of ['z', 'y', 'x', 'w']) sh(`: > ${m.mnt}/mid/${name}`);
    sh(`rm ${m.mnt}/mid/y`);
    assert.deepEqual(listdir(`${m.mnt}/mid`), ['z', 'x', 'w', 'head', 'tail']);
    assert.equal(sh(`readlink ${m.mnt}/mid/head`), 'z\n');
  });
});

describe('hard links (multicast)', () => {
  it('put one inode into several queues without copying, and the data lives while any holds it', () => {
    for (const q of ['mc1', 'mc2', 'mc3']) stickyQueue(`${m.mnt}/${q}`);
    sh(`printf hello > ${m.mnt}/mc1/m`);
    sh(`ln ${m.mnt}/mc1/m ${m.mnt}/mc2/m && ln ${m.mnt}/mc1/m ${m.mnt}/mc3/copy`);
    assert.equal(sh(`stat -c %h ${m.mnt}/mc1/m`), '3\n');
    assert.equal(sh(`stat -c %i ${m.mnt}/mc1/m`), sh(`stat -c %i ${m.mnt}/mc3/copy`));
    sh(`rm ${m.mnt}/mc1/head ${m.mnt}/mc2/m`);
    assert.equal(sh(`cat ${m.mnt}/mc3/copy`), 'hello');
    assert.equal(sh(`stat -c %h ${m.mnt}/mc3/copy`), '1\n');
  });

  it('refuses to hard-link head or tail', () => {
    stickyQueue(`${m.mnt}/mch`);
    sh(`: > ${m.mnt}/mch/one`);
    assert.notEqual(shStatus(`ln ${m.mnt}/mch/head ${m.mnt}/mch/two`).status, 0);
  });
});

describe('open files', () => {
  it('a popped file stays readable through a descriptor opened before the pop', () => {
    stickyQueue(`${m.mnt}/openq`);
    sh(`printf 'still here' > ${m.mnt}/openq/msg`);
    const out = python([
      'import os, sys',
      'q = sys.argv[1]',
      'fd = os.open(q + "/msg", os.O_RDONLY)',
      'os.unlink(q + "/head")',
      'assert not os.path.exists(q + "/msg")',
      'print(os.read(fd, 100).decode())',
    ].join('\n'), [`${m.mnt}/openq`]);
    // (fstat of a file popped via head is ENOENT: libfuse 2 answers fstat by path; see README.)
    assert.equal(out, 'still here\n');
  });
});

describe('refusals', () => {
  it('rename is refused and the file stays', () => {
    stickyQueue(`${m.mnt}/ren`);
    sh(`: > ${m.mnt}/ren/a`);
    assert.notEqual(shStatus(`mv ${m.mnt}/ren/a ${m.mnt}/ren/b`).status, 0);
    assert.deepEqual(listdir(`${m.mnt}/ren`), ['a', 'head', 'tail']);
  });

  it('rmdir only removes empty queues', () => {
    stickyQueue(`${m.mnt}/rmq`);
    sh(`: > ${m.mnt}/rmq/a`);
    assert.match(shStatus(`rmdir ${m.mnt}/rmq`).stderr, /not empty/);
    sh(`rm ${m.mnt}/rmq/a && rmdir ${m.mnt}/rmq`);
    assert.ok(!listdir(m.mnt).includes('rmq'));
  });
});

describe('xattrs', () => {
  it('setfattr and getfattr round-trip user attributes on queues and files', () => {
    stickyQueue(`${m.mnt}/xq`);
    sh(`: > ${m.mnt}/xq/f && setfattr -n user.color -v blue ${m.mnt}/xq/f`);
    assert.equal(sh(`getfattr --only-values -n user.color ${m.mnt}/xq/f`), 'blue');
    assert.match(sh(`getfattr -d ${m.mnt}/xq`), /user.eventfs_sticky/);
    sh(`setfattr -x user.color ${m.mnt}/xq/f`);
    assert.notEqual(shStatus(`getfattr -n user.color ${m.mnt}/xq/f`).status, 0);
  });
});

describe('ownership and listing', () => {
  it('new files belong to the caller', () => {
    const user = ensureUser('eventfs-test1');
    stickyQueue(`${m.mnt}/own`, 0o777);
    sh(`echo hi > ${m.mnt}/own/mine`, { user: user.name });
    assert.equal(sh(`stat -c '%u %g' ${m.mnt}/own/mine`), `${user.uid} ${user.gid}\n`);
  });

  it('ls -l shows queues, files with sizes, and head/tail arrows', () => {
    stickyQueue(`${m.mnt}/lsq`, 0o755);
    sh(`printf 12345 > ${m.mnt}/lsq/msg && printf 1234567 > ${m.mnt}/lsq/msg2`);
    const listing = sh(`ls -l ${m.mnt}/lsq`);
    assert.match(listing, /^-rw-r--r-- 1 root root 5 .* msg$/m);
    assert.match(listing, /^-rw-r--r-- 1 root root 7 .* msg2$/m);
    assert.match(listing, /^lrwxrwxrwx 1 root root 3 .* head -> msg$/m);
    assert.match(listing, /^lrwxrwxrwx 1 root root 4 .* tail -> msg2$/m);
    assert.match(sh(`ls -ld ${m.mnt}/lsq`), /^drwxr-xr-x 2 root root 2 /);
  });

  it('statfs answers with sensible numbers', () => {
    const [bsize, blocks, files] = sh(`stat -f -c '%S %b %c' ${m.mnt}`).trim().split(' ').map(Number);
    assert.equal(bsize, 4096);
    assert.ok(blocks! > 0 && files! > 0);
    assert.match(sh(`stat -f -c %l ${m.mnt}`), /^255$/m);
  });
});

describe('open files, unlinked by name', () => {
  it('stay readable and fstat-able after unlink by their own name, and vanish from the listing', () => {
    stickyQueue(`${m.mnt}/openq2`);
    sh(`printf 'by name' > ${m.mnt}/openq2/msg && : > ${m.mnt}/openq2/other`);
    const out = python([
      'import os, sys',
      'q = sys.argv[1]',
      'fd = os.open(q + "/msg", os.O_RDONLY)',
      'os.unlink(q + "/msg")',
      'print(sorted(os.listdir(q)))',
      'print(os.fstat(fd).st_size, os.fstat(fd).st_nlink, os.read(fd, 100).decode())',
      'os.close(fd)',
      'print(sorted(os.listdir(q)))',
    ].join('\n'), [`${m.mnt}/openq2`]);
    assert.equal(out, "['head', 'other', 'tail']\n7 0 by name\n['head', 'other', 'tail']\n");
  });
});

describe('times', () => {
  it('touch -m changes only the mtime, touch -a only the atime, touch both to now', () => {
    stickyQueue(`${m.mnt}/tq`);
    sh(`: > ${m.mnt}/tq/f && TZ=UTC touch -d '2020-01-02 03:04:05' ${m.mnt}/tq/f`);
    sh(`TZ=UTC touch -m -d '2021-06-07 08:09:10' ${m.mnt}/tq/f`);
    assert.equal(sh(`TZ=UTC stat -c '%y|%x' ${m.mnt}/tq/f`), '2021-06-07 08:09:10.000000000 +0000|2020-01-02 03:04:05.000000000 +0000\n');
    sh(`TZ=UTC touch -a -d '2019-01-01 00:00:00' ${m.mnt}/tq/f`);
    assert.equal(sh(`TZ=UTC stat -c '%y|%x' ${m.mnt}/tq/f`), '2021-06-07 08:09:10.000000000 +0000|2019-01-01 00:00:00.000000000 +0000\n');
    sh(`touch ${m.mnt}/tq/f`);
    const [mtime, atime] = sh(`stat -c '%Y %X' ${m.mnt}/tq/f`).trim().split(' ').map(Number);
    assert.ok(Math.abs(mtime! - Date.now() / 1000) < 60 && Math.abs(atime! - Date.now() / 1000) < 60);
  });
});

describe('xattr buffers', () => {
  it('a buffer too small for a value or the list gets ERANGE, never a truncated answer', () => {
    stickyQueue(`${m.mnt}/xr`);
    sh(`: > ${m.mnt}/xr/f && setfattr -n user.k -v 0123456789 ${m.mnt}/xr/f`);
    const out = python([
      'import ctypes, errno, sys',
      'libc = ctypes.CDLL("libc.so.6", use_errno=True)',
      'buf = ctypes.create_string_buffer(2)',
      'path = sys.argv[1].encode()',
      'r1 = libc.getxattr(path, b"user.k", buf, 2); e1 = ctypes.get_errno()',
      'r2 = libc.listxattr(path, buf, 2); e2 = ctypes.get_errno()',
      'print(r1, errno.errorcode[e1], r2, errno.errorcode[e2])',
    ].join('\n'), [`${m.mnt}/xr/f`]);
    assert.equal(out, '-1 ERANGE -1 ERANGE\n');
  });
});
