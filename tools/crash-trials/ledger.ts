/**
 * The pure half of the crash trials: what the workers acknowledged, and whether a recovered mount
 * agrees with it. No I/O here (ledger.test.ts drives it with literals).
 *
 * Workers (workload.py) append one line per step to their own acknowledgement file, flushed
 * before the next step:
 *
 *   R                       the worker is running
 *   Q QUEUE                 mkdir of its own (non-sticky) queue returned
 *   E QUEUE NAME LENGTH     about to enqueue NAME (LENGTH bytes): open(O_CREAT), write..., close
 *   e QUEUE NAME            close() returned: the enqueue is acknowledged
 *   u QUEUE NAME ERRNO      the enqueue failed (e.g. ENOENT: popped while being written); outcome unknown
 *   D QUEUE NAME            about to dequeue NAME: unlink(QUEUE/NAME)
 *   d QUEUE NAME            unlink returned: the dequeue is acknowledged
 *   l QUEUE NAME            unlink said ENOENT: another consumer had it (refutes this attempt)
 *   X ERRNO                 the worker stopped on an error (the daemon died)
 *
 * An attempt with no acknowledgement (the daemon was killed under it) is unknown: neither
 * acknowledged nor refuted. After each verification the unknowns are settled by what recovery
 * showed (`settle`), so a later crash cannot flip them back.
 *
 * Message names are `t<trial>p<producer>-<n>`: unique over an episode, and a producer makes its
 * messages one after another, so within a queue a producer's messages are in n order, and every
 * message of an earlier trial precedes every message of a later one.
 */

export type AckRecord =
  | { op: 'ready' }
  | { op: 'queue'; queue: string }
  | { op: 'enqueue-attempt'; queue: string; name: string; length: number }
  | { op: 'enqueued'; queue: string; name: string }
  | { op: 'enqueue-failed'; queue: string; name: string; errno: number }
  | { op: 'dequeue-attempt'; queue: string; name: string }
  | { op: 'dequeued'; queue: string; name: string }
  | { op: 'dequeue-lost'; queue: string; name: string }
  | { op: 'stopped'; errno: number };

/** Parses one worker's file; a last line without its newline (cut mid-write) is ignored. */
export function parseAcks(text: string): AckRecord[] {
  const lines = text.split('\n');
  lines.pop(); // '' after the final newline, or an incomplete line
  return lines.filter((line) => line !== '').map(parseAckLine);
}

function parseAckLine(line: string): AckRecord {
  const [op, a, b, c] = line.split(' ');
  const bad = (): never => {
    throw new Error(`bad acknowledgement line ${JSON.stringify(line)}`);
  };
  const int = (text: string | undefined): number => (text !== undefined && /^-?\d+$/.test(text) ? Number(text) : bad());
  const str = (text: string | undefined): string => (text !== undefined && text !== '' ? text : bad());
  switch (op) {
    case 'R': return { op: 'ready' };
    case 'Q': return { op: 'queue', queue: str(a) };
    case 'E': return { op: 'enqueue-attempt', queue: str(a), name: str(b), length: int(c) };
    case 'e': return { op: 'enqueued', queue: str(a), name: str(b) };
    case 'u': return { op: 'enqueue-failed', queue: str(a), name: str(b), errno: int(c) };
    case 'D': return { op: 'dequeue-attempt', queue: str(a), name: str(b) };
    case 'd': return { op: 'dequeued', queue: str(a), name: str(b) };
    case 'l': return { op: 'dequeue-lost', queue: str(a), name: str(b) };
    case 'X': return { op: 'stopped', errno: int(a) };
    default: return bad();
  }
}

export type OrderKey = { trial: number; producer: number; n: number };

export function orderKey(name: string): OrderKey | null {
  const match = /^t(\d+)p(\d+)-(\d+)$/.exec(name);
  return match ? { trial: Number(match[1]), producer: Number(match[2]), n: Number(match[3]) } : null;
}

/** What is known about one message. */
export type Fate = {
  name: string;
  queue: string;
  /** Bytes it must hold once acknowledged (after a settle: the bytes recovery showed). */
  length: number;
  enqueue: 'acked' | 'unknown';
  /** Dequeue attempts not yet resolved by `d` or `l`. */
  dequeuesPending: number;
  dequeued: boolean;
  /** Settled absent by an earlier verification: must never come back. */
  gone: boolean;
};

export type Ledger = Map<string, Fate>;

export function newLedger(): Ledger {
  return new Map();
}

/** Adds one worker's records (in file order) to the ledger. */
export function record(ledger: Ledger, records: readonly AckRecord[]): void {
  const fateOf = (queue: string, name: string): Fate => {
    const fate = ledger.get(name);
    if (fate === undefined) throw new Error(`acknowledgement for ${queue}/${name}, which was never enqueued`);
    if (fate.queue !== queue) throw new Error(`${name} acknowledged in ${queue}, but enqueued in ${fate.queue}`);
    return fate;
  };
  for (const r of records) {
    switch (r.op) {
      case 'enqueue-attempt':
        if (ledger.has(r.name)) throw new Error(`${r.name} enqueued twice`);
        ledger.set(r.name, { name: r.name, queue: r.queue, length: r.length, enqueue: 'unknown', dequeuesPending: 0, dequeued: false, gone: false });
        break;
      case 'enqueued': fateOf(r.queue, r.name).enqueue = 'acked'; break;
      case 'dequeue-attempt': fateOf(r.queue, r.name).dequeuesPending++; break;
      case 'dequeued': {
        const fate = fateOf(r.queue, r.name);
        fate.dequeuesPending--;
        fate.dequeued = true;
        break;
      }
      case 'dequeue-lost': fateOf(r.queue, r.name).dequeuesPending--; break;
      default: break;
    }
  }
}

