// eventfs-top [LOGDIR|LOG]: parses the arguments and runs (see run.tsx).
import { Command, InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { FLUSH_MS_DEFAULT, FLUSH_MS_MAX, FLUSH_MS_MIN } from './refresh.ts';

function parseSpeed(value: string): number {
  const speed = Number(value);
  if (!(Number.isFinite(speed) && speed > 0)) throw new InvalidArgumentError('SPEED must be a number above 0 (e.g. 1, 10, 0.5)');
  return speed;
}

const program = new Command()
  .name('eventfs-top')
  .description('A live dashboard of eventfs queue activity: tails the event log and folds it with the model.')
  .argument('[log]', 'log directory, or one segment file', './logs')
  .option('--once', 'print one frame and exit')
  .option('--json', 'with --once: print the numbers as one JSON document')
  .option('--replay [speed]', 'play a recorded log back as a movie, SPEED times real time', parseSpeed)
  .option('--flush-ms <ms>', `how often the screen updates (${FLUSH_MS_MIN}-${FLUSH_MS_MAX})`, (value) => Number(value), FLUSH_MS_DEFAULT)
  .showHelpAfterError();

program.parse();
const options = program.opts<{ once?: boolean; json?: boolean; replay?: number | true; flushMs: number }>();
const replaySpeed = options.replay === undefined ? null : options.replay === true ? 1 : options.replay;
const flushMs = Math.min(FLUSH_MS_MAX, Math.max(FLUSH_MS_MIN, Number.isFinite(options.flushMs) ? options.flushMs : FLUSH_MS_DEFAULT));
// React's development build re-checks every render, and the dashboard renders several times a
// second; it is chosen when React is first imported, so run.tsx (Ink, React) is imported after.
process.env.NODE_ENV ??= 'production';
const { runTop } = await import('./run.tsx');
process.exitCode = await runTop({
  path: resolve(program.args[0] ?? './logs'), isOnce: options.once === true, isJson: options.json === true,
  replaySpeed, flushMs, batchIntervalMs: 2000,
});
