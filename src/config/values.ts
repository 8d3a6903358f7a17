// Parsers for the values of config keys. They take what ini.parse() produced (a string, or
// true/false/null for those words and for a bare key, or an array for `key[]`) and return a
// value or a reason; the loader adds file, line and key to the reason.

/** A parsed value, or why the text is not one. */
export type ValueResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** Counts are plain integers; byte sizes may carry a binary suffix. */
export type LimitUnit = 'count' | 'bytes';

const COUNT_EXPECTED = "expected a non-negative integer or 'unlimited'";
const BYTES_EXPECTED = "expected a non-negative integer with an optional K, M, G or T suffix (powers of 1024), or 'unlimited'";
const COUNT_PATTERN = /^(\d+)$/;
const BYTES_PATTERN = /^(\d+)([KMGT]?)$/;
const BYTES_PER_SUFFIX: Readonly<Record<string, number>> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

// Linux reserves (uid_t)-1 to mean "no id", so the largest usable id is one less.
const ACCOUNT_ID_MAX = 2 ** 32 - 2;

/**
 * Parses a limit: a non-negative integer, `unlimited` (null), and for bytes a K/M/G/T suffix.
 * @example parseLimit('512M', 'bytes') // {ok: true, value: 536870912}
 */
export function parseLimit(raw: unknown, unit: LimitUnit): ValueResult<number | null> {
  const expected = unit === 'bytes' ? BYTES_EXPECTED : COUNT_EXPECTED;
  if (Array.isArray(raw)) return fail(`a list is not allowed here; ${expected}`);
  const text = String(raw);
  if (text === '') return fail(`empty value; ${expected}`);
  if (text === 'unlimited') return { ok: true, value: null };
  const match = (unit === 'bytes' ? BYTES_PATTERN : COUNT_PATTERN).exec(text);
  if (match === null) return fail(`${describeBadNumber(text, unit)}; ${expected}`);
  const value = Number(match[1]) * BYTES_PER_SUFFIX[match[2] ?? '']!;
  if (!Number.isSafeInteger(value)) {
    return fail(`value '${text}' is too large; the largest allowed is ${Number.MAX_SAFE_INTEGER}`);
  }
  return { ok: true, value };
}

function describeBadNumber(text: string, unit: LimitUnit): string {
  if (/^-\s*\d/.test(text)) return `negative value '${text}'`;
  if (/^\+?\d*\.\d/.test(text)) return `fractional value '${text}'`;
  if (unit === 'bytes' && /^\d+[A-Za-z]+$/.test(text)) return `unknown size suffix in '${text}'`;
  return `not a number: '${text}'`;
}

/** Parses `true` or `false` (ini has already turned those words, and a bare key, into booleans). */
export function parseFlag(raw: unknown): ValueResult<boolean> {
  if (typeof raw === 'boolean') return { ok: true, value: raw };
  return fail(`expected 'true' or 'false', got '${String(raw)}'`);
}

/** Parses a path: any non-empty string. */
export function parsePath(raw: unknown): ValueResult<string> {
  if (typeof raw === 'string' && raw !== '') return { ok: true, value: raw };
  return fail(`expected a directory path, got '${String(raw)}'`);
}

/** What a quota file applies to. */
export type AccountKind = 'user' | 'group';

/** Looks a user or group name up; undefined when there is no such account. May throw. */
export type AccountLookup = (name: string) => number | undefined;

/**
 * Parses `user=` or `group=`: all digits is a numeric id (used as is, like chown's `+1000`, since
 * ids without a passwd entry are normal in containers), anything else a name to look up.
 */
export function parseAccount(raw: unknown, kind: AccountKind, lookup: AccountLookup): ValueResult<number> {
  const idName = kind === 'user' ? 'uid' : 'gid';
  if (typeof raw !== 'string' || raw === '') {
    return fail(`expected a ${kind} name or a numeric ${idName}, got '${String(raw)}'`);
  }
  if (/^\d+$/.test(raw)) {
    const id = Number(raw);
    if (id > ACCOUNT_ID_MAX) return fail(`${idName} ${raw} is out of range (0 to ${ACCOUNT_ID_MAX})`);
    return { ok: true, value: id };
  }
  return lookupAccount(raw, kind, lookup);
}

function lookupAccount(name: string, kind: AccountKind, lookup: AccountLookup): ValueResult<number> {
  let id: number | undefined;
  try {
    id = lookup(name);
  } catch (error) {
    return fail(`cannot look up ${kind} '${name}': ${error instanceof Error ? error.message : String(error)}`);
  }
  if (id === undefined) return fail(`unknown ${kind} '${name}'`);
  return { ok: true, value: id };
}

function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}
