/**
 * npm run bench: what users feel, each figure next to baselines measured in the same run.
 *
 *   node --import tsx bench/run.ts [--json] [--quick] [--only NAME[,NAME...]] [--rounds N] [--variants] [--keep]
 *
 * Scenarios (NAME):
 *   single      1 producer creates+writes+closes N small messages, then 1 consumer pops them (readlink head, read, unlink head)
 *   concurrent  4 producers and 4 consumers at once on one queue, exactly-once recipe; messages per second
 *   large       64 KiB messages: MB/s written, then MB/s read (and popped)
 *   multicast   each message created in one queue and hard-linked into 9 more
 *   memory      RSS per queued 16-byte message beyond its payload (eventfs none, and the floor), and
 *               the live JS heap per message in-process (bench/heap.ts)
 *   logbytes    log directory growth per create+write+close+pop cycle
 *   fold        fold speed (bench/fold.ts runFoldBench)
 *   recovery    spawn-to-ready of a daemon on a log holding a 1,000,000-event history
 *   top         eventfs-top CPU at 10,000 events/s (tools/top/bench.ts measureTopCpu, when present)
 *
 * Targets: tmpfs (kernel, the ceiling), the floor (bench/floor-fs.ts: a minimal in-memory
 * fuse-native filesystem, no log and no rules, same mount options as eventfs) and eventfs with
 * durability none, close and always; with --variants also bench/variant-fs.ts (eventfs's ops
 * and model: "rules" alone, "rules+proc" with the /proc lookups, "rules+proc+log" with the log
 * writer but no snapshots).
 * Targets are interleaved within each round and every ratio is the median of per-round ratios,
 * because absolute numbers on a shared machine drift. See bench/README.md.
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runFoldBench } from './fold.ts';
import { runTogether } from './lib/clients.ts';
import { dirBytes, writeHistory } from './lib/history.ts';
import { emptyRow, formatTable, median, pairedRatio, type Row } from './lib/report.ts';
import { concurrent, COUNTS, large, multicast, QUICK_COUNTS, single, SMALL_BYTES, type Counts, type Figures } from './lib/scenarios.ts';
import { REPO, rssBytes, startEventfs, startFloor, startTmpfs, startVariant, type Durability, type Target } from './lib/targets.ts';

const THROUGHPUT = ['single', 'concurrent', 'large', 'multicast'] as const;
const OTHERS = ['memory', 'logbytes', 'fold', 'recovery', 'top'] as const;
type ScenarioName = (typeof THROUGHPUT)[number] | (typeof OTHERS)[number];
const ALL: readonly ScenarioName[] = [...THROUGHPUT, ...OTHERS];
const MODES: Durability[] = ['none', 'close', 'always'];
const WARMUP_MESSAGES = 500;

/** --variants: eventfs's ops and model with layers switched on one by one (bench/variant-fs.ts). */
const VARIANTS = [
  { label: 'rules', flags: ['--log=off', '--proc=off'] },
  { label: 'rules+proc', flags: ['--log=off', '--proc=cached'] },
  { label: 'rules+proc+log', flags: ['--log=async', '--proc=cached'] },
];

type Args = { json: boolean; quick: boolean; only: Set<ScenarioName>; rounds: number; variants: boolean; keep: boolean };

function parseArgs(argv: string[]): Args {
  const args: Args = { json: false, quick: false, only: new Set(ALL), rounds: 0, variants: false, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') args.json = true;
    else if (arg === '--quick') args.quick = true;
    else if (arg === '--variants') args.variants = true;
    else if (arg === '--keep') args.keep = true;
    else if (arg === '--rounds') args.rounds = Number(argv[++i]);
    else if (arg === '--only') {
      const names = (argv[++i] ?? '').split(',').filter((name) => name !== '');
      for (const name of names) if (!ALL.includes(name as ScenarioName)) throw new Error(`--only: unknown scenario ${name} (known: ${ALL.join(', ')})`);
      args.only = new Set(names as ScenarioName[]);
    } else throw new Error(`unknown argument ${arg} (usage: bench/run.ts [--json] [--quick] [--only NAME,...] [--rounds N] [--variants] [--keep])`);
  }
  if (args.rounds === 0) args.rounds = args.quick ? 1 : 3;
  if (!Number.isSafeInteger(args.rounds) || args.rounds < 1) throw new Error('--rounds takes a positive integer');
  return args;
}

