// Real-mount tests of the patched fuse-native (src/fs/native.ts): caller context, null paths of
// unlinked open files, use_ino. The mounts are served by THIS process, so this process never
// touches them itself (PITFALLS 7: a sync call on our own mount deadlocks): every access is a
// child process. Needs root (useradd, setpriv, allow_other) and /dev/fuse.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { callerIdentity, type ProcessIdentity } from '../proc/liveness.ts'
import { buildMountOptions, Errnos, Fuse, type CallerContext, type FuseOps, type Stat } from './native.ts'

const TEST_USER = 'eventfs-test1'
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'
const skip = process.getuid?.() !== 0
  ? 'needs root (useradd, setpriv, allow_other)'
  : !existsSync('/dev/fuse') ? 'needs /dev/fuse (run scripts/setup-system.sh)' : false

// --- child processes (never sync: the event loop must stay free to serve the mount)
const children = new Set<ChildProcess>()

function track (child: ChildProcess): ChildProcess {
  children.add(child)
  child.on('close', () => children.delete(child))
  return child
}

/** SIGKILLs the children still running; true once all have closed, false after `ms`. */
async function killChildren (ms: number): Promise<boolean> {
  const closed = Promise.all([...children].map(async (child) => {
    const done = once(child, 'close')
    child.kill('SIGKILL')
    await done
  }))
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms) })
  const result = await Promise.race([closed.then(() => true), timeout])
  clearTimeout(timer)
  return result
}

interface RunResult { code: number | null, stdout: string, stderr: string, pid: number }

async function run (cmd: string, args: string[]): Promise<RunResult> {
  // stdin 'ignore': a pipe nobody reads gave EPIPE as an uncaught exception
  const child = track(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }))
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString() })
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
  const [code] = await once(child, 'close') as [number | null]
  clearTimeout(timer)
  return { code, stdout, stderr, pid: child.pid! }
}

async function ok (cmd: string, args: string[]): Promise<RunResult> {
  const r = await run(cmd, args)
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')} failed: ${r.stderr}`)
  return r
}

// --- a tiny in-memory filesystem that records every call with its caller
interface Inode { ino: number, mode: number, uid: number, gid: number, nlink: number, data: Buffer, time: number }
interface Call { op: string, path: string | null, fd?: number, ctx: CallerContext, caller: ProcessIdentity | null }

class MemFs {
  readonly paths = new Map<string, Inode>()
  readonly handles = new Map<number, Inode>()
  readonly calls: Call[] = []
  fuse!: Fuse
  private nextIno = 1000
  private nextFh = 1

  constructor () {
    this.paths.set('/', this.inode(0o40777, 0, 0, 2))
  }

  inode (mode: number, uid: number, gid: number, nlink = 1): Inode {
    return { ino: this.nextIno++, mode, uid, gid, nlink, data: Buffer.alloc(0), time: Date.now() }
  }

  /** First thing in every handler: the context is only valid synchronously. */
  private record (op: string, p: string | null, fd?: number): CallerContext {
    const ctx = this.fuse.context()
    this.calls.push({ op, path: p, fd, ctx, caller: callerIdentity(ctx.pid) })
    return ctx
  }

  callsOf (op: string, p?: string | null): Call[] {
    return this.calls.filter((c) => c.op === op && (p === undefined || c.path === p))
  }

  readonly errors: string[] = []
  readonly times: Array<{ path: string, atime: number, mtime: number }> = []

  static stat (n: Inode): Stat {
    return { mode: n.mode, uid: n.uid, gid: n.gid, size: n.data.length, ino: n.ino, nlink: n.nlink, atime: n.time, mtime: n.time, ctime: n.time }
  }

