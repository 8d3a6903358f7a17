// The one error type of src/config. Its message is a single line an operator can act on:
//   FILE:LINE: key 'KEY': reason     when a line and key apply
//   FILE:LINE: reason                when a line applies but no key (a bad section header)
//   FILE: reason                     when no line applies (missing file, missing section)

/** Where a config problem is: always a file, and a line and key when they apply. */
export type ConfigSite = {
  readonly file: string;
  readonly line?: number;
  readonly key?: string;
};

/** A bad config, reported at mount time. `message` is one line naming file, line and key. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly file: string;
  readonly line: number | undefined;
  readonly key: string | undefined;
  readonly reason: string;

  constructor(site: ConfigSite, reason: string) {
    super(formatConfigError(site, reason));
    this.file = site.file;
    this.line = site.line;
    this.key = site.key;
    this.reason = reason;
  }
}

/**
 * Formats a config problem as `FILE[:LINE]: [key 'KEY': ]reason`.
 * @example formatConfigError({file: 'a.conf', line: 3, key: 'max_dirs'}, 'negative value') // "a.conf:3: key 'max_dirs': negative value"
 */
export function formatConfigError(site: ConfigSite, reason: string): string {
  const place = site.line === undefined ? site.file : `${site.file}:${site.line}`;
  const subject = site.key === undefined ? '' : `key '${site.key}': `;
  return `${place}: ${subject}${reason}`;
}

/** A short, one-line description of a failed fs call: "no such file (ENOENT)". */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const text = code === undefined ? undefined : FS_ERROR_TEXT[code];
  if (text !== undefined) return `${text} (${code})`;
  if (code !== undefined) return code;
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

const FS_ERROR_TEXT: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ELOOP: 'too many symbolic links',
  EIO: 'input/output error',
};
