import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findAccountId } from './accounts.ts';
import { BUILT_IN_LIMITS, BUILT_IN_QUOTA_TABLE, type QuotaTable } from './limits.ts';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig, type ConfigDeps } from './load.ts';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/config/', import.meta.url));
const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

// Test accounts, so no test depends on the users of the machine it runs on.
const USERS: Record<string, number> = { alice: 1000, bob: 1001 };
const GROUPS: Record<string, number> = { staff: 50 };
const ACCOUNTS: Partial<ConfigDeps> = {
  lookupUser: (name) => USERS[name],
  lookupGroup: (name) => GROUPS[name],
};

function fixture(name: string): string {
  return path.join(FIXTURES, name);
}

function loadFixture(name: string): QuotaTable {
  return loadConfig(fixture(name), ACCOUNTS);
}

function assertConfigError(run: () => unknown, message: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.message, message);
    assert.doesNotMatch(error.message, /\n/);
    return true;
  });
}

function errnoError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: fake`), { code });
}

// An in-memory filesystem: `files` by path, directories listed by path; everything else is ENOENT.
function fakeFs(files: Record<string, string>, directories: Record<string, string[]> = {}): Partial<ConfigDeps> {
  return {
    readFile: (file) => {
      if (Object.hasOwn(files, file)) return files[file]!;
      throw errnoError(Object.hasOwn(directories, file) ? 'EISDIR' : 'ENOENT');
    },
    readDir: (directory) => {
      if (Object.hasOwn(directories, directory)) return directories[directory]!;
      throw errnoError(Object.hasOwn(files, directory) ? 'ENOTDIR' : 'ENOENT');
    },
  };
}

function isDeepFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  return Object.isFrozen(value) && Object.values(value).every(isDeepFrozen);
}

describe('loadConfig', () => {
  describe('with a good config and quota files', () => {
    const table = loadFixture('good/eventfs.conf');

    it('reads the defaults, taking the built-in value for a key the file leaves out', () => {
      assert.deepEqual(table.defaults, {
        maxDirs: 100,
        maxFiles: 5000,
        maxFilesPerDir: BUILT_IN_LIMITS.maxFilesPerDir,
        maxBytes: 512 * MIB,
      });
    });

    it('keys user overrides by uid, resolving names and taking numeric ids as they are', () => {
      assert.deepEqual(table.users, {
        '1000': { maxDirs: 10, maxBytes: 2 * GIB },
        '1002': { maxFiles: 0 },
      });
    });

    it('keys group overrides by gid and reads unlimited as null', () => {
      assert.deepEqual(table.groups, { '50': { maxFiles: 100000, maxFilesPerDir: null } });
    });

    it('reads root_exempt', () => {
      assert.equal(table.rootExempt, true);
    });

    it('skips files that do not end in .conf and hidden files', () => {
      assert.equal(Object.keys(table.users).length + Object.keys(table.groups).length, 3);
    });

    it('returns a deeply frozen table', () => {
      assert.ok(isDeepFrozen(table));
    });

    it('returns plain data that survives a JSON round trip unchanged', () => {
      assert.deepEqual(JSON.parse(JSON.stringify(table)), table);
    });
  });

  describe('with a minimal config', () => {
    it('uses the built-in defaults, no overrides and no root exemption', () => {
      const table = loadConfig('/x/eventfs.conf', fakeFs({ '/x/eventfs.conf': '[eventfs-config]\n' }));
      assert.deepEqual(table, BUILT_IN_QUOTA_TABLE);
    });

    it('accepts K, M, G and T suffixes on byte limits as powers of 1024', () => {
      const cases: Array<[string, number]> = [['7', 7], ['3K', 3 * 1024], ['5M', 5 * MIB], ['1G', GIB], ['2T', 2 * 1024 ** 4]];
      for (const [text, bytes] of cases) {
        const files = { '/x/eventfs.conf': `[eventfs-config]\ndefault_max_bytes = ${text}\n` };
        assert.equal(loadConfig('/x/eventfs.conf', fakeFs(files)).defaults.maxBytes, bytes, text);
      }
    });

    it('reads an absolute quotas directory as it is', () => {
      const files = {
        '/x/eventfs.conf': '[eventfs-config]\nquotas = /srv/quotas\n',
        '/srv/quotas/bob.conf': '[eventfs-quota]\nuser = bob\nmax_dirs = 1\n',
      };
      const table = loadConfig('/x/eventfs.conf', { ...fakeFs(files, { '/srv/quotas': ['bob.conf'] }), ...ACCOUNTS });
      assert.deepEqual(table.users, { '1001': { maxDirs: 1 } });
    });
  });

  describe('without a config path', () => {
    it('returns the built-in defaults when /etc/eventfs/eventfs.conf does not exist', () => {
      assert.equal(loadConfig(undefined, fakeFs({})), BUILT_IN_QUOTA_TABLE);
    });

    it('reads /etc/eventfs/eventfs.conf and its quotas relative to /etc/eventfs when it exists', () => {
      const files = {
        [DEFAULT_CONFIG_PATH]: '[eventfs-config]\ndefault_max_dirs = 7\nquotas = quotas.d\n',
        '/etc/eventfs/quotas.d/alice.conf': '[eventfs-quota]\nuser = alice\nmax_files = 9\n',
      };
      const table = loadConfig(undefined, { ...fakeFs(files, { '/etc/eventfs/quotas.d': ['alice.conf'] }), ...ACCOUNTS });
      assert.equal(table.defaults.maxDirs, 7);
      assert.deepEqual(table.users, { '1000': { maxFiles: 9 } });
    });

    it('fails rather than falling back when /etc/eventfs/eventfs.conf exists but cannot be read', () => {
      const deps: Partial<ConfigDeps> = {
        readFile: () => {
          throw errnoError('EACCES');
        },
      };
      assertConfigError(
        () => loadConfig(undefined, deps),
        '/etc/eventfs/eventfs.conf: cannot read config file: permission denied (EACCES)',
      );
    });

    it('names errors in /etc/eventfs/eventfs.conf by that path', () => {
      const files = { [DEFAULT_CONFIG_PATH]: '[eventfs-config]\ndefault_max_dirs = many\n' };
      assertConfigError(
        () => loadConfig(undefined, fakeFs(files)),
        "/etc/eventfs/eventfs.conf:2: key 'default_max_dirs': not a number: 'many'; expected a non-negative integer or 'unlimited'",
      );
    });
  });

  describe('looking up user and group names', () => {
    it('resolves names through /etc/passwd and /etc/group read with the injected readFile', () => {
      const files = {
        '/x/eventfs.conf': '[eventfs-config]\nquotas = q\n',
        '/x/q/a.conf': '[eventfs-quota]\nuser = carol\nmax_dirs = 1\n',
        '/x/q/b.conf': '[eventfs-quota]\ngroup = ops\nmax_dirs = 2\n',
        '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\ncarol:x:2001:2001::/home/carol:/bin/sh\n',
        '/etc/group': 'root:x:0:\nops:x:3001:carol\n',
      };
      const table = loadConfig('/x/eventfs.conf', fakeFs(files, { '/x/q': ['a.conf', 'b.conf'] }));
      assert.deepEqual(table.users, { '2001': { maxDirs: 1 } });
      assert.deepEqual(table.groups, { '3001': { maxDirs: 2 } });
    });

    it('reports an unreadable /etc/passwd at the line that needed it', () => {
      const files = {
        '/x/eventfs.conf': '[eventfs-config]\nquotas = q\n',
        '/x/q/a.conf': '[eventfs-quota]\nuser = carol\n',
      };
      assertConfigError(
        () => loadConfig('/x/eventfs.conf', fakeFs(files, { '/x/q': ['a.conf'] })),
        "/x/q/a.conf:2: key 'user': cannot look up user 'carol': cannot read /etc/passwd: no such file or directory (ENOENT)",
      );
    });

    it('finds the id of the first entry with the name and ignores other lines', () => {
      const passwd = '# comment\n\n+nis::::::\nroot:x:0:0::/:/bin/sh\nbad:x:notanumber:0::/:/bin/sh\ncarol:x:7:7::/:/bin/sh\ncarol:x:8:8::/:/bin/sh\n';
      assert.equal(findAccountId(passwd, 'root'), 0);
      assert.equal(findAccountId(passwd, 'carol'), 7);
      assert.equal(findAccountId(passwd, 'bad'), undefined);
      assert.equal(findAccountId(passwd, 'nobody-here'), undefined);
    });

    it('finds root in the real /etc/passwd by default', () => {
      const files = {
        '/x/eventfs.conf': '[eventfs-config]\nquotas = q\n',
        '/x/q/root.conf': '[eventfs-quota]\nuser = root\nmax_dirs = 3\n',
      };
      const fake = fakeFs(files, { '/x/q': ['root.conf'] });
      const readFile = (file: string) => (file === '/etc/passwd' ? readFileSync(file, 'utf8') : fake.readFile!(file));
      const table = loadConfig('/x/eventfs.conf', { ...fake, readFile });
      assert.deepEqual(table.users, { '0': { maxDirs: 3 } });
    });
  });
});

describe('loadConfig errors', () => {
  describe('reading files', () => {
    it('reports a config file that does not exist', () => {
      const file = fixture('bad-does-not-exist.conf');
      assertConfigError(() => loadConfig(file, ACCOUNTS), `${file}: config file does not exist`);
    });

    it('reports a config file that cannot be read', () => {
      const deps: Partial<ConfigDeps> = {
        readFile: () => {
          throw errnoError('EACCES');
        },
      };
      assertConfigError(() => loadConfig('/x/eventfs.conf', deps), '/x/eventfs.conf: cannot read config file: permission denied (EACCES)');
    });

    it('reports a config path that is a directory', () => {
      const file = fixture('good');
      assertConfigError(() => loadConfig(file, ACCOUNTS), `${file}: cannot read config file: is a directory (EISDIR)`);
    });

    it('reports a quota file that cannot be read', () => {
      const files = { '/x/eventfs.conf': '[eventfs-config]\nquotas = q\n' };
      const deps = fakeFs(files, { '/x/q': ['sub.conf'], '/x/q/sub.conf': [] });
      assertConfigError(() => loadConfig('/x/eventfs.conf', deps), '/x/q/sub.conf: cannot read quota file: is a directory (EISDIR)');
    });
  });

  describe('layout of the config file', () => {
    const cases: Array<[string, string, string]> = [
      ['a missing [eventfs-config] section', 'bad-missing-section.conf', ': missing section [eventfs-config]'],
      ['an unknown section', 'bad-unknown-section.conf', ':4: unknown section [eventfs-quota]; expected [eventfs-config]'],
      ['a key outside any section', 'bad-outside-section.conf', ":2: key 'default_max_dirs': outside any section; put it under [eventfs-config]"],
      ['a malformed line', 'bad-malformed-line.conf', ":2: malformed line '= 10'; expected 'key = value' or '[section]'"],
      [
        'an unknown key',
        'bad-unknown-key.conf',
        ":3: key 'default_max_dir': unknown key in [eventfs-config]; expected one of default_max_dirs, default_max_files, default_max_files_per_dir, default_max_bytes, quotas, root_exempt",
      ],
      ['an indented section header', 'bad-indented-section.conf', ":2: indented section header '[eventfs-config]'; a section header must start the line"],
      ['a key set twice', 'bad-duplicate-key.conf', ":3: key 'default_max_files': set twice (first on line 2)"],
    ];
    for (const [condition, name, suffix] of cases) {
      it(`reports ${condition} with its file and line`, () => {
        assertConfigError(() => loadFixture(name), `${fixture(name)}${suffix}`);
      });
    }
  });

  describe('values in the config file', () => {
    const count = "expected a non-negative integer or 'unlimited'";
    const bytes = "expected a non-negative integer with an optional K, M, G or T suffix (powers of 1024), or 'unlimited'";
    const cases: Array<[string, string, string]> = [
      ['a negative value', 'bad-negative.conf', `:2: key 'default_max_dirs': negative value '-5'; ${count}`],
      ['a non-numeric value', 'bad-non-numeric.conf', `:2: key 'default_max_files': not a number: 'lots'; ${count}`],
      ['a fractional value', 'bad-fractional.conf', `:2: key 'default_max_files_per_dir': fractional value '1.5'; ${count}`],
      ['an unknown size suffix', 'bad-size-suffix.conf', `:2: key 'default_max_bytes': unknown size suffix in '10KB'; ${bytes}`],
      [
        'a value too large to count exactly',
        'bad-too-large.conf',
        ":2: key 'default_max_bytes': value '9000000T' is too large; the largest allowed is 9007199254740991",
      ],
      ['an empty value', 'bad-empty-value.conf', `:2: key 'default_max_dirs': empty value; ${count}`],
      ['a root_exempt that is not true or false', 'bad-root-exempt.conf', ":2: key 'root_exempt': expected 'true' or 'false', got 'yes'"],
    ];
    for (const [condition, name, suffix] of cases) {
      it(`reports ${condition} with its file, line and key`, () => {
        assertConfigError(() => loadFixture(name), `${fixture(name)}${suffix}`);
      });
    }
  });

  describe('the quotas directory', () => {
    it('reports a quotas directory that does not exist at the quotas line', () => {
      const name = 'bad-quotas-missing.conf';
      assertConfigError(
        () => loadFixture(name),
        `${fixture(name)}:2: key 'quotas': directory '${fixture('no-such-directory')}' does not exist`,
      );
    });

    it('reports a quotas path that is a file', () => {
      const name = 'bad-quotas-not-directory.conf';
      assertConfigError(() => loadFixture(name), `${fixture(name)}:2: key 'quotas': '${fixture(name)}' is not a directory`);
    });
  });

  describe('quota files', () => {
    const cases: Array<[string, string, string]> = [
      ['an unknown user', 'bad-unknown-user', "mallory.conf:2: key 'user': unknown user 'mallory'"],
      ['an unknown group', 'bad-unknown-group', "wheel.conf:2: key 'group': unknown group 'wheel'"],
      [
        'both user and group in one file',
        'bad-user-and-group',
        "both.conf:3: key 'group': 'user' is also set (line 2); a quota file applies to exactly one user or group",
      ],
      ['neither user nor group', 'bad-neither', "nobody.conf: sets neither 'user' nor 'group'; a quota file applies to exactly one"],
      [
        'the same user in two files, once by name and once by uid',
        'bad-duplicate-user',
        `b-by-uid.conf:3: key 'user': user '1000' (uid 1000) already has a quota in ${fixture('bad-duplicate-user.d/a-by-name.conf')}`,
      ],
      [
        'the same group in two files',
        'bad-duplicate-group',
        `b.conf:3: key 'group': group 'staff' (gid 50) already has a quota in ${fixture('bad-duplicate-group.d/a.conf')}`,
      ],
      [
        'an unknown key',
        'bad-quota-key',
        "alice.conf:3: key 'max_queues': unknown key in [eventfs-quota]; expected one of user, group, max_dirs, max_files, max_files_per_dir, max_bytes",
      ],
      [
        'a bad value',
        'bad-quota-value',
        "alice.conf:4: key 'max_bytes': negative value '-1G'; expected a non-negative integer with an optional K, M, G or T suffix (powers of 1024), or 'unlimited'",
      ],
      ['a wrong section', 'bad-quota-section', 'alice.conf:1: unknown section [eventfs-config]; expected [eventfs-quota]'],
    ];
    for (const [condition, stem, suffix] of cases) {
      it(`reports ${condition} with the quota file, line and key`, () => {
        assertConfigError(() => loadFixture(`${stem}.conf`), `${fixture(`${stem}.d`)}/${suffix}`);
      });
    }
  });
});
