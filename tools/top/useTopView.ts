// The view React renders: asked of the source at most every `flushMs` (PITFALLS 24: never a
// render per record), and only when something changed or a second passed (ages and rates move
// with the clock). Paused, it stays as it was, but a new detail request is still answered.
import { useEffect, useRef, useState } from 'react';
import type { TopSource } from './follow.ts';
import type { TopView } from './view.ts';

const CLOCK_REFRESH_MS = 1000;

export function useTopView(source: TopSource, detailQueue: string | null, isPaused: boolean, streamMax: number, flushMs: number): TopView {
  const [view, setView] = useState(() => source.view({ detailQueue, streamMax }));
  const seen = useRef({ version: source.version, atMs: Date.now() });
  useEffect(() => {
    const flush = (isForced: boolean): void => {
      const nowMs = Date.now();
      if (!isForced && source.version === seen.current.version && nowMs - seen.current.atMs < CLOCK_REFRESH_MS) return;
      seen.current = { version: source.version, atMs: nowMs };
      setView(source.view({ detailQueue, streamMax }));
    };
    flush(true);
    if (isPaused) return undefined;
    const timer = setInterval(() => flush(false), flushMs);
    return () => clearInterval(timer);
  }, [source, detailQueue, isPaused, streamMax, flushMs]);
  return view;
}
