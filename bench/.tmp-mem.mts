import { Engine } from '/work/main/src/fs/engine.ts';
import { emptyState } from '/work/main/src/model/index.ts';
const by = { uid: 0, gid: 0, pid: 1, start: 1 };
const engine = new Engine(emptyState(), { append: () => Promise.resolve(), sync: () => Promise.resolve() }, 'none', console.error);
await engine.run({ type: 'mkdir', path: '/q', mode: 0o755, by, atMs: 1 });
const gc = (globalThis as any).gc as () => void;
const snap = () => { gc(); gc(); const m = process.memoryUsage(); return m; };
const m0 = snap();
const N = 20000;
for (let i = 0; i < N; i++) {
  await engine.run({ type: 'create', path: `/q/m-${String(i).padStart(8, '0')}`, mode: 0o644, by, atMs: 1700000000000 + i });
  await engine.run({ type: 'write', ino: engine.state.nextIno - 1, offset: 0, data: Buffer.from(`payload-${String(i).padStart(8,'0')}`), by, atMs: 1700000000000 + i });
}
const m1 = snap();
for (const k of ['rss', 'heapUsed', 'external', 'arrayBuffers'] as const) console.log(k.padEnd(14), ((m1[k] - m0[k]) / N).toFixed(0), 'B/msg');
console.log('entries', engine.state.queues.get('q')?.entries.size, 'inodes', engine.state.inodes.size, [...engine.state.inodes.values()].slice(0, 1));
