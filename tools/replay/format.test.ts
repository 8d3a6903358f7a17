import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  COLOUR, PLAIN, bytesText, duration, escapeBytes, escapeText, octal, showName, styleFor, table, toJson,
} from './format.ts';

describe('escapeText', () => {
  it('leaves printable text, including non-ASCII letters, as it is', () => {
    assert.equal(escapeText('jobs-été_1'), 'jobs-été_1');
  });

  it('escapes terminal controls so a name cannot act on the terminal', () => {
    assert.equal(escapeText('evil\x1b[2J'), 'evil\\x1b[2J');
    assert.equal(escapeText('a\x07\x7f\u009b'), 'a\\x07\\x7f\\x9b');
  });

  it('escapes newlines, tabs, quotes and backslashes in the usual way', () => {
    assert.equal(escapeText('a\nb\tc"d\\e'), 'a\\nb\\tc\\"d\\\\e');
  });

  it('escapes bidi overrides and zero-width characters that hide or reorder text', () => {
    assert.equal(escapeText('\u202eevil\u200b'), '\\u{202e}evil\\u{200b}');
  });

  it('quotes when asked', () => {
    assert.equal(escapeText('x', true), '"x"');
  });
});

describe('showName', () => {
  it('shows a plain name bare', () => {
    assert.equal(showName('jobs'), 'jobs');
  });

  it('quotes a name with spaces, slashes, quotes or escapes', () => {
    assert.equal(showName('a b'), '"a b"');
    assert.equal(showName('line\nbreak'), '"line\\nbreak"');
    assert.equal(showName(''), '""');
  });
});

describe('escapeBytes', () => {
  it('shows valid UTF-8 as text', () => {
    assert.equal(escapeBytes(Buffer.from('héllo\n')), '"héllo\\n"');
  });

  it('shows invalid UTF-8 bytes as \\xHH, one by one', () => {
    assert.equal(escapeBytes(Buffer.from([0x41, 0xff, 0xfe, 0x00, 0x42])), '"A\\xff\\xfe\\x00B"');
  });

  it('does not accept overlong encodings, surrogates or truncated sequences as text', () => {
    assert.equal(escapeBytes(Buffer.from([0xc0, 0xaf])), '"\\xc0\\xaf"');
    assert.equal(escapeBytes(Buffer.from([0xed, 0xa0, 0x80])), '"\\xed\\xa0\\x80"');
    assert.equal(escapeBytes(Buffer.from([0xe2, 0x82])), '"\\xe2\\x82"');
  });

  it('keeps a literal U+FFFD, which is valid UTF-8', () => {
    assert.equal(escapeBytes(Buffer.from('\ufffd')), '"\ufffd"');
  });

  it('cuts long data and says how much is left out', () => {
    assert.equal(escapeBytes(Buffer.from('abcdef'), 2), '"ab"... (4 more bytes)');
  });
});

describe('styleFor', () => {
  it('colours only a TTY', () => {
    assert.equal(styleFor(true, {}), COLOUR);
    assert.equal(styleFor(false, {}), PLAIN);
    assert.equal(styleFor(undefined, {}), PLAIN);
  });

  it('honours NO_COLOR on a TTY, unless it is empty', () => {
    assert.equal(styleFor(true, { NO_COLOR: '1' }), PLAIN);
    assert.equal(styleFor(true, { NO_COLOR: '' }), COLOUR);
  });
});

describe('small formatters', () => {
  it('formats modes as stat -c %a does, with a leading zero', () => {
    assert.equal(octal(0o644), '0644');
    assert.equal(octal(0o1777), '01777');
    assert.equal(octal(0o100644), '0644');
  });

  it('formats durations and sizes for people', () => {
    assert.equal(duration(950), '950 ms');
    assert.equal(duration(12_500), '12.5 s');
    assert.equal(duration(184_000), '3 min 4 s');
    assert.equal(duration(3 * 86_400_000 + 4 * 3_600_000), '3 d 4 h');
    assert.equal(bytesText(1), '1 byte');
    assert.equal(bytesText(10_240), '10.0 KiB');
    assert.equal(bytesText(5 * 1024 * 1024), '5.0 MiB');
  });

  it('aligns table columns by their plain text', () => {
    assert.deepEqual(table(['A', 'NUM'], [['x', '1'], ['long', '22']], ['left', 'right']), ['A     NUM', 'x       1', 'long   22']);
  });

  it('writes Buffers as base64 and Maps as pairs in JSON', () => {
    assert.equal(toJson({ data: Buffer.from('hi'), map: new Map([['k', 1]]), gone: undefined }), '{"data":{"base64":"aGk="},"map":[["k",1]]}');
  });
});
