import { apply } from './apply.ts';
import type { Command } from './commands.ts';
import { decide } from './decide.ts';
import type { Decision } from './errno.ts';
import type { Event } from './events.ts';
import type { State } from './state.ts';

/** decide, then fold what was decided into the state: one step of the machine. */
export function execute(state: State, cmd: Command): Decision<Event> {
  const decision = decide(state, cmd);
  if (decision.ok) for (const event of decision.events) apply(state, event);
  return decision;
}
