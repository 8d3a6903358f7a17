/**
 * eventfs [-c config] [-f] [-d] [-o opt,...] [--log-dir DIR] MOUNTPOINT
 *
 * Without -f it detaches like other FUSE daemons: the parent exits 0 only once the mount is ready,
 * or prints the child's one-line error and exits with its code.
 */
import { Command, CommanderError } from 'commander';
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import { createWriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../config/load.ts';
import { Daemon } from '../fs/daemon.ts';
import { LogVersionError } from '../log/errors.ts';
import { exitCodeOf, EXIT } from './exit.ts';
import { checkMountpoint } from './mountpoint.ts';
import { parseMountOptions } from './options.ts';
import { DAEMON_NODE_FLAGS } from './node-flags.ts';

const READY_FD_ENV = 'EVENTFS_READY_FD';
const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

type CliOptions = { config?: string; foreground: boolean; debug: boolean; options: string[]; logDir: string };

function program(): Command {
  return new Command('eventfs')
    .description('Mount eventfs: every directory a message queue owned by the process that created it.')
    .version(packageJson.version, '-V, --version')
    .argument('<mountpoint>', 'an empty directory to mount on')
    .option('-c, --config <file>', 'quota config (INI); default /etc/eventfs/eventfs.conf when it exists')
    .option('-f, --foreground', 'stay in the foreground', false)
    .option('-d, --debug', 'print every FUSE request (implies -f)', false)
    .option('-o, --options <list>', 'durability=always|close|none (default close), allow_other, noallow_other, sweep_ms=N, snapshot_bytes=N', collect, [])
    .option('--log-dir <dir>', 'where the event log lives', 'logs')
    .addHelpText('after', `
Exit codes: 0 mounted, 1 failure, 64 usage, 65 corrupt log (see eventfs-replay --salvage),
75 log directory in use by another daemon, 78 bad config.`)
    .exitOverride();
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

async function main(argv: string[]): Promise<number> {
  const cli = program();
  try {
    cli.parse(argv);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    throw error;
  }
  const options = cli.opts<CliOptions>();
  const mountpoint = checkMountpoint(cli.args[0]!);
  const mount = parseMountOptions(options.options);
  const quotas = loadConfig(options.config);
  const logDir = resolve(options.logDir);
  mkdirSync(logDir, { recursive: true });
  if (!options.foreground && !options.debug) return detach(argv, logDir);
  const daemon = await Daemon.start({
    mountpoint, logDir, durability: mount.durability, quotas, debug: options.debug,
    allowOther: mount.allowOther ?? process.getuid?.() === 0, sweepMs: mount.sweepMs, snapshotBytesMin: mount.snapshotBytes,
    warn: (message) => console.error(`eventfs: ${message}`),
  });
  signalReady();
  await Promise.race([untilSignal(), daemon.unmounted]);
  await daemon.stop();
  return EXIT.ok;
}

/** Re-runs this command in the foreground as a detached child, and waits for its word. */
function detach(argv: string[], logDir: string): Promise<number> {
  const out = openSync(join(logDir, 'eventfs.log'), 'a');
  const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, ...process.execArgv, ...argv.slice(1), '-f'], {
    detached: true, stdio: ['ignore', out, out, 'pipe'], env: { ...process.env, [READY_FD_ENV]: '3' },
  });
  return new Promise((done) => {
    let said = '';
    child.stdio[3]!.on('data', (chunk: Buffer) => (said += chunk.toString()));
    child.stdio[3]!.on('close', () => {
      if (said.startsWith('ready')) {
        child.unref();
        done(EXIT.ok);
        return;
      }
      child.on('exit', (code) => {
        console.error(said.trim() || `eventfs: the daemon exited (code ${code}); see ${join(logDir, 'eventfs.log')}`);
        done(code || EXIT.failure);
      });
    });
  });
}

function signalReady(): void {
  const fd = process.env[READY_FD_ENV];
  if (fd === undefined) return;
  // The parent stops listening after this word: later errors go to stderr only.
  delete process.env[READY_FD_ENV];
  createWriteStream('', { fd: Number(fd) }).end('ready\n');
}

function sayError(message: string): void {
  const fd = process.env[READY_FD_ENV];
  if (fd !== undefined) createWriteStream('', { fd: Number(fd) }).end(`${message}\n`);
  console.error(message);
}

function untilSignal(): Promise<void> {
  return new Promise((done) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => done());
  });
}

// Exit explicitly: after an unmount done by the user, fuse-native keeps its async handle referenced
// (its own unmount path is skipped when fusermount finds nothing to unmount), so the loop never drains.
main(process.argv).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // Known failures are one line; an unexpected one keeps its stack for the bug report.
    const unexpected = exitCodeOf(error) === EXIT.failure && error instanceof Error;
    const advice = exitCodeOf(error) === EXIT.dataError ? dataErrorAdvice(error) : '';
    sayError(`eventfs: ${unexpected ? error.stack : (error as Error).message}${advice}`);
    process.exit(exitCodeOf(error));
  },
);

/** What to do about a log the daemon refused (exit 65); the message itself names the file and offset. */
function dataErrorAdvice(error: unknown): string {
  if (error instanceof LogVersionError) {
    return '; nothing was changed: mount it with the eventfs that wrote it, or move the file out of the log directory ' +
      'if it does not belong there (`eventfs-replay --salvage` cannot read a newer format either)';
  }
  if ((error as Error).message.includes('eventfs-replay --salvage')) return '';
  return '; nothing was changed: `eventfs-replay --salvage NEW_DIR LOG_DIR` copies the longest valid prefix of the log into NEW_DIR, to mount with --log-dir NEW_DIR';
}
