// The measured side of bench.ts: eventfs-top's whole live path (chokidar, tail, fold, stats,
// Ink rendering of App into a 100x30 terminal that discards its output), driven over IPC.
// Usage (by bench.ts only): node --import tsx tools/top/bench-child.tsx LOGDIR
import { EventEmitter } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { render } from 'ink';
import { App } from './App.tsx';
import { followDefaults, LogFollower } from './follow.ts';
import { FLUSH_MS_DEFAULT } from './refresh.ts';
import { FakeStdin } from './terminal.testing.ts'; // a stdin nobody types into

class NullTerminal extends EventEmitter {
  readonly isTTY = true;
  columns = 100;
  rows = 30;
  bytesWritten = 0;
  frames = 0;
  write = (text: string): boolean => {
    this.bytesWritten += text.length;
    this.frames++;
    return true;
  };
}

export type ChildReport = {
  cpuUserMicros: number; cpuSystemMicros: number; elapsedMs: number; seqFolded: number;
  drainMs: number; rssMaxBytes: number; terminalBytes: number; frames: number; streamSize: number;
};

const follower = new LogFollower({ path: process.argv[2]!, replaySpeed: null, userName: String, ...followDefaults });
const terminal = new NullTerminal();
const instance = render(<App source={follower} theme={{ isColor: true, isUnicode: true }} flushMs={FLUSH_MS_DEFAULT} />, {
  stdout: terminal as unknown as NodeJS.WriteStream, stdin: new FakeStdin() as unknown as NodeJS.ReadStream,
  exitOnCtrlC: false, patchConsole: false, maxFps: 10,
});
await follower.start();
let started: { cpu: NodeJS.CpuUsage; atMs: number; terminalBytes: number; frames: number } | null = null;
let rssMaxBytes = 0;
// TOP_BENCH_PROFILE: a CPU profile of the measured run only (not of startup and module loading).
const profiler = process.env.TOP_BENCH_PROFILE ? new Session() : null;
profiler?.connect();
const sampler = setInterval(() => { rssMaxBytes = Math.max(rssMaxBytes, process.memoryUsage().rss); }, 250);

process.on('message', (message: { type: 'start' } | { type: 'stop'; seq: number }) => {
  if (message.type === 'start') {
    started = { cpu: process.cpuUsage(), atMs: performance.now(), terminalBytes: terminal.bytesWritten, frames: terminal.frames };
    if (profiler !== null) void profiler.post('Profiler.enable').then(() => profiler!.post('Profiler.start'));
    return;
  }
  void stop(message.seq);
});
process.send!({ type: 'ready', seq: follower.model.state.seq });

// Waits (at most 5 s) for the fold to reach the last event written, then reports.
async function stop(seq: number): Promise<void> {
  const stopAtMs = performance.now();
  while (follower.model.state.seq < seq && performance.now() - stopAtMs < 5000) await new Promise((resolve) => setTimeout(resolve, 10));
  const cpu = process.cpuUsage(started!.cpu);
  const report: ChildReport = {
    cpuUserMicros: cpu.user, cpuSystemMicros: cpu.system, elapsedMs: performance.now() - started!.atMs,
    seqFolded: follower.model.state.seq, drainMs: performance.now() - stopAtMs, rssMaxBytes,
    terminalBytes: terminal.bytesWritten - started!.terminalBytes, frames: terminal.frames - started!.frames,
    streamSize: follower.model.stream.size,
  };
  clearInterval(sampler);
  if (profiler !== null) {
    const { profile } = await profiler.post('Profiler.stop');
    await writeFile(process.env.TOP_BENCH_PROFILE!, JSON.stringify(profile));
  }
  instance.unmount();
  await follower.stop();
  process.send!({ type: 'report', report }, () => process.exit(0));
}
