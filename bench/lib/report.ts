/** Medians, ratios and the printed table. */

export function median(values: number[]): number | null {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return null;
  const sorted = [...finite].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median of per-round ratios: each ratio compares runs made minutes apart at most. */
export function pairedRatio(values: number[], baseline: number[]): number | null {
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(values.length, baseline.length); i++) {
    if (baseline[i]! > 0 && Number.isFinite(values[i])) ratios.push(values[i]! / baseline[i]!);
  }
  return median(ratios);
}

export type Row = {
  scenario: string;
  target: string;
  value: number | null;
  unit: string;
  vsTmpfs: number | null;
  vsFloor: number | null;
  /** CPU (client + daemon) per unit of work, and its ratio to the floor's (lower is better). */
  cpu: number | null;
  cpuUnit: string;
  cpuVsFloor: number | null;
  goal: string;
  pass: boolean | null;
  note: string;
};

export function emptyRow(scenario: string, target: string, unit: string): Row {
  return { scenario, target, value: null, unit, vsTmpfs: null, vsFloor: null, cpu: null, cpuUnit: '', cpuVsFloor: null, goal: '', pass: null, note: '' };
}

function number(value: number | null): string {
  if (value === null) return '-';
  const abs = Math.abs(value);
  if (abs >= 100_000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return Math.round(value).toString();
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

const ratio = (value: number | null): string => (value === null ? '-' : `${value.toFixed(value < 0.1 ? 3 : 2)}x`);

export function formatTable(rows: Row[]): string {
  const header = ['scenario', 'target', 'value', 'unit', 'vs tmpfs', 'vs floor', 'cpu/unit', 'cpu vs floor', 'goal', 'result'];
  const cells = rows.map((row) => [
    row.scenario,
    row.target,
    row.value === null ? (row.note.startsWith('n/a') ? 'n/a' : '-') : number(row.value),
    row.unit,
    ratio(row.vsTmpfs),
    ratio(row.vsFloor),
    row.cpu === null ? '-' : `${number(row.cpu)} ${row.cpuUnit}`,
    ratio(row.cpuVsFloor),
    row.goal,
    row.pass === null ? '' : row.pass ? 'PASS' : 'FAIL',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const right = new Set([2, 4, 5, 6, 7]);
  const line = (c: string[]) => c.map((cell, i) => (right.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  ')];
  let previous = '';
  for (let i = 0; i < rows.length; i++) {
    const scenario = rows[i]!.scenario;
    if (previous !== '' && scenario.split(' ')[0] !== previous.split(' ')[0]) out.push('');
    previous = scenario;
    out.push(line(cells[i]!));
  }
  const notes = rows.filter((row) => row.note !== '').map((row) => `  ${row.scenario} / ${row.target}: ${row.note}`);
  if (notes.length > 0) out.push('', 'notes:', ...notes);
  return out.join('\n');
}
