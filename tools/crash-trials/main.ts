/**
 * npm run crash-trials -- --trials N --seed S [--episode-trials K] [--skip-episodes E]
 *                         [--daemon bundle|tsx] [--keep] [--quiet]
 *
 * Runs N crash trials (episode.ts) in episodes of K trials per log directory, one episode after
 * another, and prints one line per trial and a summary line. Every random choice of episode E
 * derives from (S, E), so `--seed S --skip-episodes E --trials K` replays the choices of the
 * episode that failed (the timing of a kill cannot be replayed exactly). Exit code 0 when every
 * trial passed, 1 otherwise.
 */
import { parseArgs } from 'node:util';
import { daemonLauncher } from './daemon.ts';
import { abortAll, runEpisode, type TrialResult } from './episode.ts';

export type TrialsOptions = {
  trials: number;
  seed: number;
  episodeTrials: number;
  skipEpisodes: number;
  daemon: 'bundle' | 'tsx';
  keep: boolean;
  print: (line: string) => void;
};

export type TrialsSummary = {
  trials: number;
  passed: number;
  failed: TrialResult[];
  errors: string[];
  results: TrialResult[];
  line: string;
};

export async function runTrials(options: TrialsOptions): Promise<TrialsSummary> {
  const launcher = await daemonLauncher(options.daemon);
  const interrupted = (signal: NodeJS.Signals): void => {
    abortAll();
    launcher.cleanup();
    console.log(`crash-trials: interrupted by ${signal}; processes killed, mounts removed (trial directories in /tmp stay)`);
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const ran: TrialResult[] = [];
  const errors: string[] = [];
  let planned = 0;
  const started = performance.now();
  try {
    for (let episode = options.skipEpisodes; planned < options.trials; episode++) {
      const firstTrial = episode * options.episodeTrials;
      const trials = Math.min(options.episodeTrials, options.trials - planned);
      planned += trials;
      try {
        const done = await runEpisode({
          seed: options.seed, episode, firstTrial, trials, launcher, keep: options.keep,
          onTrial: (result) => options.print(trialLine(result, options)),
        });
        // An episode stops at its first failure; its remaining trials are not run.
        ran.push(...done);
      } catch (error) {
        const message = `episode ${episode} (seed ${options.seed}) broke: ${(error as Error).stack ?? String(error)}`;
        errors.push(message);
        options.print(message);
      }
    }
  } finally {
    launcher.cleanup();
    process.removeListener('SIGINT', interrupted);
    process.removeListener('SIGTERM', interrupted);
  }
  const failed = ran.filter((r) => !r.ok);
  const seconds = (performance.now() - started) / 1000;
  const sum = (pick: (r: TrialResult) => number): number => ran.reduce((total, r) => total + pick(r), 0);
  const restarts = ran.map((r) => r.restartMs).filter((ms) => ms > 0).sort((a, b) => a - b);
  const median = restarts.length === 0 ? 0 : restarts[Math.floor(restarts.length / 2)]!;
  const modes = ['always', 'close', 'none'].map((mode) => `${mode} ${ran.filter((r) => r.mountOptions.includes(`durability=${mode}`)).length}`).join(', ');
  const line = `crash-trials: ${ran.length} trials (seed ${options.seed}): ${ran.length - failed.length} passed, ${failed.length} failed` +
    `${errors.length > 0 ? `, ${errors.length} episodes broke` : ''}; durability ${modes}; ` +
    `kills the moment a snapshot/rotation began ${ran.filter((r) => r.kill.how === 'snapshot').length}, kills leaving a *.tmp ${ran.filter((r) => r.kill.tmpFiles > 0).length}; ` +
    `torn tails recovered ${sum((r) => r.tornTails)}; acknowledged ${sum((r) => r.acks.enqueued)} enqueues, ${sum((r) => r.acks.dequeued)} dequeues; ` +
    `unknown at the kill ${sum((r) => r.acks.unknown)}; checked present ${sum((r) => r.stats?.present ?? 0)}; ` +
    `median restart ${Math.round(median)} ms; ${seconds.toFixed(0)} s`;
  return { trials: ran.length, passed: ran.length - failed.length, failed, errors, results: ran, line };
}

function trialLine(r: TrialResult, options: TrialsOptions): string {
  const head = `trial ${r.trial} ${r.ok ? 'ok  ' : 'FAIL'} [${r.mountOptions.join(',')}] kill ${r.kill.how}@${r.kill.afterMs}ms` +
    `${r.kill.tmpFiles > 0 ? ` (${r.kill.tmpFiles} tmp)` : ''} p${r.workers.producers}c${r.workers.consumers} ` +
    `enq ${r.acks.enqueued} deq ${r.acks.dequeued} unknown ${r.acks.unknown} present ${r.stats?.present ?? '-'} ` +
    `torn ${r.tornTails} restart ${Math.round(r.restartMs)}ms` +
    (process.env.CRASH_TRIALS_PHASES ? ` ${JSON.stringify(r.phases)}` : '');
  if (r.ok) return head;
  const reproduce = `reproduce: npm run crash-trials -- --seed ${options.seed} --episode-trials ${options.episodeTrials} ` +
    `--skip-episodes ${r.episode} --trials ${options.episodeTrials} --keep`;
  return [head, ...r.failures.slice(0, 20).map((f) => `    ${f}`), `    ${reproduce}`, ...(r.keptDir ? [`    kept: ${r.keptDir}`] : [])].join('\n');
}

function parseCli(argv: string[]): TrialsOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      trials: { type: 'string', default: '20' },
      seed: { type: 'string', default: String(Date.now() % 1_000_000) },
      'episode-trials': { type: 'string', default: '5' },
      'skip-episodes': { type: 'string', default: '0' },
      daemon: { type: 'string', default: 'bundle' },
      keep: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
    },
  });
  const int = (name: string, text: string, min: number): number => {
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < min) throw new Error(`--${name} takes an integer >= ${min}, not ${JSON.stringify(text)}`);
    return value;
  };
  if (values.daemon !== 'bundle' && values.daemon !== 'tsx') throw new Error('--daemon takes bundle or tsx');
  const quiet = values.quiet;
  return {
    trials: int('trials', values.trials, 1),
    seed: int('seed', values.seed, 0),
    episodeTrials: int('episode-trials', values['episode-trials'], 1),
    skipEpisodes: int('skip-episodes', values['skip-episodes'], 0),
    daemon: values.daemon,
    keep: values.keep,
    print: (line) => {
      if (!quiet || !line.startsWith('trial ') || line.includes('FAIL')) console.log(line);
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let options: TrialsOptions;
  try {
    options = parseCli(process.argv.slice(2));
  } catch (error) {
    console.error(`crash-trials: ${(error as Error).message}`);
    process.exit(64);
  }
  const summary = await runTrials(options);
  for (const failure of summary.failed) console.log(`FAILED trial ${failure.trial} (seed ${options.seed}, episode ${failure.episode}): ${failure.failures[0]}`);
  console.log(summary.line);
  process.exitCode = summary.failed.length === 0 && summary.errors.length === 0 ? 0 : 1;
}
