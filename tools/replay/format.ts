/**
 * Shared formatting for eventfs-replay: safe escaping of user-chosen names and message bytes,
 * times, sizes, modes, aligned columns, colour (only on a TTY, never with NO_COLOR) and JSON.
 */

/** Colour is a property of the output, decided once; every formatter takes a Style. */
export type Style = {
  bold: (text: string) => string;
  dim: (text: string) => string;
  red: (text: string) => string;
  green: (text: string) => string;
  yellow: (text: string) => string;
  blue: (text: string) => string;
  magenta: (text: string) => string;
  cyan: (text: string) => string;
};

const sgr = (code: number) => (text: string): string => `\x1b[${code}m${text}\x1b[0m`;
const plain = (text: string): string => text;

export const PLAIN: Style = { bold: plain, dim: plain, red: plain, green: plain, yellow: plain, blue: plain, magenta: plain, cyan: plain };
export const COLOUR: Style = {
  bold: sgr(1), dim: sgr(2), red: sgr(31), green: sgr(32), yellow: sgr(33), blue: sgr(34), magenta: sgr(35), cyan: sgr(36),
};

/** https://no-color.org: any non-empty NO_COLOR turns colour off; so does a non-TTY stdout. */
export function styleFor(isTTY: boolean | undefined, env: Record<string, string | undefined>): Style {
  const noColour = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  return isTTY === true && !noColour ? COLOUR : PLAIN;
}

// Characters a terminal might act on or that hide text: C0/C1 controls, DEL, format characters
// (bidi overrides, zero-width), line/paragraph separators, private use, unassigned, surrogates.
const UNSAFE_CHAR = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}\p{Cs}]/u;
const SHORT_ESCAPES: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r', '\\': '\\\\', '"': '\\"' };

function escapeChar(char: string): string {
  const short = SHORT_ESCAPES[char];
  if (short !== undefined) return short;
  if (!UNSAFE_CHAR.test(char)) return char;
  const code = char.codePointAt(0)!;
  return code <= 0xff ? `\\x${hex2(code)}` : `\\u{${code.toString(16)}}`;
}

const hex2 = (byte: number): string => byte.toString(16).padStart(2, '0');

/**
 * A string as it may be printed on a terminal: printable characters as they are, everything else
 * escaped, so a queue named "\x1b[2J" cannot clear the screen. Always quoted with `quote`.
 */
export function escapeText(text: string, quote = false): string {
  let out = '';
  for (const char of text) out += escapeChar(char);
  return quote ? `"${out}"` : out;
}

/** A name in human output: bare when it is plain (no spaces, quotes or escapes), else quoted. */
export function showName(name: string): string {
  const escaped = escapeText(name);
  return escaped === name && name !== '' && !/[\s"'/]/.test(name) ? name : `"${escaped}"`;
}

/** The length in bytes of the UTF-8 sequence starting at `at`, or 0 when it is not valid there. */
function utf8SequenceBytes(bytes: Buffer, at: number): number {
  const lead = bytes[at]!;
  const length = lead < 0x80 ? 1 : lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
  if (length === 0 || at + length > bytes.length) return 0;
  for (let i = 1; i < length; i++) if ((bytes[at + i]! & 0xc0) !== 0x80) return 0;
  // Overlong forms, surrogates and code points past U+10FFFF decode to U+FFFD: invalid bytes.
  const isReplacement = length === 3 && bytes[at] === 0xef && bytes[at + 1] === 0xbf && bytes[at + 2] === 0xbd;
  return bytes.toString('utf8', at, at + length).includes('\ufffd') && !isReplacement ? 0 : length;
}

/**
 * Message bytes as a quoted, terminal-safe string: valid UTF-8 stays readable, invalid bytes are
 * `\xHH`, controls are escaped. `bytesMax` cuts long data and says how much was left out.
 */
export function escapeBytes(data: Buffer, bytesMax = Infinity): string {
  const end = Math.min(data.length, bytesMax);
  let out = '';
  let at = 0;
  while (at < end) {
    const length = utf8SequenceBytes(data, at);
    if (length === 0) {
      out += `\\x${hex2(data[at]!)}`;
      at += 1;
      continue;
    }
    out += escapeChar(data.toString('utf8', at, at + length));
    at += length;
  }
  const rest = data.length - at;
  return rest > 0 ? `"${out}"... (${rest} more bytes)` : `"${out}"`;
}

export const isoTime = (ms: number): string => (Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms));

/** A duration for people: "950 ms", "12.5 s", "3 min 4 s", "2 h 5 min", "3 d 4 h". */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${Number(seconds.toFixed(1))} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.floor(seconds % 60)} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** "0644": octal permission bits as `stat -c %a` users read them, with a leading zero. */
export const octal = (mode: number): string => `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;

export const plural = (count: number, one: string, many = `${one}s`): string => `${count} ${count === 1 ? one : many}`;

/** Bytes for people: exact below 10 KiB, else one decimal in KiB/MiB/GiB. */
export function bytesText(bytes: number): string {
  if (bytes < 10 * 1024) return plural(bytes, 'byte');
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

export type Align = 'left' | 'right';

/**
 * Aligned columns. Widths come from the plain text (cells are escaped before they get here, and
 * colour is applied to the padded cell), so the table lines up with and without colour.
 */
export function table(header: string[], rows: string[][], align: Align[], style: Style = PLAIN): string[] {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells.map((cell, i) => (align[i] === 'right' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  return [style.dim(line(header)), ...rows.map(line)];
}

/**
 * Plain JSON for scripts: Buffers become {base64}, Maps become arrays of pairs; everything else
 * is as JSON.stringify makes it. One value a line (JSON Lines) unless `pretty`.
 */
export function toJson(value: unknown, pretty = false): string {
  return JSON.stringify(jsonValue(value), null, pretty ? 2 : undefined);
}

export function jsonValue(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return { base64: value.toString('base64') };
  if (value instanceof Uint8Array) return { base64: Buffer.from(value).toString('base64') };
  if (value instanceof Map) return [...value.entries()].map(([key, item]) => [jsonValue(key), jsonValue(item)]);
  if (Array.isArray(value)) return value.map(jsonValue);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) if (item !== undefined) out[key] = jsonValue(item);
    return out;
  }
  return value;
}
