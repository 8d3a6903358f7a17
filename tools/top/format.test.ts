import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fit, formatAge, formatBytes, formatCount, formatRate, formatUptime, sparkline } from './format.ts';

describe('format', () => {
  it('counts fit in 4 characters', () => {
    assert.deepEqual([0, 999, 1000, 1234, 12_345, 123_456, 1_234_567, 999_999].map(formatCount), ['0', '999', '1.0k', '1.2k', '12k', '123k', '1.2M', '1.0M']);
    for (let n = 1; n < 1e15; n *= 7) assert.ok(formatCount(n).length <= 4, `${n} -> ${formatCount(n)}`);
  });

  it('rates keep a decimal below 10 and print exact zero as 0', () => {
    assert.deepEqual([0, 0.04, 0.5, 9.9, 10, 12_500].map(formatRate), ['0', '0.0', '0.5', '9.9', '10', '13k']);
  });

  it('bytes use binary units', () => {
    assert.deepEqual([0, 512, 1024, 1536, 10 * 1024, 5 * 1024 * 1024].map(formatBytes), ['0B', '512B', '1.0K', '1.5K', '10K', '5.0M']);
  });

  it('ages grow from milliseconds to days', () => {
    assert.deepEqual([850, 12_000, 245_000, 3 * 3600_000 + 12 * 60_000, 2 * 86400_000 + 4 * 3600_000].map(formatAge), ['850ms', '12s', '4m05s', '3h12m', '2d04h']);
    assert.equal(formatAge(-5), '0ms');
  });

  it('uptimes are HH:MM:SS with days in front', () => {
    assert.equal(formatUptime(3_723_000), '01:02:03');
    assert.equal(formatUptime(90_000_000), '1d 01:00:00');
  });

  it('sparklines scale to the largest value, one character each', () => {
    assert.equal(sparkline([0, 0, 0]), '▁▁▁');
    assert.equal(sparkline([0, 1, 2, 4, 8]), '▁▂▃▅█');
    assert.equal(sparkline([0, 8], true), '_@');
  });

  it('fit pads or cuts to the exact width', () => {
    assert.equal(fit('abc', 5), 'abc  ');
    assert.equal(fit('abc', 5, 'right'), '  abc');
    assert.equal(fit('abcdef', 4), 'abc~');
    assert.equal(fit('abc', 0), '');
  });
});
