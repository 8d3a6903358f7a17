/**
 * Live JS heap per queued message, without FUSE and without V8's heap sizing: enqueues N 16-byte
 * messages through an op table in this process (the floor's, or eventfs's ops + model without a
 * log) and compares heapUsed after full GCs. RSS (bench/run.ts "memory") is what users pay; this
 * is how much of it is the data structures themselves.
 *
 * Usage: node --expose-gc --import tsx bench/heap.ts [--count N]   (prints JSON)
 */
import { Engine } from '../src/fs/engine.ts';
import { Handles } from '../src/fs/handles.ts';
import { WRITTEN } from '../src/log/writer.ts';
import type { FuseOps } from '../src/fs/native.ts';
import { makeOps } from '../src/fs/ops.ts';
import { Reaper } from '../src/fs/reaper.ts';
import { emptyState } from '../src/model/index.ts';
import { makeFloorOps } from './floor-fs.ts';

type Call = (fn: unknown, ...args: unknown[]) => Promise<unknown[]>;
const call: Call = (fn, ...args) => new Promise((resolve) => (fn as (...a: unknown[]) => void)(...args, (...result: unknown[]) => resolve(result)));

function eventfsOps(): FuseOps {
  const state = emptyState();
  const engine = new Engine(state, { append: () => WRITTEN, sync: () => Promise.resolve() }, 'none', (error) => console.error(error));
  const reaper = new Reaper({ state, isAlive: () => true, reap: () => undefined });
  return makeOps({
    engine, handles: new Handles(), reaper, caller: () => ({ uid: 0, gid: 0, pid: 1, start: 1 }), now: Date.now,
    report: (error) => console.error(error), patchedLibfuse: false,
  });
}

async function heapPerMessage(ops: FuseOps, count: number): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc');
  await call(ops.mkdir, '/q', 0o755);
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < count; i++) {
    const path = `/q/m-${String(i).padStart(8, '0')}`;
    const [, fh] = await call(ops.create, path, 0o100644);
    const data = Buffer.from(path.slice(-16).padStart(16, '.'));
    await call(ops.write, path, fh, data, data.length, 0);
    await call(ops.flush, path, fh);
    await call(ops.release, path, fh);
  }
  gc();
  gc();
  return (process.memoryUsage().heapUsed - before) / count;
}

const countArg = process.argv.indexOf('--count');
const count = countArg > 0 ? Number(process.argv[countArg + 1]) : 20_000;
const eventfs = await heapPerMessage(eventfsOps(), count);
const floor = await heapPerMessage(makeFloorOps(() => ({ uid: 0, gid: 0 })), count);
const result = { count, floor, eventfs };
console.log(JSON.stringify(result));
