// Property tests: random command sequences from random callers under a random quota table, run
// through execute(). Fixed seed (STYLE.md point 14): a failure prints the seed and the path that
// replays it. The default runs take about 5 s; raise them with EVENTFS_PROPERTY_RUNS=20000, and
// print how often each refusal happened (to tune the generator) with EVENTFS_PROPERTY_STATS=1.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { limitsFor, type Limits, type QuotaTable } from '../config/limits.ts';
import { decodeEvent, encodeEvent } from '../log/format.ts';
import { piecewiseBytes } from '../log/testing.ts';
import {
  DAEMON, ID_UNCHANGED, STICKY_XATTR,
  checkInvariants, emptyState, execute, fold, fromPlain, plainHash, stateHash, toLazyPlain, toPlain,
  type Caller, type Command, type CommandBody, type Event, type PlainState, type State, type Usage,
} from './index.ts';

const RUNS = Number(process.env.EVENTFS_PROPERTY_RUNS ?? 1500);
const SEED = 42;
const T0 = 1_700_000_000_000;

/**
 * Known model gap, excluded from the "never beyond a limit" property until it is fixed: chown
 * moves bytes or a directory to the new owner without checking the new owner's limits (see the
 * todo tests in decide.test.ts). Set to false once decide checks it.
 */
const CHOWN_BYPASSES_QUOTAS = false;

const CALLERS: Caller[] = [
  { uid: 0, gid: 0, pid: 1, start: 10 },
  { uid: 1000, gid: 100, pid: 2, start: 20 },
  { uid: 1001, gid: 100, pid: 3, start: 30 },
  { uid: 1002, gid: 200, pid: 4, start: 40 },
];
const QUEUES = ['a', 'b', '10', 'head'];
const NAMES = ['m1', 'm2', 'm3', 'm4', 'm5', '0', 'head', 'tail'];
const UIDS = [0, 1000, 1001, 1002, ID_UNCHANGED];
const GIDS = [0, 100, 200, ID_UNCHANGED];
const XATTR_KEYS = ['user.a', 'user.b', STICKY_XATTR, 'trusted.t'];

// ---- arbitraries -------------------------------------------------------------------------------

const queueArb = fc.constantFrom(...QUEUES);
const nameArb = fc.constantFrom(...NAMES);
/** Literal paths, mostly nonsense against the live state, so refusals are exercised too. */
const literalArb = fc.oneof(
  fc.tuple(queueArb, nameArb).map(([q, n]) => `/${q}/${n}`),
  queueArb.map((q) => `/${q}`),
  fc.constantFrom('/', '/a/m1/deep', '/root-file', '//a//m1/'),
);

/**
 * A path chosen when the step runs: an existing file, head or tail (`file`), an existing queue
 * (`queue`), a name in an existing queue, free or not (`child`), or a literal. Random literals
 * alone would mostly name things that do not exist, and the run would test little but ENOENT.
 */
type PathRef = { ref: 'file' | 'queue' | 'child' | 'literal'; pick: number; literal: string };
const pathRefArb = (weights: { file: number; queue: number; child: number; literal: number }): fc.Arbitrary<PathRef> =>
  fc.record({
    ref: fc.oneof(...(['file', 'queue', 'child', 'literal'] as const).map((ref) => ({ weight: weights[ref], arbitrary: fc.constant(ref) }))),
    pick: fc.nat(),
    literal: literalArb,
  });
const anyPathArb = pathRefArb({ file: 6, queue: 3, child: 1, literal: 1 });
const newFileArb = pathRefArb({ file: 1, queue: 1, child: 12, literal: 1 });
const existingFileArb = pathRefArb({ file: 12, queue: 1, child: 1, literal: 1 });
const modeArb = fc.constantFrom(0o644, 0o600, 0o755, 0o4755, 0o1777);
const dataArb = fc.uint8Array({ minLength: 0, maxLength: 8 }).map((bytes) => Buffer.from(bytes));

