import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pressKey, rowWindow, selectedIndex, uiInitial, visibleRows, type UiState } from './ui.ts';
import type { QueueRow } from './view.ts';

const names = ['alpha', 'beta', 'gamma'];
const press = (ui: UiState, input: string, key = {}): UiState | 'quit' => pressKey(ui, input, key, names);
const as = (result: UiState | 'quit'): UiState => {
  assert.notEqual(result, 'quit');
  return result as UiState;
};

function row(name: string, fields: Partial<QueueRow> = {}): QueueRow {
  return {
    name, uid: 0, user: 'root', pid: 1, isSticky: false, depth: 0, bytes: 0,
    enqueuesPerSecond: 0, dequeuesPerSecond: 0, depthHistory: [], headAgeMs: null, ...fields,
  };
}

describe('pressKey', () => {
  it('q quits from the table, the detail and the help', () => {
    assert.equal(press(uiInitial, 'q'), 'quit');
    assert.equal(press({ ...uiInitial, detailQueue: 'beta' }, 'q'), 'quit');
    assert.equal(press({ ...uiInitial, isHelp: true }, 'q'), 'quit');
  });

  it('j/k and the arrows move the selection, clamped at both ends', () => {
    let ui = as(press(uiInitial, 'j'));
    assert.equal(ui.selected, 'beta');
    ui = as(press(ui, '', { downArrow: true }));
    ui = as(press(ui, 'j'));
    assert.equal(ui.selected, 'gamma');
    ui = as(press(ui, 'k'));
    ui = as(press(ui, '', { upArrow: true }));
    ui = as(press(ui, '', { upArrow: true }));
    assert.equal(ui.selected, 'alpha');
  });

  it('G and g jump to the last and first queue', () => {
    assert.equal(as(press(uiInitial, 'G')).selected, 'gamma');
    assert.equal(as(press({ ...uiInitial, selected: 'gamma' }, 'g')).selected, 'alpha');
  });

  it('does nothing to the selection when there are no queues', () => {
    assert.equal(pressKey(uiInitial, 'j', {}, []), uiInitial);
    assert.equal(pressKey(uiInitial, '', { return: true }, []), uiInitial);
  });

  it('Enter opens the detail of the selected queue (the first one by default), Esc closes it', () => {
    const ui = as(press(uiInitial, '', { return: true }));
    assert.equal(ui.detailQueue, 'alpha');
    assert.equal(as(press({ ...uiInitial, selected: 'beta' }, '', { return: true })).detailQueue, 'beta');
    assert.equal(as(press(ui, '', { escape: true })).detailQueue, null);
  });

  it('ignores table keys while the detail is open', () => {
    const ui = { ...uiInitial, detailQueue: 'alpha' };
    assert.equal(press(ui, 's'), ui);
    assert.equal(press(ui, '/'), ui);
  });

  it('s cycles through every sort column and back', () => {
    const seen: string[] = [];
    let ui: UiState = uiInitial;
    for (let i = 0; i < 6; i++) {
      ui = as(press(ui, 's'));
      seen.push(ui.sortKey);
    }
    assert.deepEqual(seen, ['depth', 'bytes', 'enqueues', 'dequeues', 'age', 'name']);
  });

  it('p pauses and resumes', () => {
    const paused = as(press(uiInitial, 'p'));
    assert.equal(paused.isPaused, true);
    assert.equal(as(press(paused, 'p')).isPaused, false);
  });

  it('? opens the help and any key closes it', () => {
    const help = as(press(uiInitial, '?'));
    assert.equal(help.isHelp, true);
    assert.equal(as(press(help, 'x')).isHelp, false);
    assert.equal(as(press(help, 'j')).selected, null, 'the key that closes the help does nothing else');
  });

  describe('the filter prompt', () => {
    it('/ opens it with the current filter, typing edits, Enter applies', () => {
      let ui = as(press({ ...uiInitial, filter: 'al' }, '/'));
      assert.equal(ui.draft, 'al');
      ui = as(press(ui, 'p'));
      ui = as(press(ui, 'q'));
      assert.equal(ui.draft, 'alpq', 'q and p are text here, not commands');
      ui = as(press(ui, '', { backspace: true }));
      ui = as(press(ui, '', { return: true }));
      assert.deepEqual([ui.filter, ui.draft], ['alp', null]);
    });

    it('Esc cancels the prompt and keeps the old filter; Esc in the table clears it', () => {
      let ui = as(press({ ...uiInitial, filter: 'be' }, '/'));
      ui = as(press(ui, 'x'));
      ui = as(press(ui, '', { escape: true }));
      assert.deepEqual([ui.filter, ui.draft], ['be', null]);
      assert.equal(as(press(ui, '', { escape: true })).filter, '');
    });

    it('drops control characters and ctrl chords', () => {
      let ui = as(press(uiInitial, '/'));
      ui = as(press(ui, 'a\u0007b'));
      ui = as(press(ui, 'c', { ctrl: true }));
      assert.equal(ui.draft, 'ab');
    });
  });
});

describe('visibleRows', () => {
  const rows = [row('b', { depth: 5, bytes: 1 }), row('a', { depth: 5, bytes: 9, headAgeMs: 10 }), row('c', { depth: 9, enqueuesPerSecond: 3 })];

  it('sorts by name, or by a numeric column largest first with names breaking ties', () => {
    assert.deepEqual(visibleRows(rows, uiInitial).map((r) => r.name), ['a', 'b', 'c']);
    assert.deepEqual(visibleRows(rows, { ...uiInitial, sortKey: 'depth' }).map((r) => r.name), ['c', 'a', 'b']);
    assert.deepEqual(visibleRows(rows, { ...uiInitial, sortKey: 'bytes' }).map((r) => r.name), ['a', 'b', 'c']);
    assert.deepEqual(visibleRows(rows, { ...uiInitial, sortKey: 'enqueues' }).map((r) => r.name), ['c', 'a', 'b']);
    assert.deepEqual(visibleRows(rows, { ...uiInitial, sortKey: 'age' }).map((r) => r.name), ['a', 'b', 'c']);
  });

  it('filters by a case-insensitive substring of the name', () => {
    const named = [row('Jobs'), row('audit'), row('jobs-dead')];
    assert.deepEqual(visibleRows(named, { ...uiInitial, filter: 'JOB' }).map((r) => r.name), ['Jobs', 'jobs-dead']);
    assert.deepEqual(visibleRows(named, { ...uiInitial, filter: 'zzz' }), []);
  });
});

describe('selection and scrolling', () => {
  it('a selected name that went away falls back to the first row', () => {
    assert.equal(selectedIndex({ ...uiInitial, selected: 'gone' }, names), 0);
    assert.equal(selectedIndex(uiInitial, []), -1);
  });

  it('rowWindow keeps the selected row visible, near the middle when it can', () => {
    assert.deepEqual(rowWindow(5, 4, 10), { start: 0, end: 5 });
    assert.deepEqual(rowWindow(100, 0, 10), { start: 0, end: 10 });
    assert.deepEqual(rowWindow(100, 50, 10), { start: 45, end: 55 });
    assert.deepEqual(rowWindow(100, 99, 10), { start: 90, end: 100 });
  });
});
