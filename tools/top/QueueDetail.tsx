// One queue in full: its owner and settings, its messages oldest first, and its recent events.
import { Box, Text } from 'ink';
import { EventStream } from './EventStream.tsx';
import { fit, formatAge, formatBytes, formatRate } from './format.ts';
import { paint, type Theme } from './theme.ts';
import type { DetailView } from './view.ts';

type Props = { detail: DetailView; height: number; width: number; theme: Theme };

const SIZE = 7;
const AGE = 7;
const LINKS = 5;

function summary(detail: DetailView): string[] {
  const row = detail.row;
  if (row === null) return [`QUEUE ${detail.name} is gone (removed or reaped)`, 'its last events are below'];
  return [
    `QUEUE ${row.name}  ${row.user}/${row.pid} (uid ${row.uid})  mode ${detail.mode.toString(8).padStart(4, '0')}  ${row.isSticky ? 'sticky' : 'not sticky'}  start ${detail.creatorStart}`,
    `depth ${row.depth}  bytes ${formatBytes(row.bytes)}  enqueues ${formatRate(row.enqueuesPerSecond)}/s  dequeues ${formatRate(row.dequeuesPerSecond)}/s  head age ${row.headAgeMs === null ? '-' : formatAge(row.headAgeMs)}`,
  ];
}

// Rows below the summary: the messages heading, half the rest for messages (one of them a
// "... N more" line when they do not all fit), the events title, the rest for events.
export function detailRows(detail: DetailView, height: number, summaryLines: number): { messages: number; isMore: boolean; events: number } {
  const available = Math.max(0, height - summaryLines - 2);
  const half = Math.max(1, Math.ceil(available / 2));
  const isMore = detail.messagesTotal > half;
  const messages = Math.max(0, Math.min(detail.messages.length, isMore ? half - 1 : half));
  return { messages, isMore, events: Math.max(0, available - Math.max(1, messages + (isMore ? 1 : 0))) };
}

export function QueueDetail({ detail, height, width, theme }: Props) {
  const lines = summary(detail);
  // Too short for lists: the summary alone, as much as fits.
  if (height < lines.length + 4) return <Box flexDirection="column">{lines.slice(0, height).map((line, i) => <Text key={i} wrap="truncate">{fit(line, width)}</Text>)}</Box>;
  const rows = detailRows(detail, height, lines.length);
  const messageRows = rows.messages;
  const eventRows = rows.events;
  const nameWidth = Math.max(8, width - 2 - SIZE - AGE - LINKS - 3);
  return (
    <Box flexDirection="column">
      {lines.map((line, i) => <Text key={i} wrap="truncate" {...paint(theme, i === 0 ? 'title' : null)}>{fit(line, width)}</Text>)}
      <Text wrap="truncate" {...paint(theme, 'heading')}>
        {fit(`  ${fit('MESSAGES (oldest first)', nameWidth)} ${fit('SIZE', SIZE, 'right')} ${fit('AGE', AGE, 'right')} ${fit('LINKS', LINKS, 'right')}`, width)}
      </Text>
      {detail.messages.length === 0 ? <Text {...paint(theme, 'muted')}>  (empty)</Text> : null}
      {detail.messages.slice(0, messageRows).map((message) => (
        <Text key={message.name} wrap="truncate">
          {'  '}{fit(message.name, nameWidth)} {fit(formatBytes(message.bytes), SIZE, 'right')} {fit(formatAge(message.ageMs), AGE, 'right')}{' '}
          <Text {...paint(theme, message.links > 1 ? 'info' : null)}>{fit(String(message.links), LINKS, 'right')}</Text>
        </Text>
      ))}
      {rows.isMore ? (
        <Text {...paint(theme, 'muted')}>{`  ... ${detail.messagesTotal - messageRows} more`}</Text>
      ) : null}
      <EventStream entries={detail.events} height={eventRows} width={width} title="RECENT" theme={theme} />
    </Box>
  );
}
