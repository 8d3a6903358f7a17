// The live dashboard: the UI state, the keys, the terminal size and the flushed view.
import { useApp, useInput, useStdin } from 'ink';
import { useMemo, useState } from 'react';
import type { TopSource } from './follow.ts';
import { Screen } from './Screen.tsx';
import type { Theme } from './theme.ts';
import { pressKey, uiInitial, visibleRows, type UiState } from './ui.ts';
import { useTerminalSize } from './useTerminalSize.ts';
import { useTopView } from './useTopView.ts';

type Props = { source: TopSource; theme: Theme; flushMs: number };

export function App({ source, theme, flushMs }: Props) {
  const { exit } = useApp();
  const { isRawModeSupported } = useStdin();
  const size = useTerminalSize();
  const [ui, setUi] = useState<UiState>(uiInitial);
  const view = useTopView(source, ui.detailQueue, ui.isPaused, size.rows, flushMs);
  const names = useMemo(() => visibleRows(view.rows, ui).map((row) => row.name), [view.rows, ui.filter, ui.sortKey]);
  // useInput on a stdin without raw mode throws (PITFALLS 21): a pipe gets no keys.
  useInput((input, key) => {
    const next = pressKey(ui, input, key, names);
    if (next === 'quit') exit();
    else if (next !== ui) setUi(next);
  }, { isActive: isRawModeSupported === true });
  return <Screen view={view} ui={ui} rows={size.rows} width={size.columns} theme={theme} />;
}
