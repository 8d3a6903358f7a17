import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { messageContent, sha256Hex } from './content.ts';
import { newLedger, orderKey, parseAcks, record, settle, verify, type Expectations, type Ledger, type Recovered, type SeenMessage } from './ledger.ts';

const TAG = 'tag';
const expect = (overrides: Partial<Expectations> = {}): Expectations => ({
  watched: ['s0'], reaped: [], sha256Of: (name, length) => sha256Hex(messageContent(TAG, name, length)), ...overrides,
});
const seen = (name: string, length: number, bytes = messageContent(TAG, name, length)): SeenMessage => ({ name, length, sha256: sha256Hex(bytes) });
const recovered = (messages: SeenMessage[], root = ['s0']): Recovered => ({ root, queues: new Map([['s0', messages]]) });
const ledgerOf = (...files: string[]): Ledger => {
  const ledger = newLedger();
  for (const file of files) record(ledger, parseAcks(file));
  return ledger;
};

describe('parseAcks', () => {
  it('reads every line kind and drops a last line cut mid-write', () => {
    const records = parseAcks('R\nQ e1\nE s0 t0p0-1 10\ne s0 t0p0-1\nu s0 t0p0-2 2\nD s0 t0p0-1\nd s0 t0p0-1\nl s0 t0p0-3\nX 107\nE s0 t0');
    assert.deepEqual(records.map((r) => r.op), [
      'ready', 'queue', 'enqueue-attempt', 'enqueued', 'enqueue-failed', 'dequeue-attempt', 'dequeued', 'dequeue-lost', 'stopped',
    ]);
    assert.deepEqual(records[2], { op: 'enqueue-attempt', queue: 's0', name: 't0p0-1', length: 10 });
  });

  it('refuses a garbled line', () => {
    assert.throws(() => parseAcks('E s0 x notanumber\n'), /bad acknowledgement line/);
    assert.throws(() => parseAcks('Z\n'), /bad acknowledgement line/);
  });

  it('orderKey parses trial, producer and n', () => {
    assert.deepEqual(orderKey('t12p3-45'), { trial: 12, producer: 3, n: 45 });
    assert.equal(orderKey('head'), null);
  });
});