/** One message as the recovered mount shows it. */
export type SeenMessage = { name: string; length: number; sha256: string };

export type Recovered = {
  /** Every queue at the root of the mount. */
  root: string[];
  /** The watched queues that exist, with their messages in queue order. */
  queues: Map<string, SeenMessage[]>;
};

export type Expectations = {
  /** Queues that must have survived (sticky, or made by a creator still alive). */
  watched: readonly string[];
  /** Queues whose creators are gone: recovery must have reaped them. */
  reaped: readonly string[];
  /** sha256 (hex) of the first `length` bytes of message `name`'s content. */
  sha256Of: (name: string, length: number) => string;
};

export type Verdict = {
  failures: string[];
  stats: { present: number; ackedPresent: number; unknownPresent: number; unknownAbsent: number; dequeuedAbsent: number };
};

/** Checks a recovered mount against everything acknowledged so far. */
export function verify(ledger: Ledger, recovered: Recovered, expect: Expectations): Verdict {
  const failures: string[] = [];
  const stats = { present: 0, ackedPresent: 0, unknownPresent: 0, unknownAbsent: 0, dequeuedAbsent: 0 };
  const root = new Set(recovered.root);
  for (const queue of expect.watched) {
    if (!root.has(queue) || !recovered.queues.has(queue)) failures.push(`queue ${queue} is gone, but it is sticky or its creator lives`);
  }
  for (const queue of expect.reaped) {
    if (root.has(queue)) failures.push(`queue ${queue} survived, but its creator is dead and it is not sticky`);
  }
  const seenWhere = new Map<string, string>();
  for (const [queue, messages] of recovered.queues) {
    let previous: (OrderKey & { name: string }) | null = null;
    const lastOfProducer = new Map<string, OrderKey & { name: string }>();
    for (const message of messages) {
      const where = `${queue}/${message.name}`;
      const fate = ledger.get(message.name);
      const key = orderKey(message.name);
      if (seenWhere.has(message.name)) failures.push(`${where} appears twice (also in ${seenWhere.get(message.name)})`);
      seenWhere.set(message.name, queue);
      if (fate === undefined || key === null || fate.queue !== queue) {
        failures.push(`${where} is a phantom: nothing ever enqueued it there`);
        continue;
      }
      stats.present++;
      if (fate.gone) failures.push(`${where} came back after an earlier recovery showed it gone`);
      if (fate.dequeued) failures.push(`${where} reappeared, but its dequeue was acknowledged`);
      const acked = fate.enqueue === 'acked';
      if (acked) stats.ackedPresent++;
      else stats.unknownPresent++;
      if (acked && message.length !== fate.length) {
        failures.push(`${where} has ${message.length} bytes, ${fate.length} were acknowledged`);
      } else if (message.length > fate.length) {
        failures.push(`${where} has ${message.length} bytes, more than the ${fate.length} ever written`);
      } else if (message.sha256 !== expect.sha256Of(message.name, message.length)) {
        failures.push(`${where}: its ${message.length} bytes differ from ${acked ? 'the acknowledged content' : 'a prefix of the content written'}`);
      }
      if (previous !== null && previous.trial > key.trial) {
        failures.push(`${queue}: ${previous.name} (trial ${previous.trial}) comes before ${message.name} (trial ${key.trial})`);
      }
      const producer = `${key.trial}/${key.producer}`;
      const last = lastOfProducer.get(producer);
      if (last !== undefined && last.n > key.n) failures.push(`${queue}: ${last.name} comes before ${message.name}, out of creation order`);
      lastOfProducer.set(producer, { ...key, name: message.name });
      previous = { ...key, name: message.name };
    }
  }
  for (const fate of ledger.values()) {
    if (seenWhere.has(fate.name) || !recovered.queues.has(fate.queue)) continue;
    if (fate.gone) continue;
    if (fate.dequeued) stats.dequeuedAbsent++;
    else if (fate.enqueue === 'acked' && fate.dequeuesPending === 0) failures.push(`${fate.queue}/${fate.name} is lost: its enqueue was acknowledged and no dequeue was attempted`);
    else stats.unknownAbsent++;
  }
  return { failures, stats };
}

/**
 * After a verification, unknowns become what recovery showed: a message seen is acknowledged with
 * the bytes it has and no dequeue pending; a message not seen is gone for good. Only messages of
 * queues that were looked at are settled.
 */
export function settle(ledger: Ledger, recovered: Recovered): void {
  const seen = new Map<string, SeenMessage>();
  for (const messages of recovered.queues.values()) for (const message of messages) seen.set(message.name, message);
  for (const fate of ledger.values()) {
    if (!recovered.queues.has(fate.queue)) continue;
    const message = seen.get(fate.name);
    fate.dequeuesPending = 0;
    if (message === undefined) {
      fate.gone = true;
      continue;
    }
    fate.enqueue = 'acked';
    fate.length = message.length;
  }
}
