import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fold, toPlain, type Event } from '../../src/model/index.ts';
import { createModel, ingest, resetModel } from './model.ts';
import { Ring } from './ring.ts';
import { alice, bob, busyScript, modelOf, Script, T0_MS, viewOf } from './testing.ts';
import { viewJson } from './view.ts';

describe('Ring', () => {
  it('keeps the newest items, oldest first, however many were pushed', () => {
    const ring = new Ring<number>(3);
    for (let i = 1; i <= 7; i++) ring.push(i);
    assert.deepEqual(ring.newest(10), [5, 6, 7]);
    assert.deepEqual(ring.newest(2), [6, 7]);
    assert.equal(ring.size, 3);
  });

  it('filters from the newest end', () => {
    const ring = new Ring<number>(10);
    for (let i = 1; i <= 9; i++) ring.push(i);
    assert.deepEqual(ring.newest(2, (n) => n % 2 === 1), [7, 9]);
  });

  it('refuses a capacity below one', () => {
    assert.throws(() => new Ring(0), RangeError);
  });
});

describe('ingest', () => {
  it('folds to exactly the state the model folds to', () => {
    const script = busyScript();
    const model = modelOf(script);
    assert.deepEqual(toPlain(model.state), toPlain(fold(script.events)));
    assert.equal(model.foldError, null);
  });

  it('keeps the stream bounded', () => {
    const script = new Script().mkdir(alice, 'q');
    for (let i = 0; i < 50; i++) script.put(alice, 'q', `m${i}`, 'x');
    const model = createModel(10);
    ingest(model, script.events as never);
    assert.equal(model.stream.size, 10);
    assert.equal(model.stream.newest(1)[0]!.seq, script.events.length);
  });

  it('names the queue and file of events that carry only an inode', () => {
    const model = modelOf(new Script().mkdir(alice, 'jobs').put(alice, 'jobs', 'job-1', 'hello'));
    const written = model.stream.newest(1)[0]!;
    assert.deepEqual([written.type, written.queue, written.name, written.detail], ['dataWritten', 'jobs', 'job-1', '5B at 0']);
  });

  it('describes a pop by the name it removed and how', () => {
    const model = modelOf(new Script().mkdir(alice, 'jobs').put(alice, 'jobs', 'a', '1').pop(bob, 'jobs'));
    const pop = model.stream.newest(1)[0]!;
    assert.deepEqual([pop.type, pop.queue, pop.name, pop.detail, pop.pid, pop.uid], ['entryRemoved', 'jobs', 'a', 'via head', bob.pid, bob.uid]);
  });

  it('counts reaps and forgets the reaped queue', () => {
    const model = modelOf(busyScript());
    assert.equal(model.reaps, 1);
    assert.equal(model.state.queues.has('doomed'), false);
    assert.equal(model.stats.queues.has('doomed'), false);
  });

  it('stops at an event that does not fit the state, and says which', () => {
    const script = new Script().mkdir(alice, 'q');
    const model = createModel();
    const skipped = { ...script.events[0]!, seq: 5 } as Event;
    ingest(model, [skipped] as never);
    assert.match(model.foldError!, /seq 5/);
    ingest(model, script.events as never);
    assert.equal(model.state.seq, 0, 'nothing is folded after a fold error');
  });

  it('after a reset, folds the same events again without counting them twice', () => {
    const script = new Script().mkdir(alice, 'q').put(alice, 'q', 'm', 'x');
    const model = modelOf(script);
    const streamSize = model.stream.size;
    resetModel(model, null, null);
    ingest(model, script.events as never);
    assert.equal(model.stream.size, streamSize);
    assert.equal(model.state.queues.get('q')!.entries.size, 1);
  });

  it('starts from a snapshot state and can name its files', () => {
    const script = new Script().mkdir(alice, 'q').put(alice, 'q', 'm', 'x');
    const model = createModel();
    resetModel(model, { path: 's', header: { version: 1, mountId: Buffer.alloc(16), firstSeq: 3 }, seq: 3, state: toPlain(script.state), hash: '' }, 'aa');
    script.run(alice, { type: 'truncate', ino: script.state.queues.get('q')!.entries.get('m')!.ino, size: 0 });
    ingest(model, script.events.slice(3) as never);
    assert.deepEqual([model.stream.newest(1)[0]!.queue, model.stream.newest(1)[0]!.name], ['q', 'm']);
  });

  it('forgets everything it counted when the log belongs to another mount', () => {
    const model = modelOf(busyScript());
    model.mountId = 'aa';
    resetModel(model, null, 'bb');
    assert.deepEqual([model.stream.size, model.reaps, model.seqSeen, model.mountId], [0, 0, 0, 'bb']);
  });
});

