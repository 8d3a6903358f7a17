// Colour with meaning, or none at all: a terminal without colour, NO_COLOR, a pipe and --once
// get plain text (components then pass no style props, so Ink writes no escape codes).
import type { TextProps } from 'ink';

export type Theme = { isColor: boolean; isUnicode: boolean };

export const plainTheme: Theme = Object.freeze({ isColor: false, isUnicode: false });

export type Tone = 'title' | 'good' | 'warn' | 'bad' | 'info' | 'muted' | 'heading' | 'selected' | 'replay';

const tones: Record<Tone, TextProps> = {
  title: { bold: true },
  good: { color: 'green' },
  warn: { color: 'yellow' },
  bad: { color: 'red', bold: true },
  info: { color: 'cyan' },
  muted: { dimColor: true },
  heading: { bold: true, inverse: true },
  selected: { inverse: true },
  replay: { color: 'magenta' },
};

export function paint(theme: Theme, tone: Tone | null): TextProps {
  return theme.isColor && tone !== null ? tones[tone] : {};
}

// Colour for this environment: https://no-color.org (any non-empty NO_COLOR), a TTY, and a
// terminal that is not "dumb". FORCE_COLOR=0 also turns it off, as chalk reads it.
export function themeFor(env: NodeJS.ProcessEnv, isTty: boolean): Theme {
  const isColor = isTty && !env.NO_COLOR && env.TERM !== 'dumb' && env.FORCE_COLOR !== '0';
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || '';
  return { isColor, isUnicode: /utf-?8/i.test(locale) };
}