/** Unlimited half the time: tight limits everywhere would refuse most commands with EDQUOT. */
const limitArb = (max: number): fc.Arbitrary<number | null> =>
  fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.integer({ min: 0, max }) });
const limitsArb: fc.Arbitrary<Limits> = fc.record({
  maxDirs: limitArb(4), maxFiles: limitArb(8), maxFilesPerDir: limitArb(5), maxBytes: limitArb(40),
});
const partialLimitsArb: fc.Arbitrary<Partial<Limits>> = fc.record(
  { maxDirs: limitArb(4), maxFiles: limitArb(8), maxFilesPerDir: limitArb(5), maxBytes: limitArb(40) },
  { requiredKeys: [] },
);
const quotaTableArb: fc.Arbitrary<QuotaTable> = fc.record({
  defaults: limitsArb,
  users: fc.dictionary(fc.constantFrom('0', '1000', '1001', '1002'), partialLimitsArb, { maxKeys: 3 }),
  groups: fc.dictionary(fc.constantFrom('0', '100', '200'), partialLimitsArb, { maxKeys: 2 }),
  rootExempt: fc.boolean(),
});

/** Commands whose paths and inode numbers are chosen against the live state when they run. */
type Op =
  | { type: 'mkdir'; queue: string; mode: number }
  | { type: 'rmdir'; path: PathRef }
  | { type: 'create'; path: PathRef; mode: number }
  | { type: 'write'; pick: number; offset: number; data: Buffer }
  | { type: 'truncate'; pick: number; size: number }
  | { type: 'link'; from: PathRef; to: PathRef }
  | { type: 'unlink'; path: PathRef }
  | { type: 'chmod'; path: PathRef; mode: number }
  | { type: 'chown'; path: PathRef; uid: number; gid: number }
  | { type: 'utimens'; path: PathRef; atimeMs: number; mtimeMs: number }
  | { type: 'setxattr'; path: PathRef; key: string; value: Buffer; flags: number }
  | { type: 'removexattr'; path: PathRef; key: string }
  | { type: 'reap'; pick: number; literal: string }
  | { type: 'setQuotas'; quotas: QuotaTable };
type Step = { caller: number; dtMs: number; op: Op };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ type: fc.constant('mkdir' as const), queue: queueArb, mode: modeArb }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('rmdir' as const), path: anyPathArb }) },
  { weight: 8, arbitrary: fc.record({ type: fc.constant('create' as const), path: newFileArb, mode: modeArb }) },
  { weight: 6, arbitrary: fc.record({ type: fc.constant('write' as const), pick: fc.nat(), offset: fc.nat({ max: 24 }), data: dataArb }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('truncate' as const), pick: fc.nat(), size: fc.nat({ max: 30 }) }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('link' as const), from: existingFileArb, to: newFileArb }) },
  { weight: 5, arbitrary: fc.record({ type: fc.constant('unlink' as const), path: existingFileArb }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('chmod' as const), path: anyPathArb, mode: modeArb }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('chown' as const), path: anyPathArb, uid: fc.constantFrom(...UIDS), gid: fc.constantFrom(...GIDS) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('utimens' as const), path: anyPathArb, atimeMs: fc.nat(), mtimeMs: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant('setxattr' as const), path: anyPathArb, key: fc.constantFrom(...XATTR_KEYS),
      value: dataArb, flags: fc.constantFrom(0, 0, 1, 2, 3),
    }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('removexattr' as const), path: anyPathArb, key: fc.constantFrom(...XATTR_KEYS) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('reap' as const), pick: fc.nat(), literal: queueArb }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('setQuotas' as const), quotas: quotaTableArb }) },
);

