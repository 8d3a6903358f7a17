// Test support for tools/top: logs written as a mount would write them (commands through the
// model's execute, so every event is one decide() would produce), models and views built from them.
import { BUILT_IN_QUOTA_TABLE } from '../../src/config/limits.ts';
import { DAEMON, emptyState, execute, STICKY_XATTR, type Caller, type CommandBody, type Event, type State } from '../../src/model/index.ts';
import type { TopSource, ViewRequest } from './follow.ts';
import { createModel, ingest, type TopModel } from './model.ts';
import { deriveView, type DaemonStatus, type TopView } from './view.ts';

export const T0_MS = 1_704_067_200_000; // 2024-01-01T00:00:00Z
export const alice: Caller = { uid: 1000, gid: 1000, pid: 4242, start: 111 };
export const bob: Caller = { uid: 1001, gid: 1001, pid: 4343, start: 222 };

export class Script {
  readonly state: State = emptyState();
  readonly events: Event[] = [];
  tMs = T0_MS;

  run(by: Caller, body: CommandBody, stepMs = 100): Event[] {
    this.tMs += stepMs;
    const decision = execute(this.state, { ...body, by, atMs: this.tMs } as Parameters<typeof execute>[1]);
    if (!decision.ok) throw new Error(`${body.type} refused: ${decision.errno}`);
    this.events.push(...decision.events);
    return decision.events;
  }

  mount(): this { this.run(DAEMON, { type: 'setQuotas', quotas: BUILT_IN_QUOTA_TABLE }); return this; }
  mkdir(by: Caller, queue: string): this { this.run(by, { type: 'mkdir', path: `/${queue}`, mode: 0o755 }); return this; }
  sticky(by: Caller, queue: string): this {
    this.run(by, { type: 'setxattr', path: `/${queue}`, key: STICKY_XATTR, value: Buffer.alloc(0), flags: 0 });
    return this;
  }

  put(by: Caller, queue: string, name: string, text: string, stepMs = 100): this {
    this.run(by, { type: 'create', path: `/${queue}/${name}`, mode: 0o644 }, stepMs);
    const ino = this.state.queues.get(queue)!.entries.get(name)!.ino;
    this.run(by, { type: 'write', ino, offset: 0, data: Buffer.from(text) }, 0);
    return this;
  }

  pop(by: Caller, queue: string, stepMs = 100): this { this.run(by, { type: 'unlink', path: `/${queue}/head` }, stepMs); return this; }
  link(by: Caller, from: string, to: string): this { this.run(by, { type: 'link', from, to }); return this; }
  reap(queue: string): this { this.run(DAEMON, { type: 'reap', queue }); return this; }
}

export function modelOf(script: Script): TopModel {
  const model = createModel();
  ingest(model, script.events as never);
  return model;
}

export const userNameTest = (uid: number): string => ({ 0: 'root', 1000: 'alice', 1001: 'bob' } as Record<number, string>)[uid] ?? String(uid);

export function viewOf(model: TopModel, options: { nowMs?: number; daemon?: DaemonStatus; detailQueue?: string | null; problems?: string[] } = {}): TopView {
  return deriveView(model, {
    nowMs: options.nowMs ?? model.lastEventMs ?? T0_MS, daemon: options.daemon ?? { kind: 'live', pid: 99, startedMs: T0_MS },
    logBytes: 4096, problems: options.problems ?? [], detailQueue: options.detailQueue ?? null, streamMax: 100, sparkWidth: 20,
    userName: userNameTest,
  });
}

// A source over a fixed model, as App sees the follower.
export function staticSource(model: TopModel, daemon?: DaemonStatus): TopSource & { version: number } {
  return {
    version: 1,
    view: (request: ViewRequest) => ({ ...viewOf(model, { daemon, detailQueue: request.detailQueue }), stream: model.stream.newest(request.streamMax) }),
  };
}

// Busy enough to fill a screen: two queues with traffic, one sticky, and a reaped one.
export function busyScript(): Script {
  const script = new Script().mount().mkdir(alice, 'jobs').mkdir(bob, 'audit').sticky(bob, 'audit').mkdir(alice, 'doomed');
  for (let i = 0; i < 12; i++) script.put(alice, 'jobs', `job-${i}`, `payload ${i}`, 250);
  script.link(alice, '/jobs/job-0', '/audit/job-0');
  for (let i = 0; i < 4; i++) script.pop(bob, 'jobs', 250);
  script.put(alice, 'doomed', 'last', 'x').reap('doomed');
  return script;
}
