// Each presentational component rendered alone (ink-testing-library, 100 columns, plain theme).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { render } from 'ink-testing-library';
import { EventStream } from './EventStream.tsx';
import { FilterPrompt } from './FilterPrompt.tsx';
import { Footer } from './Footer.tsx';
import { Header } from './Header.tsx';
import { HelpOverlay, HELP_LINES } from './HelpOverlay.tsx';
import { QueueDetail } from './QueueDetail.tsx';
import { QueueTable } from './QueueTable.tsx';
import { busyScript, modelOf, viewOf } from './testing.ts';
import { plainTheme } from './theme.ts';
import { uiInitial, visibleRows } from './ui.ts';
import type { HeaderView } from './view.ts';

const model = modelOf(busyScript());
const view = viewOf(model);
const frameOf = (element: React.ReactElement): string => {
  const instance = render(element);
  const frame = instance.lastFrame() ?? '';
  instance.unmount();
  return frame;
};
const lines = (frame: string): string[] => frame.split('\n');

describe('Header', () => {
  const header = (fields: Partial<HeaderView>): string => frameOf(<Header header={{ ...view.header, ...fields }} width={100} theme={plainTheme} isPaused={false} />);

  it('shows the mount id, the totals and a live daemon', () => {
    const frame = header({ mountId: '00112233445566778899aabbccddeeff' });
    assert.match(frame, /mount 001122334455$/m);
    assert.match(frame, /live \(daemon 99\)/);
    assert.match(frame, /queues 2 {2}messages 9 {2}bytes \d+B {2}reaps 1/);
    assert.match(frame, new RegExp(`events ${view.header.totalEvents} \\(`));
    assert.match(frame, /log 4\.0K/);
  });

  it('says idle when a live daemon has been quiet', () => {
    assert.match(header({ isIdle: true, nowMs: view.header.lastEventMs! + 12_000 }), /idle 12s \(daemon 99\)/);
  });

  it('says the daemon is gone and that this is the final state', () => {
    assert.match(header({ daemon: { kind: 'gone', pid: 4321 } }), /daemon gone \(4321\): final state at \d\d:\d\d:\d\d/);
  });

  it('shows a replay and its end', () => {
    assert.match(header({ daemon: { kind: 'replay', speed: 10, isFinished: false } }), /replay x10 at/);
    assert.match(header({ daemon: { kind: 'replay', speed: 10, isFinished: true } }), /replay done: final state/);
  });

  it('shows the uptime since the start', () => {
    assert.match(header({ startMs: view.header.nowMs - 3_723_000 }), /up 01:02:03/);
  });

  it('lists at most two problems, each on its own line', () => {
    const frame = header({ problems: ['one', 'two', 'three'] });
    assert.deepEqual(lines(frame).slice(2), ['! one', '! two']);
  });

  it('marks a paused display', () => {
    assert.match(frameOf(<Header header={view.header} width={100} theme={plainTheme} isPaused />), /\[PAUSED\]/);
  });
});

describe('QueueTable', () => {
  const rows = visibleRows(view.rows, uiInitial);
  const table = (fields: Partial<React.ComponentProps<typeof QueueTable>> = {}): string =>
    frameOf(<QueueTable rows={rows} selected={0} start={0} height={10} width={100} sortKey="name" theme={plainTheme} {...fields} />);

  it('has a heading and one line per queue with owner, sticky flag, depth and bytes', () => {
    const [heading, audit, jobs] = lines(table());
    assert.match(heading!, /QUEUE\*\s+OWNER\/PID\s+S\s+DEPTH\s+BYTES\s+ENQ\/s\s+DEQ\/s\s+HISTORY\s+HEAD/);
    assert.match(audit!, /^> audit\s+bob\/4343\s+S\s+1\s+9B /);
    assert.match(jobs!, /^ {2}jobs\s+alice\/4242\s+8\s+\d+B /);
  });

  it('puts the depth right under its heading', () => {
    const [heading, , jobs] = lines(table());
    const end = heading!.indexOf('DEPTH') + 'DEPTH'.length;
    assert.equal(jobs!.slice(end - 5, end).trim(), '8');
  });

  it('marks the selected row and the sort column', () => {
    const frame = table({ selected: 1, sortKey: 'depth' });
    assert.match(lines(frame)[0]!, /DEPTH\*/);
    assert.match(lines(frame)[2]!, /^> jobs/);
  });

  it('shows only the rows of its window', () => {
    const frame = table({ start: 1, height: 1 });
    assert.equal(lines(frame).length, 2);
    assert.match(lines(frame)[1]!, /jobs/);
  });

  it('says when there are no queues', () => {
    assert.match(table({ rows: [] }), /\(no queues\)/);
  });

  it('fits 80 columns and narrows the sparkline first', () => {
    for (const line of lines(table({ width: 80 }))) assert.ok(line.length <= 80, line);
    assert.match(lines(table({ width: 80 }))[0]!, /QUEUE\* {11}/, 'the name keeps 16 columns');
  });
});

