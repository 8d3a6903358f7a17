/**
 * eventfs-replay's command line: parses the options (commander), picks the mode, and maps every
 * outcome to an exit code. Each mode's work is in its own file; this one only wires them up.
 */
import { Command, CommanderError, Option } from 'commander';
import type { Readable } from 'node:stream';
import { ApplyError } from '../../src/model/index.ts';
import { LogCorruptError } from '../../src/log/errors.ts';
import { columnsOf, dumpEvents, eventJson, eventLine, NO_FILTER, parseTypes, type EventFilter } from './events.ts';
import { execLog, formatExec, isDifferent } from './exec.ts';
import { errorMessage, EXIT, exitCodeOf, UsageError } from './exit.ts';
import { isoTime, plural, styleFor, toJson, type Style } from './format.ts';
import { lastSeq, loadLog, readStdin, STDIN, type LoadedLog } from './load.ts';
import { parsePoint, seqOfPoint, stateAt, type Point } from './replay.ts';
import { formatSalvage, isIntact, planSalvage, writeSalvage, type SalvagePlan } from './salvage.ts';
import { formatSummary, summarize } from './summary.ts';
import { findFirstBad, verifyLog } from './verify.ts';
import { firstBadJson, formatFirstBad, formatVerify } from './verify-report.ts';
import { formatState, stateJson, stateView } from './view.ts';

export type Io = {
  stdout: { write: (text: string) => unknown; isTTY?: boolean };
  stderr: { write: (text: string) => unknown };
  stdin: Readable;
  env: Record<string, string | undefined>;
};

/** A bug in eventfs-replay itself (sysexits.h EX_SOFTWARE). */
export const EXIT_INTERNAL = 70;

type Options = {
  at?: string; until?: string; since?: string; events?: boolean; verify?: boolean; firstBad?: boolean;
  exec?: string; salvage?: string; queue: string[]; type: string[]; pid: string[]; uid: string[];
  showData?: boolean; json?: boolean;
};

type Context = { io: Io; options: Options; style: Style; source: string; stdinBytes: Buffer | null; queues: Set<string> | null };

const HELP_AFTER = `
Modes (one at a time; the default prints a summary):
  summary        format, mount id, events, time span, torn tail or corruption,
                 the queues at the end (depth, bytes, owner, sticky), state hash
  --at/--until   the state at that point, with --show-data the message bytes
  --events       one line per event: SEQ @OFFSET TIME TYPE WHAT BY
  --verify       fold, checking every invariant after each event and every
                 snapshot hash recorded in a log directory
  --first-bad    the first event after which an invariant fails or the state
                 diverges, with the states before and after it
  --exec MNT     redo the log's operations on a fresh eventfs mount (as the
                 recorded users when root; creators are helper processes that
                 die where the log reaps their queues), then compare the mount
                 with the log's fold. Needs python3.
  --salvage OUT  write the longest valid prefix of a damaged log to OUT (a file,
                 or a directory for a log directory) and list what was dropped

SEQ|TIME is an event's seq (42) or an ISO time (2024-01-01T00:00:06Z).

Exit codes:
  0   ok; a torn tail (a write the daemon never acknowledged) is not an error
  1   an invariant is violated, an event cannot apply, a snapshot hash or the
      mount (--exec) differs from the fold
  2   the input is unreadable: missing, corrupt (try --salvage), a newer
      format, or a log directory whose files do not fit together
  64  usage error
  70  internal error (a bug in eventfs-replay)

Examples:
  eventfs-replay logs/                          what is in this log?
  eventfs-replay --events --queue jobs logs/    everything that happened to jobs
  eventfs-replay --at 2024-01-01T03:00:00Z --show-data logs/
  eventfs-replay --first-bad logs/ ; echo $?    bisect a bad state to its event
  eventfs-replay --salvage fixed/ logs/         recover from a corrupt record
`;

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function program(io: Io): Command {
  return new Command('eventfs-replay')
    .description('Reproduce and bisect bugs from an eventfs log.')
    .argument('<LOG>', 'a segment file, a log directory (snapshots and segments), or - for stdin')
    .option('--at <SEQ|TIME>', 'the state after event SEQ, or after the last event at or before TIME')
    .option('--until <SEQ|TIME>', 'like --at; with --events the last event shown; with --exec where to stop')
    .option('--events', 'dump the events, one a line')
    .option('--queue <NAME>', 'only this queue (repeatable; with --events, the summary, --at, --first-bad)', collect, [])
    .option('--type <TYPE[,TYPE]>', 'with --events: only these event types (repeatable)', collect, [])
    .option('--pid <PID>', 'with --events: only events of this caller pid (repeatable)', collect, [])
    .option('--uid <UID>', 'with --events: only events of this caller uid (repeatable)', collect, [])
    .option('--since <SEQ|TIME>', 'with --events: the first event shown')
    .option('--show-data', 'print message contents (escaped: controls and invalid UTF-8 as \\xHH)')
    .option('--verify', 'check every invariant after every event and the recorded snapshot hashes')
    .option('--first-bad', 'find the first event after which an invariant fails or the state diverges')
    .option('--exec <MOUNTPOINT>', 're-execute the log on a fresh eventfs mount and compare')
    .option('--salvage <OUT>', 'write the longest valid prefix of a damaged log to OUT')
    .addOption(new Option('--json', 'JSON output for scripts (JSON Lines with --events)'))
    .helpOption('-h, --help', 'show this help')
    .addHelpText('after', HELP_AFTER)
    .showHelpAfterError("(see 'eventfs-replay --help')")
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) });
}

