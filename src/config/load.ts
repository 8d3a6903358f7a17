// Loads the eventfs config (DESIGN.md, "Config") into a frozen QuotaTable, once, at mount time.
//
// Layout, compatible with the original eventfs:
//   eventfs.conf     [eventfs-config]  default_max_dirs, default_max_files, default_max_files_per_dir,
//                                      default_max_bytes, quotas, root_exempt   (all optional)
//   quotas/*.conf    [eventfs-quota]   exactly one of user= / group= (name or numeric id), and any of
//                                      max_dirs, max_files, max_files_per_dir, max_bytes
// Limits are non-negative integers or `unlimited`; byte limits may end in K, M, G or T (x1024).
// A key the config leaves out takes its built-in default from limits.ts, the one place defaults live.
//
// Every problem is a ConfigError whose one-line message names the file, the line and the key. The
// `ini` package parses the values; ini-layout.ts finds the lines, which ini does not report.
//
// Loading is synchronous: it runs once, before the mount exists, and nothing else is waiting.

import ini from 'ini';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { databaseLookup, GROUP_PATH, PASSWD_PATH } from './accounts.ts';
import { ConfigError, describeFsError, type ConfigSite } from './config-error.ts';
import { checkIniLayout, indexIniLines, lineOfKey, type IniLayout, type IniLine } from './ini-layout.ts';
import { BUILT_IN_LIMITS, BUILT_IN_QUOTA_TABLE, type Limits, type QuotaTable } from './limits.ts';
import {
  parseAccount,
  parseFlag,
  parseLimit,
  parsePath,
  type AccountKind,
  type AccountLookup,
  type LimitUnit,
  type ValueResult,
} from './values.ts';

export { ConfigError } from './config-error.ts';

/** The config read when `eventfs` is started without one; if it does not exist, built-in defaults apply. */
export const DEFAULT_CONFIG_PATH = '/etc/eventfs/eventfs.conf';

/** The I/O loadConfig does, injectable for tests. fs functions throw Node errno errors (`code`). */
export type ConfigDeps = {
  readonly readFile: (path: string) => string;
  readonly readDir: (path: string) => readonly string[];
  /** A user name's uid, or undefined. Defaults to a lookup in /etc/passwd through `readFile`. */
  readonly lookupUser: AccountLookup;
  /** A group name's gid, or undefined. Defaults to a lookup in /etc/group through `readFile`. */
  readonly lookupGroup: AccountLookup;
};

type LimitKey = { readonly key: string; readonly field: keyof Limits; readonly unit: LimitUnit };
type LimitOverride = { -readonly [Field in keyof Limits]?: Limits[Field] };

const CONFIG_LIMIT_KEYS: readonly LimitKey[] = [
  { key: 'default_max_dirs', field: 'maxDirs', unit: 'count' },
  { key: 'default_max_files', field: 'maxFiles', unit: 'count' },
  { key: 'default_max_files_per_dir', field: 'maxFilesPerDir', unit: 'count' },
  { key: 'default_max_bytes', field: 'maxBytes', unit: 'bytes' },
];
const QUOTA_LIMIT_KEYS: readonly LimitKey[] = [
  { key: 'max_dirs', field: 'maxDirs', unit: 'count' },
  { key: 'max_files', field: 'maxFiles', unit: 'count' },
  { key: 'max_files_per_dir', field: 'maxFilesPerDir', unit: 'count' },
  { key: 'max_bytes', field: 'maxBytes', unit: 'bytes' },
];
const CONFIG_LAYOUT: IniLayout = {
  section: 'eventfs-config',
  keys: [...CONFIG_LIMIT_KEYS.map((limit) => limit.key), 'quotas', 'root_exempt'],
};
const QUOTA_LAYOUT: IniLayout = {
  section: 'eventfs-quota',
  keys: ['user', 'group', ...QUOTA_LIMIT_KEYS.map((limit) => limit.key)],
};

/**
 * Reads the config at `configPath`, or without one `/etc/eventfs/eventfs.conf` if it exists, and
 * returns its deeply frozen quota table (the built-in defaults when there is no file at all).
 * Throws ConfigError, whose message is `FILE:LINE: key 'KEY': reason` or `FILE: reason`.
 * @example
 * const table = loadConfig(options.config); // options.config: string | undefined
 */