const stepArb: fc.Arbitrary<Step> = fc.record({ caller: fc.nat({ max: CALLERS.length - 1 }), dtMs: fc.nat({ max: 3 }), op: opArb });
/** A few queues and files first, so that the random steps find something to work on. */
const preludeArb: fc.Arbitrary<Step[]> = fc.tuple(
  fc.array(fc.record({ caller: fc.nat({ max: CALLERS.length - 1 }), dtMs: fc.constant(1), op: opArb.filter((op) => op.type === 'mkdir') }), { minLength: 1, maxLength: 3 }),
  fc.array(fc.record({ caller: fc.nat({ max: CALLERS.length - 1 }), dtMs: fc.constant(1), op: opArb.filter((op) => op.type === 'create') }), { minLength: 1, maxLength: 4 }),
).map(([queues, files]) => [...queues, ...files]);
const scenarioArb = fc.record({
  quotas: quotaTableArb,
  steps: fc.tuple(preludeArb, fc.array(stepArb, { minLength: 1, maxLength: 60, size: 'max' })).map(([prelude, steps]) => [...prelude, ...steps]),
});

// ---- running a scenario ------------------------------------------------------------------------

function resolvePath(state: State, path: PathRef): string {
  const queues = [...state.queues.keys()];
  if (path.ref === 'literal' || queues.length === 0) return path.literal;
  if (path.ref === 'queue') return `/${queues[path.pick % queues.length]}`;
  if (path.ref === 'child') return `/${queues[path.pick % queues.length]}/${NAMES[(path.pick >>> 8) % NAMES.length]}`;
  const files: string[] = [];
  for (const queue of state.queues.values()) {
    for (const name of queue.entries.keys()) files.push(`/${queue.name}/${name}`);
    if (queue.head !== null) files.push(`/${queue.name}/head`, `/${queue.name}/tail`);
  }
  return files.length === 0 ? path.literal : files[path.pick % files.length]!;
}

function resolveIno(state: State, pick: number): number {
  const inos = [...state.inodes.keys()];
  // With no file left, pick a queue inode or a never-used number: both must be refused.
  return inos.length > 0 ? inos[pick % inos.length]! : pick % 2 === 0 ? 2 : 99_999;
}

function toBody(state: State, op: Op): CommandBody {
  switch (op.type) {
    case 'mkdir': return { type: 'mkdir', path: `/${op.queue}`, mode: op.mode };
    case 'write': return { type: 'write', ino: resolveIno(state, op.pick), offset: op.offset, data: op.data };
    case 'truncate': return { type: 'truncate', ino: resolveIno(state, op.pick), size: op.size };
    case 'link': return { type: 'link', from: resolvePath(state, op.from), to: resolvePath(state, op.to) };
    case 'reap': {
      const queues = [...state.queues.keys()];
      return { type: 'reap', queue: op.pick % 4 === 0 || queues.length === 0 ? op.literal : queues[op.pick % queues.length]! };
    }
    case 'setQuotas': return op;
    default: return { ...op, path: resolvePath(state, op.path) };
  }
}

function toCommand(state: State, step: Step, atMs: number): Command {
  const by = step.op.type === 'reap' || step.op.type === 'setQuotas' ? DAEMON : CALLERS[step.caller]!;
  return { ...toBody(state, step.op), by, atMs };
}

