// How often the screen may change (no React here: main.tsx reads these before React is loaded).
// 4 frames a second reads as live, and every frame is a full Ink layout and diff of the screen,
// the largest part of eventfs-top's CPU on a busy log (tools/top/bench.ts).
export const FLUSH_MS_DEFAULT = 250;
export const FLUSH_MS_MIN = 100;
export const FLUSH_MS_MAX = 1000;
