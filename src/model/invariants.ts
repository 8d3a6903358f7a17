/**
 * Invariants of a state, checked after every apply in tests and by `eventfs-replay --verify`.
 * Returns the violations found (empty when the state is sound) rather than throwing, so the
 * replay tool can print them all.
 */
import { isLinkName } from './path.ts';
import { addUsage } from './quota.ts';
import { INOS_PER_QUEUE, type Queue, type State, type Usage } from './state.ts';

export function checkInvariants(state: State): string[] {
  const violations: string[] = [];
  const links = new Map<number, number>();
  const users = new Map<number, Usage>();
  const groups = new Map<number, Usage>();
  for (const queue of state.queues.values()) {
    checkQueue(state, queue, violations, links);
    addUsage(users, queue.uid, { dirs: 1 });
    addUsage(groups, queue.gid, { dirs: 1 });
    for (const entry of queue.entries.values()) {
      addUsage(users, entry.uid, { files: 1 });
      addUsage(groups, entry.gid, { files: 1 });
    }
  }
  for (const inode of state.inodes.values()) {
    const count = links.get(inode.ino) ?? 0;
    if (inode.nlink !== count) violations.push(`inode ${inode.ino}: nlink ${inode.nlink} but ${count} names`);
    if (count === 0) violations.push(`inode ${inode.ino}: no queue names it (a leak)`);
    if (inode.size > inode.data.length) violations.push(`inode ${inode.ino}: size ${inode.size} beyond its data`);
    if (inode.ino >= state.nextIno) violations.push(`inode ${inode.ino}: not below nextIno ${state.nextIno}`);
    addUsage(users, inode.uid, { bytes: inode.size });
    addUsage(groups, inode.gid, { bytes: inode.size });
  }
  compareUsage('uid', state.userUsage, users, violations);
  compareUsage('gid', state.groupUsage, groups, violations);
  if (state.queuesByIno.size !== state.queues.size) violations.push('queue inode index out of step');
  return violations;
}

function checkQueue(state: State, queue: Queue, violations: string[], links: Map<number, number>): void {
  const where = `queue ${JSON.stringify(queue.name)}`;
  if (state.queuesByIno.get(queue.ino) !== queue) violations.push(`${where}: not indexed by inode ${queue.ino}`);
  if (queue.ino + INOS_PER_QUEUE > state.nextIno) violations.push(`${where}: inode ${queue.ino} not below nextIno`);
  let count = 0;
  let previous = null;
  for (let entry = queue.head; entry !== null; entry = entry.next) {
    count += 1;
    if (entry.prev !== previous) violations.push(`${where}: ${entry.name} has a broken back link`);
    if (queue.entries.get(entry.name) !== entry) violations.push(`${where}: ${entry.name} missing from the name index`);
    if (isLinkName(entry.name)) violations.push(`${where}: a file is named ${entry.name}`);
    if (!state.inodes.has(entry.ino)) violations.push(`${where}: ${entry.name} names missing inode ${entry.ino}`);
    links.set(entry.ino, (links.get(entry.ino) ?? 0) + 1);
    previous = entry;
    if (count > queue.entries.size) break; // a cycle; reported below
  }
  if (queue.tail !== previous) violations.push(`${where}: tail is not the newest entry`);
  if (count !== queue.entries.size) violations.push(`${where}: ${count} entries in order but ${queue.entries.size} by name`);
}

function compareUsage(kind: string, kept: Map<number, Usage>, recomputed: Map<number, Usage>, violations: string[]): void {
  const ids = new Set([...kept.keys(), ...recomputed.keys()]);
  for (const id of ids) {
    const a = kept.get(id), b = recomputed.get(id);
    if (a?.dirs !== b?.dirs || a?.files !== b?.files || a?.bytes !== b?.bytes) {
      violations.push(`usage of ${kind} ${id}: kept ${JSON.stringify(a)} but recomputed ${JSON.stringify(b)}`);
    }
  }
}
