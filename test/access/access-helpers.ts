/**
 * Shared setup for the access-control and quota tests: unprivileged users and groups, configs
 * written to a temp dir, commands run as a user (optionally with another primary group), python
 * programs that flood the mount until refused, and the offline fold of a mount's log.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLogDir } from '../../src/log/reader.ts';
import { emptyState, fold, fromPlain, type Event, type PlainState, type State } from '../../src/model/index.ts';
import { ensureUser, type TestUser } from '../helpers/users.ts';

/** How long any single command may take before the test gives up (a hang, not a timing assertion). */
const COMMAND_TIMEOUT_MS = 60_000;

export type AccessUsers = {
  /** q1, q2: members of `share`. q3: in no shared group. q4: member of `grp`. */
  q1: TestUser; q2: TestUser; q3: TestUser; q4: TestUser;
  /** A group shared by q1 and q2 (supplementary for both). */
  share: { name: string; gid: number };
  /** A group with a quota of its own; q2 and q4 are members. */
  grp: { name: string; gid: number };
};

/**
 * Creates (once) the users and groups the access tests use. Tests run as root. Account changes
 * are retried: other test files may hold the lock on /etc/passwd or /etc/group for a moment.
 */
export function ensureAccessUsers(): AccessUsers {
  const [q1, q2, q3, q4] = ['eventfs-q1', 'eventfs-q2', 'eventfs-q3', 'eventfs-q4'].map((name) => retried(() => ensureUser(name)));
  const share = ensureGroup('eventfs-qshare', [q1!.name, q2!.name]);
  const grp = ensureGroup('eventfs-qgrp', [q2!.name, q4!.name]);
  return { q1: q1!, q2: q2!, q3: q3!, q4: q4!, share, grp };
}

function ensureGroup(name: string, members: string[]): { name: string; gid: number } {
  if (spawnSync('getent', ['group', name], { stdio: 'ignore' }).status !== 0) {
    retried(() => execFileSync('groupadd', [name], { stdio: 'ignore' }), () => spawnSync('getent', ['group', name], { stdio: 'ignore' }).status === 0);
  }
  for (const member of members) {
    const isMember = (): boolean => execFileSync('id', ['-nG', member], { encoding: 'utf8' }).trim().split(' ').includes(name);
    if (!isMember()) retried(() => execFileSync('usermod', ['-a', '-G', name, member], { stdio: 'ignore' }), isMember);
  }
  const gid = Number(execFileSync('getent', ['group', name], { encoding: 'utf8' }).split(':')[2]);
  return { name, gid };
}

/** Runs `change` until it succeeds (or `done` says another process did it), for a few seconds. */
function retried<T>(change: () => T, done: () => boolean = () => false): T | undefined {
  for (let attempt = 1; ; attempt++) {
    try {
      return change();
    } catch (error) {
      if (done()) return undefined;
      if (attempt === 20) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    }
  }
}

/** A config directory: eventfs.conf plus quotas/NAME.conf, each given as INI text. */
export type ConfigFiles = { main: string; quotas?: Record<string, string> };

/** Writes a config to a fresh temp dir; returns the path of eventfs.conf and a cleanup. */
export function writeConfig(files: ConfigFiles): { path: string; dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'eventfs-access-conf-'));
  writeFileSync(join(dir, 'eventfs.conf'), files.main);
  if (files.quotas !== undefined) {
    mkdirSync(join(dir, 'quotas'));
    for (const [name, text] of Object.entries(files.quotas)) writeFileSync(join(dir, 'quotas', `${name}.conf`), text);
  }
  return { path: join(dir, 'eventfs.conf'), dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Who runs a command: a user name (with its own groups), optionally with another primary group. */
export type As = { user?: string; group?: string };

function argvAs(as: As, command: string[]): string[] {
  if (as.user === undefined) return command;
  // -g replaces the primary group (and, without -G, drops the supplementary ones).
  const group = as.group === undefined ? [] : ['-g', as.group];
  return ['runuser', '-u', as.user, ...group, '--', ...command];
}

export type Outcome = { status: number; stdout: string; stderr: string };

/** Runs `sh -c command` as someone; never throws on a non-zero exit. */
export function shAs(command: string, as: As = {}): Outcome {
  const argv = argvAs(as, ['sh', '-c', command]);
  const result = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: COMMAND_TIMEOUT_MS });
  if (result.error !== undefined) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Runs `sh -c command` as someone and returns stdout; throws (with stderr) on failure. */