const say = (message: string): void => void process.stderr.write(`bench: ${message}\n`);
const round1 = (value: number): number => Math.round(value * 10) / 10;

type Raw = Record<string, Record<string, Figures[]>>;

/** scenario -> target -> what went wrong (the run goes on without that figure). */
const failures: Record<string, Record<string, string>> = {};

async function runThroughput(args: Args, counts: Counts, root: string): Promise<Raw> {
  const raw: Raw = {};
  const selected = THROUGHPUT.filter((name) => args.only.has(name));
  if (selected.length === 0) return raw;
  const targets: Target[] = [];
  try {
    targets.push(startTmpfs(join(root, 'tmpfs')));
    targets.push(await startFloor(join(root, 'floor')));
    if (args.variants) {
      for (const variant of VARIANTS) targets.push(await startVariant(join(root, variant.label), variant.label, variant.flags));
    }
    for (const mode of MODES) targets.push(await startEventfs(join(root, mode), mode));
    say(`mounted ${targets.map((t) => t.label).join(', ')} under ${root}`);
    // Untimed: every daemon's hot paths are compiled by V8 before anything is measured, so the
    // first round does not charge the bigger daemons for their JIT warm-up.
    for (const target of targets) await single(target, 'warmup', WARMUP_MESSAGES);
    for (const scenario of selected) {
      raw[scenario] = Object.fromEntries(targets.map((t) => [t.label, [] as Figures[]]));
      for (let r = 0; r < args.rounds; r++) {
        // Rotate the order each round, so no target always runs first (or last).
        const order = targets.map((_, i) => targets[(i + r) % targets.length]!);
        for (const target of order) {
          const tag = `r${r}`;
          let figures: Figures;
          try {
            if (scenario === 'single') figures = await single(target, tag, counts.single);
            else if (scenario === 'concurrent') figures = await concurrent(target, tag, counts.concurrent, root);
            else if (scenario === 'large') figures = await large(target, tag, counts.large);
            else figures = await multicast(target, tag, counts.multicast);
          } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            (failures[scenario] ??= {})[target.label] = message.slice(0, 300);
            say(`${scenario} round ${r + 1}/${args.rounds} ${target.label} FAILED: ${message}`);
            continue;
          }
          raw[scenario]![target.label]![r] = figures; // by round, so ratios pair runs of the same round
          say(`${scenario} round ${r + 1}/${args.rounds} ${target.label}: ${JSON.stringify(figures, (_k, v: unknown) => (typeof v === 'number' ? round1(v) : v))}`);
        }
      }
    }
    for (const target of targets) {
      const problems = target.stderr().trim();
      if (problems !== '') say(`${target.label} said on stderr:\n${problems.slice(0, 2000)}`);
    }
    for (const target of targets) if (target.logDir !== null) say(`${target.label}: log directory holds ${dirBytes(target.logDir)} bytes after the run (compaction)`);
  } finally {
    for (const target of targets) await target.stop();
  }
  return raw;
}

type Metric = { scenario: (typeof THROUGHPUT)[number]; key: string; label: string; unit: string; cpuKey: string; cpuUnit: string };

const METRICS: Metric[] = [
  { scenario: 'single', key: 'produce', label: '1 produce: create+write+close, 1 producer', unit: 'msg/s', cpuKey: 'produceCpuUs', cpuUnit: 'us/msg' },
  { scenario: 'single', key: 'pop', label: '1 pop: readlink+read+unlink head, 1 consumer', unit: 'msg/s', cpuKey: 'popCpuUs', cpuUnit: 'us/msg' },
  { scenario: 'concurrent', key: 'messages', label: '2 4 producers + 4 consumers, exactly-once', unit: 'msg/s', cpuKey: 'cpuUs', cpuUnit: 'us/msg' },
  { scenario: 'large', key: 'write', label: '3 64 KiB messages: write', unit: 'MB/s', cpuKey: 'writeCpuUsPerMB', cpuUnit: 'us/MB' },
  { scenario: 'large', key: 'read', label: '3 64 KiB messages: read+pop', unit: 'MB/s', cpuKey: 'readCpuUsPerMB', cpuUnit: 'us/MB' },
  { scenario: 'multicast', key: 'messages', label: '4 multicast: 1 create + 9 links', unit: 'msg/s', cpuKey: 'cpuUs', cpuUnit: 'us/msg' },
];

