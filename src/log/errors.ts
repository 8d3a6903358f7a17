// The errors a log reader raises. Each names the file (and offset) so an operator can act on it
// without reading code; see FORMAT.md "What a reader does".

// A file this reader must not interpret: not an eventfs log, or written by a newer format.
export class LogVersionError extends Error {
  constructor(readonly file: string, readonly reason: string) {
    super(`${file}: ${reason}; refusing to read it`);
    this.name = 'LogVersionError';
  }
}

// A bad record followed by good ones (or a bad header): the log cannot be trusted past `offset`.
export class LogCorruptError extends Error {
  constructor(readonly file: string, readonly offset: number, readonly reason: string) {
    super(
      `${file}: corrupt log at byte offset ${offset}: ${reason}; ` +
        `run \`eventfs-replay --salvage\` to recover the records around it`,
    );
    this.name = 'LogCorruptError';
  }
}

// The files of a log directory do not fit together: a missing segment, an overlap, another mount.
export class LogDirError extends Error {
  constructor(readonly dir: string, readonly reason: string) {
    super(`log directory ${dir}: ${reason}`);
    this.name = 'LogDirError';
  }
}

export class SnapshotCorruptError extends Error {
  constructor(readonly file: string, readonly reason: string) {
    super(`${file}: corrupt snapshot: ${reason}`);
    this.name = 'SnapshotCorruptError';
  }
}

// Another live daemon owns the log directory.
export class LogLockedError extends Error {
  constructor(readonly dir: string, readonly pid: number) {
    super(`log directory ${dir} is in use by pid ${pid}`);
    this.name = 'LogLockedError';
  }
}
