// A fake terminal for rendering the live App in tests: sized, resizable, with a raw-mode stdin.
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { render, type Instance } from 'ink';
import type { ReactElement } from 'react';

export class FakeStdout extends EventEmitter {
  frames: string[] = [];
  constructor(public columns: number, public rows: number) {
    super();
  }
  write = (frame: string): boolean => {
    this.frames.push(frame);
    return true;
  };
  lastFrame = (): string => this.frames.at(-1) ?? '';
  resize(columns: number, rows: number): void {
    this.columns = columns;
    this.rows = rows;
    this.emit('resize');
  }
}

export class FakeStdin extends EventEmitter {
  data: string | null = null;
  constructor(public isTTY = true) {
    super();
  }
  write = (data: string): void => {
    this.data = data;
    this.emit('readable');
    this.emit('data', data);
  };
  read = (): string | null => {
    const data = this.data;
    this.data = null;
    return data;
  };
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}

export type Terminal = { stdout: FakeStdout; stdin: FakeStdin; instance: Instance; press: (keys: string) => Promise<void>; frame: () => string };

// Ink subscribes to input in an effect, so input written at once is lost (PITFALLS 26): wait.
export async function openTerminal(element: ReactElement, columns = 100, rows = 30, isTTY = true): Promise<Terminal> {
  const stdout = new FakeStdout(columns, rows);
  const stdin = new FakeStdin(isTTY);
  const instance = render(element, {
    stdout: stdout as unknown as NodeJS.WriteStream, stdin: stdin as unknown as NodeJS.ReadStream,
    debug: true, exitOnCtrlC: false, patchConsole: false,
  });
  await settle(stdout);
  const press = async (keys: string): Promise<void> => {
    stdin.write(keys);
    await settle(stdout);
  };
  return { stdout, stdin, instance, press, frame: stdout.lastFrame };
}

// Waits until no frame has been written for 60 ms (at most 2 s): a loaded machine renders late.
export async function settle(stdout: FakeStdout): Promise<void> {
  const deadline = Date.now() + 2000;
  let count = -1;
  while (count !== stdout.frames.length && Date.now() < deadline) {
    count = stdout.frames.length;
    await sleep(60);
  }
}

export const KEYS = { up: '\u001B[A', down: '\u001B[B', enter: '\r', escape: '\u001B', backspace: '\u007F' } as const;
