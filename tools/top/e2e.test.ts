// End to end: a real mount, eventfs-top in a real terminal (tmux), producers and consumers
// driving the mount, and assertions on what the screen shows.
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { REPO, sh, startMount, type TestMount } from '../../test/helpers/mount.ts';
import { creatorProcess, killAndWait, stickyQueue } from '../../test/helpers/queues.ts';

const hasTmux = spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;
// A private tmux server: the test never touches the user's sessions, and kill-server cleans up.
const SOCKET = `eventfs-top-test-${process.pid}`;
const SESSION = 'top';

function tmux(...args: string[]): { status: number | null; stdout: string } {
  const result = spawnSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout };
}

const screen = (): string => tmux('capture-pane', '-p', '-t', SESSION).stdout;

// Polls the screen until `found` holds (eventfs-top starts slowly on a loaded machine).
async function untilScreen(found: (text: string) => boolean, what: string, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < deadline) {
    text = screen();
    if (found(text)) return text;
    await sleep(200);
  }
  assert.fail(`timed out waiting for ${what}; the screen shows:\n${text}`);
}

// The queue table: the lines between its heading and the event stream's heading.
function table(text: string): { heading: string; rows: string[] } {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.includes('OWNER/PID'));
  const end = lines.findIndex((line, i) => i > start && /^(EVENTS|RECENT) /.test(line));
  if (start === -1 || end === -1) return { heading: '', rows: [] };
  return { heading: lines[start]!, rows: lines.slice(start + 1, end).filter((line) => !line.includes('(no queues)')) };
}

const rowOf = (text: string, name: string): string | undefined => table(text).rows.find((line) => line.slice(2).split(/\s+/)[0] === name);

// Numeric columns are right-aligned under their heading.
function depthOf(text: string, name: string): number | null {
  const { heading } = table(text);
  const row = rowOf(text, name);
  if (row === undefined) return null;
  const end = heading.indexOf('DEPTH') + 'DEPTH'.length;
  return Number(row.slice(end - 6, end).trim());
}

describe('eventfs-top in tmux on a real mount', { skip: hasTmux ? false : 'tmux is not installed (scripts/setup-system.sh installs it)' }, () => {
  let m: TestMount | undefined;
  let creator: ChildProcess | undefined;

  before(async () => {
    m = await startMount();
    creator = await creatorProcess([`${m.mnt}/jobs`]);
    stickyQueue(`${m.mnt}/keep`);
    const command = `CI=false exec ${process.execPath} ${join(REPO, 'bin/eventfs-top.js')} ${m.logDir}`;
    const started = tmux('new-session', '-d', '-s', SESSION, '-x', '100', '-y', '30', command);
    assert.equal(started.status, 0, 'tmux new-session');
  });

  after(async () => {
    tmux('kill-server');
    if (creator !== undefined) await killAndWait(creator);
    await m?.stop();
  });

  it('shows the queues, their owners and stickiness, and a live daemon', async () => {
    const text = await untilScreen((s) => rowOf(s, 'jobs') !== undefined && rowOf(s, 'keep') !== undefined, 'queues jobs and keep');
    // Idle if it took eventfs-top longer than 5 s to start: no event since the queues were made.
    assert.match(text.split('\n')[0]!, /^eventfs-top {2}(live|idle \S+) \(daemon \d+\)/);
    assert.match(rowOf(text, 'jobs')!, new RegExp(`jobs\\s+root/${creator!.pid}\\s+0\\s`));
    assert.match(rowOf(text, 'keep')!, /keep\s+root\/\d+\s+S\s+0\s/);
  });

  it('shows the depth going up as a producer enqueues, and down as a consumer pops', async () => {
    sh(`for i in 1 2 3 4 5; do echo "message $i" > ${m!.mnt}/jobs/m$i; done`);
    const busy = await untilScreen((s) => depthOf(s, 'jobs') === 5, 'depth 5');
    assert.match(busy.split('\n')[0]!, /^eventfs-top {2}live \(daemon \d+\)/);
    sh(`rm ${m!.mnt}/jobs/head && rm ${m!.mnt}/jobs/head`);
    const text = await untilScreen((s) => depthOf(s, 'jobs') === 3, 'depth 3');
    assert.match(text, /entryRemoved\s+jobs\/m2\s+via head/);
    assert.match(text, /events \d+ .*queues 2 {2}messages 3/);
  });

  it('opens the queue detail with Enter, oldest message first, and goes back with Esc', async () => {
    tmux('send-keys', '-t', SESSION, 'j');
    await untilScreen((s) => rowOf(s, 'keep')?.startsWith('> ') === true, 'keep selected');
    tmux('send-keys', '-t', SESSION, 'k');
    await untilScreen((s) => rowOf(s, 'jobs')?.startsWith('> ') === true, 'jobs selected');
    tmux('send-keys', '-t', SESSION, 'Enter');
    const detail = await untilScreen((s) => s.includes('MESSAGES (oldest first)'), 'the detail of jobs');
    assert.match(detail, /QUEUE jobs /);
    const messages = detail.split('\n').filter((line) => /^ {2}m\d /.test(line)).map((line) => line.trim().split(/\s+/)[0]);
    assert.deepEqual(messages, ['m3', 'm4', 'm5']);
    tmux('send-keys', '-t', SESSION, 'Escape');
    await untilScreen((s) => !s.includes('MESSAGES') && table(s).rows.length === 2, 'the table again');
  });

  it('opens the help overlay with ? and closes it with any key', async () => {
    tmux('send-keys', '-t', SESSION, '?');
    await untilScreen((s) => s.includes('HELP: keys'), 'the help');
    tmux('send-keys', '-t', SESSION, 'x');
    await untilScreen((s) => !s.includes('HELP: keys') && s.includes('OWNER/PID'), 'the help closed');
  });

  it('fits the terminal after it shrinks to 80x24', async () => {
    assert.equal(tmux('resize-window', '-t', SESSION, '-x', '80', '-y', '24').status, 0, 'tmux resize-window');
    const text = await untilScreen((s) => table(s).heading.length > 0 && table(s).heading.length <= 80 && !/HISTORY {12}/.test(table(s).heading), 'the 80-column layout');
    const lines = text.replace(/\n+$/, '').split('\n');
    assert.ok(lines.length <= 23, `${lines.length} lines`);
    assert.ok(lines.every((line) => line.length <= 80));
    assert.ok(rowOf(text, 'jobs') !== undefined && rowOf(text, 'keep') !== undefined);
  });

  it('drops a reaped queue from the table once its creator dies', async () => {
    await killAndWait(creator!);
    const text = await untilScreen((s) => rowOf(s, 'jobs') === undefined && s.includes('queueReaped'), 'jobs reaped');
    assert.ok(rowOf(text, 'keep') !== undefined, 'the sticky queue stays');
    assert.match(text, /reaps 1/);
  });

  it('quits on q', async () => {
    tmux('send-keys', '-t', SESSION, 'q');
    const deadline = Date.now() + 10_000;
    while (tmux('has-session', '-t', SESSION).status === 0 && Date.now() < deadline) await sleep(100);
    assert.notEqual(tmux('has-session', '-t', SESSION).status, 0, 'the session ended with eventfs-top');
  });
});