/** Runs eventfs-replay with `argv` (without node and the script); resolves to the exit code. */
export async function runCli(argv: string[], io: Io): Promise<number> {
  const command = program(io);
  try {
    command.parse(argv, { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.exitCode === 0) return EXIT.ok;
    // Commander has printed the message; a script that asked for JSON gets it as JSON too.
    if (argv.includes('--json')) io.stdout.write(`${toJson({ ok: false, exitCode: EXIT.usage, error: { kind: 'UsageError', message: error.message } }, true)}\n`);
    return EXIT.usage;
  }
  const options = command.opts<Options>();
  const context: Context = {
    io, options, style: styleFor(io.stdout.isTTY, io.env), source: command.args[0]!, stdinBytes: null,
    queues: options.queue.length > 0 ? new Set(options.queue) : null,
  };
  try {
    checkCombination(options);
    if (context.source === STDIN) context.stdinBytes = await readStdin(io.stdin);
    return await runMode(context);
  } catch (error) {
    return await reportError(context, error);
  }
}

function checkCombination(options: Options): void {
  const modes = (['events', 'verify', 'firstBad', 'exec', 'salvage'] as const).filter((mode) => options[mode] !== undefined);
  const flag = (name: string): string => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  if (modes.length > 1) throw new UsageError(`${modes.map(flag).join(' and ')} cannot be combined: pick one mode`);
  const mode = modes[0];
  if (options.at !== undefined && options.until !== undefined) throw new UsageError('--at and --until name the same point: give one');
  if (options.at !== undefined && mode !== undefined && mode !== 'exec') throw new UsageError(`--at cannot be combined with ${flag(mode)}`);
  if (options.until !== undefined && mode !== undefined && mode !== 'events' && mode !== 'exec') throw new UsageError(`--until cannot be combined with ${flag(mode)}`);
  const filters = (['since', 'type', 'pid', 'uid'] as const).filter((name) => (Array.isArray(options[name]) ? options[name].length > 0 : options[name] !== undefined));
  if (filters.length > 0 && mode !== 'events') throw new UsageError(`${filters.map(flag).join(', ')} only filter --events`);
  if (options.queue.length > 0 && (mode === 'verify' || mode === 'exec' || mode === 'salvage')) throw new UsageError(`--queue cannot be combined with ${flag(mode)}`);
}

async function runMode(context: Context): Promise<number> {
  const { options } = context;
  if (options.salvage !== undefined) return runSalvage(context, options.salvage);
  const log = await loadLog(context.source, context.stdinBytes);
  if (options.events) return runEvents(context, log);
  if (options.verify) return runVerify(context, log);
  if (options.firstBad) return runFirstBad(context, log);
  if (options.exec !== undefined) return runExec(context, log, options.exec);
  const point = options.at ?? options.until;
  if (point !== undefined) return runState(context, log, options.at !== undefined ? '--at' : '--until', point);
  return runSummary(context, log);
}

const write = (context: Context, lines: string[]): void => {
  if (lines.length > 0) context.io.stdout.write(`${lines.join('\n')}\n`);
};
const writeJson = (context: Context, value: unknown): void => {
  context.io.stdout.write(`${toJson(value, true)}\n`);
};
const warn = (context: Context, message: string): void => {
  context.io.stderr.write(`eventfs-replay: ${message}\n`);
};

function runSummary(context: Context, log: LoadedLog): number {
  const summary = summarize(log, context.queues);
  if (context.options.json) writeJson(context, summary);
  else write(context, formatSummary(summary, context.style));
  if (!('error' in summary.end)) return EXIT.ok;
  return log.base.kind === 'missing' ? EXIT.unreadable : EXIT.violated;
}

function runState(context: Context, log: LoadedLog, option: string, text: string): number {
  const seq = seqOfPoint(log, option, parsePoint(option, text));
  const view = stateView(stateAt(log, seq), context.queues);
  const record = log.records.find((r) => r.event.seq === seq);
  const time = record === undefined ? null : isoTime(record.event.t);
  const showData = context.options.showData === true;
  if (context.options.json) {
    writeJson(context, { source: log.source, lastSeq: lastSeq(log), time, ...(stateJson(view, showData) as object) });
    return EXIT.ok;
  }
  const { style } = context;
  write(context, [
    `${style.bold(`state at seq ${seq}`)} of ${lastSeq(log)}${time === null ? '' : ` (${time})`}: ${plural(view.queues.length, 'queue')}`,
    `hash ${view.hash}`,
    ...formatState(view, showData, style),
  ]);
  return EXIT.ok;
}

function eventFilter(context: Context): EventFilter {
  const { options } = context;
  const ids = (name: string, values: string[]): Set<number> | null => {
    if (values.length === 0) return null;
    const list = values.flatMap((value) => value.split(','));
    for (const value of list) if (!/^\d+$/.test(value.trim())) throw new UsageError(`${name} takes numbers, not ${JSON.stringify(value)}`);
    return new Set(list.map(Number));
  };
  const point = (name: string, value: string | undefined): Point | null => (value === undefined ? null : parsePoint(name, value));
  return {
    ...NO_FILTER,
    queues: context.queues,
    types: options.type.length > 0 ? parseTypes(options.type) : null,
    pids: ids('--pid', options.pid),
    uids: ids('--uid', options.uid),
    since: point('--since', options.since),
    until: point('--until', options.until),
  };
}

function runEvents(context: Context, log: LoadedLog): number {
  const filter = eventFilter(context);
  const columns = columnsOf(log);
  const showData = context.options.showData === true;
  const emit = context.options.json
    ? (selected: Parameters<typeof eventJson>[0]) => context.io.stdout.write(`${eventJson(selected)}\n`)
    : (selected: Parameters<typeof eventJson>[0]) => write(context, eventLine(selected, columns, showData, context.style));
  const result = dumpEvents(log, filter, emit);
  for (const torn of log.tornTails) warn(context, `torn tail at byte ${torn.offset} of ${torn.file} (${plural(torn.bytesDropped, 'byte')} dropped; not an error)`);
  if (result.unresolved !== null) warn(context, `inode numbers are not resolved to names: ${result.unresolved}`);
  if (result.foldError === null) return EXIT.ok;
  warn(context, `${result.foldError.message}; names after it are not resolved (see --first-bad)`);
  return EXIT.violated;
}

function runVerify(context: Context, log: LoadedLog): number {
  const result = verifyLog(log);
  if (context.options.json) writeJson(context, { ok: result.failure === null, source: log.source, tornTails: log.tornTails, ...result });
  else write(context, [...formatVerify(result, log.source, context.style), ...log.tornTails.map((torn) => `note      torn tail at byte ${torn.offset} of ${torn.file} (not an error)`)]);
  return result.failure === null ? EXIT.ok : EXIT.violated;
}

function runFirstBad(context: Context, log: LoadedLog): number {
  const showData = context.options.showData === true;
  const report = findFirstBad(log, context.queues);
  if (context.options.json) writeJson(context, firstBadJson(report, showData));
  else write(context, formatFirstBad(report, log, showData, context.style));
  return report.verify.failure === null ? EXIT.ok : EXIT.violated;
}

async function runExec(context: Context, log: LoadedLog, mountpoint: string): Promise<number> {
  const { options } = context;
  const point = options.until ?? options.at;
  const option = options.until !== undefined ? '--until' : '--at';
  const untilSeq = point === undefined ? lastSeq(log) : seqOfPoint(log, option, parsePoint(option, point));
  const result = await execLog(log, { mountpoint, untilSeq });
  if (options.json) writeJson(context, { ok: !isDifferent(result), source: log.source, ...result });
  else write(context, formatExec(result, log.source, context.style));
  return isDifferent(result) ? EXIT.violated : EXIT.ok;
}

async function runSalvage(context: Context, out: string): Promise<number> {
  const plan = await planSalvage(context.source, context.stdinBytes);
  const written = await writeSalvage(plan, out);
  if (context.options.json) {
    const { pieces, ...rest } = plan;
    writeJson(context, { ok: true, intact: isIntact(plan), out, written, ...rest, bytes: pieces.reduce((sum, piece) => sum + piece.bytes.length, 0) });
  } else {
    write(context, formatSalvage(plan, out, context.style));
  }
  return EXIT.ok;
}

async function reportError(context: Context, error: unknown): Promise<number> {
  let code: number | null = exitCodeOf(error);
  if (error instanceof ApplyError) code = EXIT.violated; // e.g. --at past an event that cannot apply
  if (code === null) {
    warn(context, `internal error: ${error instanceof Error ? error.stack : String(error)}`);
    code = EXIT_INTERNAL;
  }
  const message = errorMessage(error);
  warn(context, message);
  const plan = error instanceof LogCorruptError ? await planSalvage(context.source, context.stdinBytes).catch(() => null) : null;
  const hint = plan === null ? null : salvageHint(context, plan);
  if (hint !== null) warn(context, hint);
  if (code === EXIT.usage) warn(context, "see 'eventfs-replay --help'");
  if (context.options.json) {
    const kind = error instanceof Error ? error.name : 'Error';
    const damage = plan === null ? {} : { valid: plan.kept, dropped: plan.dropped, droppedEvents: plan.droppedEvents };
    writeJson(context, { ok: false, exitCode: code, error: { kind, message, ...(hint === null ? {} : { hint }) }, ...damage });
  } else if (error instanceof LogCorruptError && isSummaryMode(context.options)) {
    write(context, corruptionSummary(context, error, plan));
  }
  return code;
}

const isSummaryMode = (options: Options): boolean =>
  !options.events && !options.verify && !options.firstBad && options.exec === undefined && options.salvage === undefined && options.at === undefined && options.until === undefined;

/** What --salvage would keep, so the error message says whether salvage is worth it. */
function salvageHint(context: Context, plan: SalvagePlan): string {
  const kept = plan.kept === null ? 'no events' : `seq ${plan.kept.firstSeq}..${plan.kept.lastSeq}`;
  return `the valid prefix holds ${kept}; \`eventfs-replay --salvage OUT ${context.source}\` writes it and lists what is dropped`;
}

/** The summary of a corrupt log: where the damage is and what is readable around it. */
function corruptionSummary(context: Context, error: LogCorruptError, plan: SalvagePlan | null): string[] {
  const { style } = context;
  const label = (name: string): string => style.bold(name.padEnd(9));
  const lines = [
    `${label('log')} ${context.source}`,
    `${label('corrupt')} ${style.red(`at byte ${error.offset}`)} of ${error.file}: ${error.reason}`,
  ];
  if (plan === null) return lines;
  const range = (r: { firstSeq: number; lastSeq: number; count: number }): string => `seq ${r.firstSeq}..${r.lastSeq} (${plural(r.count, 'event')})`;
  lines.push(`${label('valid')} ${plan.kept === null ? 'no events' : range(plan.kept)} before the damage: --salvage OUT keeps them`);
  if (plan.droppedEvents !== null) lines.push(`${label('after')} ${range(plan.droppedEvents)} readable after the damage, dropped by --salvage`);
  return lines;
}