/** The goals of the issue, as fractions of the floor's throughput. */
function goalFor(metric: Metric, target: string): { text: string; min: number } | null {
  const opsPerSecond = metric.scenario === 'single' || metric.scenario === 'concurrent';
  if (opsPerSecond && target === 'none') return { text: '>= 0.90x floor', min: 0.9 };
  if (metric.scenario === 'concurrent' && target === 'close') return { text: '>= 0.50x floor', min: 0.5 };
  return null;
}

function throughputRows(raw: Raw): Row[] {
  const rows: Row[] = [];
  for (const metric of METRICS) {
    const byTarget = raw[metric.scenario];
    if (byTarget === undefined) continue;
    const rounds = Math.max(...Object.values(byTarget).map((runs) => runs.length));
    const series = (label: string, key: string): number[] =>
      Array.from({ length: rounds }, (_, r) => byTarget[label]?.[r]?.[key] ?? NaN);
    for (const label of Object.keys(byTarget)) {
      const row = emptyRow(metric.label, label, metric.unit);
      row.value = median(series(label, metric.key));
      row.vsTmpfs = label === 'tmpfs' ? null : pairedRatio(series(label, metric.key), series('tmpfs', metric.key));
      row.vsFloor = label === 'floor' || label === 'tmpfs' ? null : pairedRatio(series(label, metric.key), series('floor', metric.key));
      row.cpu = median(series(label, metric.cpuKey));
      row.cpuUnit = metric.cpuUnit;
      row.cpuVsFloor = label === 'floor' ? null : pairedRatio(series(label, metric.cpuKey), series('floor', metric.cpuKey));
      const goal = goalFor(metric, label);
      if (goal !== null) {
        row.goal = goal.text;
        row.pass = row.vsFloor === null ? null : row.vsFloor >= goal.min;
      }
      if (metric.scenario === 'concurrent') {
        const lost = median(series(label, 'lostRaces'));
        if (lost !== null && lost > 0) row.note = `${lost.toFixed(2)} lost races (ENOENT on open/unlink) per message`;
      }
      const failed = failures[metric.scenario]?.[label];
      if (failed !== undefined) row.note = `FAILED in a round (${byTarget[label]!.filter(Boolean).length} rounds counted): ${failed}`;
      rows.push(row);
    }
  }
  return rows;
}

/**
 * RSS per queued 16-byte message beyond its payload, for eventfs (durability none) and the floor:
 * (VmRSS after enqueueing N messages - VmRSS before) / N - 16, N enqueued in steps (RSS after each
 * step in the note: V8 grows its heap in steps, so the last step's slope shows the marginal cost).
 */
