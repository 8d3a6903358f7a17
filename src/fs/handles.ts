/**
 * Open file handles. A handle holds the inode object itself, not its number: when the last name
 * of a file goes (a pop), the model drops the inode but descriptors opened before the pop keep
 * reading it, as POSIX promises. That orphan is memory of the shell, never state of the model.
 *
 * A handle also remembers the path libfuse knows it by, because libfuse 2 answers fstat(2) with a
 * getattr by path: once the name is gone from the model, the path still leads to the handle.
 */
import type { FileInode } from '../model/index.ts';

export type Handle = { inode: FileInode; path: string; dirty: boolean };

const FH_MAX = 0xffffffff;

export class Handles {
  private readonly open = new Map<number, Handle>();
  private next = 1;

  add(inode: FileInode, path: string): number {
    while (this.open.has(this.next)) this.next = this.next === FH_MAX ? 1 : this.next + 1;
    const fh = this.next;
    this.open.set(fh, { inode, path, dirty: false });
    this.next = fh === FH_MAX ? 1 : fh + 1;
    return fh;
  }

  get(fh: number): Handle | undefined {
    return this.open.get(fh);
  }

  /** An open file known to libfuse by this path (fstat after its name went). */
  byPath(path: string): Handle | undefined {
    for (const handle of this.open.values()) if (handle.path === path) return handle;
    return undefined;
  }

  /** libfuse hid an open file under a new name (see ops.rename). */
  repath(from: string, to: string): void {
    for (const handle of this.open.values()) if (handle.path === from) handle.path = to;
  }

  release(fh: number): Handle | undefined {
    const handle = this.open.get(fh);
    this.open.delete(fh);
    return handle;
  }

  get size(): number {
    return this.open.size;
  }
}
