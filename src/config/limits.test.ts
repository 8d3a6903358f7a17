import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { BUILT_IN_LIMITS, BUILT_IN_QUOTA_TABLE, LIMIT_FIELDS, limitsFor, UNLIMITED, type QuotaTable } from './limits.ts';

const TABLE: QuotaTable = {
  defaults: { maxDirs: 10, maxFiles: 100, maxFilesPerDir: 50, maxBytes: 1000 },
  users: {
    '1000': { maxDirs: 20, maxBytes: null },
    '0': { maxFiles: 5 },
  },
  groups: {
    '50': { maxFiles: 300 },
  },
  rootExempt: false,
};

describe('limitsFor', () => {
  describe('user limits', () => {
    it('are the defaults for a user without an override', () => {
      assert.deepEqual(limitsFor(TABLE, 1001, 100).user, TABLE.defaults);
    });

    it('lay the override over the defaults field by field, null meaning unlimited', () => {
      assert.deepEqual(limitsFor(TABLE, 1000, 100).user, { maxDirs: 20, maxFiles: 100, maxFilesPerDir: 50, maxBytes: null });
    });
  });

  describe('group limits', () => {
    it('are unlimited for a group without an override, whatever the defaults', () => {
      assert.deepEqual(limitsFor(TABLE, 1000, 100).group, UNLIMITED);
    });

    it('are the override only, leaving fields it does not set unlimited', () => {
      assert.deepEqual(limitsFor(TABLE, 1000, 50).group, { maxDirs: null, maxFiles: 300, maxFilesPerDir: null, maxBytes: null });
    });
  });

  describe('root', () => {
    it('is limited like any user when root is not exempt', () => {
      assert.deepEqual(limitsFor(TABLE, 0, 50), {
        user: { ...TABLE.defaults, maxFiles: 5 },
        group: { maxDirs: null, maxFiles: 300, maxFilesPerDir: null, maxBytes: null },
      });
    });

    it('has no limits at all when root is exempt, even in a limited group', () => {
      const table: QuotaTable = { ...TABLE, rootExempt: true };
      assert.deepEqual(limitsFor(table, 0, 50), { user: UNLIMITED, group: UNLIMITED });
    });

    it('exempts only uid 0, not other members of gid 0', () => {
      const table: QuotaTable = { ...TABLE, groups: { '0': { maxDirs: 1 } }, rootExempt: true };
      assert.deepEqual(limitsFor(table, 1001, 0), { user: TABLE.defaults, group: { ...UNLIMITED, maxDirs: 1 } });
    });
  });

  it('does not change the table it reads', () => {
    const before = JSON.stringify(TABLE);
    limitsFor(TABLE, 1000, 50);
    assert.equal(JSON.stringify(TABLE), before);
  });
});

describe('built-in defaults', () => {
  it('limit every field, so that no user can exhaust a shared machine', () => {
    for (const field of LIMIT_FIELDS) {
      assert.equal(typeof BUILT_IN_LIMITS[field], 'number', field);
    }
  });

  it('do not exempt root and have no overrides', () => {
    assert.deepEqual(BUILT_IN_QUOTA_TABLE, { defaults: BUILT_IN_LIMITS, users: {}, groups: {}, rootExempt: false });
    assert.ok(Object.isFrozen(BUILT_IN_QUOTA_TABLE) && Object.isFrozen(BUILT_IN_LIMITS));
  });
});

describe('limits.ts', () => {
  it('imports nothing, so the pure model can import it', () => {
    const source = readFileSync(new URL('./limits.ts', import.meta.url), 'utf8');
    assert.doesNotMatch(source, /^\s*import\s/m);
    assert.doesNotMatch(source, /\brequire\(|\bimport\(/);
  });
});
