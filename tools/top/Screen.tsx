// One frame: header, then the table and stream, the queue detail or the help, then the footer.
// Presentational (no hooks): App renders it live, `--once` renders it to a string.
import { Box } from 'ink';
import { EventStream } from './EventStream.tsx';
import { Footer } from './Footer.tsx';
import { Header } from './Header.tsx';
import { HelpOverlay } from './HelpOverlay.tsx';
import { screenLayout } from './layout.ts';
import { QueueDetail } from './QueueDetail.tsx';
import { QueueTable } from './QueueTable.tsx';
import type { Theme } from './theme.ts';
import { rowWindow, selectedIndex, visibleRows, type UiState } from './ui.ts';
import type { TopView } from './view.ts';

type Props = { view: TopView; ui: UiState; rows: number | null; width: number; theme: Theme };

export const STREAM_TITLE = 'EVENTS';

export function Screen({ view, ui, rows, width, theme }: Props) {
  const shown = visibleRows(view.rows, ui);
  const layout = screenLayout(rows, shown.length, view.header.problems.length);
  const selected = selectedIndex(ui, shown.map((row) => row.name));
  const window = rowWindow(shown.length, selected, layout.tableRows);
  return (
    <Box flexDirection="column" width={width}>
      <Header header={view.header} width={width} theme={theme} isPaused={ui.isPaused} />
      {ui.isHelp ? <HelpOverlay height={layout.bodyRows} width={width} theme={theme} /> : null}
      {!ui.isHelp && ui.detailQueue !== null && view.detail !== null ? (
        <QueueDetail detail={view.detail} height={layout.bodyRows} width={width} theme={theme} />
      ) : null}
      {!ui.isHelp && ui.detailQueue === null ? (
        <>
          <QueueTable rows={shown} selected={selected} start={window.start} height={layout.tableRows} width={width} sortKey={ui.sortKey} theme={theme} />
          <EventStream entries={view.stream} height={layout.streamRows} width={width} title={STREAM_TITLE} theme={theme} />
        </>
      ) : null}
      <Footer ui={ui} width={width} theme={theme} />
    </Box>
  );
}
