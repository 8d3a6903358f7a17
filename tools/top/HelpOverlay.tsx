// The keys, and what the colours and columns mean. Any key closes it.
import { Box, Text } from 'ink';
import { fit } from './format.ts';
import { paint, type Theme } from './theme.ts';

type Props = { height: number; width: number; theme: Theme };

export const HELP_LINES: readonly string[] = [
  'q            quit',
  'up/down j/k  select a queue (PgUp/PgDn, g/G: page, first, last)',
  'Enter        queue detail: messages oldest first, recent events (Esc: back)',
  '/            filter queues by name (Enter: apply, Esc: cancel; Esc later: clear)',
  's            sort by the next column: queue, depth, bytes, enq/s, deq/s, head age',
  'p            pause or resume the display (the log is still read meanwhile)',
  '?            this help (any key closes it)',
  '',
  'S: sticky (outlives its creator).  HEAD: age of the oldest message (since its last write).',
  'DEPTH: yellow = growing (more enqueues than dequeues), red = head older than a minute.',
  'Rates are per second over the last 5 s of event time; the history is one bar per second.',
  'live: the daemon holding the LOCK runs; idle: no event for 5 s; gone: final state.',
];

export function HelpOverlay({ height, width, theme }: Props) {
  return (
    <Box flexDirection="column">
      <Text wrap="truncate" {...paint(theme, 'heading')}>{fit('HELP: keys', width)}</Text>
      {HELP_LINES.slice(0, Math.max(0, height - 1)).map((line, i) => <Text key={i} wrap="truncate">{fit(line, width)}</Text>)}
    </Box>
  );
}
