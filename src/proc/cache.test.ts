import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readdir } from 'node:fs/promises'
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ProcCache } from './cache.ts'
import { callerIdentity, isAlive, readStat } from './liveness.ts'

const sleepy = (seconds: string) => spawn('sleep', [seconds], { stdio: 'ignore' })

async function kill (child: ReturnType<typeof spawn>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGKILL')
  await exited
}

describe('ProcCache on the real /proc: the answers of liveness.ts, from held descriptors', () => {
  it('resolves every thread of this process like callerIdentity, then from the cache', async () => {
    const cache = new ProcCache()
    try {
      const tids = (await readdir('/proc/self/task')).map(Number)
      for (const tid of tids) assert.deepEqual(cache.callerIdentity(tid), callerIdentity(tid))
      assert.equal(cache.size.callers, tids.length)
      for (const tid of tids) assert.deepEqual(cache.callerIdentity(tid), { pid: process.pid, start: callerIdentity(process.pid)!.start })
      assert.equal(cache.size.callers, tids.length, 'cache hits open nothing new')
      assert.equal(cache.callerIdentity(0), null)
      assert.equal(cache.callerIdentity(-3), null)
    } finally {
      cache.close()
    }
  })

  it('forgets a caller whose thread exited: its tid then resolves afresh (null while unused)', async () => {
    const cache = new ProcCache()
    const child = sleepy('5')
    try {
      const id = cache.callerIdentity(child.pid!)
      assert.deepEqual(id, callerIdentity(child.pid!))
      assert.equal(cache.size.callers, 1)
      await kill(child)
      assert.equal(cache.callerIdentity(child.pid!), null)
      assert.equal(cache.size.callers, 0)
    } finally {
      await kill(child)
      cache.close()
    }
  })

  it('a creator is alive while it runs, dead once it exits, and stays dead', async () => {
    const cache = new ProcCache()
    const child = sleepy('5')
    try {
      const id = callerIdentity(child.pid!)!
      assert.equal(cache.isAlive(id), true)
      assert.equal(cache.isAlive(id), true)
      assert.equal(cache.size.creators, 1)
      await kill(child)
      assert.equal(cache.isAlive(id), false)
      assert.equal(isAlive(id), false)
      assert.equal(cache.size.creators, 0)
      assert.equal(cache.isAlive(id), false)
    } finally {
      await kill(child)
      cache.close()
    }
  })

  it('a creator recorded with another start time (pid reuse) is dead, and nothing is cached', async () => {
    const cache = new ProcCache()
    const child = sleepy('5')
    try {
      const id = callerIdentity(child.pid!)!
      assert.equal(cache.isAlive({ pid: id.pid, start: id.start + 1 }), false)
      assert.equal(cache.isAlive({ pid: id.pid, start: id.start - 1 }), false)
      assert.equal(cache.size.creators, 0)
      assert.equal(cache.isAlive({ pid: 0, start: 1 }), false)
      assert.equal(cache.isAlive({ pid: 4_194_304 * 2, start: 1 }), false)
    } finally {
      await kill(child)
      cache.close()
    }
  })

  it('an unreaped zombie is dead, also when it was alive and cached before', async () => {
    const cache = new ProcCache()
    const parent = spawn('sh', ['-c', 'sleep 0.2 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] })
    try {
      const [chunk] = await once(parent.stdout!, 'data') as [Buffer]
      const zpid = Number(chunk.toString().trim())
      const id = callerIdentity(zpid)!
      assert.equal(cache.isAlive(id), true)
      const deadline = Date.now() + 3000
      while (readStat(zpid)?.state !== 'Z' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
      assert.equal(readStat(zpid)?.state, 'Z', 'child became a zombie')
      assert.equal(cache.isAlive(id), false)
      assert.equal(cache.size.creators, 0)
    } finally {
      await kill(parent)
      cache.close()
    }
  })

  it('a process whose main thread exited (other threads still running) is dead, as in liveness.ts', async () => {
    const cache = new ProcCache()
    const program = [
      'import ctypes, threading, time',
      'threading.Thread(target=lambda: time.sleep(5), daemon=False).start()',
      'print("ready", flush=True)',
      'time.sleep(0.3)',
      'ctypes.CDLL(None).pthread_exit(None)'
    ].join('\n')
    const child = spawn('python3', ['-c', program], { stdio: ['ignore', 'pipe', 'ignore'] })
    try {
      await once(child.stdout!, 'data')
      const id = callerIdentity(child.pid!)!
      assert.equal(cache.isAlive(id), true)
      const deadline = Date.now() + 3000
      while (readStat(child.pid!)?.state !== 'Z' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
      assert.equal(isAlive(id), false, 'liveness.ts: the leader is a zombie')
      assert.equal(cache.isAlive(id), false)
    } finally {
      await kill(child)
      cache.close()
    }
  })

  it('keeps at most maxEntries descriptors and still answers for evicted entries', async () => {
    const cache = new ProcCache({ maxEntries: 2 })
    const children = [sleepy('5'), sleepy('5'), sleepy('5')]
    try {
      const ids = children.map((child) => callerIdentity(child.pid!)!)
      for (const id of ids) assert.equal(cache.isAlive(id), true)
      for (const child of children) assert.deepEqual(cache.callerIdentity(child.pid!), callerIdentity(child.pid!))
      assert.deepEqual(cache.size, { callers: 2, creators: 2 })
      for (const id of ids) assert.equal(cache.isAlive(id), true)
      await kill(children[0]!)
      assert.equal(cache.isAlive(ids[0]!), false)
      assert.equal(cache.callerIdentity(children[0]!.pid!), null)
    } finally {
      for (const child of children) await kill(child)
      cache.close()
    }
  })
})