export function loadConfig(configPath: string | undefined, deps: Partial<ConfigDeps> = {}): QuotaTable {
  const io = withDefaultDeps(deps);
  if (configPath !== undefined) {
    return parseConfig(configPath, readTextFile(configPath, 'config file', io), io);
  }
  const text = readDefaultConfig(io);
  return text === undefined ? BUILT_IN_QUOTA_TABLE : parseConfig(DEFAULT_CONFIG_PATH, text, io);
}

function withDefaultDeps(deps: Partial<ConfigDeps>): ConfigDeps {
  const readFile = deps.readFile ?? ((file: string) => readFileSync(file, 'utf8'));
  return {
    readFile,
    readDir: deps.readDir ?? ((dir: string) => readdirSync(dir)),
    lookupUser: deps.lookupUser ?? databaseLookup(PASSWD_PATH, readFile),
    lookupGroup: deps.lookupGroup ?? databaseLookup(GROUP_PATH, readFile),
  };
}

// Only a missing default config means "use the built-in defaults"; one that exists but cannot
// be read is an error, because silently ignoring the admin's limits would be worse than failing.
function readDefaultConfig(io: ConfigDeps): string | undefined {
  try {
    return io.readFile(DEFAULT_CONFIG_PATH);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError({ file: DEFAULT_CONFIG_PATH }, `cannot read config file: ${describeFsError(error)}`);
  }
}

function readTextFile(file: string, what: string, io: ConfigDeps): string {
  try {
    return io.readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ConfigError({ file }, `${what} does not exist`);
    }
    throw new ConfigError({ file }, `cannot read ${what}: ${describeFsError(error)}`);
  }
}

function parseConfig(file: string, text: string, io: ConfigDeps): QuotaTable {
  const parsed = parseIniFile(file, text, CONFIG_LAYOUT);
  const defaults: Limits = { ...BUILT_IN_LIMITS, ...readLimits(parsed, CONFIG_LIMIT_KEYS) };
  const rootExempt = readValue(parsed, 'root_exempt', parseFlag) ?? BUILT_IN_QUOTA_TABLE.rootExempt;
  const quotas = readValue(parsed, 'quotas', parsePath);
  const overrides =
    quotas === undefined
      ? { users: {}, groups: {} }
      : loadQuotaDirectory(resolveQuotaDirectory(file, quotas), siteOf(parsed, 'quotas'), io);
  return freezeQuotaTable({ defaults, ...overrides, rootExempt });
}

// A relative `quotas` is relative to the directory of the config file, as in the original eventfs.
function resolveQuotaDirectory(configFile: string, quotas: string): string {
  if (path.isAbsolute(quotas)) return path.normalize(quotas);
  return path.join(path.dirname(configFile), quotas);
}

/** One INI file after its layout was checked: its lines (for line numbers) and its section's values. */
type ParsedIniFile = {
  readonly file: string;
  readonly section: string;
  readonly lines: readonly IniLine[];
  readonly values: Readonly<Record<string, unknown>>;
};

function parseIniFile(file: string, text: string, layout: IniLayout): ParsedIniFile {
  const lines = indexIniLines(text);
  checkIniLayout(file, lines, layout);
  const values = (ini.parse(text)[layout.section] ?? {}) as Record<string, unknown>;
  return { file, section: layout.section, lines, values };
}

function siteOf(parsed: ParsedIniFile, key: string): ConfigSite {
  return { file: parsed.file, line: lineOfKey(parsed.lines, parsed.section, key), key };
}

function readValue<T>(parsed: ParsedIniFile, key: string, parse: (raw: unknown) => ValueResult<T>): T | undefined {
  if (!Object.hasOwn(parsed.values, key)) return undefined;
  const result = parse(parsed.values[key]);
  if (!result.ok) throw new ConfigError(siteOf(parsed, key), result.reason);
  return result.value;
}

// Only the keys the file sets: an override must not carry `undefined` fields into the event log.
function readLimits(parsed: ParsedIniFile, limitKeys: readonly LimitKey[]): LimitOverride {
  const limits: LimitOverride = {};
  for (const { key, field, unit } of limitKeys) {
    const value = readValue(parsed, key, (raw) => parseLimit(raw, unit));
    if (value !== undefined) limits[field] = value;
  }
  return limits;
}

