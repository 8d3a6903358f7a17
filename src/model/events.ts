/**
 * The event vocabulary. Events are named for what happened, carry plain data only, and are
 * self-contained: replay needs nothing but the log (no clock, no /proc, no filesystem).
 *
 * Every event carries `v` (schema version), `seq` (dense, from 1), `t` (ms since the epoch) and
 * the caller: `uid`, `gid`, `pid` (thread group id; 0 for the daemon itself, e.g. reaps).
 */
import type { QuotaTable } from '../config/limits.ts';
import type { Creator } from './state.ts';

export const EVENT_VERSION = 1;

export type EventBase = { v: number; seq: number; t: number; uid: number; gid: number; pid: number };

/** How a name left its queue: popped as head, popped as tail, or removed by its own name. */
export type RemovedVia = 'head' | 'tail' | 'name';

export type EventBody =
  | { type: 'quotasSet'; quotas: QuotaTable }
  | { type: 'queueCreated'; queue: string; ino: number; mode: number; creator: Creator }
  | { type: 'queueRemoved'; queue: string }
  | { type: 'queueReaped'; queue: string; creator: Creator }
  | { type: 'fileCreated'; queue: string; name: string; ino: number; mode: number }
  | { type: 'dataWritten'; ino: number; offset: number; data: Buffer }
  | { type: 'fileTruncated'; ino: number; size: number }
  | { type: 'linkCreated'; queue: string; name: string; ino: number }
  | { type: 'entryRemoved'; queue: string; name: string; via: RemovedVia }
  | { type: 'modeChanged'; ino: number; mode: number }
  | { type: 'ownerChanged'; ino: number; owner: { uid: number; gid: number } }
  | { type: 'timesChanged'; ino: number; atimeMs: number; mtimeMs: number }
  | { type: 'xattrSet'; ino: number; key: string; value: Buffer }
  | { type: 'xattrRemoved'; ino: number; key: string };

export type Event = EventBase & EventBody;
export type EventType = Event['type'];

export const EVENT_TYPES: readonly EventType[] = [
  'quotasSet', 'queueCreated', 'queueRemoved', 'queueReaped', 'fileCreated', 'dataWritten',
  'fileTruncated', 'linkCreated', 'entryRemoved', 'modeChanged', 'ownerChanged', 'timesChanged',
  'xattrSet', 'xattrRemoved',
];