describe('EventStream', () => {
  it('shows the newest events that fit, oldest at the top, with time, type, queue/name, detail, pid/uid', () => {
    const frame = frameOf(<EventStream entries={view.stream} height={3} width={100} title="EVENTS" theme={plainTheme} />);
    const [heading, ...entries] = lines(frame);
    assert.match(heading!, /^EVENTS\s+TYPE\s+QUEUE\/NAME\s+DETAIL\s+PID\/UID$/);
    assert.equal(entries.length, 3);
    assert.match(entries[2]!, /^\d\d:\d\d:\d\d\.\d{3} queueReaped\s+doomed\s+creator 4242 gone\s+0\/0$/);
    assert.match(entries[0]!, /fileCreated\s+doomed\/last\s+4242\/1000$/);
  });

  it('shows only the title when there is no room', () => {
    assert.equal(lines(frameOf(<EventStream entries={view.stream} height={0} width={100} title="EVENTS" theme={plainTheme} />)).length, 1);
  });
});

describe('QueueDetail', () => {
  it('shows the queue, its messages oldest first with size, age and links, and its events', () => {
    const detail = viewOf(model, { detailQueue: 'jobs', nowMs: model.lastEventMs! + 2000 }).detail!;
    const frame = frameOf(<QueueDetail detail={detail} height={14} width={100} theme={plainTheme} />);
    assert.match(frame, /QUEUE jobs {2}alice\/4242 \(uid 1000\) {2}mode 0755 {2}not sticky/);
    assert.match(frame, /depth 8 {2}bytes 74B/);
    assert.match(frame, /MESSAGES \(oldest first\)\s+SIZE\s+AGE\s+LINKS/);
    const messages = lines(frame).filter((line) => /^ {2}job-\d+ /.test(line));
    assert.match(messages[0]!, /^ {2}job-4\s+9B\s+\d+s\s+1$/);
    assert.match(frame, /\.\.\. \d+ more/);
    assert.match(frame, /RECENT\s+TYPE/);
    assert.ok(lines(frame).length <= 14);
  });

  it('says when the queue is gone', () => {
    const detail = viewOf(model, { detailQueue: 'doomed' }).detail!;
    const frame = frameOf(<QueueDetail detail={detail} height={12} width={100} theme={plainTheme} />);
    assert.match(frame, /QUEUE doomed is gone \(removed or reaped\)/);
    assert.match(frame, /queueReaped/);
  });
});

describe('HelpOverlay, FilterPrompt, Footer', () => {
  it('the help lists every key', () => {
    const frame = frameOf(<HelpOverlay height={30} width={100} theme={plainTheme} />);
    for (const key of ['q ', 'up/down j/k', 'Enter', '/ ', 's ', 'p ', '? ']) assert.ok(HELP_LINES.some((line) => line.startsWith(key)), key);
    assert.equal(lines(frame).length, HELP_LINES.length + 1);
  });

  it('the help is cut to the room it has', () => {
    assert.equal(lines(frameOf(<HelpOverlay height={4} width={100} theme={plainTheme} />)).length, 4);
  });

  it('the filter prompt shows what is typed', () => {
    assert.match(frameOf(<FilterPrompt draft="job" width={100} theme={plainTheme} />), /^filter: job_ .*Enter apply {2}Esc cancel/);
  });

  it('the footer shows the keys, the sort and an active filter', () => {
    const frame = frameOf(<Footer ui={{ ...uiInitial, filter: 'jo', sortKey: 'bytes' }} width={100} theme={plainTheme} />);
    assert.match(frame, /^q quit .* \? help .*sort: bytes {2}filter: jo$/);
    assert.match(frameOf(<Footer ui={{ ...uiInitial, detailQueue: 'x' }} width={100} theme={plainTheme} />), /^Esc back/);
  });
});