describe('verify', () => {
  it('passes when every acknowledged message is there, in order, with its bytes', () => {
    const ledger = ledgerOf('E s0 t0p0-1 5\ne s0 t0p0-1\nE s0 t0p0-2 300\ne s0 t0p0-2\n', 'E s0 t0p1-1 0\ne s0 t0p1-1\n');
    const verdict = verify(ledger, recovered([seen('t0p0-1', 5), seen('t0p1-1', 0), seen('t0p0-2', 300)]), expect());
    assert.deepEqual(verdict.failures, []);
    assert.equal(verdict.stats.ackedPresent, 3);
  });

  it('finds a lost acknowledged enqueue', () => {
    const ledger = ledgerOf('E s0 t0p0-1 5\ne s0 t0p0-1\n');
    assert.match(verify(ledger, recovered([]), expect()).failures.join(), /t0p0-1 is lost/);
  });

  it('lets an unacknowledged enqueue be absent, or present with a prefix of its bytes', () => {
    const ledger = ledgerOf('E s0 t0p0-1 100\nX 107\n');
    assert.deepEqual(verify(ledger, recovered([]), expect()).failures, []);
    assert.deepEqual(verify(ledger, recovered([seen('t0p0-1', 40)]), expect()).failures, []);
    const wrong = Buffer.from(messageContent(TAG, 't0p0-1', 40));
    wrong[3]! ^= 1;
    assert.match(verify(ledger, recovered([seen('t0p0-1', 40, wrong)]), expect()).failures.join(), /differ from a prefix/);
  });

  it('finds acknowledged bytes that are short or different', () => {
    const ledger = ledgerOf('E s0 t0p0-1 100\ne s0 t0p0-1\n');
    assert.match(verify(ledger, recovered([seen('t0p0-1', 99)]), expect()).failures.join(), /99 bytes, 100 were acknowledged/);
    const wrong = Buffer.from(messageContent(TAG, 't0p0-1', 100));
    wrong[99]! ^= 1;
    assert.match(verify(ledger, recovered([seen('t0p0-1', 100, wrong)]), expect()).failures.join(), /differ from the acknowledged content/);
  });

  it('finds an acknowledged dequeue that came back, and allows an unknown one either way', () => {
    const enqueued = 'E s0 t0p0-1 5\ne s0 t0p0-1\n';
    const dequeued = ledgerOf(enqueued, 'D s0 t0p0-1\nd s0 t0p0-1\n');
    assert.match(verify(dequeued, recovered([seen('t0p0-1', 5)]), expect()).failures.join(), /reappeared/);
    assert.deepEqual(verify(dequeued, recovered([]), expect()).failures, []);
    const unknown = ledgerOf(enqueued, 'D s0 t0p0-1\nX 107\n');
    assert.deepEqual(verify(unknown, recovered([]), expect()).failures, []);
    assert.deepEqual(verify(unknown, recovered([seen('t0p0-1', 5)]), expect()).failures, []);
  });

  it('a dequeue lost to another consumer refutes only that attempt', () => {
    const ledger = ledgerOf('E s0 t0p0-1 5\ne s0 t0p0-1\n', 'D s0 t0p0-1\nl s0 t0p0-1\n');
    assert.match(verify(ledger, recovered([]), expect()).failures.join(), /is lost/);
  });

  it('finds phantoms, duplicates and messages in the wrong queue', () => {
    const ledger = ledgerOf('E s1 t0p0-1 5\ne s1 t0p0-1\n');
    const twoQueues: Recovered = { root: ['s0', 's1'], queues: new Map([['s0', [seen('t0p0-1', 5)]], ['s1', [seen('t0p0-1', 5)]]]) };
    const failures = verify(ledger, twoQueues, expect({ watched: ['s0', 's1'] })).failures.join('\n');
    assert.match(failures, /s0\/t0p0-1 is a phantom/);
    assert.match(failures, /appears twice/);
    assert.match(verify(newLedger(), recovered([seen('t9p9-9', 1)]), expect()).failures.join(), /phantom/);
  });

  it('finds messages out of creation order, within a producer and across trials', () => {
    const ledger = ledgerOf('E s0 t0p0-1 1\ne s0 t0p0-1\nE s0 t0p0-2 1\ne s0 t0p0-2\n', 'E s0 t1p0-1 1\ne s0 t1p0-1\n');
    assert.match(verify(ledger, recovered([seen('t0p0-2', 1), seen('t0p0-1', 1), seen('t1p0-1', 1)]), expect()).failures.join(), /out of creation order/);
    assert.match(verify(ledger, recovered([seen('t1p0-1', 1), seen('t0p0-1', 1), seen('t0p0-2', 1)]), expect()).failures.join(), /trial 1\) comes before/);
  });

  it('checks which queues survived and which were reaped', () => {
    const failures = verify(newLedger(), { root: ['e1'], queues: new Map() }, expect({ reaped: ['e1'] })).failures.join('\n');
    assert.match(failures, /queue s0 is gone/);
    assert.match(failures, /queue e1 survived/);
  });
});

describe('settle', () => {
  it('makes unknowns what recovery showed, so a later crash cannot flip them', () => {
    const ledger = ledgerOf('E s0 t0p0-1 100\nE s0 t0p0-2 7\nX 107\n', 'E s0 t0p1-1 5\ne s0 t0p1-1\nD s0 t0p1-1\nX 107\n');
    // p0-1 shows 40 bytes; p0-2 (hypothetically) never made it; p1-1's dequeue did not happen.
    const first = recovered([seen('t0p0-1', 40), seen('t0p1-1', 5)]);
    assert.deepEqual(verify(ledger, first, expect()).failures, []);
    settle(ledger, first);
    assert.match(verify(ledger, recovered([seen('t0p1-1', 5)]), expect()).failures.join(), /t0p0-1 is lost/);
    assert.match(verify(ledger, recovered([seen('t0p0-1', 40)]), expect()).failures.join(), /t0p1-1 is lost/);
    const back = recovered([seen('t0p0-1', 40), seen('t0p0-2', 7), seen('t0p1-1', 5)]);
    assert.match(verify(ledger, back, expect()).failures.join(), /t0p0-2 came back/);
  });
});
