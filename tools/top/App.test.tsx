// The live App: every key, pausing, the terminal size (80x24, resize) and a stdin without raw mode.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, it } from 'node:test';
import { App } from './App.tsx';
import type { TopSource, ViewRequest } from './follow.ts';
import { ingest } from './model.ts';
import { KEYS, openTerminal, settle, type Terminal } from './terminal.testing.ts';
import { alice, bob, busyScript, modelOf, Script, staticSource, viewOf } from './testing.ts';
import { plainTheme } from './theme.ts';

const open: Terminal[] = [];
afterEach(() => {
  for (const terminal of open.splice(0)) terminal.instance.unmount();
});

async function app(source: TopSource = staticSource(modelOf(busyScript())), columns = 100, rows = 30, isTTY = true): Promise<Terminal> {
  const terminal = await openTerminal(<App source={source} theme={plainTheme} flushMs={100} />, columns, rows, isTTY);
  open.push(terminal);
  return terminal;
}

const tableLines = (frame: string): string[] => {
  const lines = frame.split('\n');
  return lines.slice(lines.findIndex((line) => line.includes('OWNER/PID')) + 1, lines.findIndex((line) => line.startsWith('EVENTS')));
};

describe('App keys', () => {
  it('shows the header, the queues (first selected) and the stream', async () => {
    const { frame } = await app();
    assert.match(frame(), /^eventfs-top/);
    assert.deepEqual(tableLines(frame()).map((line) => line.slice(0, 8)), ['> audit ', '  jobs  ']);
    assert.match(frame(), /EVENTS\s+TYPE/);
    assert.match(frame(), /queueReaped\s+doomed/);
  });

  it('j, k and the arrows move the selection', async () => {
    const { frame, press } = await app();
    await press('j');
    assert.match(tableLines(frame())[1]!, /^> jobs/);
    await press('k');
    assert.match(tableLines(frame())[0]!, /^> audit/);
    await press(KEYS.down);
    assert.match(tableLines(frame())[1]!, /^> jobs/);
    await press(KEYS.up);
    assert.match(tableLines(frame())[0]!, /^> audit/);
  });

  it('Enter opens the selected queue, Esc goes back', async () => {
    const { frame, press } = await app();
    await press('j');
    await press(KEYS.enter);
    assert.match(frame(), /QUEUE jobs {2}alice\/4242/);
    assert.match(frame(), /MESSAGES \(oldest first\)/);
    assert.match(frame(), / {2}job-4 /);
    await press(KEYS.escape);
    assert.match(frame(), /EVENTS\s+TYPE/);
    assert.doesNotMatch(frame(), /MESSAGES/);
  });

  it('/ filters by name: typing, Enter to apply, Esc to clear', async () => {
    const { frame, press } = await app();
    await press('/');
    assert.match(frame(), /filter: _/);
    await press('jo');
    assert.match(frame(), /filter: jo_/);
    await press(KEYS.enter);
    assert.deepEqual(tableLines(frame()).map((line) => line.trim().split(/\s+/)[1]), ['jobs']);
    assert.match(frame(), /filter: jo$/m);
    await press(KEYS.escape);
    assert.equal(tableLines(frame()).length, 2);
  });

  it('s cycles the sort column', async () => {
    const { frame, press } = await app();
    await press('s');
    assert.match(frame(), /DEPTH\*/);
    assert.match(tableLines(frame())[0]!, /jobs/, 'the deepest first');
    await press('s');
    assert.match(frame(), /BYTES\*/);
  });

  it('? opens the help overlay and any key closes it', async () => {
    const { frame, press } = await app();
    await press('?');
    assert.match(frame(), /HELP: keys/);
    assert.doesNotMatch(frame(), /OWNER\/PID/);
    await press('x');
    assert.doesNotMatch(frame(), /HELP: keys/);
  });

  it('q quits', async () => {
    const { instance, press } = await app();
    const exited = instance.waitUntilExit().then(() => 'exited');
    await press('q');
    assert.equal(await Promise.race([exited, sleep(500).then(() => 'still running')]), 'exited');
  });

  it('p freezes the display while the log moves on, and p again catches up', async () => {
    const script = new Script().mkdir(alice, 'jobs');
    const model = modelOf(script);
    const source = { version: 1, view: (request: ViewRequest) => viewOf(model, { detailQueue: request.detailQueue }) };
    const { frame, press } = await app(source);
    await press('p');
    assert.match(frame(), /\[PAUSED\]/);
    script.mkdir(bob, 'later');
    ingest(model, script.events.slice(-1) as never);
    source.version++;
    await sleep(300);
    assert.doesNotMatch(frame(), /later/);
    await press('p');
    await sleep(300);
    assert.match(frame(), /later/);
    assert.doesNotMatch(frame(), /PAUSED/);
  });
});

describe('App on a terminal', () => {
  function crowded(): Script {
    const script = new Script().mkdir(alice, 'jobs');
    for (let q = 0; q < 30; q++) script.mkdir(alice, `queue-with-a-rather-long-name-${q}`);
    for (let i = 0; i < 60; i++) script.put(alice, 'jobs', `message-${i}`, 'x'.repeat(i));
    return script;
  }

  it('fits 80x24: fewer lines than rows, no line wider than the terminal', async () => {
    const { frame } = await app(staticSource(modelOf(crowded())), 80, 24);
    const lines = frame().split('\n');
    assert.ok(lines.length <= 23, `${lines.length} lines`);
    for (const line of lines) assert.ok(line.length <= 80, `${line.length}: ${line}`);
    assert.ok(tableLines(frame()).length >= 3, 'some queues');
    assert.ok(lines.filter((line) => /^\d\d:\d\d/.test(line)).length >= 3, 'some events');
  });

  it('relayouts on resize', async () => {
    const { frame, stdout } = await app(staticSource(modelOf(crowded())), 120, 40);
    assert.ok(frame().split('\n').some((line) => line.length > 100));
    stdout.resize(80, 24);
    await settle(stdout);
    const lines = frame().split('\n');
    assert.ok(lines.length <= 23);
    for (const line of lines) assert.ok(line.length <= 80, line);
  });

  it('keeps the selected queue in view when the table scrolls', async () => {
    const { frame, press } = await app(staticSource(modelOf(crowded())), 80, 24);
    await press('G');
    assert.match(frame(), /^> queue-with-a-ra~/m);
    assert.ok(tableLines(frame()).some((line) => line.startsWith('> ')));
  });

  it('renders without keys on a stdin that has no raw mode (a pipe)', async () => {
    const { frame, press } = await app(undefined, 100, 30, false);
    await press('q');
    assert.match(frame(), /^eventfs-top/);
  });
});