/** Refusals by command and errno, printed at exit with EVENTFS_PROPERTY_STATS=1. */
const REFUSALS = new Map<string, number>();
if (process.env.EVENTFS_PROPERTY_STATS) {
  process.on('exit', () => console.error([...REFUSALS].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n}\t${k}`).join('\n')));
}

type Run = { state: State; events: Event[]; accepted: number };

/** Runs every step, checking the per-step properties; returns the live state and the log. */
function runScenario(quotas: QuotaTable, steps: Step[]): Run {
  const state = emptyState();
  const events: Event[] = [];
  let atMs = T0;
  let accepted = 0;
  for (const step of [{ caller: 0, dtMs: 0, op: { type: 'setQuotas', quotas } } as Step, ...steps]) {
    atMs += step.dtMs;
    const cmd = toCommand(state, step, atMs);
    const before = snapshotUsage(state);
    const seqBefore = state.seq;
    const decision = execute(state, cmd);
    if (decision.ok) {
      accepted += 1;
      events.push(...decision.events);
      assert.equal(state.seq, seqBefore + decision.events.length, 'seq advances by the number of events');
      checkWithinLimits(state, before, decision.events);
    } else {
      const key = `${cmd.type} ${decision.errno}`;
      REFUSALS.set(key, (REFUSALS.get(key) ?? 0) + 1);
      assert.equal(state.seq, seqBefore, `refused ${cmd.type} (${decision.errno}) must not advance seq`);
    }
    const violations = checkInvariants(state);
    assert.deepEqual(violations, [], `invariants after ${cmd.type}`);
  }
  return { state, events, accepted };
}

type UsageSnapshot = { users: Map<number, Usage>; groups: Map<number, Usage> };

function snapshotUsage(state: State): UsageSnapshot {
  const copy = (table: Map<number, Usage>) => new Map([...table].map(([id, usage]) => [id, { ...usage }]));
  return { users: copy(state.userUsage), groups: copy(state.groupUsage) };
}

/** Who an event charges: the name's creator, the inode's owner, or the new owner on chown. */
function chargedTo(state: State, event: Event): { uid: number; gid: number } | null {
  switch (event.type) {
    case 'queueCreated': case 'fileCreated': case 'linkCreated': return { uid: event.uid, gid: event.gid };
    case 'dataWritten': case 'fileTruncated': {
      const inode = state.inodes.get(event.ino)!;
      return { uid: inode.uid, gid: inode.gid };
    }
    case 'ownerChanged': return CHOWN_BYPASSES_QUOTAS ? null : event.owner;
    default: return null;
  }
}

const DIMENSIONS = [['dirs', 'maxDirs'], ['files', 'maxFiles'], ['bytes', 'maxBytes']] as const;

/**
 * Decided events never push usage beyond a limit: every usage figure that grew is within the
 * limit of the party it was charged to (unless root is exempt), and so is the depth of a queue
 * that received a name. Usage that was already over a lowered limit may stay there but not grow.
 */
function checkWithinLimits(state: State, before: UsageSnapshot, events: Event[]): void {
  const table = state.quotas;
  if (table === null) return;
  for (const event of events) {
    const party = chargedTo(state, event);
    if (party === null || (party.uid === 0 && table.rootExempt)) continue;
    const limits = limitsFor(table, party.uid, party.gid);
    const sides = [
      ['uid', party.uid, limits.user, before.users, state.userUsage],
      ['gid', party.gid, limits.group, before.groups, state.groupUsage],
    ] as const;
    for (const [kind, id, limit, was, now] of sides) {
      for (const [dimension, field] of DIMENSIONS) {
        const grew = (now.get(id)?.[dimension] ?? 0) > (was.get(id)?.[dimension] ?? 0);
        const value = now.get(id)?.[dimension] ?? 0;
        const max = limit[field];
        if (grew && max !== null) assert.ok(value <= max, `${event.type}: ${kind} ${id} ${dimension} ${value} > ${field} ${max}`);
      }
      if (event.type === 'fileCreated' || event.type === 'linkCreated') {
        const depth = state.queues.get(event.queue)!.entries.size;
        const max = limit.maxFilesPerDir;
        if (max !== null) assert.ok(depth <= max, `${event.type}: queue ${event.queue} depth ${depth} > ${kind} ${id} maxFilesPerDir ${max}`);
      }
    }
  }
}

const params = (): fc.Parameters<[{ quotas: QuotaTable; steps: Step[] }]> => ({ seed: SEED, numRuns: RUNS });

// ---- properties --------------------------------------------------------------------------------

describe('model properties (random command sequences)', () => {
  it('keeps every invariant after every step and never lets usage grow beyond a limit', () => {
    let accepted = 0;
    let total = 0;
    fc.assert(fc.property(scenarioArb, ({ quotas, steps }) => {
      const run = runScenario(quotas, steps);
      accepted += run.accepted;
      total += steps.length + 1;
    }), params());
    // A generator that only produced refusals would prove nothing.
    assert.ok(accepted > total / 4, `only ${accepted} of ${total} commands were accepted`);
  });

  it('folds the emitted events from an empty state to the live state', () => {
    fc.assert(fc.property(scenarioArb, ({ quotas, steps }) => {
      const { state, events } = runScenario(quotas, steps);
      const folded = fold(events);
      assert.deepEqual(checkInvariants(folded), []);
      assert.equal(stateHash(folded), stateHash(state));
    }), params());
  });

  it('keeps the hash through toPlain and fromPlain', () => {
    fc.assert(fc.property(scenarioArb, ({ quotas, steps }) => {
      const { state } = runScenario(quotas, steps);
      const loaded = fromPlain(toPlain(state));
      assert.deepEqual(checkInvariants(loaded), []);
      assert.equal(stateHash(loaded), stateHash(state));
    }), params());
  });

  it('keeps the hash when events and snapshots go through the log codec', () => {
    fc.assert(fc.property(scenarioArb, ({ quotas, steps }) => {
      const { state, events } = runScenario(quotas, steps);
      const decoded = events.map((event) => decodeEvent(encodeEvent(event)) as Event);
      assert.equal(stateHash(fold(decoded)), stateHash(state));
      const snapshot = decodeEvent(encodeEvent(toPlain(state))) as PlainState;
      assert.equal(stateHash(fromPlain(snapshot)), stateHash(state));
    }), params());
  });

  it('encodes and hashes the lazy plain form (snapshots) exactly as toPlain', () => {
    fc.assert(fc.property(scenarioArb, ({ quotas, steps }) => {
      const { state } = runScenario(quotas, steps);
      const lazy = toLazyPlain(state);
      assert.ok(piecewiseBytes({ seq: state.seq, state: lazy }).equals(encodeEvent({ seq: state.seq, state: toPlain(state) })));
      assert.equal(plainHash(lazy), plainHash(toPlain(state)));
    }), params());
  });

  it('hashes equal states equally whatever order their xattrs were set in', () => {
    const xattrsArb = fc.uniqueArray(
      fc.record({ key: fc.constantFrom('user.a', 'user.b', 'user.c', 'user.d', STICKY_XATTR), value: dataArb }),
      { minLength: 2, maxLength: 5, selector: (x) => x.key },
    );
    const caseArb = fc.record({ quotas: quotaTableArb, steps: fc.tuple(preludeArb, fc.array(stepArb, { maxLength: 30 })).map(([prelude, steps]) => [...prelude, ...steps]), xattrs: xattrsArb, order: fc.nat() });
    fc.assert(fc.property(caseArb, ({ quotas, steps, xattrs, order }) => {
      const first = runScenario(quotas, steps).state;
      const second = runScenario(quotas, steps).state;
      const targets = ['/', ...[...first.queues.keys()].map((q) => `/${q}`)];
      const target = targets[order % targets.length]!;
      if (target === '/') return; // the root takes no xattrs; nothing to compare
      const shuffled = [...xattrs].reverse();
      const at = T0 + 1_000_000; // one instant, so ctime cannot tell the orders apart
      const fresh = xattrs.every(({ key }) => !first.queues.get(target.slice(1))!.xattrs.has(key));
      const owner = CALLERS.find((c) => c.uid === first.queues.get(target.slice(1))!.uid) ?? CALLERS[0]!;
      for (const [state, list] of [[first, xattrs], [second, shuffled]] as const) {
        for (const { key, value } of list) {
          const decision = execute(state, { type: 'setxattr', path: target, key, value, flags: 0, by: owner, atMs: at });
          assert.ok(decision.ok, `setxattr ${key} on ${target}`);
        }
      }
      const keys = (state: State) => [...state.queues.get(target.slice(1))!.xattrs.keys()].join(',');
      // Keys set before keep their place in a Map; only all-new keys show the two orders apart.
      if (fresh) assert.notEqual(keys(first), keys(second), 'the two orders differ in the live state');
      assert.equal(stateHash(first), stateHash(second));
    }), { seed: SEED, numRuns: RUNS });
  });
});
