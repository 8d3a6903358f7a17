/**
 * The quota config at mount time: a bad config is refused (exit 78) with one line naming file,
 * line and key; the table in force is recorded in the log once per change, so replay sees the
 * limits each decision was made under; root is exempt only when the config says so.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BUILT_IN_QUOTA_TABLE } from '../../src/config/limits.ts';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../../src/config/load.ts';
import { isMounted } from '../../src/fs/mountinfo.ts';
import type { QuotaTable } from '../../src/config/limits.ts';
import { EVENTFS_BIN, startMount, unmountQuietly } from '../helpers/mount.ts';
import { ensureAccessUsers, FLOOD_DIRS, foldLog, logEvents, pyJson, writeConfig, type AccessUsers } from './access-helpers.ts';

let users: AccessUsers;
let root: string;
before(() => {
  users = ensureAccessUsers();
  root = mkdtempSync(join(tmpdir(), 'eventfs-access-config-'));
  chmodSync(root, 0o755); // the test users must reach the mountpoints below it
});
after(() => rmSync(root, { recursive: true, force: true }));

const eventfs = (...args: string[]) => spawnSync(process.execPath, [EVENTFS_BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
let dirs = 0;
const freshDir = (): string => {
  const dir = join(root, `d${dirs++}`);
  mkdirSync(dir);
  return dir;
};

type BadCase = { name: string; files: Parameters<typeof writeConfig>[0]; file: (dir: string) => string; line?: number; key?: string; reason: RegExp };

const BAD_CASES: BadCase[] = [
  {
    name: 'a non-numeric default',
    files: { main: '[eventfs-config]\ndefault_max_dirs = 4\ndefault_max_files = many\n' },
    file: (dir) => join(dir, 'eventfs.conf'), line: 3, key: 'default_max_files', reason: /not a number: 'many'/,
  },
  {
    name: 'a negative limit in a quota file',
    files: { main: '[eventfs-config]\nquotas = quotas\n', quotas: { q1: '[eventfs-quota]\nuser = eventfs-q1\n\nmax_bytes = -5\n' } },
    file: (dir) => join(dir, 'quotas', 'q1.conf'), line: 4, key: 'max_bytes', reason: /negative value '-5'/,
  },
  {
    name: 'an unknown user',
    files: { main: '[eventfs-config]\nquotas = quotas\n', quotas: { ghost: '# nobody\n[eventfs-quota]\nuser = eventfs-no-such-user\nmax_dirs = 1\n' } },
    file: (dir) => join(dir, 'quotas', 'ghost.conf'), line: 3, key: 'user', reason: /unknown user 'eventfs-no-such-user'/,
  },
  {
    name: 'an unknown group',
    files: { main: '[eventfs-config]\nquotas = quotas\n', quotas: { ghosts: '[eventfs-quota]\ngroup = eventfs-no-such-group\n' } },
    file: (dir) => join(dir, 'quotas', 'ghosts.conf'), line: 2, key: 'group', reason: /unknown group 'eventfs-no-such-group'/,
  },
  {
    name: 'a malformed line (no key applies)',
    files: { main: '[eventfs-config]\ndefault_max_dirs = 4\n= 5\n' },
    file: (dir) => join(dir, 'eventfs.conf'), line: 3, reason: /malformed line/,
  },
  {
    name: 'a quotas directory that does not exist',
    files: { main: '[eventfs-config]\n\nquotas = /nonexistent/eventfs-quotas\n' },
    file: (dir) => join(dir, 'eventfs.conf'), line: 3, key: 'quotas', reason: /does not exist/,
  },
];

describe('a bad config', () => {
  for (const bad of BAD_CASES) {
    it(`is refused at mount time with exit 78 and one line naming file, line and key: ${bad.name}`, () => {
      const config = writeConfig(bad.files);
      const mnt = freshDir();
      try {
        const result = eventfs('-f', '-c', config.path, '--log-dir', join(root, `log-${dirs}`), mnt);
        assert.equal(result.status, 78, result.stderr);
        const lines = result.stderr.split('\n').filter(Boolean);
        assert.equal(lines.length, 1, `one line, no stack trace: ${result.stderr}`);
        const site = `${escape(bad.file(config.dir))}${bad.line === undefined ? '' : `:${bad.line}`}: ${bad.key === undefined ? '' : `key '${bad.key}': `}`;
        assert.match(lines[0]!, new RegExp(`^eventfs: ${site}`));
        assert.match(lines[0]!, bad.reason);
        assert.ok(!isMounted(mnt), 'nothing was mounted');
      } finally {
        unmountQuietly(mnt);
        config.remove();
      }
    });
  }

  it('is refused the same way when eventfs detaches (no -f)', () => {
    const config = writeConfig(BAD_CASES[0]!.files);
    const mnt = freshDir();
    try {
      const result = eventfs('-c', config.path, '--log-dir', join(root, 'log-detached'), mnt);
      assert.equal(result.status, 78);
      assert.deepEqual(result.stderr.split('\n').filter(Boolean), [
        `eventfs: ${config.path}:3: key 'default_max_files': not a number: 'many'; expected a non-negative integer or 'unlimited'`,
      ]);
      assert.ok(!isMounted(mnt));
    } finally {
      unmountQuietly(mnt);
      config.remove();
    }
  });

  it('is refused when the -c file does not exist', () => {
    const missing = join(root, 'missing.conf');
    const result = eventfs('-f', '-c', missing, '--log-dir', join(root, 'log-missing'), freshDir());
    assert.equal(result.status, 78);
    assert.deepEqual(result.stderr.split('\n').filter(Boolean), [`eventfs: ${missing}: config file does not exist`]);
  });
});

const quotaEvents = async (logDir: string): Promise<QuotaTable[]> =>
  (await logEvents(logDir)).flatMap((event) => (event.type === 'quotasSet' ? [event.quotas] : []));

/** How many queues one python process of `user` may make (capped at 10). */
const dirsAllowed = (mnt: string, prefix: string, user?: string): unknown =>
  pyJson(FLOOD_DIRS.replace('while count < 100000', 'while count < 10'), [mnt, prefix, '0'], { user });

