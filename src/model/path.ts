/** eventfs paths are at most two components deep: /QUEUE and /QUEUE/NAME. */
export type ParsedPath =
  | { depth: 0 }
  | { depth: 1; queue: string }
  | { depth: 2; queue: string; name: string }
  | { depth: 3 };

export function parsePath(path: string): ParsedPath {
  const parts = path.split('/').filter((part) => part !== '');
  if (parts.length === 0) return { depth: 0 };
  if (parts.length === 1) return { depth: 1, queue: parts[0]! };
  if (parts.length === 2) return { depth: 2, queue: parts[0]!, name: parts[1]! };
  return { depth: 3 };
}

/** The names that every non-empty queue shows as symlinks and that no file may take. */
export type LinkName = 'head' | 'tail';
export const isLinkName = (name: string): name is LinkName => name === 'head' || name === 'tail';
