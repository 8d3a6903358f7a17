// The queues, one per line: who owns them, how deep and busy they are, and how old their head is.
import { Box, Text } from 'ink';
import { fit, formatAge, formatBytes, formatCount, formatRate, sparkline } from './format.ts';
import { paint, type Theme, type Tone } from './theme.ts';
import type { SortKey } from './ui.ts';
import type { QueueRow } from './view.ts';

type Props = { rows: QueueRow[]; selected: number; start: number; height: number; width: number; sortKey: SortKey; theme: Theme };

type Cell = { text: string; width: number; align: 'left' | 'right'; tone: Tone | null };

const OWNER = 16;
const COUNT = 6;
const RATE = 5;
const SPARK_MAX = 20;
const NAME_MIN = 16;
// Everything but the name and the sparkline: marker, owner, sticky, depth, bytes, two rates, head
// age, and the spaces between them.
const FIXED = 2 + (1 + OWNER) + (1 + 1) + 2 * (1 + COUNT) + 2 * (1 + RATE) + (1 + COUNT);

// The name takes what is left; the sparkline shrinks first.
export function tableColumns(width: number): { name: number; spark: number } {
  const spark = Math.max(0, Math.min(SPARK_MAX, width - FIXED - NAME_MIN - 1));
  return { name: Math.max(NAME_MIN, width - FIXED - (spark > 0 ? spark + 1 : 0)), spark };
}

function cells(width: number, values: Record<'name' | 'owner' | 'sticky' | 'depth' | 'bytes' | 'enq' | 'deq' | 'history' | 'age', string>, tones: Partial<Record<string, Tone | null>> = {}): Cell[] {
  const { name, spark } = tableColumns(width);
  const cell = (key: keyof typeof values, size: number, align: 'left' | 'right'): Cell => ({ text: values[key], width: size, align, tone: tones[key] ?? null });
  return [
    cell('name', name, 'left'), cell('owner', OWNER, 'left'), cell('sticky', 1, 'left'),
    cell('depth', COUNT, 'right'), cell('bytes', COUNT, 'right'), cell('enq', RATE, 'right'), cell('deq', RATE, 'right'),
    ...(spark > 0 ? [cell('history', spark, 'left')] : []), cell('age', COUNT, 'right'),
  ];
}

function heading(width: number, sortKey: SortKey): string {
  const mark = (key: SortKey, text: string): string => (key === sortKey ? `${text}*` : text);
  const labels = cells(width, {
    name: mark('name', 'QUEUE'), owner: 'OWNER/PID', sticky: 'S', depth: mark('depth', 'DEPTH'), bytes: mark('bytes', 'BYTES'),
    enq: mark('enqueues', 'ENQ/s'), deq: mark('dequeues', 'DEQ/s'), history: 'HISTORY', age: mark('age', 'HEAD'),
  });
  return fit(`  ${labels.map((c) => fit(c.text, c.width, c.align)).join(' ')}`, width);
}

// Deep and growing is a warning; a head older than a minute is stuck.
function depthTone(row: QueueRow): Tone | null {
  if (row.headAgeMs !== null && row.headAgeMs > 60_000) return 'bad';
  if (row.enqueuesPerSecond > row.dequeuesPerSecond && row.depth > 0) return 'warn';
  return row.depth === 0 ? 'muted' : null;
}

function rowCells(row: QueueRow, width: number, theme: Theme): Cell[] {
  const { spark } = tableColumns(width);
  return cells(width, {
    name: row.name, owner: `${row.user}/${row.pid}`, sticky: row.isSticky ? 'S' : ' ',
    depth: formatCount(row.depth), bytes: formatBytes(row.bytes),
    enq: formatRate(row.enqueuesPerSecond), deq: formatRate(row.dequeuesPerSecond),
    history: sparkline(row.depthHistory.slice(-spark), !theme.isUnicode),
    age: row.headAgeMs === null ? '-' : formatAge(row.headAgeMs),
  }, { sticky: 'info', depth: depthTone(row), history: 'info' });
}

export function QueueTable({ rows, selected, start, height, width, sortKey, theme }: Props) {
  const shown = rows.slice(start, start + height);
  return (
    <Box flexDirection="column">
      <Text wrap="truncate" {...paint(theme, 'heading')}>{heading(width, sortKey)}</Text>
      {rows.length === 0 ? <Text {...paint(theme, 'muted')}>{'  (no queues)'}</Text> : null}
      {shown.map((row, i) => {
        const isSelected = start + i === selected;
        return (
          <Text key={row.name} wrap="truncate" {...paint(theme, isSelected ? 'selected' : null)}>
            {isSelected ? '> ' : '  '}
            {rowCells(row, width, theme).map((c, k) => (
              <Text key={k} {...paint(theme, c.tone)}>{k === 0 ? '' : ' '}{fit(c.text, c.width, c.align)}</Text>
            ))}
          </Text>
        );
      })}
    </Box>
  );
}
