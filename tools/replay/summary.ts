/**
 * The default mode: what a log is and what it folds to, the way `kafka-dump-log` and
 * `journalctl --header` open a file. Format version, mount id, events and their time span, torn
 * tails (reported, not errors), the queues at the end and the state hash.
 */
import { ApplyError } from '../../src/model/index.ts';
import { duration, isoTime, plural, type Style } from './format.ts';
import { baseSeq, lastSeq, type LoadedLog, type TornTailReport } from './load.ts';
import { stateAt } from './replay.ts';
import { queueTable, stateView, type QueueSummary } from './view.ts';

export type Summary = {
  source: string;
  kind: LoadedLog['kind'];
  files: string[];
  formatVersion: number;
  mountId: string | null;
  base: { kind: LoadedLog['base']['kind']; seq: number; path?: string };
  events: { count: number; firstSeq: number | null; lastSeq: number | null };
  time: { first: string; last: string; spanMs: number } | null;
  tornTails: TornTailReport[];
  checkpoints: number;
  notes: string[];
  /** The state at the end, or why there is none (an event that cannot apply, a missing base). */
  end: { seq: number; stateHash: string; queues: QueueSummary[] } | { error: string; seq: number | null };
};

export function summarize(log: LoadedLog, queues: ReadonlySet<string> | null): Summary {
  const first = log.records[0]?.event ?? null;
  const last = log.records.at(-1)?.event ?? null;
  const base = log.base.kind === 'snapshot' ? { kind: log.base.kind, seq: log.base.seq, path: log.base.path } : { kind: log.base.kind, seq: baseSeq(log) };
  return {
    source: log.source, kind: log.kind, files: log.files, formatVersion: log.formatVersion,
    mountId: log.mountId?.toString('hex') ?? null, base,
    events: { count: log.records.length, firstSeq: first?.seq ?? null, lastSeq: last?.seq ?? null },
    time: first === null || last === null ? null : { first: isoTime(first.t), last: isoTime(last.t), spanMs: last.t - first.t },
    tornTails: log.tornTails, checkpoints: log.checkpoints.length, notes: log.notes,
    end: summarizeEnd(log, queues),
  };
}

function summarizeEnd(log: LoadedLog, queues: ReadonlySet<string> | null): Summary['end'] {
  if (log.base.kind === 'missing') return { error: log.base.reason, seq: null };
  try {
    const view = stateView(stateAt(log, lastSeq(log)), queues);
    const summaries = view.queues.map(({ name, depth, bytes, owner, mode, sticky, creator }) => ({ name, depth, bytes, owner, mode, sticky, creator }));
    return { seq: view.seq, stateHash: view.hash, queues: summaries };
  } catch (error) {
    if (!(error instanceof ApplyError)) throw error;
    return { error: `${error.message}; run --first-bad for the event and the states around it`, seq: error.seq };
  }
}

const KIND_TEXT: Record<LoadedLog['kind'], string> = {
  file: 'segment file', stdin: 'segment from stdin', snapshot: 'snapshot file', dir: 'log directory',
};

const label = (name: string, style: Style): string => style.bold(name.padEnd(9));

export function formatSummary(summary: Summary, style: Style): string[] {
  const lines = [
    `${label('log', style)} ${summary.source} (${KIND_TEXT[summary.kind]}${summary.kind === 'dir' ? `: ${plural(summary.files.length, 'file')}` : ''})`,
    `${label('format', style)} version ${summary.formatVersion}, mount id ${summary.mountId ?? 'none'}`,
    `${label('base', style)} ${baseText(summary.base)}`,
    `${label('events', style)} ${eventsText(summary)}`,
  ];
  if (summary.time !== null) lines.push(`${label('time', style)} ${summary.time.first} .. ${summary.time.last} (${duration(summary.time.spanMs)})`);
  lines.push(...tailLines(summary.tornTails, style));
  if (summary.checkpoints > 0) lines.push(`${label('snapshots', style)} ${plural(summary.checkpoints, 'recorded hash', 'recorded hashes')} in range (check them with --verify)`);
  for (const note of summary.notes) lines.push(`${label('note', style)} ${note}`);
  return [...lines, ...endLines(summary.end, style)];
}

function baseText(base: Summary['base']): string {
  if (base.kind === 'empty') return 'empty state (seq 0)';
  if (base.kind === 'missing') return `missing: the state at seq ${base.seq} is not in this input`;
  return `snapshot at seq ${base.seq} (${base.path})`;
}

function eventsText(summary: Summary): string {
  const { count, firstSeq, lastSeq: last } = summary.events;
  return count === 0 ? '0 (nothing after the base)' : `${count}, seq ${firstSeq}..${last}`;
}

function tailLines(tornTails: TornTailReport[], style: Style): string[] {
  if (tornTails.length === 0) return [`${label('tail', style)} clean (no torn write, no corruption)`];
  return tornTails.flatMap((torn) => [
    `${label('tail', style)} ${style.yellow('torn')} at byte ${torn.offset} of ${torn.file}: ${plural(torn.bytesDropped, 'byte')} dropped`,
    `${' '.repeat(10)}(${torn.reason})`,
    `${' '.repeat(10)}not an error: the daemon died mid-write, before acknowledging it`,
  ]);
}

function endLines(end: Summary['end'], style: Style): string[] {
  if ('error' in end) return [`${label('state', style)} ${style.red('unknown')}: ${end.error}`];
  return [
    `${label('queues', style)} ${plural(end.queues.length, 'queue')} at seq ${end.seq}`,
    ...queueTable(end.queues, style),
    `${label('hash', style)} ${end.stateHash}`,
  ];
}
