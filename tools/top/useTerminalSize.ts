// Rows and columns of the terminal, updated on resize: Ink reflows on resize but does not
// re-render, so values read once would go stale (PITFALLS 25). A non-TTY is 80x24.
import { useStdout } from 'ink';
import { useEffect, useState } from 'react';

export type TerminalSize = { rows: number; columns: number };

export function useTerminalSize(): TerminalSize {
  const { stdout } = useStdout();
  const [size, setSize] = useState<TerminalSize>(() => ({ rows: stdout.rows || 24, columns: stdout.columns || 80 }));
  useEffect(() => {
    const onResize = (): void => setSize({ rows: stdout.rows || 24, columns: stdout.columns || 80 });
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return size;
}
