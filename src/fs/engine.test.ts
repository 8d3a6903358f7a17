import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WRITTEN } from '../log/writer.ts';
import { emptyState, type Caller, type Command, type Event } from '../model/index.ts';
import { Engine, type EventSink } from './engine.ts';

const USER: Caller = { uid: 1000, gid: 1000, pid: 4242, start: 7 };
const mkdir = (path: string): Command => ({ type: 'mkdir', path, mode: 0o755, by: USER, atMs: 1 });

function engineWith(append: EventSink['append'], afterAppend?: () => void | Promise<void>) {
  const failures: unknown[] = [];
  const appended: Event[][] = [];
  const sink: EventSink = {
    append: (events, options) => {
      appended.push(events);
      return append(events, options);
    },
    sync: () => Promise.resolve(),
  };
  const engine = new Engine(emptyState(), sink, 'none', (error) => failures.push(error), afterAppend);
  return { engine, failures, appended };
}

describe('Engine.run', () => {
  it('answers at once when the sink has the events in the kernel already', () => {
    let after = 0;
    const { engine, appended } = engineWith(() => WRITTEN, () => void after++);
    assert.equal(engine.run(mkdir('/q')), null);
    assert.equal(appended.length, 1);
    assert.equal(after, 1, 'afterAppend ran before the answer');
    assert.ok(engine.state.queues.has('q'));
  });

  it('answers a refusal at once, appending nothing', () => {
    const { engine, appended } = engineWith(() => WRITTEN);
    assert.equal(engine.run(mkdir('/q')), null);
    assert.equal(engine.run(mkdir('/q')), 'EEXIST');
    assert.equal(engine.run(mkdir('/q/sub')), 'EPERM');
    assert.equal(appended.length, 1);
  });

  it('answers with a promise while the sink is writing, settled only after it', async () => {
    let release!: () => void;
    const { engine } = engineWith(() => new Promise<void>((resolve) => { release = resolve; }));
    const outcome = engine.run(mkdir('/q'));
    assert.ok(outcome instanceof Promise);
    let settled = false;
    void outcome.then(() => { settled = true; });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false);
    release();
    assert.equal(await outcome, null);
  });

  it('waits for what afterAppend returns (compaction backpressure)', async () => {
    let release!: () => void;
    const { engine } = engineWith(() => WRITTEN, () => new Promise<void>((resolve) => { release = resolve; }));
    const outcome = engine.run(mkdir('/q'));
    assert.ok(outcome instanceof Promise);
    release();
    assert.equal(await outcome, null);
  });

  it('answers EIO and reports when the sink fails', async () => {
    const { engine, failures } = engineWith(() => Promise.reject(new Error('disk gone')));
    assert.equal(await engine.run(mkdir('/q')), 'EIO');
    assert.match(String(failures[0]), /disk gone/);
  });
});
