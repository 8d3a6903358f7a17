// The newest events, oldest at the top, one line each: time, type, queue/name, detail, caller.
import { Box, Text } from 'ink';
import type { StreamEntry } from './describe.ts';
import { fit, formatClock } from './format.ts';
import { paint, type Theme, type Tone } from './theme.ts';

type Props = { entries: StreamEntry[]; height: number; width: number; title: string; theme: Theme };

const TIME = 12;
const TYPE = 13;
const WHO = 12;

function typeTone(type: StreamEntry['type']): Tone | null {
  if (type === 'queueReaped') return 'bad';
  if (type === 'queueCreated' || type === 'fileCreated' || type === 'linkCreated') return 'good';
  if (type === 'entryRemoved' || type === 'queueRemoved') return 'warn';
  return 'muted';
}

// Column widths: queue/name gets about 60% of what time, type and pid/uid leave.
function columns(width: number): { where: number; detail: number } {
  const rest = Math.max(0, width - TIME - 1 - TYPE - 1 - WHO - 1);
  const where = Math.max(8, Math.floor(rest * 0.6));
  return { where, detail: Math.max(0, rest - where - 1) };
}

export function streamHeading(title: string, width: number): string {
  const { where, detail } = columns(width);
  return fit(`${fit(title, TIME)} ${fit('TYPE', TYPE)} ${fit('QUEUE/NAME', where)} ${fit('DETAIL', detail)} ${fit('PID/UID', WHO, 'right')}`, width);
}

export function streamLine(entry: StreamEntry, width: number): { time: string; type: string; rest: string } {
  const place = entry.queue === null ? '-' : entry.name === null ? entry.queue : `${entry.queue}/${entry.name}`;
  const { where, detail } = columns(width);
  const rest = `${fit(place, where)} ${fit(entry.detail, detail)} ${fit(`${entry.pid}/${entry.uid}`, WHO, 'right')}`;
  return { time: formatClock(entry.t), type: fit(entry.type, TYPE), rest: fit(rest, Math.max(0, width - TIME - 1 - TYPE - 1)) };
}

export function EventStream({ entries, height, width, title, theme }: Props) {
  const shown = height <= 0 ? [] : entries.slice(-height);
  return (
    <Box flexDirection="column">
      <Text wrap="truncate" {...paint(theme, 'heading')}>{streamHeading(title, width)}</Text>
      {shown.map((entry) => {
        const line = streamLine(entry, width);
        return (
          <Text key={entry.seq} wrap="truncate">
            <Text {...paint(theme, 'muted')}>{line.time}</Text> <Text {...paint(theme, typeTone(entry.type))}>{line.type}</Text> {line.rest}
          </Text>
        );
      })}
    </Box>
  );
}
