// eventfs-replay's entry point (bin/eventfs-replay.js imports it): the process's own streams in,
// the exit code out. Everything else is in cli.ts, so tests can run it in-process.
import { runCli } from './cli.ts';

// `eventfs-replay --events LOG | head` closes the pipe early: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env });
