/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self and inclusive time per function, and self
 * time per file, so the hot paths of a daemon can be read in a terminal.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO } from './targets.ts';

type CallFrame = { functionName: string; url: string; lineNumber: number; columnNumber: number };
type ProfileNode = { id: number; callFrame: CallFrame; children?: number[] };
type CpuProfile = { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] };

export type Hot = { name: string; where: string; selfMs: number; selfPct: number; totalMs: number; totalPct: number };
export type ProfileSummary = { totalMs: number; idleMs: number; busyMs: number; functions: Hot[]; files: { where: string; selfMs: number; selfPct: number }[] };

function shortUrl(url: string): string {
  if (url === '') return '(native)';
  let path = url;
  try {
    path = url.startsWith('file:') ? fileURLToPath(url) : url;
  } catch {
    path = url;
  }
  if (path.startsWith(REPO)) path = relative(REPO, path);
  return path.replace(/^node_modules\//, 'nm/');
}

export function summariseProfile(file: string): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const totalUs = profile.endTime - profile.startTime;
  const key = (frame: CallFrame): string => `${frame.functionName || '(anonymous)'}\u0000${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const files = new Map<string, number>();
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const frame = node.callFrame;
    if (frame.functionName === '(idle)') idleUs += us;
    self.set(key(frame), (self.get(key(frame)) ?? 0) + us);
    files.set(shortUrl(frame.url), (files.get(shortUrl(frame.url)) ?? 0) + us);
    // Inclusive: charge every distinct function on the stack once.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const k = key(byId.get(at)!.callFrame);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
  }
  const busyUs = totalUs - idleUs;
  const pct = (us: number): number => (busyUs > 0 ? (100 * us) / busyUs : 0);
  const functions = [...self.entries()].map(([k, us]) => {
    const [name, where] = k.split('\u0000') as [string, string];
    const total = inclusive.get(k) ?? us;
    return { name, where, selfMs: us / 1000, selfPct: pct(us), totalMs: total / 1000, totalPct: pct(total) };
  }).sort((a, b) => b.selfMs - a.selfMs);
  const fileRows = [...files.entries()].map(([where, us]) => ({ where, selfMs: us / 1000, selfPct: pct(us) })).sort((a, b) => b.selfMs - a.selfMs);
  return { totalMs: totalUs / 1000, idleMs: idleUs / 1000, busyMs: busyUs / 1000, functions, files: fileRows };
}

export function formatProfile(summary: ProfileSummary, top = 25): string {
  const lines = [
    `profile: ${summary.totalMs.toFixed(0)} ms wall, ${summary.idleMs.toFixed(0)} ms idle, ${summary.busyMs.toFixed(0)} ms busy on the JS thread (percentages are of busy)`,
    '',
    `${'self ms'.padStart(9)} ${'self%'.padStart(6)} ${'incl%'.padStart(6)}  function (where)`,
  ];
  for (const f of summary.functions.filter((f) => f.name !== '(idle)').slice(0, top)) {
    lines.push(`${f.selfMs.toFixed(1).padStart(9)} ${f.selfPct.toFixed(1).padStart(6)} ${f.totalPct.toFixed(1).padStart(6)}  ${f.name} (${f.where})`);
  }
  lines.push('', `${'self ms'.padStart(9)} ${'self%'.padStart(6)}  file`);
  for (const f of summary.files.filter((f) => f.where !== '(native)' || true).slice(0, 15)) {
    lines.push(`${f.selfMs.toFixed(1).padStart(9)} ${f.selfPct.toFixed(1).padStart(6)}  ${f.where}`);
  }
  return lines.join('\n');
}

/** Inclusive share of the busy time for functions whose name matches. */
export function inclusiveOf(summary: ProfileSummary, name: RegExp): Hot[] {
  return summary.functions.filter((f) => name.test(f.name)).sort((a, b) => b.totalMs - a.totalMs);
}
