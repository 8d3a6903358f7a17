/**
 * Profiles a daemon under a bench scenario: starts it with `node --cpu-prof`, runs the scenario,
 * stops it (the profile is written on exit) and prints the top self-time functions, the inclusive
 * time of the eventfs hot paths, and self time per file.
 *
 * Usage: node --import tsx bench/profile.ts [--target none|close|always|floor|variant:FLAG,FLAG] [--scenario single|concurrent|large|recovery]
 *                                           [--count N] [--top N] [--keep]
 * The .cpuprofile is left in /tmp/eventfs-bench-prof-XXXX/prof (open it in Chrome DevTools) with --keep.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { formatProfile, inclusiveOf, summariseProfile } from './lib/cpuprofile.ts';
import { writeHistory } from './lib/history.ts';
import { concurrent, large, single, type Figures } from './lib/scenarios.ts';
import { startEventfs, startFloor, startVariant, type Durability, type Target } from './lib/targets.ts';

type Args = { target: string; scenario: string; count: number; top: number; keep: boolean };

function parseArgs(argv: string[]): Args {
  const args: Args = { target: 'none', scenario: 'single', count: 3000, top: 30, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--target') args.target = value();
    else if (arg === '--scenario') args.scenario = value();
    else if (arg === '--count') args.count = Number(value());
    else if (arg === '--top') args.top = Number(value());
    else if (arg === '--keep') args.keep = true;
    else throw new Error(`unknown argument ${arg}`);
  }
  return args;
}

/** The eventfs functions whose inclusive share answers "where does an op's time go". */
const HOT_PATHS = /^(caller|callerIdentity|tgidOf|startTimeOf|readStat|procfs|run|decide|apply|append|encodeEvent|encodeFramePayload|checkPath|lookup|resolve|statFor|getattr|create|write|unlink|readlink|openFile|settle|maybeSnapshot|snapshot|toPlain|plainHash|pump|signal|makeHandler)$/;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const root = mkdtempSync('/tmp/eventfs-bench-prof-');
  const profDir = join(root, 'prof');
  const nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${profDir}`];
  let target: Target;
  if (args.scenario === 'recovery') {
    // Mount on a history of --count events (e.g. 1000000) and stop at once: the profile is the recovery.
    const logDir = join(root, 'history');
    await writeHistory(logDir, args.count);
    target = await startEventfs(join(root, 'recovery'), 'none', { nodeArgs, logDir });
    console.log(`recovery of ${args.count} events: ready after ${(target.readyMs / 1000).toFixed(2)} s`);
  } else if (args.target === 'floor') target = await startFloor(join(root, 'floor'), { nodeArgs });
  else if (args.target.startsWith('variant:')) {
    // variant:--log=off,--proc=cached
    target = await startVariant(join(root, 'variant'), args.target, args.target.slice('variant:'.length).split(','), { nodeArgs });
  } else target = await startEventfs(join(root, args.target), args.target as Durability, { nodeArgs });
  let figures: Figures;
  const started = performance.now();
  try {
    if (args.scenario === 'recovery') figures = { readySeconds: target.readyMs / 1000 };
    else if (args.scenario === 'single') figures = await single(target, 'prof', args.count);
    else if (args.scenario === 'concurrent') figures = await concurrent(target, 'prof', args.count, root);
    else if (args.scenario === 'large') figures = await large(target, 'prof', args.count);
    else throw new Error(`unknown scenario ${args.scenario}`);
  } finally {
    await target.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  const profiles = readdirSync(profDir).filter((name) => name.endsWith('.cpuprofile'));
  if (profiles.length === 0) throw new Error(`no .cpuprofile in ${profDir} (did the daemon exit cleanly?)`);
  const file = join(profDir, profiles[0]!);
  const summary = summariseProfile(file);
  console.log(`${args.target} under ${args.scenario} x${args.count}: ${JSON.stringify(figures, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v))} (${seconds.toFixed(1)} s)`);
  console.log(formatProfile(summary, args.top));
  console.log('\ninclusive time of the hot paths:');
  for (const f of inclusiveOf(summary, HOT_PATHS).slice(0, 30)) {
    console.log(`${f.totalMs.toFixed(1).padStart(9)} ms ${f.totalPct.toFixed(1).padStart(6)}%  ${f.name} (${f.where})`);
  }
  if (args.keep) console.log(`\nprofile kept: ${file}`);
  else rmSync(root, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : String(error));
  process.exitCode = 1;
});
