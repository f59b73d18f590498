// What the disk store says when the file system fails: one error type with the system's code (ENOSPC
// for a full disk or an exhausted quota, EROFS/EACCES/EPERM for a folder it cannot write), and messages a
// person understands.
import { CacheStoreError } from '../cache/shareStore';

/** An I/O failure of the store. `code` is the system's (ENOSPC for a full disk or an exhausted quota). */
export class DiskStoreError extends CacheStoreError {
  constructor(message: string, code: string, cause?: unknown) {
    super(message, code, cause);
    this.name = 'DiskStoreError';
  }
}

/** Wraps a Node I/O error in a message a person understands; ENOSPC says the disk is full. */
export function diskError(err: unknown, what: string): DiskStoreError {
  if (err instanceof DiskStoreError) return err;
  const sysCode = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (sysCode) {
    case 'ENOSPC':
      return new DiskStoreError(`cache store: ${what}: the disk is full (ENOSPC)`, 'ENOSPC', err);
    case 'EDQUOT':
      return new DiskStoreError(`cache store: ${what}: the disk quota is exhausted (EDQUOT)`, 'ENOSPC', err);
    case 'EACCES':
    case 'EPERM':
      return new DiskStoreError(`cache store: ${what}: permission denied (${sysCode})`, sysCode, err);
    case 'EROFS':
      return new DiskStoreError(`cache store: ${what}: the file system is read-only (EROFS)`, sysCode, err);
    default: {
      const message = err instanceof Error ? err.message : String(err);
      return new DiskStoreError(`cache store: ${what}: ${message}`, sysCode ?? 'EIO', err);
    }
  }
}

/** Codes that mean this process cannot write in a folder. */
export const NOT_WRITABLE = new Set(['EROFS', 'EACCES', 'EPERM']);

/** The error of a store that cannot be opened because its folder cannot be written. */
export function readOnlyFolder(err: unknown, dir: string): DiskStoreError {
  const code = errno(err) ?? (err as DiskStoreError).code;
  const why = code === 'EROFS' ? 'the folder is on a read-only file system' : `the folder is read-only for this user (${code})`;
  return new DiskStoreError(
    `cache store: cannot open ${dir}: ${why}. The cache needs a folder it can write to: make it writable, then open the share again.`,
    code,
    err,
  );
}

/** An error of the file system (it has a system error code), as opposed to one from elsewhere. */
export function isIoError(err: unknown): boolean {
  const code = errno(err);
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) && !(err as { reason?: unknown }).reason;
}

export function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}