describe('deriveView', () => {
  const model = modelOf(busyScript());
  const view = viewOf(model);

  it('has one row per queue with owner, stickiness, depth and bytes', () => {
    const jobs = view.rows.find((row) => row.name === 'jobs')!;
    const audit = view.rows.find((row) => row.name === 'audit')!;
    assert.deepEqual([jobs.user, jobs.pid, jobs.isSticky, jobs.depth], ['alice', alice.pid, false, 8]);
    assert.equal(jobs.bytes, [4, 5, 6, 7, 8, 9, 10, 11].reduce((sum, i) => sum + `payload ${i}`.length, 0));
    assert.deepEqual([audit.user, audit.isSticky, audit.depth, audit.bytes], ['bob', true, 1, 'payload 0'.length]);
    assert.equal(view.rows.length, 2);
  });

  it('totals count a multicast message once in bytes and in every queue in messages', () => {
    assert.equal(view.header.messages, 9);
    assert.equal(view.header.bytes, view.rows.find((r) => r.name === 'jobs')!.bytes + 'payload 0'.length);
    assert.deepEqual([view.header.queues, view.header.reaps, view.header.totalEvents], [2, 1, model.state.seq]);
  });

  it('ages the head from its last write', () => {
    const jobs = viewOf(model, { nowMs: model.lastEventMs! + 5000 }).rows.find((row) => row.name === 'jobs')!;
    const head = model.state.inodes.get(model.state.queues.get('jobs')!.head!.ino)!;
    assert.equal(jobs.headAgeMs, model.lastEventMs! + 5000 - head.mtimeMs);
  });

  it('is idle when a live daemon wrote nothing for 5 s', () => {
    assert.equal(viewOf(model, { nowMs: model.lastEventMs! + 1000 }).header.isIdle, false);
    assert.equal(viewOf(model, { nowMs: model.lastEventMs! + 6000 }).header.isIdle, true);
    assert.equal(viewOf(model, { nowMs: model.lastEventMs! + 6000, daemon: { kind: 'gone', pid: 7 } }).header.isIdle, false);
  });

  it('details a queue: messages oldest first with sizes, ages and links, and its own events', () => {
    const detail = viewOf(model, { detailQueue: 'jobs' }).detail!;
    assert.deepEqual(detail.messages.map((m) => m.name), ['job-4', 'job-5', 'job-6', 'job-7', 'job-8', 'job-9', 'job-10', 'job-11']);
    assert.equal(detail.messagesTotal, 8);
    assert.deepEqual(detail.messages.slice(0, 2).map((m) => m.bytes), [9, 9]);
    const audit = viewOf(model, { detailQueue: 'audit' }).detail!;
    assert.equal(audit.messages[0]!.links, 1, 'job-0 left jobs, so only audit holds it');
    assert.ok(detail.events.length > 0 && detail.events.every((entry) => entry.queue === 'jobs'));
  });

  it('details a queue that is gone as gone, with its last events', () => {
    const detail = viewOf(model, { detailQueue: 'doomed' }).detail!;
    assert.equal(detail.row, null);
    assert.equal(detail.events.at(-1)!.type, 'queueReaped');
  });

  it('shows a fold error first among the problems', () => {
    const broken = createModel();
    broken.foldError = 'event seq 9 (x) cannot apply: expected seq 1';
    assert.match(viewOf(broken, { problems: ['other'] }).header.problems.join('|'), /^fold stopped: .*\|other$/);
  });
});

describe('viewJson', () => {
  it('prints queues with owner, stickiness, depth, bytes and rates, and the totals', () => {
    const json = JSON.parse(JSON.stringify(viewJson(viewOf(modelOf(busyScript()))))) as {
      totals: Record<string, number>; queues: { name: string; owner: { uid: number; user: string; pid: number }; isSticky: boolean; depth: number }[];
      eventsPerSecond: number; daemon: { kind: string };
    };
    assert.deepEqual(Object.keys(json.totals).sort(), ['bytes', 'events', 'logBytes', 'messages', 'queues', 'reaps']);
    const audit = json.queues.find((queue) => queue.name === 'audit')!;
    assert.deepEqual([audit.owner, audit.isSticky, audit.depth], [{ uid: 1001, user: 'bob', pid: 4343 }, true, 1]);
    assert.equal(typeof json.eventsPerSecond, 'number');
    assert.equal(json.daemon.kind, 'live');
  });

  it('has rates from the last five seconds of event time', () => {
    const script = new Script().mkdir(alice, 'q');
    for (let i = 0; i < 10; i++) script.put(alice, 'q', `m${i}`, 'x', 500);
    const model = modelOf(script);
    const json = viewJson(viewOf(model, { nowMs: T0_MS + 5999 })) as { queues: { enqueuesPerSecond: number }[] };
    // Puts at T0 + 600, 1100, ..., 5100: nine of them in the five seconds up to T0 + 5999.
    assert.equal(model.lastEventMs, T0_MS + 5100);
    assert.equal(json.queues[0]!.enqueuesPerSecond, 1.8);
  });
});
