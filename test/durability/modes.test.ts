/**
 * What each durability mode promises, seen from outside: the daemon's fdatasync calls (strace
 * attached to every thread) against the client's syscalls (strace with the same wall clock).
 *   always: every write(2) returns after an fdatasync of the log;
 *   close:  write(2) causes none, close(2) of the written file and unlink(2) return after one;
 *   none:   none of them waits for one; fsync(2) of a file still does.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startMount } from '../helpers/mount.ts';
import { stickyQueue } from '../helpers/queues.ts';

const HAS_STRACE = spawnSync('strace', ['-V'], { stdio: 'ignore' }).status === 0;
const PYTHON = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
const WRITES = 40;

let root: string;
before(() => (root = mkdtempSync(join(tmpdir(), 'eventfs-modes-'))));
after(() => rmSync(root, { recursive: true, force: true }));

/** The client: one message written in WRITES chunks and closed, a pop, then a message fsync()ed. */
const CLIENT_PY = `
import os, sys
q, writes = sys.argv[1], int(sys.argv[2])
fd = os.open(f"{q}/m1", os.O_WRONLY | os.O_CREAT, 0o644)
for i in range(writes):
    os.write(fd, b"x" * 1000)
os.close(fd)
os.unlink(f"{q}/head")
fd = os.open(f"{q}/m2", os.O_WRONLY | os.O_CREAT, 0o644)
os.write(fd, b"y" * 1000)
os.fsync(fd)
os.close(fd)
`;

type Interval = { start: number; end: number };

const seconds = (hms: string): number => {
  const [h, m, s] = hms.split(':');
  return Number(h) * 3600 + Number(m) * 60 + Number(s);
};

/** End times of the daemon's completed fdatasync/fsync calls (strace -f -tt -T). */
function syncEnds(trace: string): number[] {
  const ends: number[] = [];
  for (const line of trace.split('\n')) {
    const done = /^(?:\d+\s+)?(\d\d:\d\d:\d\d\.\d+) (?:f(?:data)?sync\(\d+\)|<\.\.\. f(?:data)?sync resumed>\)) += 0 <([\d.]+)>$/.exec(line);
    if (done === null) continue;
    ends.push(line.includes('resumed') ? seconds(done[1]!) : seconds(done[1]!) + Number(done[2]));
  }
  return ends;
}

/** The client's calls on its message files, in order: which, and when they ran. */
function clientCalls(trace: string, queue: string): { call: string; interval: Interval }[] {
  const calls: { call: string; interval: Interval }[] = [];
  let fd: string | null = null;
  for (const line of trace.split('\n')) {
    const match = /^(\d\d:\d\d:\d\d\.\d+) (\w+)\((.*)\) += (-?\d+)(?: \w+ \(.*\))? <([\d.]+)>$/.exec(line);
    if (match === null) continue;
    const [, at, call, args, result, took] = match;
    const interval = { start: seconds(at!), end: seconds(at!) + Number(took) };
    if (call === 'openat' && args!.includes(`"${queue}/m`)) {
      fd = result!;
      calls.push({ call: 'open', interval });
    } else if (fd !== null && (args!.startsWith(`${fd},`) || args === fd) && ['write', 'close', 'fsync'].includes(call!)) {
      calls.push({ call: call!, interval });
      if (call === 'close') fd = null;
    } else if (call === 'unlink' && args!.includes(`"${queue}/head"`)) {
      calls.push({ call: 'unlink', interval });
    }
  }
  return calls;
}

async function traceMode(mode: 'always' | 'close' | 'none'): Promise<{ calls: { call: string; interval: Interval }[]; syncs: number[] }> {
  const m = await startMount({ args: ['-o', `durability=${mode},snapshot_bytes=1000000000`], root: join(root, mode) });
  const daemonTrace = join(root, `${mode}.daemon.trace`);
  const clientTrace = join(root, `${mode}.client.trace`);
  try {
    const queue = `${m.mnt}/q`;
    stickyQueue(queue);
    const strace = spawn('strace', ['-f', '-tt', '-T', '-e', 'trace=fdatasync,fsync', '-o', daemonTrace, '-p', String(m.daemon.pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let said = '';
    strace.stderr!.on('data', (chunk: Buffer) => (said += chunk.toString()));
    for (let i = 0; i < 100 && !said.includes('attached'); i++) await sleep(50);
    await sleep(200); // every thread attached
    execFileSync('strace', ['-tt', '-T', '-e', 'trace=openat,write,close,fsync,unlink', '-o', clientTrace, PYTHON, '-c', CLIENT_PY, queue, String(WRITES)]);
    await sleep(200);
    strace.kill('SIGINT');
    await new Promise((resolve) => strace.once('exit', resolve));
    return { calls: clientCalls(readFileSync(clientTrace, 'utf8'), queue), syncs: syncEnds(readFileSync(daemonTrace, 'utf8')) };
  } finally {
    await m.stop();
  }
}

const syncsDuring = (syncs: number[], interval: Interval): number => syncs.filter((end) => end >= interval.start && end <= interval.end).length;

describe('durability modes, seen through strace', { skip: HAS_STRACE ? false : 'strace is not installed' }, () => {
  it('always: every write returns after an fdatasync of the log', async () => {
    const { calls, syncs } = await traceMode('always');
    const writes = calls.filter((c) => c.call === 'write');
    assert.equal(writes.length, WRITES + 1);
    const waited = writes.filter((c) => syncsDuring(syncs, c.interval) > 0).length;
    assert.equal(waited, writes.length, `${waited} of ${writes.length} writes waited for an fdatasync`);
    assert.ok(syncsDuring(syncs, calls.find((c) => c.call === 'unlink')!.interval) > 0, 'the pop waited for an fdatasync');
  });

  it('close: writes do not wait for fdatasync; close of the written file and the pop do', async () => {
    const { calls, syncs } = await traceMode('close');
    const writes = calls.filter((c) => c.call === 'write').slice(0, WRITES);
    assert.equal(writes.length, WRITES);
    const during = syncsDuring(syncs, { start: writes[0]!.interval.start, end: writes.at(-1)!.interval.end });
    assert.equal(during, 0, `${during} fdatasyncs while the writes ran`);
    const close = calls.find((c) => c.call === 'close')!;
    assert.ok(syncsDuring(syncs, close.interval) > 0, 'close waited for an fdatasync');
    assert.ok(syncsDuring(syncs, calls.find((c) => c.call === 'unlink')!.interval) > 0, 'the pop waited for an fdatasync');
    assert.ok(syncsDuring(syncs, calls.find((c) => c.call === 'fsync')!.interval) > 0, 'fsync waited for an fdatasync');
  });

  it('none: nothing waits for fdatasync but fsync(2)', async () => {
    const { calls, syncs } = await traceMode('none');
    const beforeFsync = calls.slice(0, calls.findIndex((c) => c.call === 'fsync'));
    assert.ok(beforeFsync.length >= WRITES + 3);
    const during = syncsDuring(syncs, { start: beforeFsync[0]!.interval.start, end: beforeFsync.at(-1)!.interval.end });
    assert.equal(during, 0, `${during} fdatasyncs before the client's fsync`);
    assert.ok(syncsDuring(syncs, calls.find((c) => c.call === 'fsync')!.interval) > 0, 'fsync(2) still forces one');
  });
});
