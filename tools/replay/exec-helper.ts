/**
 * Helper processes for --exec (exec-helper.py): each one is a recorded process, acting with its
 * uid/gid. Requests go one at a time over a pipe, so the mount sees them in the log's order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { UsageError } from './exit.ts';
import type { HelperOp } from './exec-plan.ts';

export const HELPER_SCRIPT = fileURLToPath(new URL('./exec-helper.py', import.meta.url));

export type Reply = { ok: true; [field: string]: unknown } | { ok: false; errno: string; message?: string; actual?: string };

/** Who a helper acts as: a uid/gid (needs root), or null for the user running eventfs-replay. */
export type Identity = { uid: number; gid: number } | null;

export class Helper {
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: Reply) => void>();
  private readonly exited: Promise<void>;

  private constructor(readonly child: ChildProcess, lines: Interface, readonly pid: number, readonly identity: Identity) {
    this.exited = new Promise((resolve) => {
      if (!this.isAlive) resolve();
      child.once('exit', () => resolve());
    });
    lines.on('line', (line) => this.onLine(line));
    void this.exited.then(() => {
      for (const resolve of this.waiting.values()) resolve({ ok: false, errno: 'EXITED', message: 'the helper process exited' });
      this.waiting.clear();
    });
  }

  /** Starts a helper and waits until it has become `identity` and reports ready. */
  static async start(mountpoint: string, identity: Identity, python = 'python3'): Promise<Helper> {
    const args = [HELPER_SCRIPT, mountpoint, identity === null ? '-' : String(identity.uid), identity === null ? '-' : String(identity.gid)];
    const child = spawn(python, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const lines = createInterface({ input: child.stdout! });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const ready = await new Promise<{ pid: number }>((resolve, reject) => {
      child.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'ENOENT' ? new UsageError(`--exec needs ${python} for its helper processes: ${error.message}`) : error));
      lines.once('line', (line) => resolve(JSON.parse(line) as { pid: number }));
      child.once('exit', (code) => reject(new Error(`exec helper exited (${code}) before it was ready: ${stderr.trim()}`)));
    });
    return new Helper(child, lines, ready.pid, identity);
  }

  get isAlive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  request(op: HelperOp): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      if (!this.isAlive) return resolve({ ok: false, errno: 'EXITED', message: 'the helper process exited' });
      this.waiting.set(id, resolve);
      this.child.stdin!.write(`${JSON.stringify({ id, ...op })}\n`);
    });
  }

  /** The recorded process died (SIGKILL, like a crash): the mount sees its creator gone. */
  async kill(): Promise<void> {
    if (this.isAlive) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Ends the helper politely (end of input), or kills it if it does not go. */
  async close(timeoutMs = 5000): Promise<void> {
    if (!this.isAlive) return;
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  private onLine(line: string): void {
    const reply = JSON.parse(line) as Reply & { id?: number };
    if (reply.id === undefined) return; // the ready line, already handled
    const resolve = this.waiting.get(reply.id);
    this.waiting.delete(reply.id);
    resolve?.(reply);
  }
}
