// Quota limits: the types the config loader produces and the pure resolver the model uses.
//
// src/model imports this file, so it must stay pure: no imports from node:*, no I/O, no clocks
// (limits.test.ts enforces the import rule). A QuotaTable is plain JSON-serialisable data because
// it is recorded in the event log and replayed; keep it free of Maps, classes and `undefined`.

/** One set of quota limits. `null` means unlimited. */
export type Limits = {
  readonly maxDirs: number | null;
  readonly maxFiles: number | null;
  readonly maxFilesPerDir: number | null;
  readonly maxBytes: number | null;
};

/**
 * Every quota rule of a mount, as loaded from the config.
 * `users` and `groups` are keyed by numeric uid/gid written as decimal strings ("1000"); an
 * override holds only the fields its quota file set (a field set to `null` is "unlimited").
 */
export type QuotaTable = {
  readonly defaults: Limits;
  readonly users: Readonly<Record<string, Partial<Limits>>>;
  readonly groups: Readonly<Record<string, Partial<Limits>>>;
  /** When true, uid 0 has no limits at all (`root_exempt = true` in [eventfs-config]). */
  readonly rootExempt: boolean;
};

/** The limits that apply to one caller: both sets are checked, and either can refuse (EDQUOT). */
export type CallerLimits = {
  readonly user: Limits;
  readonly group: Limits;
};

/** The fields of `Limits`, in a fixed order, for code that walks all of them. */
export const LIMIT_FIELDS = ['maxDirs', 'maxFiles', 'maxFilesPerDir', 'maxBytes'] as const;

/** No limit on anything. */
export const UNLIMITED: Limits = Object.freeze({
  maxDirs: null,
  maxFiles: null,
  maxFilesPerDir: null,
  maxBytes: null,
});

// The built-in defaults. This is the single place they live: the loader falls back to them,
// field by field, for every `default_max_*` key a config leaves out, and uses them whole when no
// config file exists at all. They are finite on purpose: eventfs keeps its state in memory and in
// its log, so an unlimited default would let one user exhaust a shared machine.
//   default_max_dirs          = 1024   queues per user
//   default_max_files         = 65536  files per user, over all queues
//   default_max_files_per_dir = 65536  files per queue (equal to the per-user total, so by
//                                      default only the total binds; lower it per site)
//   default_max_bytes         = 1 GiB  file data per user
//   root_exempt               = false  root is limited like everyone else unless the config says so

/** The default limits used when the config does not set them. See the comment above. */
export const BUILT_IN_LIMITS: Limits = Object.freeze({
  maxDirs: 1024,
  maxFiles: 65536,
  maxFilesPerDir: 65536,
  maxBytes: 1024 * 1024 * 1024,
});

/** The quota table of a mount that has no config file. */
export const BUILT_IN_QUOTA_TABLE: QuotaTable = Object.freeze({
  defaults: BUILT_IN_LIMITS,
  users: Object.freeze({}),
  groups: Object.freeze({}),
  rootExempt: false,
});

/**
 * The limits for a caller with this uid and (primary) gid.
 *
 * Decisions, kept here because the model relies on them:
 * - User limits are the user's override laid field by field over `table.defaults`.
 * - Group limits are the group's override only. `default_max_*` are per-user defaults; a group
 *   without a quota file has no group limit, and a field its quota file leaves out is unlimited.
 *   (The original C eventfs seeded group quotas from the defaults; we do not, because that would
 *   make every group as small as one user and a default meant per user would bind a whole team.)
 * - When `table.rootExempt` is true and uid is 0, both sets are unlimited, whatever the gid.
 *   A non-root caller whose gid is 0 is limited normally.
 *
 * @example
 * const {user, group} = limitsFor(table, 1000, 100);
 * if (user.maxDirs !== null && dirsOwnedBy1000 >= user.maxDirs) return {ok: false, errno: 'EDQUOT'};
 */
export function limitsFor(table: QuotaTable, uid: number, gid: number): CallerLimits {
  if (table.rootExempt && uid === 0) {
    return { user: UNLIMITED, group: UNLIMITED };
  }
  const userOverride = overrideFor(table.users, uid);
  const groupOverride = overrideFor(table.groups, gid);
  return {
    user: overlayLimits(table.defaults, userOverride),
    group: overlayLimits(UNLIMITED, groupOverride),
  };
}

function overrideFor(overrides: QuotaTable['users'], id: number): Partial<Limits> {
  const key = String(id);
  // Own properties only: a key such as "constructor" must never reach Object.prototype.
  return Object.hasOwn(overrides, key) ? overrides[key]! : {};
}

function overlayLimits(base: Limits, override: Partial<Limits>): Limits {
  return {
    maxDirs: override.maxDirs === undefined ? base.maxDirs : override.maxDirs,
    maxFiles: override.maxFiles === undefined ? base.maxFiles : override.maxFiles,
    maxFilesPerDir: override.maxFilesPerDir === undefined ? base.maxFilesPerDir : override.maxFilesPerDir,
    maxBytes: override.maxBytes === undefined ? base.maxBytes : override.maxBytes,
  };
}