  ops (): FuseOps {
    const fs = this
    const byPath = (p: string) => fs.paths.get(p)
    const open = (n: Inode): number => { const fh = fs.nextFh++; fs.handles.set(fh, n); return fh }
    return {
      getattr (p, cb) {
        fs.record('getattr', p)
        const n = byPath(p)
        return n ? cb(0, MemFs.stat(n)) : cb(Errnos.ENOENT)
      },
      fgetattr (p, fd, cb) {
        fs.record('fgetattr', p, fd)
        const n = fs.handles.get(fd)
        return n ? cb(0, MemFs.stat(n)) : cb(Errnos.EBADF)
      },
      readdir (p, cb) {
        fs.record('readdir', p)
        const names = [...fs.paths.keys()].filter((k) => k !== '/' && path.posix.dirname(k) === p).map((k) => path.posix.basename(k))
        cb(0, ['.', '..', ...names])
      },
      mkdir (p, mode, cb) {
        const ctx = fs.record('mkdir', p)
        if (p.endsWith('/throw')) throw new Error('handler bug')
        if (byPath(p)) return cb(Errnos.EEXIST)
        fs.paths.set(p, fs.inode(0o40000 | mode, ctx.uid, ctx.gid, 2))
        cb(0)
      },
      create (p, mode, cb) {
        const ctx = fs.record('create', p)
        const n = fs.inode(0o100000 | mode, ctx.uid, ctx.gid)
        fs.paths.set(p, n)
        cb(0, open(n))
      },
      open (p, _flags, cb) {
        fs.record('open', p)
        const n = byPath(p)
        return n ? cb(0, open(n)) : cb(Errnos.ENOENT)
      },
      read (p, fd, buf, len, pos, cb) {
        fs.record('read', p, fd)
        const n = fs.handles.get(fd)
        if (!n) return cb(Errnos.EBADF)
        cb(pos >= n.data.length ? 0 : n.data.copy(buf, 0, pos, Math.min(n.data.length, pos + len)))
      },
      write (p, fd, buf, len, pos, cb) {
        fs.record('write', p, fd)
        const n = fs.handles.get(fd)
        if (!n) return cb(Errnos.EBADF)
        const data = Buffer.alloc(Math.max(n.data.length, pos + len))
        n.data.copy(data)
        buf.copy(data, pos, 0, len) // buf is detached after cb: copy now
        n.data = data
        cb(len)
      },
      truncate (p, size, cb) {
        fs.record('truncate', p)
        const n = byPath(p)
        if (!n) return cb(Errnos.ENOENT)
        n.data = Buffer.concat([n.data, Buffer.alloc(size)]).subarray(0, size)
        cb(0)
      },
      ftruncate (p, fd, size, cb) {
        fs.record('ftruncate', p, fd)
        const n = fs.handles.get(fd)
        if (!n) return cb(Errnos.EBADF)
        n.data = Buffer.concat([n.data, Buffer.alloc(size)]).subarray(0, size)
        cb(0)
      },
      utimens (p, atime, mtime, cb) {
        fs.record('utimens', p)
        fs.times.push({ path: p, atime, mtime })
        cb(0)
      },
      flush (p, fd, cb) { fs.record('flush', p, fd); cb(0) },
      release (p, fd, cb) {
        fs.record('release', p, fd)
        fs.handles.delete(fd) // an unlinked inode dies with its last handle
        cb(0)
      },
      unlink (p, cb) {
        fs.record('unlink', p)
        const n = byPath(p)
        if (!n) return cb(Errnos.ENOENT)
        fs.paths.delete(p)
        n.nlink--
        cb(0)
      },
      link (src, dest, cb) {
        fs.record('link', src)
        const n = byPath(src)
        if (!n) return cb(Errnos.ENOENT)
        if (byPath(dest)) return cb(Errnos.EEXIST)
        fs.paths.set(dest, n)
        n.nlink++
        cb(0)
      },
      // Only libfuse's hide-on-unlink rename (mounts without hard_remove); users cannot rename.
      rename (src, dest, cb) {
        fs.record('rename', src)
        const n = byPath(src)
        if (!n) return cb(Errnos.ENOENT)
        if (!path.posix.basename(dest).startsWith('.fuse_hidden')) return cb(Errnos.ENOSYS)
        fs.paths.delete(src)
        fs.paths.set(dest, n)
        cb(0)
      }
    }
  }
}

// --- mounts
interface Mount { dir: string, fs: MemFs, fuse: Fuse }

function mountedAt (dir: string, mountinfo: string): boolean {
  return mountinfo.split('\n').some((line) => line.split(' ')[4] === dir)
}

