/** Human and JSON forms of --verify and --first-bad results (verify.ts computes them). */
import { columnsOf, eventLine, targetOf } from './events.ts';
import { plural, type Style } from './format.ts';
import type { LoadedLog } from './load.ts';
import { InodeNames, stateAt } from './replay.ts';
import type { FirstBad, Failure, VerifyResult } from './verify.ts';
import { formatState, stateJson } from './view.ts';

const label = (name: string, style: Style): string => style.bold(name.padEnd(9));

function failureLines(failure: Failure, style: Style): string[] {
  const indent = ' '.repeat(10);
  switch (failure.kind) {
    case 'apply': return [`${label('result', style)} ${style.red(`VIOLATED at seq ${failure.seq}`)}: the event cannot apply`, `${indent}${failure.reason}`];
    case 'invariant': return [
      `${label('result', style)} ${style.red(`VIOLATED after seq ${failure.seq}`)}: ${plural(failure.violations.length, 'invariant')} failed`,
      ...failure.violations.map((violation) => `${indent}${violation}`),
    ];
    case 'checkpoint': return [
      `${label('result', style)} ${style.red(`DIVERGED at seq ${failure.seq}`)}: the fold does not hash like the snapshot`,
      `${indent}snapshot ${failure.path}`,
      `${indent}recorded ${failure.recorded ?? '(no hash)'}`,
      `${indent}computed ${failure.computed}`,
      `${indent}the states matched at seq ${failure.lastGoodSeq}: the bad event is in seq ${failure.lastGoodSeq + 1}..${failure.seq}`,
    ];
  }
}

export function formatVerify(result: VerifyResult, source: string, style: Style): string[] {
  const range = result.lastSeq >= result.firstSeq ? `seq ${result.firstSeq}..${result.lastSeq}` : 'no events';
  const lines = [`${label('verify', style)} ${source}: ${range}, invariants checked after every event`];
  for (const checkpoint of result.checkpoints) {
    const verdict = checkpoint.matches ? style.green('matches') : style.red('differs');
    lines.push(`${label('snapshot', style)} seq ${checkpoint.seq} hash ${verdict} (${checkpoint.path})`);
  }
  if (result.failure !== null) return [...lines, ...failureLines(result.failure, style), `${label('next', style)} --first-bad shows the event and the states before and after it`];
  return [
    ...lines,
    `${label('result', style)} ${style.green('ok')}: ${plural(result.eventsChecked, 'event')} applied, every invariant holds`,
    `${label('hash', style)} ${result.stateHash}`,
  ];
}

export function formatFirstBad(report: FirstBad, log: LoadedLog, showData: boolean, style: Style): string[] {
  const failure = report.verify.failure;
  if (failure === null) return [...formatVerify(report.verify, log.source, style), `${label('first bad', style)} none`];
  const lines = failureLines(failure, style);
  if (report.record !== null) {
    const names = new InodeNames(stateAt(log, failure.seq - 1));
    const selected = { record: report.record, target: targetOf(report.record.event, names) };
    const title = failure.kind === 'checkpoint' ? 'the event at the diverging snapshot' : 'first bad event';
    lines.unshift(style.bold(title), ...eventLine(selected, columnsOf(log), showData, style), '');
  } else {
    lines.unshift(`${style.bold('the base state is bad')} (seq ${failure.seq}, before any event)`, '');
  }
  if (failure.kind === 'checkpoint') lines.push(...divergenceLines(report.divergence, style));
  if (report.before !== null) lines.push('', style.bold(`state before (seq ${report.before.seq})`), ...formatState(report.before, showData, style));
  if (report.after !== null) lines.push('', style.bold(`state after (seq ${report.after.seq})`), ...formatState(report.after, showData, style));
  else if (failure.kind === 'apply') lines.push('', style.bold('state after'), '(none: the event cannot apply)');
  return lines;
}

function divergenceLines(divergence: string[], style: Style): string[] {
  if (divergence.length === 0) return [`${label('states', style)} equal: only the hash recorded in the snapshot is wrong`];
  return divergence.map((difference, i) => `${label(i === 0 ? 'differs' : '', style)} ${difference}`);
}

export function firstBadJson(report: FirstBad, showData: boolean): unknown {
  return {
    ok: report.verify.failure === null,
    verify: report.verify,
    event: report.record === null ? null : { file: report.record.file, offset: report.record.offset, event: report.record.event },
    before: report.before === null ? null : stateJson(report.before, showData),
    after: report.after === null ? null : stateJson(report.after, showData),
    divergence: report.divergence,
  };
}
