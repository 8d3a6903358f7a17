// Colour: only with meaning, only on a colour terminal, never with NO_COLOR, in a pipe or --once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

// chalk decides its colour level when it is first imported: force one for the colour cases.
process.env.FORCE_COLOR = '1';
const { render } = await import('ink-testing-library');
const { Screen } = await import('./Screen.tsx');
const { QueueTable } = await import('./QueueTable.tsx');
const { busyScript, modelOf, viewOf } = await import('./testing.ts');
const { plainTheme, themeFor } = await import('./theme.ts');
const { uiInitial, visibleRows } = await import('./ui.ts');
const { plainFrame } = await import('./run.tsx');

const ESC = '\u001B[';
const view = viewOf(modelOf(busyScript()));
const colour = { isColor: true, isUnicode: true };

function frameOf(element: React.ReactElement): string {
  const instance = render(element);
  const frame = instance.lastFrame() ?? '';
  instance.unmount();
  return frame;
}

describe('themeFor', () => {
  it('colours a TTY', () => {
    assert.equal(themeFor({ TERM: 'xterm-256color' }, true).isColor, true);
  });

  it('honours NO_COLOR, a dumb terminal, FORCE_COLOR=0 and a non-TTY', () => {
    assert.equal(themeFor({ NO_COLOR: '1' }, true).isColor, false);
    assert.equal(themeFor({ TERM: 'dumb' }, true).isColor, false);
    assert.equal(themeFor({ FORCE_COLOR: '0' }, true).isColor, false);
    assert.equal(themeFor({}, false).isColor, false);
  });

  it('draws sparklines with block characters only in a UTF-8 locale', () => {
    assert.equal(themeFor({ LANG: 'en_US.UTF-8' }, true).isUnicode, true);
    assert.equal(themeFor({ LC_ALL: 'C' }, true).isUnicode, false);
  });
});

describe('rendering with and without colour', () => {
  it('the colour theme uses escape codes: red for a reap, inverse for the selection', () => {
    const frame = frameOf(<Screen view={view} ui={uiInitial} rows={30} width={100} theme={colour} />);
    assert.ok(frame.includes(ESC), 'some colour');
    assert.match(frame, /\u001B\[(?:1m\u001B\[)?31m(?:\u001B\[1m)?queueReaped/);
    assert.match(frame, /\u001B\[7m> audit/);
  });

  it('the plain theme writes no escape codes at all, and marks the selection with >', () => {
    const frame = frameOf(<Screen view={view} ui={uiInitial} rows={30} width={100} theme={plainTheme} />);
    assert.ok(!frame.includes('\u001B'), JSON.stringify(frame.slice(0, 200)));
    assert.match(frame, /^> audit/m);
  });

  it('the --once frame is plain and lists every queue', () => {
    const frame = plainFrame(view, 80);
    assert.ok(!frame.includes('\u001B'));
    assert.match(frame, /^> audit/m);
    assert.match(frame, /^ {2}jobs/m);
  });

  it('a sparkline is drawn in the colour theme with block characters', () => {
    const frame = frameOf(<QueueTable rows={visibleRows(view.rows, uiInitial)} selected={0} start={0} height={5} width={100} sortKey="name" theme={colour} />);
    assert.match(frame, /[▁▂▃▄▅▆▇█]{5}/);
  });
});
