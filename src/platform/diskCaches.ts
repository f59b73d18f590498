// The caches on disk as a list (platform side of cache/storedCaches.ts): one folder per share under
// the root (see diskShareStore.ts), its size the sum of its files, its last use the time its index
// last changed. Deleting takes the folder's lock first, exactly as opening the store does, so a cache
// another window (or this one) has open is refused, never pulled away from under it.
import * as nodeFs from 'node:fs/promises';
import { join } from 'node:path';
import type { StoredCache, StoredCaches } from '../cache/storedCaches';
import { diskError, errno } from './diskErrors';
import { heldLocks, takeLock } from './diskLock';

/** What a share's folder may be called (the store refuses other ids). */
const SHARE_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

export class DiskCaches implements StoredCaches {
  constructor(private readonly root: string) {}

  async list(): Promise<StoredCache[]> {
    let names: string[];
    try {
      names = await nodeFs.readdir(this.root);
    } catch (err) {
      if (errno(err) === 'ENOENT') return [];
      throw diskError(err, `listing ${this.root}`);
    }
    const out: StoredCache[] = [];
    for (const id of names.filter(n => SHARE_ID.test(n))) {
      const dir = join(this.root, id);
      const st = await nodeFs.stat(dir).catch(() => undefined);
      if (!st?.isDirectory()) continue;
      const times = await Promise.all(['index.log', 'index.snapshot'].map(f => nodeFs.stat(join(dir, f)).then(s => s.mtimeMs, () => 0)));
      out.push({ id, bytes: await folderBytes(dir), lastUsed: Math.max(st.mtimeMs, ...times) });
    }
    return out;
  }

  async remove(id: string): Promise<void> {
    if (!SHARE_ID.test(id)) throw new Error(`cache store: invalid share id ${JSON.stringify(id)}`);
    const dir = join(this.root, id);
    if (!(await nodeFs.stat(dir).then(s => s.isDirectory(), () => false))) return;
    const lock = join(dir, 'lock');
    await takeLock(nodeFs, lock); // EBUSY while a window has the store open
    try {
      await nodeFs.rm(dir, { recursive: true, force: true });
    } catch (err) {
      await nodeFs.rm(lock, { force: true }).catch(() => undefined);
      throw diskError(err, `deleting ${dir}`);
    } finally {
      heldLocks.delete(lock);
    }
  }
}

/** The bytes of every file below `dir` (a file removed meanwhile counts 0). */
async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  const entries = await nodeFs.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await folderBytes(p);
    else if (e.isFile()) total += await nodeFs.stat(p).then(s => s.size, () => 0);
  }
  return total;
}
