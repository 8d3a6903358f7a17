/** Operating errors are values, never exceptions: the shell maps each name to a FUSE code once. */
export type Errno =
  | 'EPERM' | 'ENOENT' | 'EEXIST' | 'ENOTDIR' | 'EISDIR' | 'ENOTEMPTY' | 'EINVAL'
  | 'EDQUOT' | 'EFBIG' | 'ENOSYS' | 'ENODATA' | 'ENOTSUP' | 'ENAMETOOLONG' | 'EACCES';

export type Decision<E> = { ok: true; events: E[] } | { ok: false; errno: Errno };

export const refuse = (errno: Errno): { ok: false; errno: Errno } => ({ ok: false, errno });
