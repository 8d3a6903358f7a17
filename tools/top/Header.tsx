// Two lines of totals and the daemon's status, then any problems (a stalled tail, a fold error).
import { Box, Text } from 'ink';
import { fit, formatAge, formatBytes, formatClock, formatCount, formatRate, formatUptime } from './format.ts';
import { PROBLEM_LINES_MAX } from './layout.ts';
import { paint, type Theme, type Tone } from './theme.ts';
import type { HeaderView } from './view.ts';

type Props = { header: HeaderView; width: number; theme: Theme; isPaused: boolean };

const clock = (ms: number | null): string => (ms === null ? '-' : formatClock(ms).slice(0, 8));

// The daemon's state in a few words; a log that can no longer change says it shows the end.
export function statusOf(header: HeaderView): { label: string; tone: Tone } {
  const { daemon } = header;
  const idleMs = header.lastEventMs === null ? null : header.nowMs - header.lastEventMs;
  switch (daemon.kind) {
    case 'live': return header.isIdle
      ? { label: `idle${idleMs === null ? '' : ` ${formatAge(idleMs)}`} (daemon ${daemon.pid})`, tone: 'warn' }
      : { label: `live (daemon ${daemon.pid})`, tone: 'good' };
    case 'gone': return { label: `daemon gone${daemon.pid === null ? '' : ` (${daemon.pid})`}: final state at ${clock(header.lastEventMs)}`, tone: 'bad' };
    case 'replay': return daemon.isFinished
      ? { label: `replay done: final state at ${clock(header.lastEventMs)}`, tone: 'replay' }
      : { label: `replay x${daemon.speed} at ${clock(header.lastEventMs)}`, tone: 'replay' };
    case 'file': return { label: `log file: final state at ${clock(header.lastEventMs)}`, tone: 'info' };
    case 'waiting': return { label: 'waiting for the log', tone: 'warn' };
  }
}

// Line 1 puts the status first (what matters most at 80 columns); the mount id may be cut.
export function Header({ header, width, theme, isPaused }: Props) {
  const status = statusOf(header);
  const title = 'eventfs-top  ';
  const paused = isPaused ? '[PAUSED] ' : '';
  const label = fit(status.label, Math.max(0, width - title.length - paused.length)).trimEnd();
  const up = header.startMs === null ? '' : `  up ${formatUptime(header.nowMs - header.startMs)}`;
  const mount = header.mountId === null ? '' : `  mount ${header.mountId.slice(0, 12)}`;
  const rest = fit(`${up}${mount}`, Math.max(0, width - title.length - paused.length - label.length));
  const totals = [
    `events ${formatCount(header.totalEvents)} (${formatRate(header.eventsPerSecond)}/s)`,
    `log ${formatBytes(header.logBytes)}`,
    `queues ${formatCount(header.queues)}`,
    `messages ${formatCount(header.messages)}`,
    `bytes ${formatBytes(header.bytes)}`,
    `reaps ${formatCount(header.reaps)}`,
  ].join('  ');
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">
        <Text {...paint(theme, 'title')}>{title}</Text>
        {isPaused ? <Text {...paint(theme, 'warn')}>{paused}</Text> : null}
        <Text {...paint(theme, status.tone)}>{label}</Text>
        {rest.trimEnd()}
      </Text>
      <Text wrap="truncate">{fit(totals, width).trimEnd()}</Text>
      {header.problems.slice(0, PROBLEM_LINES_MAX).map((problem, i) => (
        <Text key={i} wrap="truncate" {...paint(theme, 'bad')}>{fit(`! ${problem}`, width).trimEnd()}</Text>
      ))}
    </Box>
  );
}