async function memoryRows(root: string, quick: boolean): Promise<Row[]> {
  const step = quick ? 3000 : 15_000;
  const steps = 3;
  const count = step * steps;
  const rows: Row[] = [];
  let floorBytes: number | null = null;
  for (const kind of ['floor', 'none'] as const) {
    const dir = join(root, `memory-${kind}`);
    const target = kind === 'floor' ? await startFloor(dir) : await startEventfs(dir, 'none');
    try {
      const q = join(target.mnt, 'mem');
      mkdirSync(q);
      // Warm up: the code paths compiled, the log segment open, buffers allocated.
      await runTogether([['produce', q, '--prefix', 'warm', '--count', '300', '--size', String(SMALL_BYTES)]]);
      await runTogether([['pop', q, '--prefix', 'warm', '--count', '300', '--size', String(SMALL_BYTES), '--via', 'head']]);
      await sleep(1500);
      const rss = [rssBytes(target.pid!)];
      for (let i = 0; i < steps; i++) {
        await runTogether([['produce', q, '--prefix', `m${i}`, '--count', String(step), '--size', String(SMALL_BYTES)]]);
        await sleep(2000);
        rss.push(rssBytes(target.pid!));
      }
      const perMessage = (rss.at(-1)! - rss[0]!) / count - SMALL_BYTES;
      const slopes = rss.slice(1).map((r, i) => Math.round((r - rss[i]!) / step - SMALL_BYTES));
      const row = emptyRow('memory: RSS per queued 16 B message, beyond payload', kind === 'floor' ? 'floor' : 'none', 'B/msg');
      row.value = perMessage;
      row.note = `VmRSS ${rss.map((r) => (r / 1048576).toFixed(1)).join(' -> ')} MiB in steps of ${step} messages (per step: ${slopes.join(', ')} B/msg)`;
      if (kind === 'floor') floorBytes = perMessage;
      else {
        if (floorBytes !== null && floorBytes > 0) row.note += `; ${(perMessage / floorBytes).toFixed(2)}x the floor's`;
        row.goal = '< 1024 B/msg';
        row.pass = perMessage < 1024;
      }
      rows.push(row);
      say(`memory ${kind}: ${row.note}: ${perMessage.toFixed(0)} B/msg`);
    } finally {
      await target.stop();
    }
  }
  // How much of that RSS is data structures: the live JS heap per message after full GCs, in-process.
  const heapArgs = ['--expose-gc', '--import', 'tsx', join(REPO, 'bench/heap.ts'), '--count', String(quick ? 5000 : 20_000)];
  const heap = JSON.parse(execFileSync(process.execPath, heapArgs, { cwd: REPO, encoding: 'utf8' })) as { count: number; floor: number; eventfs: number };
  for (const kind of ['floor', 'eventfs'] as const) {
    const row = emptyRow('memory: live JS heap per queued message (in-process)', kind === 'floor' ? 'floor' : 'rules', 'B/msg');
    row.value = heap[kind];
    row.note = `heapUsed after full GCs, ${heap.count} messages through the op table without FUSE or log (bench/heap.ts); payload included`;
    rows.push(row);
  }
  return rows;
}

/** Log directory growth per create+write+close+pop cycle (compaction off, so nothing is dropped). */
async function logBytesRow(root: string, quick: boolean): Promise<Row> {
  const count = quick ? 300 : 1000;
  const target = await startEventfs(join(root, 'logbytes'), 'none', { mountOptions: ['snapshot_bytes=1000000000000'] });
  try {
    const q = join(target.mnt, 'q');
    mkdirSync(q);
    await sleep(200);
    const before = dirBytes(target.logDir!);
    await runTogether([['produce', q, '--prefix', 'm', '--count', String(count), '--size', String(SMALL_BYTES)]]);
    await runTogether([['pop', q, '--prefix', 'm', '--count', String(count), '--size', String(SMALL_BYTES), '--via', 'head']]);
    const after = dirBytes(target.logDir!);
    const row = emptyRow('5 log bytes per message (create+write+close+pop)', 'eventfs', 'B/msg');
    row.value = (after - before) / count;
    row.note = `${SMALL_BYTES}-byte payloads; events fileCreated + dataWritten + entryRemoved, framed (8 B) msgpack`;
    return row;
  } finally {
    await target.stop();
  }
}

function foldRows(quick: boolean): { rows: Row[]; result: ReturnType<typeof runFoldBench> } {
  const events = quick ? 200_000 : 1_000_000;
  const result = runFoldBench({ events, runs: quick ? 1 : 3 });
  const alone = emptyRow('5 fold speed (apply only)', 'model', 'events/s');
  alone.value = result.foldAlone.eventsPerSec;
  alone.goal = '>= 1,000,000 events/s';
  alone.pass = result.foldAlone.eventsPerSec >= 1_000_000;
  alone.note = `${result.events.toLocaleString('en-US')} events over ${result.queues} queues (bench/fold.ts)`;
  const decode = emptyRow('5 fold speed (CRC + decode + apply)', 'model+log', 'events/s');
  decode.value = result.decodeFold.eventsPerSec;
  return { rows: [alone, decode], result };
}

async function recoveryRow(root: string, quick: boolean): Promise<Row> {
  const events = quick ? 200_000 : 1_000_000;
  const historyDir = join(root, 'history', 'logs');
  say(`recovery: writing a ${events.toLocaleString('en-US')}-event history`);
  const history = await writeHistory(historyDir, events);
  const empty = await startEventfs(join(root, 'empty-start'), 'none');
  await empty.stop();
  const target = await startEventfs(join(root, 'history'), 'none', { logDir: historyDir });
  await target.stop();
  const row = emptyRow(`5 recovery: mount on a ${(events / 1e6).toFixed(1)}M-event history`, 'none', 's');
  row.value = target.readyMs / 1000;
  row.note = `spawn to ready; an empty log takes ${(empty.readyMs / 1000).toFixed(2)} s (node + tsx + mount); history ${(history.bytes / 1e6).toFixed(0)} MB, one segment, no snapshot`;
  return row;
}

