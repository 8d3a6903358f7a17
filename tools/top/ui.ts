// What the user chose on screen (selection, sort, filter, overlays) and how each key changes it.
// Pure: App feeds it Ink's key events, tests feed it directly.
import type { Key } from 'ink';
import type { QueueRow } from './view.ts';

export type SortKey = 'name' | 'depth' | 'bytes' | 'enqueues' | 'dequeues' | 'age';
export const SORT_KEYS: readonly SortKey[] = ['name', 'depth', 'bytes', 'enqueues', 'dequeues', 'age'];

export type UiState = {
  selected: string | null; // by name, so the cursor follows its queue when the order changes
  sortKey: SortKey;
  filter: string;
  draft: string | null; // the filter being typed; null while the prompt is closed
  isHelp: boolean;
  detailQueue: string | null;
  isPaused: boolean;
};

export const uiInitial: Readonly<UiState> = Object.freeze({
  selected: null, sortKey: 'name', filter: '', draft: null, isHelp: false, detailQueue: null, isPaused: false,
});

export type KeyPress = Partial<Pick<Key, 'upArrow' | 'downArrow' | 'leftArrow' | 'pageUp' | 'pageDown' | 'home' | 'end' | 'return' | 'escape' | 'backspace' | 'delete' | 'ctrl' | 'meta'>>;

const PAGE_ROWS = 10;

// The next UI state, or 'quit'. `names` are the queue names in on-screen order.
export function pressKey(ui: UiState, input: string, key: KeyPress, names: readonly string[]): UiState | 'quit' {
  if (ui.draft !== null) return pressKeyFilter(ui, input, key);
  if (input === 'q' && !key.ctrl) return 'quit';
  if (ui.isHelp) return { ...ui, isHelp: false };
  if (input === '?') return { ...ui, isHelp: true };
  if (input === 'p') return { ...ui, isPaused: !ui.isPaused };
  if (ui.detailQueue !== null) return pressKeyDetail(ui, input, key);
  if (input === '/') return { ...ui, draft: ui.filter };
  if (input === 's') return { ...ui, sortKey: SORT_KEYS[(SORT_KEYS.indexOf(ui.sortKey) + 1) % SORT_KEYS.length]! };
  if (key.return) return selectedIndex(ui, names) === -1 ? ui : { ...ui, detailQueue: names[selectedIndex(ui, names)]! };
  if (key.escape) return { ...ui, filter: '' };
  const step = moveStep(input, key, names.length);
  if (step === 0 || names.length === 0) return ui;
  const index = Math.min(names.length - 1, Math.max(0, Math.max(selectedIndex(ui, names), 0) + step));
  return { ...ui, selected: names[index]! };
}

function pressKeyFilter(ui: UiState, input: string, key: KeyPress): UiState {
  const draft = ui.draft!;
  if (key.escape) return { ...ui, draft: null };
  if (key.return) return { ...ui, filter: draft.trim(), draft: null };
  if (key.backspace || key.delete) return { ...ui, draft: draft.slice(0, -1) };
  if (key.ctrl || key.meta || input === '') return ui;
  // Printable text only (a paste may bring several characters at once).
  return { ...ui, draft: draft + input.replace(/[\u0000-\u001f\u007f]/g, '') };
}

function pressKeyDetail(ui: UiState, input: string, key: KeyPress): UiState {
  if (key.escape || key.return || key.backspace || key.delete || key.leftArrow || input === 'h') return { ...ui, detailQueue: null };
  return ui;
}

function moveStep(input: string, key: KeyPress, count: number): number {
  if (key.upArrow || input === 'k') return -1;
  if (key.downArrow || input === 'j') return 1;
  if (key.pageUp) return -PAGE_ROWS;
  if (key.pageDown) return PAGE_ROWS;
  if (key.home || input === 'g') return -count;
  if (key.end || input === 'G') return count;
  return 0;
}

// The row under the cursor: the selected name, else the first row; -1 when there are no rows.
export function selectedIndex(ui: UiState, names: readonly string[]): number {
  if (names.length === 0) return -1;
  const index = ui.selected === null ? -1 : names.indexOf(ui.selected);
  return index === -1 ? 0 : index;
}

const compareNames = (a: QueueRow, b: QueueRow): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

// Numeric columns sort largest first (what needs attention); ties and names sort by name.
const byKey: Record<SortKey, (a: QueueRow, b: QueueRow) => number> = {
  name: compareNames,
  depth: (a, b) => b.depth - a.depth,
  bytes: (a, b) => b.bytes - a.bytes,
  enqueues: (a, b) => b.enqueuesPerSecond - a.enqueuesPerSecond,
  dequeues: (a, b) => b.dequeuesPerSecond - a.dequeuesPerSecond,
  age: (a, b) => (b.headAgeMs ?? -1) - (a.headAgeMs ?? -1),
};

// The filtered rows (case-insensitive substring of the name) in the chosen order.
export function visibleRows(rows: readonly QueueRow[], ui: UiState): QueueRow[] {
  const needle = ui.filter.toLowerCase();
  const kept = needle === '' ? [...rows] : rows.filter((row) => row.name.toLowerCase().includes(needle));
  const compare = byKey[ui.sortKey];
  return kept.sort((a, b) => compare(a, b) || compareNames(a, b));
}

// Which `height` rows of `count` to show so that the selected one is visible (kept near the middle).
export function rowWindow(count: number, selected: number, height: number): { start: number; end: number } {
  if (count <= height) return { start: 0, end: count };
  const start = Math.min(Math.max(0, selected - Math.floor(height / 2)), count - height);
  return { start, end: start + height };
}
