// One event as a line of the stream: which queue and name it touched, who did it, and a short
// detail. Resolved against the state *before* the event is applied (a popped name still exists).
import type { Event, State } from '../../src/model/index.ts';
import { formatBytes } from './format.ts';

export type StreamEntry = {
  seq: number;
  t: number;
  type: Event['type'];
  queue: string | null;
  name: string | null;
  pid: number;
  uid: number;
  detail: string;
};

type Place = { queue: string | null; name: string | null };
type Names = ReadonlyMap<number, { queue: string; name: string }>;

export function describeEvent(state: State, names: Names, event: Event): StreamEntry {
  const { place, detail } = describeBody(state, names, event);
  return { seq: event.seq, t: event.t, type: event.type, queue: place.queue, name: place.name, pid: event.pid, uid: event.uid, detail };
}

const octal = (mode: number): string => mode.toString(8).padStart(4, '0');

function describeBody(state: State, names: Names, event: Event): { place: Place; detail: string } {
  switch (event.type) {
    case 'quotasSet': return { place: none, detail: 'quota table recorded' };
    case 'queueCreated': return { place: at(event.queue, null), detail: `mode ${octal(event.mode)}` };
    case 'queueRemoved': return { place: at(event.queue, null), detail: 'rmdir' };
    case 'queueReaped': return { place: at(event.queue, null), detail: `creator ${event.creator.pid} gone` };
    case 'fileCreated': return { place: at(event.queue, event.name), detail: '' };
    case 'dataWritten': return { place: inodePlace(state, names, event.ino), detail: `${formatBytes(event.data.length)} at ${event.offset}` };
    case 'fileTruncated': return { place: inodePlace(state, names, event.ino), detail: `to ${formatBytes(event.size)}` };
    case 'linkCreated': return { place: at(event.queue, event.name), detail: linkSource(names, event.ino) };
    case 'entryRemoved': return { place: at(event.queue, event.name), detail: `via ${event.via}` };
    case 'modeChanged': return { place: inodePlace(state, names, event.ino), detail: `mode ${octal(event.mode)}` };
    case 'ownerChanged': return { place: inodePlace(state, names, event.ino), detail: `owner ${event.owner.uid}:${event.owner.gid}` };
    case 'timesChanged': return { place: inodePlace(state, names, event.ino), detail: 'utimens' };
    case 'xattrSet': return { place: inodePlace(state, names, event.ino), detail: event.key };
    case 'xattrRemoved': return { place: inodePlace(state, names, event.ino), detail: `-${event.key}` };
    default: return { place: none, detail: '' };
  }
}

const none: Place = { queue: null, name: null };
const at = (queue: string, name: string | null): Place => ({ queue, name });

// Attribute events name a queue directory or a file by inode number.
function inodePlace(state: State, names: Names, ino: number): Place {
  const queue = state.queuesByIno.get(ino);
  if (queue !== undefined) return at(queue.name, null);
  const named = names.get(ino);
  return named === undefined ? none : at(named.queue, named.name);
}

function linkSource(names: Names, ino: number): string {
  const named = names.get(ino);
  return named === undefined ? 'link' : `link of ${named.queue}/${named.name}`;
}