async function topRow(quick: boolean): Promise<Row> {
  const row = emptyRow('6 eventfs-top CPU at 10,000 events/s', 'eventfs-top', '% of a core');
  type TopBench = { measureTopCpu?: (options: { eventsPerSecond: number; seconds: number }) => Promise<unknown> | unknown };
  let module: TopBench;
  try {
    // A computed specifier: the module may not exist yet, and typechecking must not require it.
    const specifier = new URL('../tools/top/bench.ts', import.meta.url).href;
    module = (await import(specifier)) as TopBench;
  } catch {
    row.note = 'n/a (tools/top/bench.ts missing)';
    return row;
  }
  if (typeof module.measureTopCpu !== 'function') {
    row.note = 'n/a (tools/top/bench.ts exports no measureTopCpu)';
    return row;
  }
  const result = await module.measureTopCpu({ eventsPerSecond: 10_000, seconds: quick ? 3 : 10 });
  if (typeof result === 'number') row.value = result;
  else if (typeof result === 'object' && result !== null) {
    const fields = result as Record<string, unknown>;
    const cpu = fields.cpuPercent;
    if (typeof cpu === 'number') row.value = cpu;
    if (typeof fields.goalCpuPercent === 'number') {
      row.goal = `< ${fields.goalCpuPercent}% of a core`;
      row.pass = typeof fields.isGoalMet === 'boolean' ? fields.isGoalMet : typeof cpu === 'number' && cpu < fields.goalCpuPercent;
    }
    const shown = ['eventsPerSecondWritten', 'eventsFolded', 'isCaughtUp', 'drainMs', 'frames', 'rssMaxBytes'];
    row.note = shown.filter((key) => key in fields).map((key) => {
      const value = fields[key];
      return `${key} ${typeof value === 'number' ? Math.round(value) : String(value)}`;
    }).join(', ') + ' (tools/top/bench.ts)';
  }
  return row;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const counts = args.quick ? QUICK_COUNTS : COUNTS;
  mkdirSync('/tmp', { recursive: true });
  const root = mkdtempSync('/tmp/eventfs-bench-');
  const started = Date.now();
  const machine = { cores: cpus().length, loadBefore: loadavg().map(round1), loadAfter: [] as number[] };
  say(`${machine.cores} cores, load average ${machine.loadBefore.join(' ')}; ${args.rounds} round(s); counts ${JSON.stringify(counts)}`);
  const rows: Row[] = [];
  let raw: Raw = {};
  let fold: ReturnType<typeof runFoldBench> | null = null;
  try {
    raw = await runThroughput(args, counts, root);
    rows.push(...throughputRows(raw));
    if (args.only.has('memory')) rows.push(...(await memoryRows(root, args.quick)));
    if (args.only.has('logbytes')) rows.push(await logBytesRow(root, args.quick));
    if (args.only.has('fold')) {
      say('fold');
      const folded = foldRows(args.quick);
      rows.push(...folded.rows);
      fold = folded.result;
    }
    if (args.only.has('recovery')) rows.push(await recoveryRow(root, args.quick));
    if (args.only.has('top')) rows.push(await topRow(args.quick));
  } finally {
    if (!args.keep) rmSync(root, { recursive: true, force: true });
    else say(`kept ${root}`);
  }
  machine.loadAfter = loadavg().map(round1);
  const seconds = Math.round((Date.now() - started) / 1000);
  if (args.json) {
    console.log(JSON.stringify({ machine, rounds: args.rounds, counts, seconds, rows, raw, failures, fold }, null, 2));
    return;
  }
  console.log(formatTable(rows));
  console.log(`\n${machine.cores} cores; load average ${machine.loadBefore.join(' ')} before, ${machine.loadAfter.join(' ')} after; ${args.rounds} round(s), ${seconds} s.`);
  console.log('value: median over rounds; vs tmpfs / vs floor: median of per-round throughput ratios (higher is better);');
  console.log('cpu/unit: client + daemon CPU per message (or per MB); cpu vs floor: lower is better.');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : String(error));
  process.exitCode = 1;
});
