/** The pure core: state, events, decide, apply, invariants. No I/O anywhere below this folder. */
export * from './state.ts';
export * from './events.ts';
export * from './commands.ts';
export * from './errno.ts';
export * from './path.ts';
export * from './query.ts';
export { decide } from './decide.ts';
export { apply, fold, ApplyError } from './apply.ts';
export { checkInvariants } from './invariants.ts';
export { plainHash, stateHash, type Sha256 } from './hash.ts';
export { toPlain, toLazyPlain, fromPlain, LazyList, type PlainState, type LazyPlainState } from './snapshot.ts';
export { execute } from './execute.ts';
