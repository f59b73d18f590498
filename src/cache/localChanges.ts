// Changes made here, applied to the cached tree: the offline journal (offline/journal.ts) records each
// one and these apply it — synchronous and idempotent, they only queue index changes, which the journal
// commits with its record (crash recovery may apply an intent twice). Also what write-back does with the
// cache: content stored before it is recorded, a conflict marked, an item made clean again once the
// server has it, a discarded change's server version put back, and the blobs a replay or a resolution
// reads and writes. Nothing here talks to the server.
import { joinPath, relativeTo } from '../core/remotePath';
import type { RemoteEntry } from '../remote/remoteFs';
import type { ServerVersion } from '../remote/version';
import { hasValidContent, withoutContentFields, type CacheEntry } from './cacheEntry';
import type { CacheIndex } from './cacheIndex';
import type { CachedTree } from './cachedTree';
import type { BlobReader } from './shareStore';

/** A version of a file as the cache holds it: its content's hash and size. */
export interface LocalVersion {
  readonly blob: string;
  readonly size: number;
}

/** The server version a change started from, with the content of it when cached (see offline/journalOps). */
export interface StartingVersion extends ServerVersion {
  readonly blob?: string;
}

export class LocalChanges {
  constructor(
    private readonly tree: CachedTree,
    private readonly index: CacheIndex,
  ) {}

  // --- content

  /** Content stored durably before the journal records the change; resolves with its hash. */
  storeContent(data: Uint8Array): Promise<string> {
    return this.index.store.putBlob(data);
  }

  /** Content stored as it arrives (the server's version of a big file); resolves with its hash and size. */
  storeStream(chunks: AsyncIterable<Uint8Array>): Promise<{ readonly hash: string; readonly size: number }> {
    return this.index.store.putBlobStream(chunks);
  }

  /** Content by hash read as it is sent (a big file's upload); undefined when missing or where the store cannot. */
  async openBlob(hash: string): Promise<BlobReader | undefined> {
    return this.index.store.openBlob?.(hash);
  }

  /** Runs `fn` while garbage collection waits (a blob stored, its entry or record not yet set). */
  holdingBlobs<T>(fn: () => Promise<T>): Promise<T> {
    return this.index.writeContent(fn);
  }

  /** Content the cache holds by hash (a base version, a server version, a recovered file), or undefined. */
  blob(hash: string): Promise<Uint8Array | undefined> {
    return this.index.store.getBlob(hash);
  }

  /** The local content of `path` as the cache holds it, if any. */
  localVersion(path: string): LocalVersion | undefined {
    const e = this.tree.get(path);
    return e?.blob ? { blob: e.blob, size: e.blobSize ?? e.size } : undefined;
  }

  /** The content the editor would read now: the local version, or the cached server version when valid. */
  currentContent(path: string): LocalVersion | undefined {
    const e = this.tree.get(path);
    return e?.blob && hasValidContent(e) ? { blob: e.blob, size: e.blobSize ?? e.size } : undefined;
  }

  // --- the journal's operations

  write(path: string, blob: string, size: number): void {
    const now = this.tree.now();
    const prev = this.tree.get(path);
    this.tree.set({
      ...prev,
      path,
      type: 'file',
      size,
      mtime: now,
      ctime: prev?.ctime ?? now,
      lastAccess: now,
      blob,
      blobSize: size,
      blobEtag: undefined,
      blobMtime: now,
      state: 'dirty',
    });
    this.tree.addToParent(path);
    this.tree.changed([path]);
  }

  mkdir(path: string): void {
    const now = this.tree.now();
    const prev = this.tree.get(path);
    if (prev?.type === 'directory') return;
    this.tree.set({ path, type: 'directory', size: 0, mtime: now, ctime: now, children: [], lastAccess: now, state: 'dirty' });
    this.tree.addToParent(path);
    this.tree.changed([path]);
  }

  delete(path: string): void {
    this.tree.forget(path, 'deleted here', false);
  }

  move(from: string, to: string): void {
    const moved = this.tree.subtree(from);
    if (moved.length === 0) return;
    this.tree.forget(to, 'replaced by a move here', false);
    for (const e of moved) {
      const path = joinPath(to, relativeTo(e.path, from)!);
      this.tree.delete(e.path);
      this.tree.set({ ...e, path, state: 'dirty' });
    }
    this.tree.removeFromParent(from);
    this.tree.addToParent(to);
    this.tree.changed([...moved.map(e => e.path), to]);
  }

  copy(from: string, to: string): void {
    const copied = this.tree.subtree(from);
    if (copied.length === 0) return;
    this.tree.forget(to, 'replaced by a copy here', false);
    for (const e of copied) {
      const path = joinPath(to, relativeTo(e.path, from)!);
      const { pinned: _p, ...rest } = e;
      this.tree.set({ ...rest, path, state: 'dirty', lastAccess: this.tree.now() });
    }
    this.tree.addToParent(to);
    this.tree.changed([to]);
  }

  // --- write-back's marks

  /** A replay found a conflict at `path`: it stays local (never culled, never overwritten) until resolved. */
  markConflict(path: string): void {
    if (this.tree.update(path, { state: 'conflict' })) this.tree.changed([path]);
  }

  /** The server now has what the entry holds; it is clean again (with this server version, when known). */
  markSynced(path: string, server: RemoteEntry | undefined): void {
    const e = this.tree.get(path);
    if (!e) return;
    if (!server) {
      this.tree.set({ ...e, state: undefined });
    } else {
      const contentMatches = e.type === 'file' && e.blob && server.size === (e.blobSize ?? e.size);
      this.tree.set({
        ...e,
        size: server.size,
        mtime: server.mtime,
        ctime: server.ctime,
        etag: server.etag,
        state: undefined,
        seen: { etag: server.etag, mtime: server.mtime, size: server.size },
        ...(contentMatches ? { blobEtag: server.etag, blobMtime: server.mtime, blobSize: server.size } : withoutContentFields),
      });
    }
    this.tree.markChecked(path);
    this.tree.changed([path]);
  }

  /** A discarded change: the server version it started from goes back into the cache (or the item goes). */
  restore(path: string, base: StartingVersion | undefined): void {
    const e = this.tree.get(path);
    if (!base) return this.delete(path);
    if (!e) return;
    this.tree.set({
      ...e,
      size: base.size,
      mtime: base.mtime,
      etag: base.etag,
      state: undefined,
      blob: base.blob,
      blobEtag: base.blob ? base.etag : undefined,
      blobMtime: base.blob ? base.mtime : undefined,
      blobSize: base.blob ? base.size : undefined,
    });
    this.tree.invalidate(path);
    this.tree.changed([path]);
  }

  /** The items marked as changed here that `stillPending` does not cover: clean again. */
  settle(paths: Iterable<CacheEntry>, stillPending: (path: string) => boolean): number {
    let n = 0;
    for (const e of paths) {
      if (e.state === 'dirty' && !stillPending(e.path)) {
        this.markSynced(e.path, undefined);
        n++;
      }
    }
    return n;
  }

  /** Commits what is queued (entries, records, values) in one batch; resolves once durable. */
  flush(): Promise<void> {
    return this.index.flush();
  }
}
