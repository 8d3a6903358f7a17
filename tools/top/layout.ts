// How the screen's lines are shared out. Ink redraws the whole frame, and a frame as tall as the
// terminal scrolls and flickers (PITFALLS 23), so a frame is at most rows - 1 lines.

export type Layout = { tableRows: number; streamRows: number; bodyRows: number };

// Header 2 lines + problems, the table's heading, the stream's title, the footer.
export const HEADER_LINES = 2;
export const PROBLEM_LINES_MAX = 2;
const FIXED_LINES = HEADER_LINES + 1 + 1 + 1;
export const ONCE_STREAM_ROWS = 10;

// `rows` null: no height limit (--once prints every queue).
export function screenLayout(rows: number | null, queueCount: number, problemCount: number): Layout {
  const problemLines = Math.min(problemCount, PROBLEM_LINES_MAX);
  const tableNeeded = Math.max(queueCount, 1);
  if (rows === null) return { tableRows: tableNeeded, streamRows: ONCE_STREAM_ROWS, bodyRows: tableNeeded + ONCE_STREAM_ROWS + 2 };
  const bodyRows = Math.max(0, rows - 1 - HEADER_LINES - problemLines - 1);
  const shared = Math.max(0, rows - 1 - FIXED_LINES - problemLines);
  // The table takes what it needs up to about half, at least 3 rows; the stream gets the rest.
  const tableRows = Math.min(tableNeeded, Math.max(Math.min(3, shared), Math.ceil(shared / 2)));
  return { tableRows, streamRows: Math.max(0, shared - tableRows), bodyRows };
}
