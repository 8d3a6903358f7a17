import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readdir } from 'node:fs/promises'
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { callerIdentity, isAlive, parseStat, readStat, startTimeOf, tgidOf, type ProcReader } from './liveness.ts'

// --- a fake /proc: pid -> {status, stat}; absent pid = no /proc entry.
interface FakeProc { tgid: number, comm: string, state: string, start: number }

function statLine (pid: number, p: FakeProc): string {
  // fields 3..52 of a real stat line; 22 = starttime
  const fields = [p.state, '1', String(pid), String(pid), '0', '-1', '4194304', '100', '0', '0', '0', '1', '2', '0', '0', '20', '0', '1', '0', String(p.start), '1000', '100']
  return `${pid} (${p.comm}) ${fields.join(' ')} 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n`
}

function fakeReader (procs: Map<number, FakeProc>): ProcReader & { reads: string[] } {
  const reads: string[] = []
  const reader = (pid: number, file: 'stat' | 'status'): string | null => {
    reads.push(`${pid}/${file}`)
    const p = procs.get(pid)
    if (!p) return null
    if (file === 'status') return `Name:\t${p.comm}\nUmask:\t0022\nState:\t${p.state}\nTgid:\t${p.tgid}\nNgid:\t0\nPid:\t${pid}\nPPid:\t1\n`
    return statLine(pid, p)
  }
  return Object.assign(reader, { reads })
}

describe('liveness with an injected /proc', () => {
  it('tgidOf maps a thread id to its process and returns null for missing entries and tid 0', () => {
    const r = fakeReader(new Map([
      [100, { tgid: 100, comm: 'python3', state: 'S', start: 5000 }],
      [101, { tgid: 100, comm: 'python3', state: 'S', start: 5001 }]
    ]))
    assert.equal(tgidOf(101, r), 100)
    assert.equal(tgidOf(100, r), 100)
    assert.equal(tgidOf(102, r), null)
    assert.equal(tgidOf(0, r), null)
    assert.equal(tgidOf(-1, r), null)
    assert.ok(!r.reads.includes('0/status'), 'tid 0 is never looked up')
  })

  it('parses starttime after the LAST ")" even if comm has spaces and parens', () => {
    const r = fakeReader(new Map([
      [7, { tgid: 7, comm: 'a) b (c) 9 9 9', state: 'R', start: 123456789 }],
      [8, { tgid: 8, comm: ')', state: 'S', start: 42 }],
      [9, { tgid: 9, comm: '', state: 'S', start: 7 }]
    ]))
    assert.equal(startTimeOf(7, r), 123456789)
    assert.equal(startTimeOf(8, r), 42)
    assert.equal(startTimeOf(9, r), 7)
    assert.deepEqual(readStat(7, r), { state: 'R', start: 123456789 })
    assert.equal(startTimeOf(10, r), null)
  })

  it('parseStat rejects malformed content', () => {
    assert.throws(() => parseStat(1, 'garbage'), /malformed/)
    assert.throws(() => parseStat(1, '1 (x) S 1 2 3'), /malformed/)
  })

  it('isAlive: same pid and start time is alive; pid reuse, exit and zombie are dead', () => {
    const procs = new Map<number, FakeProc>([[200, { tgid: 200, comm: 'producer', state: 'S', start: 1000 }]])
    const r = fakeReader(procs)
    const id = callerIdentity(200, r)
    assert.deepEqual(id, { pid: 200, start: 1000 })
    assert.equal(isAlive(id!, r), true)

    // zombie: /proc/200 still exists, state Z
    procs.set(200, { tgid: 200, comm: 'producer', state: 'Z', start: 1000 })
    assert.equal(isAlive(id!, r), false)

    // reaped: no /proc/200 at all
    procs.delete(200)
    assert.equal(isAlive(id!, r), false)

    // pid reuse: a new process got pid 200 later (different start time)
    procs.set(200, { tgid: 200, comm: 'other', state: 'S', start: 9999 })
    assert.equal(isAlive(id!, r), false)
    assert.equal(isAlive({ pid: 200, start: 9999 }, r), true)
  })

  it('pid reuse: a creator whose pid now names a thread of another process is dead', () => {
    // The creator (pid 200, start 1000) exited; pid 200 is now a thread of process 300, started later.
    const r = fakeReader(new Map([
      [300, { tgid: 300, comm: 'server', state: 'S', start: 4000 }],
      [200, { tgid: 300, comm: 'server-worker', state: 'S', start: 4100 }]
    ]))
    assert.equal(isAlive({ pid: 200, start: 1000 }, r), false)
    // And a caller on that thread is identified as process 300, never as the old creator.
    assert.deepEqual(callerIdentity(200, r), { pid: 300, start: 4000 })
  })

  it('pid reuse: the identity a queue records is what tells old and new apart, whichever started first', () => {
    const procs = new Map<number, FakeProc>([[500, { tgid: 500, comm: 'first', state: 'S', start: 2000 }]])
    const r = fakeReader(procs)
    const creator = callerIdentity(500, r)!
    procs.set(500, { tgid: 500, comm: 'second', state: 'R', start: 2001 }) // exited, pid reused one tick later
    assert.equal(isAlive(creator, r), false)
    // A recorded start later than the live process's (a log from before a reboot) is dead too.
    assert.equal(isAlive({ pid: 500, start: 2002 }, r), false)
    assert.equal(isAlive({ pid: 500, start: 2001 }, r), true)
  })

  it('callerIdentity resolves a thread to {tgid, start of the tgid} and null when gone', () => {
    const r = fakeReader(new Map([
      [300, { tgid: 300, comm: 'py', state: 'S', start: 777 }],
      [305, { tgid: 300, comm: 'py-thread', state: 'S', start: 790 }],
      [400, { tgid: 401, comm: 'orphan-thread', state: 'S', start: 5 }]
    ]))
    assert.deepEqual(callerIdentity(305, r), { pid: 300, start: 777 })
    assert.equal(callerIdentity(0, r), null) // kernel-internal request
    assert.equal(callerIdentity(999, r), null) // thread gone
    assert.equal(callerIdentity(400, r), null) // its process gone
  })

  it('propagates unexpected reader errors', () => {
    const r: ProcReader = () => { throw Object.assign(new Error('EACCES'), { code: 'EACCES' }) }
    assert.throws(() => tgidOf(1, r), /EACCES/)
  })
})

