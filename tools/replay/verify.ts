/**
 * --verify and --first-bad: fold with every invariant checked after each event and each recorded
 * snapshot hash compared, like `git bisect` on a log whose every step can be tested. An event that
 * cannot apply counts as a violation at that event, not as a crash.
 */
import { ApplyError, checkInvariants, fromPlain, stateHash, type State } from '../../src/model/index.ts';
import { baseSeq, type Checkpoint, type EventRecord, type LoadedLog } from './load.ts';
import { applyEvent, baseState, stateAt } from './replay.ts';
import { queueView, stateView, type StateView } from './view.ts';
import { diffStates } from './compare.ts';

export type CheckpointResult = { seq: number; path: string; matches: boolean; recorded: string | null; computed: string };

export type Failure =
  | { kind: 'apply'; seq: number; reason: string }
  | { kind: 'invariant'; seq: number; violations: string[] }
  /** The fold at `seq` hashes differently from the snapshot recorded there; it matched at lastGoodSeq. */
  | { kind: 'checkpoint'; seq: number; path: string; recorded: string | null; computed: string; lastGoodSeq: number };

export type VerifyResult = {
  firstSeq: number;
  lastSeq: number;
  /** Events applied with every invariant holding afterwards. */
  eventsChecked: number;
  checkpoints: CheckpointResult[];
  failure: Failure | null;
  /** The hash of the final state when nothing failed. */
  stateHash: string | null;
};

export function verifyLog(log: LoadedLog): VerifyResult {
  const state = baseState(log);
  const bySeq = new Map<number, Checkpoint[]>();
  for (const checkpoint of log.checkpoints) bySeq.set(checkpoint.seq, [...(bySeq.get(checkpoint.seq) ?? []), checkpoint]);
  const result: VerifyResult = {
    firstSeq: baseSeq(log) + 1, lastSeq: log.records.at(-1)?.event.seq ?? baseSeq(log), eventsChecked: 0, checkpoints: [], failure: null, stateHash: null,
  };
  result.failure = checkPoint(state, bySeq, result);
  for (const record of log.records) {
    if (result.failure !== null) return result;
    result.failure = applyChecked(state, record) ?? checkPoint(state, bySeq, result);
    if (result.failure === null) result.eventsChecked += 1;
  }
  if (result.failure === null) result.stateHash = stateHash(state);
  return result;
}

function applyChecked(state: State, record: EventRecord): Failure | null {
  try {
    applyEvent(state, record.event);
  } catch (error) {
    if (!(error instanceof ApplyError)) throw error;
    return { kind: 'apply', seq: record.event.seq, reason: error.message };
  }
  return null;
}

/** Invariants of the state, then the snapshot hashes recorded at its seq (if any). */
function checkPoint(state: State, bySeq: Map<number, Checkpoint[]>, result: VerifyResult): Failure | null {
  const violations = checkInvariants(state);
  if (violations.length > 0) return { kind: 'invariant', seq: state.seq, violations };
  const checkpoints = bySeq.get(state.seq) ?? [];
  if (checkpoints.length === 0) return null;
  const computed = stateHash(state);
  for (const checkpoint of checkpoints) {
    const recorded = typeof checkpoint.hash === 'string' ? checkpoint.hash : null;
    const matches = recorded === computed;
    result.checkpoints.push({ seq: checkpoint.seq, path: checkpoint.path, matches, recorded, computed });
    if (!matches) {
      const lastGoodSeq = result.checkpoints.filter((c) => c.matches).at(-1)?.seq ?? result.firstSeq - 1;
      return { kind: 'checkpoint', seq: state.seq, path: checkpoint.path, recorded, computed, lastGoodSeq };
    }
  }
  return null;
}

export type FirstBad = {
  verify: VerifyResult;
  /** The event after which things went wrong; null when the base itself is bad. */
  record: EventRecord | null;
  before: StateView | null;
  /** null when the event could not apply (there is no state after it). */
  after: StateView | null;
  /** For a diverging checkpoint: how the fold differs from the recorded snapshot. */
  divergence: string[];
};

/**
 * The first bad event and the states around it. Only the queues that matter are shown: the ones
 * given with --queue, else those the event names and those that changed.
 */
export function findFirstBad(log: LoadedLog, queues: ReadonlySet<string> | null): FirstBad {
  const verify = verifyLog(log);
  const failure = verify.failure;
  if (failure === null) return { verify, record: null, before: null, after: null, divergence: [] };
  const record = log.records.find((r) => r.event.seq === failure.seq) ?? null;
  const beforeState = record === null ? null : stateAt(log, failure.seq - 1);
  const afterState = failure.kind === 'apply' ? null : stateAt(log, failure.seq);
  const shown = queues ?? shownQueues(record, beforeState, afterState);
  const divergence = failure.kind === 'checkpoint' && afterState !== null ? checkpointDivergence(log, failure.path, afterState) : [];
  return {
    verify, record,
    before: beforeState === null ? null : stateView(beforeState, shown),
    after: afterState === null ? null : stateView(afterState, shown),
    divergence,
  };
}

function shownQueues(record: EventRecord | null, before: State | null, after: State | null): Set<string> {
  const names = new Set<string>();
  const event = record?.event;
  if (event !== undefined && 'queue' in event) names.add(event.queue);
  if (before === null || after === null) return names;
  const all = new Set([...before.queues.keys(), ...after.queues.keys()]);
  const viewOf = (state: State, name: string): string | null => {
    const queue = state.queues.get(name);
    return queue === undefined ? null : JSON.stringify(queueView(state, queue));
  };
  for (const name of all) if (viewOf(before, name) !== viewOf(after, name)) names.add(name);
  return names;
}

function checkpointDivergence(log: LoadedLog, path: string, folded: State): string[] {
  const checkpoint = log.checkpoints.find((c) => c.path === path)!;
  return diffStates(folded, fromPlain(checkpoint.plain), { folded: 'the fold', other: 'the snapshot' });
}