export function shOk(command: string, as: As = {}): string {
  const result = shAs(command, as);
  if (result.status !== 0) throw new Error(`${command} (as ${as.user ?? 'root'}) exited ${result.status}: ${result.stderr}`);
  return result.stdout;
}

/**
 * Runs a python3 program as someone and returns its parsed last stdout line (JSON). The program
 * gets `args` as sys.argv[1:] and an empty stdin.
 */
export function pyJson<T = unknown>(source: string, args: string[], as: As = {}): T {
  const argv = argvAs(as, ['python3', '-c', source, ...args]);
  const result = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', input: '', timeout: COMMAND_TIMEOUT_MS });
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0) throw new Error(`python (as ${as.user ?? 'root'}) exited ${result.status}: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as T;
}

/** A python program that printed its result and now waits (keeping its queues alive) until released. */
export type Held<T> = { result: T; child: ChildProcess; release: () => Promise<void> };

/**
 * Starts a python3 program as someone, waits for its first stdout line (JSON) and leaves it
 * running: it blocks in `sys.stdin.readline()` until release() closes its stdin.
 */
export function pyHeld<T = unknown>(source: string, args: string[], as: As = {}): Promise<Held<T>> {
  const argv = argvAs(as, ['python3', '-c', source, ...args]);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const release = async (): Promise<void> => {
    child.stdin!.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const newline = stdout.indexOf('\n');
      if (newline >= 0) resolve({ result: JSON.parse(stdout.slice(0, newline)) as T, child, release });
    });
    child.once('exit', (code) => reject(new Error(`held python exited ${code} before answering: ${stderr}`)));
  });
}

/**
 * Python: makes queues ROOT/PREFIX0, PREFIX1, ... until mkdir fails; prints {count, error}, then
 * tries `extra` more mkdirs (all must fail the same way: {extraErrors}) and waits on stdin.
 * argv: ROOT PREFIX EXTRA
 */
export const FLOOD_DIRS = `
import errno, json, os, sys
root, prefix, extra = sys.argv[1], sys.argv[2], int(sys.argv[3])
count, error = 0, None
while count < 100000:
    try:
        os.mkdir(f"{root}/{prefix}{count}")
    except OSError as e:
        error = errno.errorcode[e.errno]
        break
    count += 1
extra_errors = set()
for i in range(extra):
    try:
        os.mkdir(f"{root}/{prefix}x{i}")
        extra_errors.add("OK")
    except OSError as e:
        extra_errors.add(errno.errorcode[e.errno])
print(json.dumps({"count": count, "error": error, "extraErrors": sorted(extra_errors)}), flush=True)
sys.stdin.readline()
`;

/**
 * Python: makes the queues given (held by this process), then creates empty files in each, in
 * turn, until create fails; prints {counts: [per queue], error} and waits on stdin.
 * argv: QUEUE...
 */
export const FLOOD_FILES = `
import errno, json, os, sys
queues = sys.argv[1:]
for q in queues:
    os.mkdir(q)
counts, error = [], None
for q in queues:
    n = 0
    while n < 100000:
        try:
            os.close(os.open(f"{q}/f{n}", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except OSError as e:
            error = errno.errorcode[e.errno]
            break
        n += 1
    counts.append(n)
print(json.dumps({"counts": counts, "error": error}), flush=True)
sys.stdin.readline()
`;

/**
 * Python: makes QUEUE, creates QUEUE/f and writes CHUNK-byte blocks to it until write fails,
 * then single bytes until write fails again, so the total lands exactly on the limit whatever
 * CHUNK is; prints {written, error, size} and waits on stdin.
 * argv: QUEUE CHUNK
 */
export const FLOOD_BYTES = `
import errno, json, os, sys
q, chunk = sys.argv[1], int(sys.argv[2])
os.mkdir(q)
fd = os.open(q + "/f", os.O_CREAT | os.O_WRONLY, 0o644)
written, error = 0, None
while True:
    try:
        n = os.write(fd, b"x" * chunk)
    except OSError as e:
        error = errno.errorcode[e.errno]
        if chunk == 1:
            break
        chunk = 1
        continue
    written += n
os.close(fd)
print(json.dumps({"written": written, "error": error, "size": os.stat(q + "/f").st_size}), flush=True)
sys.stdin.readline()
`;

/** The mount's state as replay sees it: the newest snapshot plus every later event of the log. */
export async function foldLog(logDir: string): Promise<State> {
  const read = await readLogDir(logDir);
  const base = read.snapshot === null ? emptyState() : fromPlain(read.snapshot.state as PlainState);
  return fold(read.events as unknown as Event[], base);
}

/** Every event of the log directory (no snapshot shortcut: the tests keep logs small). */
export async function logEvents(logDir: string): Promise<Event[]> {
  return (await readLogDir(logDir)).events as unknown as Event[];
}

/** errno name of a failed shell command, from coreutils' message text. */
export function errnoOf(outcome: Outcome): string {
  if (outcome.status === 0) return 'OK';
  const texts: [RegExp, string][] = [
    [/Permission denied/, 'EACCES'],
    [/Operation not permitted/, 'EPERM'],
    [/Disk quota exceeded/, 'EDQUOT'],
    [/No such file or directory/, 'ENOENT'],
    [/Directory not empty/, 'ENOTEMPTY'],
    [/File exists/, 'EEXIST'],
  ];
  for (const [pattern, name] of texts) if (pattern.test(outcome.stderr)) return name;
  return `exit ${outcome.status}: ${outcome.stderr.trim()}`;
}

/** One file operation for attempts(): a name and its arguments. */
export type Op =
  | ['read', string] | ['listdir', string] | ['readlink', string] | ['stat', string]
  | ['create', string] | ['append', string] | ['truncate', string, number] | ['unlink', string] | ['rmdir', string]
  | ['mkdir', string] | ['link', string, string]
  | ['chmod', string, number] | ['lchown', string, number, number] | ['chown', string, number, number]
  | ['setxattr', string, string] | ['removexattr', string, string];

const ATTEMPTS = `
import errno, json, os, sys
def run(op, *args):
    if op == "read":
        with open(args[0], "rb") as f: return "OK:" + f.read().decode()
    if op == "listdir": return "OK:" + ",".join(sorted(os.listdir(args[0])))
    if op == "readlink": return "OK:" + os.readlink(args[0])
    if op == "stat":
        st = os.lstat(args[0]); return "OK:%o %d %d" % (st.st_mode & 0o7777, st.st_uid, st.st_gid)
    if op == "create": os.close(os.open(args[0], os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    elif op == "append":
        with open(args[0], "ab") as f: f.write(b"+")
    elif op == "truncate": os.truncate(args[0], args[1])
    elif op == "unlink": os.unlink(args[0])
    elif op == "rmdir": os.rmdir(args[0])
    elif op == "mkdir": os.mkdir(args[0])
    elif op == "link": os.link(args[0], args[1])
    elif op == "chmod": os.chmod(args[0], args[1])
    elif op == "chown": os.chown(args[0], args[1], args[2])
    elif op == "lchown": os.lchown(args[0], args[1], args[2])
    elif op == "setxattr": os.setxattr(args[0], args[1], b"")
    elif op == "removexattr": os.removexattr(args[0], args[1])
    else: raise ValueError(op)
    return "OK"
results = []
for op in json.loads(sys.argv[1]):
    try:
        results.append(run(*op))
    except OSError as e:
        results.append(errno.errorcode[e.errno])
print(json.dumps(results))
`;

/**
 * Runs file operations one after the other in one python process as someone; returns for each
 * "OK" (read, listdir, readlink and stat: "OK:" and what they saw) or the errno name.
 */
export function attempts(ops: Op[], as: As = {}): string[] {
  return pyJson<string[]>(ATTEMPTS, [JSON.stringify(ops)], as);
}

/** attempt() for a single operation. */
export function attempt(op: Op, as: As = {}): string {
  return attempts([op], as)[0]!;
}

/** A sticky queue made by one short-lived python process as someone (so it outlives that process). */
export function stickyQueueAs(path: string, mode: number, as: As = {}): void {
  pyJson('import os, sys\nos.mkdir(sys.argv[1])\nos.chmod(sys.argv[1], int(sys.argv[2], 8))\nos.setxattr(sys.argv[1], "user.eventfs_sticky", b"")\nprint("null")',
    [path, mode.toString(8)], as);
}

/** A file with exactly `mode` (no umask) and `content`, created as someone. */
export function putFile(path: string, content: string, mode: number, as: As = {}): void {
  pyJson('import os, sys\nos.umask(0)\nfd = os.open(sys.argv[1], os.O_CREAT | os.O_EXCL | os.O_WRONLY, int(sys.argv[2], 8))\nos.write(fd, sys.argv[3].encode())\nos.close(fd)\nprint("null")',
    [path, mode.toString(8), content], as);
}
