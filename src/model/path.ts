/** eventfs paths are at most two components deep: /QUEUE and /QUEUE/NAME. */
export type ParsedPath =
  | { depth: 0 }
  | { depth: 1; queue: string }
  | { depth: 2; queue: string; name: string }
  | { depth: 3 };

const SLASH = 0x2f;
const ROOT: ParsedPath = Object.freeze({ depth: 0 });
const TOO_DEEP: ParsedPath = Object.freeze({ depth: 3 });

export function parsePath(path: string): ParsedPath {
  // What FUSE sends ("/", "/q", "/q/name": absolute, no empty parts) is split without arrays:
  // every request parses its path, some twice.
  if (path === '/') return ROOT;
  if (path.charCodeAt(0) === SLASH && path.charCodeAt(path.length - 1) !== SLASH && !path.includes('//')) {
    const second = path.indexOf('/', 1);
    if (second === -1) return { depth: 1, queue: path.slice(1) };
    if (path.indexOf('/', second + 1) === -1) return { depth: 2, queue: path.slice(1, second), name: path.slice(second + 1) };
    return TOO_DEEP;
  }
  const parts = path.split('/').filter((part) => part !== '');
  if (parts.length === 0) return ROOT;
  if (parts.length === 1) return { depth: 1, queue: parts[0]! };
  if (parts.length === 2) return { depth: 2, queue: parts[0]!, name: parts[1]! };
  return TOO_DEEP;
}

/** The names that every non-empty queue shows as symlinks and that no file may take. */
export type LinkName = 'head' | 'tail';
export const isLinkName = (name: string): name is LinkName => name === 'head' || name === 'tail';
