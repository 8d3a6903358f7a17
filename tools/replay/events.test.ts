import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { T0_MS } from '../../test/fixtures/replay/generate.ts';
import { UsageError } from './exit.ts';
import { columnsOf, dumpEvents, eventJson, eventLine, NO_FILTER, parseTypes, type EventFilter, type Selected } from './events.ts';
import { COLOUR, PLAIN } from './format.ts';
import { loadLog } from './load.ts';
import { FIXTURES, fixture } from './testing.ts';

async function selected(path: string, filter: Partial<EventFilter> = {}): Promise<Selected[]> {
  const log = await loadLog(path, null);
  const out: Selected[] = [];
  dumpEvents(log, { ...NO_FILTER, ...filter }, (s) => out.push(s));
  return out;
}

const seqs = (list: Selected[]): number[] => list.map((s) => s.record.event.seq);

describe('dumpEvents', () => {
  it('gives every event in order, with the path an inode had at that moment', async () => {
    const all = await selected(join(FIXTURES, 'multicast.bin'));
    assert.deepEqual(seqs(all), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    assert.equal(all[6]!.target.path, 'news/flash', 'a write names its inode; it is shown by name');
    assert.equal(all[7]!.target.source, 'news/flash', 'a link shows what it links to');
  });

  it('filters by queue, including writes to and links of messages that are in that queue', async () => {
    assert.deepEqual(seqs(await selected(join(FIXTURES, 'multicast.bin'), { queues: new Set(['news']) })), [2, 6, 7, 8, 9, 10]);
    assert.deepEqual(seqs(await selected(join(FIXTURES, 'multicast.bin'), { queues: new Set(['carol-inbox', 'bob-inbox']) })), [3, 4, 5, 8, 9, 11]);
  });

  it('filters by type, pid and uid', async () => {
    const path = join(FIXTURES, 'multicast.bin');
    assert.deepEqual(seqs(await selected(path, { types: new Set(['linkCreated', 'entryRemoved']) })), [8, 9, 10, 11]);
    assert.deepEqual(seqs(await selected(path, { pids: new Set([4343]) })), [3, 5, 11]);
    assert.deepEqual(seqs(await selected(path, { uids: new Set([1002]) })), [4]);
  });

  it('filters by seq and by time with --since and --until', async () => {
    const path = join(FIXTURES, 'multicast.bin');
    assert.deepEqual(seqs(await selected(path, { since: { kind: 'seq', seq: 9 } })), [9, 10, 11]);
    assert.deepEqual(seqs(await selected(path, { until: { kind: 'seq', seq: 2 } })), [1, 2]);
    const at = (s: number) => ({ kind: 'time' as const, ms: T0_MS + s * 1000, text: '' });
    assert.deepEqual(seqs(await selected(path, { since: at(3), until: at(5) })), [4, 5, 6]);
  });

  it('keeps dumping past an event that cannot apply, and reports it', async () => {
    const log = await loadLog(fixture('freed-link'), null);
    const out: Selected[] = [];
    const result = dumpEvents(log, NO_FILTER, (s) => out.push(s));
    assert.equal(out.length, 12);
    assert.equal(result.foldError?.seq, 9);
    assert.equal(out[8]!.target.source, null, 'the freed inode has no name');
  });
});

describe('parseTypes', () => {
  it('accepts comma lists and repeats', () => {
    assert.deepEqual([...parseTypes(['fileCreated,dataWritten', 'queueReaped'])], ['fileCreated', 'dataWritten', 'queueReaped']);
  });

  it('refuses an unknown type and lists the known ones', () => {
    assert.throws(() => parseTypes(['fileDeleted']), (error: unknown) => error instanceof UsageError && /fileDeleted.*known: quotasSet/.test(error.message));
  });
});

describe('eventLine', () => {
  it('shows seq, offset, ISO time, type, what and who, under 80 columns', async () => {
    const log = await loadLog(fixture('jobs'), null);
    const out: Selected[] = [];
    dumpEvents(log, NO_FILTER, (s) => out.push(s));
    const lines = out.flatMap((s) => eventLine(s, columnsOf(log), false, PLAIN));
    assert.equal(lines[2], ` 3 @261  2024-01-01T00:00:02.000Z dataWritten  jobs/a 6 bytes pid=4242 uid=1000`);
    assert.match(lines[7]!, /^ 8 @\d+ +2024-01-01T00:00:07.000Z entryRemoved jobs\/a \(head\) pid=4343 uid=1001$/);
    for (const line of lines) assert.ok(line.length <= 80, `too wide (${line.length}): ${line}`);
  });

  it('shows the written bytes, escaped, with --show-data', async () => {
    const log = await loadLog(fixture('escapes'), null);
    const out: Selected[] = [];
    dumpEvents(log, { ...NO_FILTER, types: new Set(['dataWritten']) }, (s) => out.push(s));
    const lines = eventLine(out[0]!, columnsOf(log), true, PLAIN);
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /"evil\\x1b\[2J"\/"line\\nbreak" 29 bytes pid/);
    assert.equal(lines[1], '  "ok é \\x1b[31mred\\x1b[0m \\xff\\xfe\\x00\\u{202e}evil"');
  });

  it('colours only with a colour style', async () => {
    const log = await loadLog(fixture('jobs'), null);
    const out: Selected[] = [];
    dumpEvents(log, NO_FILTER, (s) => out.push(s));
    assert.ok(!eventLine(out[0]!, columnsOf(log), false, PLAIN)[0]!.includes('\x1b'));
    assert.ok(eventLine(out[0]!, columnsOf(log), false, COLOUR)[0]!.includes('\x1b['));
  });
});

describe('eventJson', () => {
  it('is one JSON object a line with the event as logged and its place in the file', async () => {
    const log = await loadLog(fixture('jobs'), null);
    const out: Selected[] = [];
    dumpEvents(log, { ...NO_FILTER, types: new Set(['dataWritten']) }, (s) => out.push(s));
    const line = eventJson(out[0]!);
    assert.ok(!line.includes('\n'));
    const parsed = JSON.parse(line);
    assert.equal(parsed.seq, 3);
    assert.equal(parsed.offset, 261);
    assert.equal(parsed.target, 'jobs/a');
    assert.equal(parsed.time, '2024-01-01T00:00:02.000Z');
    assert.equal(Buffer.from(parsed.event.data.base64, 'base64').toString(), 'first\n');
  });
});