async function waitUnmounted (dir: string): Promise<void> {
  const deadline = Date.now() + 5000
  while (mountedAt(dir, await readFile('/proc/self/mountinfo', 'utf8'))) {
    if (Date.now() > deadline) throw new Error(`${dir} still mounted`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function mountMemFs (dir: string, hardRemove: boolean): Promise<Mount> {
  await mkdir(dir, { recursive: true })
  const fs = new MemFs()
  const fuse = new Fuse(dir, fs.ops(), {
    useIno: true,
    hardRemove,
    entryTimeout: 0,
    attrTimeout: 0,
    negativeTimeout: 0,
    allowOther: true,
    defaultPermissions: true,
    fsname: 'eventfs-native-test',
    subtype: 'eventfs-test',
    force: true,
    onError: (error, op) => fs.errors.push(`${op}: ${String(error)}`)
  })
  fs.fuse = fuse
  await fuse.mountAsync()
  return { dir, fs, fuse }
}

/** FUSE connection id (the mount's minor device number) of the mount at `dir`. */
function connectionOf (dir: string, mountinfo: string): string | null {
  const line = mountinfo.split('\n').find((l) => l.split(' ')[4] === dir)
  return line?.split(' ')[2]?.split(':')[1] ?? null
}

/** Fails every pending request of these mounts (ENOTCONN), releasing callers stuck in D state. */
async function abortConnections (ids: string[]): Promise<void> {
  const root = '/sys/fs/fuse/connections'
  if (ids.length > 0 && !existsSync(`${root}/${ids[0]}`)) await run('mount', ['-t', 'fusectl', 'none', root])
  for (const id of ids) await writeFile(`${root}/${id}/abort`, '1').catch(() => {})
}

async function unmount (m: Mount | undefined, dir: string): Promise<void> {
  if (m) await m.fuse.unmountAsync().catch(() => {})
  if (mountedAt(dir, await readFile('/proc/self/mountinfo', 'utf8'))) await run('fusermount', ['-uz', dir])
  await waitUnmounted(dir)
}

async function ensureUser (name: string): Promise<{ uid: number, gid: number }> {
  let r = await run('id', ['-u', name])
  if (r.code !== 0) {
    await ok('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name])
    r = await run('id', ['-u', name])
  }
  const g = await ok('id', ['-g', name])
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) }
}

// Opens a file, says "open", waits for a line on stdin, then reports what the fd still gives.
const HOLD_OPEN_PY = `
import json, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
print('open', flush=True)
sys.stdin.readline()
out = {'read': os.pread(fd, 4096, 0).decode()}
try:
    st = os.fstat(fd)
    out['fstat'] = {'size': st.st_size, 'ino': st.st_ino, 'nlink': st.st_nlink}
except OSError as e:
    out['fstatErrno'] = e.errno
out['end'] = os.lseek(fd, 0, os.SEEK_END)
os.close(fd)
print(json.dumps(out), flush=True)
`

interface HeldResult { read: string, fstat?: { size: number, ino: number, nlink: number }, fstatErrno?: number, end: number }

/** Opens `file` in a python process, unlinks it from another process, then reads through the fd. */
async function readAfterUnlink (file: string): Promise<{ held: HeldResult, holderPid: number, lsAfter: string }> {
  const holder = track(spawn(PYTHON, ['-c', HOLD_OPEN_PY, file], { stdio: ['pipe', 'pipe', 'pipe'] }))
  try {
    let out = ''
    let stderr = ''
    holder.stderr!.on('data', (d: Buffer) => { stderr += d.toString() })
    holder.stdin!.on('error', () => {})
    const lines = (async function * () {
      for await (const chunk of holder.stdout!) {
        out += (chunk as Buffer).toString()
        while (out.includes('\n')) {
          const i = out.indexOf('\n')
          yield out.slice(0, i)
          out = out.slice(i + 1)
        }
      }
    })()
    const first = await lines.next()
    assert.equal(first.value, 'open', `holder failed: ${stderr}`)
    await ok('rm', [file])
    const ls = await ok('ls', ['-a', path.dirname(file)])
    holder.stdin!.end('go\n')
    const result = await lines.next()
    assert.ok(!result.done, `holder failed: ${stderr}`)
    return { held: JSON.parse(result.value as string) as HeldResult, holderPid: holder.pid!, lsAfter: ls.stdout }
  } finally {
    if (holder.exitCode === null && holder.signalCode === null) {
      const closed = once(holder, 'close')
      holder.kill('SIGKILL')
      await closed
    }
  }
}

describe('patched fuse-native on a real mount', { skip, timeout: 60_000 }, () => {
  let tmp = ''
  let dirA = ''
  let dirB = ''
  let a: Mount | undefined // hard_remove
  let b: Mount | undefined // default: libfuse hides unlinked open files as .fuse_hidden*
  let user = { uid: -1, gid: -1 }

  before(async () => {
    user = await ensureUser(TEST_USER)
    tmp = await mkdtemp('/tmp/eventfs-native-')
    await chmod(tmp, 0o755) // let the test user reach the mountpoints
    dirA = path.join(tmp, 'hard')
    dirB = path.join(tmp, 'hide')
    a = await mountMemFs(dirA, true)
    b = await mountMemFs(dirB, false)
  })

  after(async () => {
    // A child stuck on an unanswered request cannot be killed (D state) and would keep this
    // process alive: abort the connections then (the requests fail with ENOTCONN).
    const mountinfo = await readFile('/proc/self/mountinfo', 'utf8')
    const conns = [dirA, dirB].map((d) => (d ? connectionOf(d, mountinfo) : null)).filter((c): c is string => c !== null)
    if (!(await killChildren(2000))) {
      await abortConnections(conns)
      await killChildren(5000)
    }
    const errors: unknown[] = []
    for (const [m, dir] of [[a, dirA], [b, dirB]] as const) {
      if (dir) await unmount(m, dir).catch((e: unknown) => errors.push(e))
    }
    if (tmp && errors.length === 0) await rm(tmp, { recursive: true, force: true })
    if (errors.length > 0) throw errors[0]
  })

  it('passes the extra mount options (use_ino, hard_remove, timeouts, fsname, subtype)', async () => {
    assert.equal(a!.fuse._fuseOptions(), buildMountOptions({
      useIno: true, hardRemove: true, entryTimeout: 0, attrTimeout: 0, negativeTimeout: 0, allowOther: true, defaultPermissions: true, fsname: 'eventfs-native-test', subtype: 'eventfs-test'
    }))
    const info = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').find((l) => l.split(' ')[4] === dirA)
    assert.ok(info, 'mounted')
    assert.match(info, / - fuse\.eventfs-test eventfs-native-test /)
    assert.match(info, /default_permissions/)
    assert.match(info, /allow_other/)
  })

  it('reports the uid/gid/pid of an unprivileged caller (mkdir)', async () => {
    const q = path.join(dirA, 'q1')
    const r = await ok('setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', 'mkdir', q])
    const [call] = a!.fs.callsOf('mkdir', '/q1')
    assert.ok(call, 'mkdir reached the handler')
    assert.deepEqual(call.ctx, { uid: user.uid, gid: user.gid, pid: r.pid }) // setpriv execs mkdir: same pid
    assert.equal(call.caller?.pid, r.pid)
    const st = await ok('stat', ['-c', '%u %g', q])
    assert.equal(st.stdout.trim(), `${user.uid} ${user.gid}`)
    // the kernel enforces modes (default_permissions): the test user cannot write into root's 0755 dir
    await ok('mkdir', ['-m', '0755', path.join(dirA, 'rootq')])
    const denied = await run('setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', 'touch', path.join(dirA, 'rootq', 'x')])
    assert.notEqual(denied.code, 0)
    assert.match(denied.stderr, /Permission denied/)
    assert.equal(a!.fs.callsOf('create', '/rootq/x').length, 0)
  })

  it('reports a thread id for a python thread; it maps to the process through Tgid', async () => {
    const script = `
import os, sys, threading
res = {}
def worker():
    res['tid'] = threading.get_native_id()
    os.mkdir(sys.argv[1])
t = threading.Thread(target=worker)
t.start()
t.join()
stat = open('/proc/self/stat').read()
start = stat[stat.rindex(')') + 2:].split()[22 - 3]
print(os.getpid(), res['tid'], start)
`
    const r = await ok(PYTHON, ['-c', script, path.join(dirA, 'q2')])
    const [pid, tid, start] = r.stdout.trim().split(' ').map(Number) as [number, number, number]
    const [call] = a!.fs.callsOf('mkdir', '/q2')
    assert.ok(call, 'mkdir reached the handler')
    assert.equal(call.ctx.pid, tid)
    assert.notEqual(call.ctx.pid, pid)
    assert.equal(call.ctx.uid, 0)
    assert.deepEqual(call.caller, { pid, start }, 'tid -> Tgid and the start time of the process')
  })

  it('hard_remove: an unlinked open file still reads through its fd (null path); fstat is ENOENT', async () => {
    await ok('mkdir', [path.join(dirA, 'q3')])
    await ok('sh', ['-c', `printf 'hello eventfs' > ${path.join(dirA, 'q3', 'f')}`])
    const mark = a!.fs.calls.length
    const { held, lsAfter } = await readAfterUnlink(path.join(dirA, 'q3', 'f'))
    assert.equal(lsAfter.split('\n').filter((l) => l && l !== '.' && l !== '..').length, 0, 'no .fuse_hidden file with hard_remove')
    assert.equal(held.read, 'hello eventfs')
    // lseek(SEEK_END) makes the kernel send GETATTR with the file handle: fgetattr(null, fd)
    assert.equal(held.end, 'hello eventfs'.length)
    // fstat(2) sends GETATTR WITHOUT a file handle; libfuse 2.9 cannot build a path for an
    // unlinked node and answers ENOENT itself (no handler is called): a libfuse 2 limitation.
    assert.equal(held.fstatErrno, 2, `fstat after unlink: ${JSON.stringify(held)}`)
    const later = a!.fs.calls.slice(mark)
    const unlinkAt = later.findIndex((c) => c.op === 'unlink' && c.path === '/q3/f')
    assert.ok(unlinkAt >= 0, 'unlink reached the handler (no hide-rename)')
    const fdOps = later.slice(unlinkAt + 1).filter((c) => c.fd !== undefined)
    for (const op of ['read', 'fgetattr', 'release']) {
      const calls = fdOps.filter((c) => c.op === op)
      assert.ok(calls.length > 0, `${op} after unlink`)
      for (const c of calls) assert.equal(c.path, null, `${op} path after unlink`)
    }
    assert.equal(later.filter((c) => c.op === 'rename').length, 0)
    // release comes from the kernel, not from a process: pid 0
    assert.equal(fdOps.find((c) => c.op === 'release')?.ctx.pid, 0)
    assert.equal(a!.fs.handles.size, 0, 'all handles released')
  })

  it('without hard_remove: libfuse renames to .fuse_hidden*, fstat works, unlinks it on release', async () => {
    await ok('mkdir', [path.join(dirB, 'q3')])
    await ok('sh', ['-c', `printf 'hidden bytes' > ${path.join(dirB, 'q3', 'f')}`])
    const ino = b!.fs.paths.get('/q3/f')!.ino
    const mark = b!.fs.calls.length
    const { held, lsAfter } = await readAfterUnlink(path.join(dirB, 'q3', 'f'))
    assert.match(lsAfter, /^\.fuse_hidden[0-9a-f]+$/m, 'the hidden name shows in readdir')
    assert.equal(held.read, 'hidden bytes')
    assert.deepEqual(held.fstat, { size: 'hidden bytes'.length, ino, nlink: 0 }) // libfuse subtracts the hidden link
    // The kernel sends RELEASE after the last close returns, so the hidden file's unlink may lag.
    for (const deadline = Date.now() + 5000; Date.now() < deadline;) {
      if (b!.fs.calls.slice(mark).some((c) => c.op === 'unlink')) break
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const later = b!.fs.calls.slice(mark)
    const rename = later.find((c) => c.op === 'rename')
    assert.equal(rename?.path, '/q3/f', 'unlink of an open file became a rename')
    const hiddenUnlink = later.find((c) => c.op === 'unlink')
    assert.match(hiddenUnlink?.path ?? '', /^\/q3\/\.fuse_hidden/)
    assert.equal(hiddenUnlink?.ctx.pid, 0, 'the hidden file is unlinked by libfuse on release (pid 0)')
    assert.ok(!b!.fs.paths.has(hiddenUnlink!.path!))
  })

  it('a handler that throws answers EIO instead of leaving the caller hanging', async () => {
    const r = await run('mkdir', [path.join(dirA, 'throw')])
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /Input\/output error/)
    assert.deepEqual(a!.fs.errors, ['mkdir: Error: handler bug'])
  })

  it('use_ino: stat shows our inode numbers and link counts', async () => {
    await ok('mkdir', [path.join(dirA, 'q4')])
    await ok('sh', ['-c', `printf x > ${path.join(dirA, 'q4', 'm')}`])
    await ok('ln', [path.join(dirA, 'q4', 'm'), path.join(dirA, 'q4', 'm2')])
    const r = await ok('stat', ['-c', '%i %h %s', path.join(dirA, 'q4'), path.join(dirA, 'q4', 'm'), path.join(dirA, 'q4', 'm2')])
    const dir = a!.fs.paths.get('/q4')!
    const file = a!.fs.paths.get('/q4/m')!
    assert.ok(dir.ino >= 1000 && file.ino >= 1000)
    assert.deepEqual(r.stdout.trim().split('\n'), [`${dir.ino} 2 0`, `${file.ino} 2 1`, `${file.ino} 2 1`])
  })

  it('utimens receives atime and mtime (stock 2.2.6 passed atime twice)', async () => {
    await ok('mkdir', [path.join(dirA, 'q5')])
    await ok('sh', ['-c', `printf x > ${path.join(dirA, 'q5', 't')}`])
    await ok(PYTHON, ['-c', 'import os, sys; os.utime(sys.argv[1], (1000.5, 2000.25))', path.join(dirA, 'q5', 't')])
    assert.deepEqual(a!.fs.times.filter((t) => t.path === '/q5/t').at(-1), { path: '/q5/t', atime: 1000500, mtime: 2000250 })
  })
})
