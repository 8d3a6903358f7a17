// Line numbers for INI files, and the layout check that needs them.
//
// The `ini` package parses values but reports no line numbers, so this file classifies each line
// of the text itself, with the same patterns ini v5's decode() uses and ini's own unsafe() to
// unquote names, so both always agree on which line is which section or key. Values are never
// read here: they come from ini.parse().

import ini from 'ini';
import { ConfigError } from './config-error.ts';

/** One meaningful line of an INI file (blank lines and comments are left out). */
export type IniLine =
  | { readonly kind: 'section'; readonly line: number; readonly name: string }
  | { readonly kind: 'key'; readonly line: number; readonly section: string | null; readonly key: string }
  | { readonly kind: 'malformed'; readonly line: number; readonly text: string };

/** What a file must look like: exactly one section name and the keys allowed in it. */
export type IniLayout = {
  readonly section: string;
  readonly keys: readonly string[];
};

// Copied from ini v5 lib/ini.js decode(): a comment or blank line, then `[section]` or `key[=value]`.
const SKIPPED_LINE = /^\s*[;#]|^\s*$/;
const SECTION_OR_KEY_LINE = /^\[([^\]]*)\]\s*$|^([^=]+)(=(.*))?$/i;

/**
 * Classifies every non-blank, non-comment line of `text`, numbering lines from 1.
 * @example indexIniLines('[a]\nk = 1') // [{kind: 'section', line: 1, name: 'a'}, {kind: 'key', line: 2, section: 'a', key: 'k'}]
 */
export function indexIniLines(text: string): IniLine[] {
  const lines: IniLine[] = [];
  let section: string | null = null;
  text.split(/\r\n|\r|\n/).forEach((lineText, index) => {
    const line = index + 1;
    if (SKIPPED_LINE.test(lineText)) return;
    const match = SECTION_OR_KEY_LINE.exec(lineText);
    if (match === null) {
      lines.push({ kind: 'malformed', line, text: lineText });
    } else if (match[1] !== undefined) {
      section = ini.unsafe(match[1]);
      lines.push({ kind: 'section', line, name: section });
    } else {
      lines.push({ kind: 'key', line, section, key: keyName(ini.unsafe(match[2]!)) });
    }
  });
  return lines;
}

// ini turns `key[]` into an array named `key`; name the key the way ini stores it.
function keyName(rawKey: string): string {
  return rawKey.length > 2 && rawKey.endsWith('[]') ? rawKey.slice(0, -2) : rawKey;
}

/** The line of `key` in `section`, or undefined if the file does not set it. */
export function lineOfKey(lines: readonly IniLine[], section: string, key: string): number | undefined {
  const found = lines.find((entry) => entry.kind === 'key' && entry.section === section && entry.key === key);
  return found?.line;
}

/**
 * Throws a ConfigError for the first line that breaks `layout`: a malformed line, a key outside
 * any section, a section other than `layout.section`, an unknown key or a key given twice (ini
 * would silently keep the last one). Then throws if the section is missing altogether.
 */
export function checkIniLayout(file: string, lines: readonly IniLine[], layout: IniLayout): void {
  const firstLineOfKey = new Map<string, number>();
  for (const entry of lines) {
    if (entry.kind === 'malformed') {
      throw new ConfigError({ file, line: entry.line }, `malformed line '${entry.text}'; expected 'key = value' or '[section]'`);
    }
    if (entry.kind === 'section') {
      checkSectionName(file, entry, layout);
      continue;
    }
    checkKeyName(file, entry, layout);
    const firstLine = firstLineOfKey.get(entry.key);
    if (firstLine !== undefined) {
      throw new ConfigError({ file, line: entry.line, key: entry.key }, `set twice (first on line ${firstLine})`);
    }
    firstLineOfKey.set(entry.key, entry.line);
  }
  if (!lines.some((entry) => entry.kind === 'section')) {
    throw new ConfigError({ file }, `missing section [${layout.section}]`);
  }
}

function checkSectionName(file: string, entry: IniLine & { kind: 'section' }, layout: IniLayout): void {
  if (entry.name === layout.section) return;
  throw new ConfigError({ file, line: entry.line }, `unknown section [${entry.name}]; expected [${layout.section}]`);
}

function checkKeyName(file: string, entry: IniLine & { kind: 'key' }, layout: IniLayout): void {
  const site = { file, line: entry.line, key: entry.key };
  // ini reads an indented `  [section]` as a key; say what is wrong instead of "unknown key".
  if (/^\[.*\]$/.test(entry.key)) {
    throw new ConfigError({ file, line: entry.line }, `indented section header '${entry.key}'; a section header must start the line`);
  }
  if (entry.section === null) {
    throw new ConfigError(site, `outside any section; put it under [${layout.section}]`);
  }
  if (!layout.keys.includes(entry.key)) {
    throw new ConfigError(site, `unknown key in [${layout.section}]; expected one of ${layout.keys.join(', ')}`);
  }
}
