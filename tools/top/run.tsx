// The three ways eventfs-top runs: one frame (--once, --json), plain frames for a pipe, or the
// live Ink dashboard in a terminal (alternate screen, restored on exit).
import { render, renderToString } from 'ink';
import { setTimeout as sleep } from 'node:timers/promises';
import { App } from './App.tsx';
import { followDefaults, LogFollower } from './follow.ts';
import { Screen } from './Screen.tsx';
import { plainTheme, themeFor } from './theme.ts';
import { uiInitial } from './ui.ts';
import { userNames } from './users.ts';
import { viewJson, type TopView } from './view.ts';

export type TopOptions = {
  path: string;
  isOnce: boolean;
  isJson: boolean;
  replaySpeed: number | null;
  flushMs: number;
  batchIntervalMs: number; // a pipe gets a frame this often
};

export type TopIo = { stdout: NodeJS.WriteStream; env: NodeJS.ProcessEnv };

const ONCE_STREAM_LINES = 10;
const ALT_SCREEN_ON = '\u001b[?1049h';
const ALT_SCREEN_OFF = '\u001b[?1049l';

// Resolves with the exit code.
export async function runTop(options: TopOptions, io: TopIo = { stdout: process.stdout, env: process.env }): Promise<number> {
  const isOnce = options.isOnce || options.isJson;
  const follower = new LogFollower({
    path: options.path, replaySpeed: isOnce ? null : options.replaySpeed, userName: userNames(), ...followDefaults,
  });
  if (isOnce) return runOnce(follower, options.isJson, io);
  if (io.stdout.isTTY !== true) return runBatch(follower, options.batchIntervalMs, io);
  return runLive(follower, options.flushMs, io);
}

export function plainFrame(view: TopView, columns: number): string {
  return renderToString(<Screen view={view} ui={uiInitial} rows={null} width={columns} theme={plainTheme} />, { columns });
}

const columnsOf = (io: TopIo): number => Number(io.env.COLUMNS) || io.stdout.columns || 80;

async function runOnce(follower: LogFollower, isJson: boolean, io: TopIo): Promise<number> {
  await follower.catchUp();
  const view = follower.view({ detailQueue: null, streamMax: ONCE_STREAM_LINES });
  io.stdout.write(isJson ? `${JSON.stringify(viewJson(view), null, 2)}\n` : `${plainFrame(view, columnsOf(io))}\n`);
  return follower.daemon.kind === 'waiting' ? 1 : 0;
}

// Like `top -b`: a plain frame every interval; a log that can no longer change prints once.
async function runBatch(follower: LogFollower, intervalMs: number, io: TopIo): Promise<number> {
  await follower.start();
  let isStopped = false;
  const stop = (): void => { isStopped = true; };
  process.once('SIGINT', stop).once('SIGTERM', stop);
  try {
    while (!isStopped) {
      const view = follower.view({ detailQueue: null, streamMax: ONCE_STREAM_LINES });
      io.stdout.write(`${plainFrame(view, columnsOf(io))}\n\n`);
      const { daemon } = view.header;
      if (daemon.kind === 'gone' || daemon.kind === 'file' || (daemon.kind === 'replay' && daemon.isFinished)) break;
      await sleep(intervalMs);
    }
  } finally {
    process.off('SIGINT', stop).off('SIGTERM', stop);
    await follower.stop();
  }
  return 0;
}

async function runLive(follower: LogFollower, flushMs: number, io: TopIo): Promise<number> {
  const theme = themeFor(io.env, true);
  const failures: Error[] = [];
  io.stdout.write(ALT_SCREEN_ON);
  try {
    // Not incrementalRendering: in ink 6.8.0 it draws each frame one row lower than the last
    // whenever the previous frame ended in a newline (always, below full height), so the screen
    // drifts and scrolls. The standard renderer rewrites the frame inside synchronized-output
    // escapes, which terminals (and tmux) show without flicker; the frame never reaches the
    // last row (layout.ts), so Ink never clears the whole screen.
    const instance = render(<App source={follower} theme={theme} flushMs={flushMs} />, {
      stdout: io.stdout, incrementalRendering: false, maxFps: 10, exitOnCtrlC: true, patchConsole: true,
    });
    const stop = (): void => instance.unmount();
    process.once('SIGTERM', stop);
    // The screen shows at once and fills in while the log is read.
    follower.start().catch((error: unknown) => {
      failures.push(error as Error);
      instance.unmount();
    });
    await instance.waitUntilExit();
    process.off('SIGTERM', stop);
  } finally {
    await follower.stop();
    io.stdout.write(ALT_SCREEN_OFF);
  }
  for (const failure of failures) process.stderr.write(`eventfs-top: ${failure.message}\n`);
  return failures.length === 0 ? 0 : 1;
}
