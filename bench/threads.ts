/**
 * Where a daemon's CPU goes, per message of each phase of the single scenario (produce, pop): the
 * JS thread against all other threads (libfuse workers, V8's GC helpers, the libuv pool), and the
 * read and write syscalls of
 * the process (/proc/PID/io: about one write per FUSE reply, so equal counts mean equal request
 * counts). CPU is far steadier than throughput on a shared machine, so this is what attributes
 * a gap to a layer: the floor, the --variants layers and eventfs none, in the same run.
 *
 * Usage: node --import tsx bench/threads.ts [--rounds N] [--count N]
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { single } from './lib/scenarios.ts';
import { clockTicks, cpuTicks, startEventfs, startFloor, startVariant, type Target } from './lib/targets.ts';

type Sample = { mainUs: number; otherUs: number; reads: number; writes: number };

function sample(pid: number): Sample {
  let main = 0;
  let other = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // a thread that ended meanwhile
    }
    const ticks = cpuTicks(stat);
    if (tid === String(pid)) main += ticks;
    else other += ticks;
  }
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  const count = (key: string): number => Number(new RegExp(`${key}: (\\d+)`).exec(io)?.[1] ?? NaN);
  const us = 1e6 / clockTicks();
  return { mainUs: main * us, otherUs: other * us, reads: count('syscr'), writes: count('syscw') };
}

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '2' }, count: { type: 'string', default: '3000' } } });
const rounds = Number(values.rounds);
const count = Number(values.count);
const root = (): string => mkdtempSync('/tmp/eventfs-bench-threads-');
const targets: Target[] = [
  await startFloor(root()),
  await startVariant(root(), 'rules', ['--log=off', '--proc=off']),
  await startVariant(root(), 'rules+proc', ['--log=off', '--proc=cached']),
  await startVariant(root(), 'rules+proc+log', ['--log=async', '--proc=cached']),
  await startEventfs(root(), 'none'),
];
try {
  for (const target of targets) await single(target, 'warmup', 500); // V8 compiles the hot paths first
  console.log('per message of each phase: JS thread us, other threads us, read and write syscalls');
  for (let round = 0; round < rounds; round++) {
    for (const target of targets) {
      const before: Partial<Record<string, Sample>> = {};
      const lines: string[] = [];
      await single(target, `threads-${round}`, count, (phase, isStart) => {
        if (isStart) {
          before[phase] = sample(target.pid!);
          return;
        }
        const after = sample(target.pid!);
        const per = (key: keyof Sample): string => ((after[key] - before[phase]![key]) / count).toFixed(key.endsWith('Us') ? 0 : 1);
        lines.push(`${`${target.label} ${phase}`.padEnd(24)} main ${per('mainUs').padStart(5)}  other ${per('otherUs').padStart(5)}  reads ${per('reads').padStart(5)}  writes ${per('writes').padStart(5)}`);
      });
      for (const line of lines) console.log(line);
    }
  }
} finally {
  for (const target of targets) await target.stop();
}
