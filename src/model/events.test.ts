// Every event variant survives the log codec unchanged (STYLE.md point 2), and decide only ever
// emits events of the vocabulary with the base fields replay needs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeEvent, encodeEvent } from '../log/format.ts';
import { BUILT_IN_QUOTA_TABLE } from '../config/limits.ts';
import { EVENT_TYPES, EVENT_VERSION, apply, emptyState, type Event, type EventBody, type EventType } from './index.ts';

const base = { v: EVENT_VERSION, seq: 7, t: 1_700_000_000_123, uid: 1000, gid: 100, pid: 4242 };

/** One example per variant; the Record type makes the compiler demand a new one for each new type. */
const EXAMPLES: { [T in EventType]: EventBody & { type: T } } = {
  quotasSet: {
    type: 'quotasSet',
    quotas: { ...BUILT_IN_QUOTA_TABLE, users: { '1000': { maxBytes: null, maxDirs: 3 } }, groups: { '10': { maxFiles: 9 } }, rootExempt: true },
  },
  queueCreated: { type: 'queueCreated', queue: '10', ino: 2, mode: 0o755, creator: { pid: 4242, start: 987654321 } },
  queueRemoved: { type: 'queueRemoved', queue: 'q' },
  queueReaped: { type: 'queueReaped', queue: 'q', creator: { pid: 1, start: 2 ** 40 } },
  fileCreated: { type: 'fileCreated', queue: 'q', name: 'ünïcödé 📨', ino: 2 ** 31 + 5, mode: 0o644 },
  dataWritten: { type: 'dataWritten', ino: 5, offset: 2 ** 33, data: Buffer.from([0, 1, 2, 0xff, 0xfe]) },
  fileTruncated: { type: 'fileTruncated', ino: 5, size: 0 },
  linkCreated: { type: 'linkCreated', queue: 'q2', name: 'm2', ino: 5 },
  entryRemoved: { type: 'entryRemoved', queue: 'q', name: 'm', via: 'tail' },
  modeChanged: { type: 'modeChanged', ino: 5, mode: 0o4755 },
  ownerChanged: { type: 'ownerChanged', ino: 5, owner: { uid: 0, gid: 65534 } },
  timesChanged: { type: 'timesChanged', ino: 5, atimeMs: 0, mtimeMs: 1_700_000_000_000.5 },
  xattrSet: { type: 'xattrSet', ino: 2, key: 'user.eventfs_sticky', value: Buffer.alloc(0) },
  xattrRemoved: { type: 'xattrRemoved', ino: 2, key: 'user.x' },
};

function roundTrip(event: Event): Event {
  return decodeEvent(encodeEvent(event)) as Event;
}

describe('events: log codec round trip', () => {
  it('has one example for every event type and nothing else', () => {
    assert.deepEqual(Object.keys(EXAMPLES).sort(), [...EVENT_TYPES].sort());
  });

  for (const type of EVENT_TYPES) {
    it(`round-trips ${type} unchanged, field by field`, () => {
      const event = { ...base, ...EXAMPLES[type] } as Event;
      assert.deepEqual(roundTrip(event), event);
    });
  }

  it('decodes binary fields as Buffers the model can use', () => {
    const decoded = roundTrip({ ...base, ...EXAMPLES.dataWritten });
    assert.ok(decoded.type === 'dataWritten' && Buffer.isBuffer(decoded.data));
  });

  it('decodes binaries as copies that do not alias the read buffer', () => {
    const frame = encodeEvent({ ...base, ...EXAMPLES.dataWritten });
    const decoded = decodeEvent(frame) as Event;
    frame.fill(0);
    assert.ok(decoded.type === 'dataWritten' && decoded.data.equals(Buffer.from([0, 1, 2, 0xff, 0xfe])));
  });

  it('keeps a queue name that looks like an integer a string', () => {
    const decoded = roundTrip({ ...base, ...EXAMPLES.queueCreated });
    assert.ok(decoded.type === 'queueCreated' && decoded.queue === '10');
  });

  it('folds a decoded event like the original', () => {
    const created = { ...base, seq: 1, ...EXAMPLES.queueCreated } as Event;
    const state = apply(emptyState(), roundTrip(created));
    assert.equal(state.queues.get('10')!.creator.start, 987654321);
  });
});