/** A parsed quota file: whom it limits and how. */
type QuotaFile = {
  readonly file: string;
  readonly kind: AccountKind;
  readonly account: string;
  readonly id: number;
  readonly line: number | undefined;
  readonly limits: LimitOverride;
};

type QuotaOverrides = {
  readonly users: Record<string, Partial<Limits>>;
  readonly groups: Record<string, Partial<Limits>>;
};

function loadQuotaDirectory(directory: string, site: ConfigSite, io: ConfigDeps): QuotaOverrides {
  const overrides: QuotaOverrides = { users: {}, groups: {} };
  const claimedBy = new Map<string, string>();
  for (const name of listQuotaFiles(directory, site, io)) {
    const file = path.join(directory, name);
    const quota = parseQuotaFile(file, readTextFile(file, 'quota file', io), io);
    claimAccount(claimedBy, quota);
    const table = quota.kind === 'user' ? overrides.users : overrides.groups;
    table[String(quota.id)] = quota.limits;
  }
  return overrides;
}

// Every `*.conf` except hidden files (editor locks such as `.#alice.conf`), in code-unit order
// so that the load order, and so which file an error names, is the same on every machine.
function listQuotaFiles(directory: string, site: ConfigSite, io: ConfigDeps): string[] {
  let names: readonly string[];
  try {
    names = io.readDir(directory);
  } catch (error) {
    throw new ConfigError(site, describeQuotaDirectoryError(directory, error));
  }
  return names.filter((name) => name.endsWith('.conf') && !name.startsWith('.')).sort();
}

function describeQuotaDirectoryError(directory: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `directory '${directory}' does not exist`;
  if (code === 'ENOTDIR') return `'${directory}' is not a directory`;
  return `cannot read directory '${directory}': ${describeFsError(error)}`;
}

function parseQuotaFile(file: string, text: string, io: ConfigDeps): QuotaFile {
  const parsed = parseIniFile(file, text, QUOTA_LAYOUT);
  const kind = readQuotaKind(parsed);
  const lookup = kind === 'user' ? io.lookupUser : io.lookupGroup;
  const id = readValue(parsed, kind, (raw) => parseAccount(raw, kind, lookup))!;
  const account = String(parsed.values[kind]);
  return { file, kind, account, id, line: siteOf(parsed, kind).line, limits: readLimits(parsed, QUOTA_LIMIT_KEYS) };
}

function readQuotaKind(parsed: ParsedIniFile): AccountKind {
  const userLine = lineOfKey(parsed.lines, parsed.section, 'user');
  const groupLine = lineOfKey(parsed.lines, parsed.section, 'group');
  if (userLine !== undefined && groupLine !== undefined) {
    const [later, earlier, earlierLine] = userLine > groupLine ? ['user', 'group', groupLine] : ['group', 'user', userLine];
    throw new ConfigError(
      siteOf(parsed, later),
      `'${earlier}' is also set (line ${earlierLine}); a quota file applies to exactly one user or group`,
    );
  }
  if (userLine !== undefined) return 'user';
  if (groupLine !== undefined) return 'group';
  throw new ConfigError({ file: parsed.file }, "sets neither 'user' nor 'group'; a quota file applies to exactly one");
}

// Two files for one account would make the result depend on file order: refuse, comparing ids so
// that `user = alice` and `user = 1000` are caught as the same account.
function claimAccount(claimedBy: Map<string, string>, quota: QuotaFile): void {
  const claim = `${quota.kind}:${quota.id}`;
  const owner = claimedBy.get(claim);
  if (owner !== undefined) {
    const idName = quota.kind === 'user' ? 'uid' : 'gid';
    throw new ConfigError(
      { file: quota.file, line: quota.line, key: quota.kind },
      `${quota.kind} '${quota.account}' (${idName} ${quota.id}) already has a quota in ${owner}`,
    );
  }
  claimedBy.set(claim, quota.file);
}

function freezeQuotaTable(table: QuotaTable): QuotaTable {
  Object.values(table.users).forEach((limits) => Object.freeze(limits));
  Object.values(table.groups).forEach((limits) => Object.freeze(limits));
  return Object.freeze({
    defaults: Object.freeze(table.defaults),
    users: Object.freeze(table.users),
    groups: Object.freeze(table.groups),
    rootExempt: table.rootExempt,
  });
}