describe('the quota table in the log', () => {
  it('is recorded at the first mount, again when the config changes, and not when it does not', async () => {
    const logDir = join(root, 'log-recorded');
    const configA = writeConfig({ main: '[eventfs-config]\ndefault_max_dirs = 2\n' });
    const configB = writeConfig({
      main: '[eventfs-config]\ndefault_max_dirs = 3\nquotas = quotas\nroot_exempt = true\n',
      quotas: { q2: `[eventfs-quota]\nuser = ${users.q2.name}\nmax_dirs = 1\n` },
    });
    try {
      const first = await startMount({ args: ['-c', configA.path], logDir, root: freshDir() });
      try {
        assert.deepEqual(await quotaEvents(logDir), [loadConfig(configA.path)]);
        assert.deepEqual(dirsAllowed(first.mnt, 'a', users.q2.name), { count: 2, error: 'EDQUOT', extraErrors: [] });
        assert.deepEqual(dirsAllowed(first.mnt, 'r'), { count: 2, error: 'EDQUOT', extraErrors: [] }, 'root is limited by default');
      } finally {
        await first.stop();
      }

      const second = await startMount({ args: ['-c', configB.path], logDir, root: freshDir() });
      try {
        assert.deepEqual(await quotaEvents(logDir), [loadConfig(configA.path), loadConfig(configB.path)]);
        assert.deepEqual((await foldLog(logDir)).quotas, loadConfig(configB.path));
        assert.deepEqual(dirsAllowed(second.mnt, 'b', users.q2.name), { count: 1, error: 'EDQUOT', extraErrors: [] });
        assert.deepEqual(dirsAllowed(second.mnt, 'c', users.q3.name), { count: 3, error: 'EDQUOT', extraErrors: [] });
        // root_exempt = true: root makes more queues than default_max_dirs allows anyone else.
        assert.deepEqual(dirsAllowed(second.mnt, 'r'), { count: 10, error: null, extraErrors: [] });
      } finally {
        await second.stop();
      }

      const third = await startMount({ args: ['-c', configB.path], logDir, root: freshDir() });
      await third.stop();
      assert.equal((await quotaEvents(logDir)).length, 2, 'an unchanged config is not recorded again');
    } finally {
      configA.remove();
      configB.remove();
    }
  });

  it('holds the built-in defaults when there is no config at all', { skip: existsSync(DEFAULT_CONFIG_PATH) && `${DEFAULT_CONFIG_PATH} exists` }, async () => {
    const m = await startMount();
    try {
      assert.deepEqual((await foldLog(m.logDir)).quotas, BUILT_IN_QUOTA_TABLE);
    } finally {
      await m.stop();
    }
  });
});
