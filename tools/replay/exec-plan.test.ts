import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fold, type Event } from '../../src/model/index.ts';
import { replayFixtures, runSteps, alice, bob } from '../../test/fixtures/replay/generate.ts';
import { creatorKey, nsText, planEvent, planState, type Step } from './exec-plan.ts';
import { applyEvent, InodeNames } from './replay.ts';

const jobs = replayFixtures().find((f) => f.name === 'jobs')!.events;

/** The step of each event, each planned against the state just before it. */
function planAll(events: Event[]): Step[] {
  const state = fold([]);
  const names = new InodeNames(state);
  return events.map((event) => {
    const step = planEvent(event, names);
    applyEvent(state, event);
    names.observe(event);
    return step;
  });
}

describe('planEvent', () => {
  it('turns each event into the system call that caused it, by the recorded caller', () => {
    const steps = planAll(jobs);
    assert.deepEqual(steps[0], { kind: 'op', by: { pid: 4242, uid: 1000, gid: 1000 }, op: { op: 'mkdir', path: 'jobs', mode: 0o755 }, creator: '4242/1234567' });
    assert.deepEqual(steps[1], { kind: 'op', by: { pid: 4242, uid: 1000, gid: 1000 }, op: { op: 'create', path: 'jobs/a', mode: 0o644, ino: 5 } });
    assert.deepEqual(steps[2], { kind: 'op', by: { pid: 4242, uid: 1000, gid: 1000 }, op: { op: 'write', path: 'jobs/a', ino: 5, offset: 0, data: Buffer.from('first\n').toString('base64') } });
  });

  it('pops through head and tail, checking the name the log popped', () => {
    const steps = planAll(jobs);
    assert.deepEqual(steps[7], { kind: 'op', by: { pid: 4343, uid: 1001, gid: 1001 }, op: { op: 'unlink', path: 'jobs/head', expect: 'a' } });
    assert.deepEqual(steps[10], { kind: 'op', by: { pid: 4343, uid: 1001, gid: 1001 }, op: { op: 'unlink', path: 'jobs/tail', expect: 'd' } });
  });

  it('reaches inodes by a current name: links, modes, owners, times and xattrs', () => {
    const { events } = runSteps([
      { by: alice, cmd: { type: 'mkdir', path: '/q', mode: 0o755 } },
      { by: alice, cmd: { type: 'mkdir', path: '/r', mode: 0o777 } },
      { by: alice, cmd: { type: 'create', path: '/q/m', mode: 0o600 } },
      { by: bob, cmd: { type: 'link', from: '/q/m', to: '/r/m2' } },
      { by: alice, cmd: { type: 'unlink', path: '/q/m' } },
      { by: alice, cmd: { type: 'chmod', path: '/r/m2', mode: 0o640 } },
      { by: alice, cmd: { type: 'utimens', path: '/r/m2', atimeMs: 1.5, mtimeMs: 1_577_836_800_000 } },
      { by: alice, cmd: { type: 'setxattr', path: '/q', key: 'user.eventfs_sticky', value: Buffer.alloc(0), flags: 0 } },
      { by: alice, cmd: { type: 'removexattr', path: '/q', key: 'user.eventfs_sticky' } },
      { by: alice, cmd: { type: 'truncate', ino: 8, size: 3 } },
    ]);
    const ops = planAll(events).map((step) => (step.kind === 'op' ? step.op : step));
    assert.deepEqual(ops.slice(3), [
      { op: 'link', from: 'q/m', to: 'r/m2' },
      { op: 'unlink', path: 'q/m' },
      { op: 'chmod', path: 'r/m2', mode: 0o640 },
      { op: 'utime', path: 'r/m2', atimeNs: '1500000', mtimeNs: '1577836800000000000' },
      { op: 'setxattr', path: 'q', key: 'user.eventfs_sticky', value: '' },
      { op: 'removexattr', path: 'q', key: 'user.eventfs_sticky' },
      { op: 'truncate', path: 'r/m2', ino: 8, size: 3 },
    ]);
  });

  it('kills the creator for a reap and skips what no process did', () => {
    const { events } = runSteps([
      { by: { uid: 0, gid: 0, pid: 0, start: 0 }, cmd: { type: 'setQuotas', quotas: { defaults: { maxDirs: null, maxFiles: null, maxFilesPerDir: null, maxBytes: null }, users: {}, groups: {}, rootExempt: false } } },
      { by: alice, cmd: { type: 'mkdir', path: '/q', mode: 0o755 } },
      { by: { uid: 0, gid: 0, pid: 0, start: 0 }, cmd: { type: 'reap', queue: 'q' } },
    ]);
    const steps = planAll(events);
    assert.equal(steps[0]!.kind, 'skip');
    assert.deepEqual(steps[2], { kind: 'reap', queue: 'q', creator: creatorKey(alice) });
  });
});

describe('planState', () => {
  it('rebuilds queues by their creators, files once, links for the other names', () => {
    const { state } = runSteps([
      { by: alice, cmd: { type: 'mkdir', path: '/q', mode: 0o555 } },
      { by: bob, cmd: { type: 'mkdir', path: '/r', mode: 0o777 } },
      { by: alice, cmd: { type: 'create', path: '/q/m', mode: 0o600 } },
      { by: alice, write: '/q/m', text: 'hi' },
      { by: bob, cmd: { type: 'link', from: '/q/m', to: '/r/m2' } },
    ]);
    const ops = planState(state).map((step) => (step.kind === 'op' ? [step.by.uid, step.op.op, 'path' in step.op ? step.op.path : ''] : step.kind));
    assert.deepEqual(ops, [
      [1000, 'mkdir', 'q'], [1001, 'mkdir', 'r'],
      [1000, 'create', 'q/m'], [1000, 'write', 'q/m'], [1000, 'forget', ''],
      [1001, 'link', ''],
      [1000, 'chmod', 'q'],
    ]);
  });
});

describe('nsText', () => {
  it('converts ms to ns exactly, past 2^53', () => {
    assert.equal(nsText(1_704_067_200_123), '1704067200123000000');
    assert.equal(nsText(0.25), '250000');
  });
});
