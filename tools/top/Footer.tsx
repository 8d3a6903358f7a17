// The last line: the keys, and the sort and filter in force; the filter prompt while typing one.
import { Text } from 'ink';
import { FilterPrompt } from './FilterPrompt.tsx';
import { fit } from './format.ts';
import { paint, type Theme } from './theme.ts';
import type { UiState } from './ui.ts';

type Props = { ui: UiState; width: number; theme: Theme };

export function Footer({ ui, width, theme }: Props) {
  if (ui.draft !== null) return <FilterPrompt draft={ui.draft} width={width} theme={theme} />;
  const keys = ui.detailQueue !== null ? 'Esc back  p pause  ? help  q quit' : 'q quit  j/k select  Enter detail  / filter  s sort  p pause  ? help';
  const state = [`sort: ${ui.sortKey}`, ...(ui.filter === '' ? [] : [`filter: ${ui.filter}`])].join('  ');
  const gap = Math.max(1, width - keys.length - state.length);
  return (
    <Text wrap="truncate">
      <Text {...paint(theme, 'muted')}>{keys}</Text>
      {' '.repeat(gap)}
      <Text {...paint(theme, ui.filter === '' ? 'muted' : 'warn')}>{fit(state, Math.max(0, width - keys.length - gap))}</Text>
    </Text>
  );
}