describe('liveness on the real /proc', () => {
  it('maps a thread of this process to process.pid', async () => {
    const tids = (await readdir('/proc/self/task')).map(Number)
    assert.ok(tids.length > 1, 'node has worker threads')
    for (const tid of tids) assert.equal(tgidOf(tid), process.pid)
    const id = callerIdentity(tids.find((t) => t !== process.pid)!)
    assert.equal(id?.pid, process.pid)
    assert.equal(id?.start, startTimeOf(process.pid))
    assert.equal(isAlive(id!), true)
  })

  it('a spawned child is alive until it exits, then dead', async () => {
    const child = spawn('sleep', ['0.3'], { stdio: 'ignore' })
    const id = callerIdentity(child.pid!)
    assert.ok(id)
    assert.equal(id.pid, child.pid)
    assert.equal(isAlive(id), true)
    await once(child, 'exit')
    assert.equal(isAlive(id), false)
    assert.equal(tgidOf(child.pid!), null)
  })

  it('an unreaped zombie is dead', async () => {
    // sh starts a short sleep in the background, then execs a long sleep that never reaps it.
    const parent = spawn('sh', ['-c', 'sleep 0.1 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] })
    try {
      const [chunk] = await once(parent.stdout!, 'data') as [Buffer]
      const zpid = Number(chunk.toString().trim())
      const id = callerIdentity(zpid)
      assert.ok(id)
      assert.equal(isAlive(id), true)
      const deadline = Date.now() + 3000
      while (readStat(zpid)?.state !== 'Z' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
      assert.equal((readStat(zpid))?.state, 'Z', 'child became a zombie')
      assert.equal(isAlive(id), false)
    } finally {
      if (parent.exitCode === null && parent.signalCode === null) {
        const exited = once(parent, 'exit')
        parent.kill('SIGKILL')
        await exited
      }
    }
  })
})
