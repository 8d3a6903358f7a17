/** `-o opt,opt=value,...` for eventfs: parsed into typed options, anything unknown is an error. */
import { SNAPSHOT_BYTES_MIN } from '../fs/compactor.ts';
import { DURABILITIES, type Durability } from '../fs/engine.ts';

export type MountOptions = { durability: Durability; allowOther: boolean | null; sweepMs: number; snapshotBytes: number };

export const DEFAULT_MOUNT_OPTIONS: MountOptions = { durability: 'close', allowOther: null, sweepMs: 250, snapshotBytes: SNAPSHOT_BYTES_MIN };

export class UsageError extends Error {}

/** Options later in the list win, as with mount(8). */
export function parseMountOptions(lists: string[]): MountOptions {
  const options = { ...DEFAULT_MOUNT_OPTIONS };
  for (const item of lists.flatMap((list) => list.split(',')).filter((item) => item !== '')) {
    const [key, value] = splitOption(item);
    switch (key) {
      case 'durability': options.durability = parseDurability(value); break;
      case 'allow_other': options.allowOther = flag(key, value, true); break;
      case 'noallow_other': options.allowOther = flag(key, value, false); break;
      case 'sweep_ms': options.sweepMs = positiveInteger(key, value); break;
      case 'snapshot_bytes': options.snapshotBytes = positiveInteger(key, value); break;
      default: throw new UsageError(`unknown mount option '${key}' (known: durability=always|close|none, allow_other, noallow_other, sweep_ms=N, snapshot_bytes=N)`);
    }
  }
  return options;
}

function splitOption(item: string): [string, string | null] {
  const at = item.indexOf('=');
  return at < 0 ? [item, null] : [item.slice(0, at), item.slice(at + 1)];
}

function parseDurability(value: string | null): Durability {
  if (DURABILITIES.includes(value as Durability)) return value as Durability;
  throw new UsageError(`mount option 'durability' takes always, close or none, not ${JSON.stringify(value)}`);
}

function flag(key: string, value: string | null, result: boolean): boolean {
  if (value !== null) throw new UsageError(`mount option '${key}' takes no value`);
  return result;
}

function positiveInteger(key: string, value: string | null): number {
  const number = Number(value);
  if (value === null || !Number.isSafeInteger(number) || number <= 0) throw new UsageError(`mount option '${key}' takes a positive integer`);
  return number;
}
