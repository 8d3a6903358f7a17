// The filter being typed after '/'.
import { Text } from 'ink';
import { fit } from './format.ts';
import { paint, type Theme } from './theme.ts';

type Props = { draft: string; width: number; theme: Theme };

export function FilterPrompt({ draft, width, theme }: Props) {
  const prompt = 'filter: ';
  return (
    <Text wrap="truncate">
      <Text {...paint(theme, 'info')}>{prompt}</Text>
      {fit(`${draft}_`, Math.max(0, width - prompt.length - 28))}
      <Text {...paint(theme, 'muted')}>{'  Enter apply  Esc cancel'}</Text>
    </Text>
  );
}
