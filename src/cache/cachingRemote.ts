// The persistent cache as a RemoteFs decorator: reads go through it (answered from the cached tree
// while fresh, revalidated cheaply after), writes go to the server and then into the cached tree with
// their new validator. Share sends its own changes (conditional and proven: sync/provenWrites.ts) and
// records what landed with the record* methods here. The share's provider semantics run on top.
//
// Coherency rules (each has a test in test/conformance/cache.test.ts, and fast ones in
// test/unit/writeBack.test.ts):
// - content and the validator it was fetched with are stored together (blob + blobEtag/blobMtime/
//   blobSize); content is served only while that validator matches the entry's current one, so old
//   bytes are never served under a newer etag;
// - an item validated less than `freshnessMs` ago is served without a request; after that a file is
//   revalidated with a conditional GET (If-None-Match → 304), or by PROPFIND where there is no etag —
//   in the background by default (`revalidation`): the cached item is served at once and a change found
//   is told as a remote change (VS Code reloads); saves name the version they edit, so an edit of an old
//   one meets the newer one as a conflict, never overwrites it;
// - etags compare weakly (Apache gives `W/"…"` for a second after a write, then the strong form);
// - when the server cannot be reached, what is cached is served (stale-if-error); a 404 forgets;
// - a gateway's sign-in page, or bytes that contradict the listing, are never cached as a file's content.
import { isShareError, ShareError } from '../core/errors';
import { dirname, joinPath, relativeTo } from '../core/remotePath';
import { weakEtagEquals } from '../remote/etag';
import { signInNeeded } from '../remote/httpExchange';
import type { Credentials, Preconditions, RemoteContent, RemoteEntry, RemoteFs, RemoteListing, WriteResult } from '../remote/remoteFs';
import type { ServerVersion } from '../remote/version';
import { hasValidContent, isLocal, toRemoteEntry, withoutContent, type CacheEntry } from './cacheEntry';
import { BackgroundRevalidation } from './backgroundRevalidation';
import type { CacheIndex } from './cacheIndex';
import type { CacheSpace } from './cacheSpace';
import { folderNotKnownOffline, notAvailableOffline, notFound, type CachedTree } from './cachedTree';
import { downloadInto } from './resumableDownload';

export class CachingRemote implements RemoteFs {
  /** Offline: no request reaches the server; everything is answered from the cache. */
  private offline = false;
  /** Revalidation in the background (the share hears of its failures; the cache closes it). */
  readonly background: BackgroundRevalidation;

  constructor(
    private readonly remote: RemoteFs,
    private readonly tree: CachedTree,
    private readonly space: CacheSpace,
    /** For content only (blobs and the writes that hold garbage collection back). */
    private readonly index: CacheIndex,
  ) {
    this.background = new BackgroundRevalidation(tree, {
      listing: path => this.refreshListing(path),
      entry: path => this.revalidate(path),
      get: (path, validator) => this.remote.get(path, { ifNoneMatch: validator }),
      store: (path, content) => this.store(path, content),
    });
  }

  private revalidateInBackground(cached: CacheEntry): boolean {
    // what only the whole-tree walk saw was never shown to the user: asked of the server first, as before
    return !(cached.children ? cached.learned : this.tree.get(dirname(cached.path))?.learned) && this.background.start(cached);
  }

  private get log() {
    return this.tree.log;
  }

  private now(): number {
    return this.tree.now();
  }

  setCredentials(credentials: Credentials | undefined): void {
    this.remote.setCredentials(credentials);
  }

  /** Switches between asking the server (online) and answering from the cache alone (offline). */
  setOffline(offline: boolean): void {
    this.offline = offline;
  }

  /** Forgets that `path` was validated, so the next access asks the server. */
  invalidate(path: string): void {
    this.tree.invalidate(path);
  }

  // --- reading

  async stat(path: string): Promise<RemoteEntry> {
    const cached = this.tree.get(path);
    if (cached && (this.tree.isFresh(path) || isLocal(cached))) return toRemoteEntry(cached);
    if (!cached && this.tree.listedAbsent(path, true)) throw notFound(path, 'not in the folder listing');
    if (this.offline) return this.statFromCache(path);
    if (cached && this.revalidateInBackground(cached)) return toRemoteEntry(cached);
    try {
      const entry = await this.remote.stat(path);
      this.tree.record(entry);
      this.tree.markChecked(path);
      const now = this.tree.get(path);
      return now ? toRemoteEntry(now) : entry;
    } catch (err) {
      if (isShareError(err, 'NotFound')) this.tree.forget(path, 'deleted on the server');
      else if (isShareError(err, 'Unavailable')) return this.statFromCache(path, err);
      throw err;
    }
  }

  /** What the cache knows of `path` when the server cannot be asked. */
  private statFromCache(path: string, err?: ShareError): RemoteEntry {
    const cached = this.tree.get(path);
    if (cached) return toRemoteEntry(cached);
    if (this.tree.listedAbsent(path, false)) throw notFound(path, 'not in the last folder listing');
    // a folder above cached items exists even if it was never stat'ed itself
    if (this.tree.hasBelow(path)) return { path, type: 'directory', size: 0, mtime: 0, ctime: 0 };
    throw notAvailableOffline(path, err);
  }

  /** `current`: what the server has now is needed (a pin's walk), so a listing past the window waits for it. */
  async list(path: string, options: { current?: boolean } = {}): Promise<RemoteListing> {
    const cached = this.tree.get(path);
    if (cached?.children && (this.tree.isListingFresh(path) || isLocal(cached))) return this.tree.cachedListing(cached);
    if (this.offline) return this.listFromCache(path);
    if (cached?.children && !options.current && this.revalidateInBackground(cached)) return this.tree.cachedListing(cached);
    try {
      return await this.refreshListing(path);
    } catch (err) {
      if (isShareError(err, 'Unavailable')) return this.listFromCache(path, err);
      throw err;
    }
  }

  private listFromCache(path: string, err?: ShareError): RemoteListing {
    const cached = this.tree.get(path);
    if (cached?.children) return this.tree.cachedListing(cached);
    if (cached?.type === 'file') return { self: toRemoteEntry(cached), children: [] };
    if (!cached && this.tree.listedAbsent(path, false)) throw notFound(path, 'not in the last folder listing');
    throw folderNotKnownOffline(path, err);
  }

  /** Asks the server for `path` now (whatever the freshness), records it and reports changes. */
  async revalidate(path: string): Promise<RemoteEntry> {
    try {
      const entry = await this.remote.stat(path);
      const changed = this.tree.record(entry);
      this.tree.markChecked(path);
      if (changed) this.tree.remoteChanged([{ type: 'changed', path }]);
      return entry;
    } catch (err) {
      if (isShareError(err, 'NotFound')) this.tree.forget(path, 'deleted on the server');
      throw err;
    }
  }

  /** Lists `path` on the server, records what changed and reports it. */
  async refreshListing(path: string): Promise<RemoteListing> {
    try {
      const asked = this.tree.changeCount();
      const listing = await this.remote.list(path);
      this.tree.recordListing(listing, false, asked);
      return listing;
    } catch (err) {
      if (isShareError(err, 'NotFound')) this.tree.forget(path, 'deleted on the server');
      throw err;
    }
  }

  async get(path: string, options: { ifNoneMatch?: string } = {}): Promise<RemoteContent | 'not-modified'> {
    if (options.ifNoneMatch) return this.remote.get(path, options); // a caller's own revalidation
    const cached = this.tree.get(path);
    if (cached?.type === 'directory') throw new ShareError('IsADirectory', `${path}: is a folder, not a file`);
    if (cached && hasValidContent(cached) && (this.tree.isFresh(path) || isLocal(cached) || this.offline)) {
      const data = await this.readBlob(cached);
      if (data) return this.served(cached, data);
    }
    if (this.offline) {
      if (!cached && this.tree.listedAbsent(path, false)) throw notFound(path, 'not in the last folder listing');
      throw notAvailableOffline(path);
    }
    if (cached && hasValidContent(cached) && this.revalidateInBackground(cached)) {
      const data = await this.readBlob(cached);
      if (data) return this.served(cached, data);
    }
    try {
      if (cached && hasValidContent(cached)) {
        const validator = cached.blobEtag ?? cached.etag;
        if (validator) {
          const answer = await this.remote.get(path, { ifNoneMatch: validator });
          if (answer === 'not-modified') {
            this.tree.markChecked(path);
            const data = await this.readBlob(cached);
            if (data) return this.served(cached, data);
            return await this.fetch(path);
          }
          return await this.store(path, answer);
        }
        // no etag anywhere: revalidate by mtime + size
        this.tree.record(await this.remote.stat(path));
        this.tree.markChecked(path);
        const current = this.tree.get(path);
        if (current && hasValidContent(current)) {
          const data = await this.readBlob(current);
          if (data) return this.served(current, data);
        }
      }
      return await this.fetch(path);
    } catch (err) {
      if (isShareError(err, 'NotFound')) this.tree.forget(path, 'deleted on the server');
      else if (isShareError(err, 'Unavailable')) {
        if (cached && hasValidContent(cached)) {
          const data = await this.readBlob(cached);
          if (data) {
            this.log.debug(`[cache] ${path}: served from the cache, the server is unreachable`);
            return this.served(cached, data);
          }
        }
        throw notAvailableOffline(path, err);
      }
      throw err;
    }
  }

  private async fetch(path: string): Promise<RemoteContent> {
    const answer = await this.remote.get(path);
    if (answer === 'not-modified') throw new ShareError('Other', `GET ${path}: unexpected 304 answer`);
    return this.store(path, answer);
  }

  // --- writing through. Share sends its changes itself (conditional and proven: share/provenWrites.ts)
  // and records what landed with the record* methods below; these RemoteFs methods are the plain
  // decorator: a change is sent, then the cache follows what the server was asked to do — and caches the
  // bytes of a PUT only under a validator its answer confirmed.

  async put(path: string, data: Uint8Array, preconditions?: Preconditions): Promise<WriteResult> {
    let result: WriteResult;
    try {
      result = await this.remote.put(path, data, preconditions);
    } finally {
      this.invalidate(path);
    }
    if (result.etag) await this.recordWrite(path, data, { etag: result.etag, mtime: this.now(), size: data.byteLength });
    else this.tree.forget(path, 'written; its new version is not known yet');
    this.invalidate(dirname(path));
    return result;
  }

  async mkcol(path: string): Promise<WriteResult> {
    const result = await this.remote.mkcol(path);
    this.recordMkdir(path);
    return result;
  }

  async delete(path: string, preconditions?: Preconditions): Promise<WriteResult> {
    const result = await this.remote.delete(path, preconditions);
    this.recordDelete(path);
    return result;
  }

  async move(from: string, to: string, options: { overwrite: boolean }): Promise<WriteResult> {
    const result = await this.remote.move(from, to, options);
    this.recordMove(from, to);
    return result;
  }

  async copy(from: string, to: string, options: { overwrite: boolean }): Promise<WriteResult> {
    const result = await this.remote.copy(from, to, options);
    this.recordCopy(to);
    return result;
  }

  // --- recording changes the server confirmed

  /** The version a save of `path` starts from: the one the editor was given, else the one cached. */
  writeBase(path: string): ServerVersion | undefined {
    const e = this.tree.get(path);
    if (!e || e.type !== 'file') return undefined;
    return e.seen ?? { etag: e.etag, mtime: e.mtime, size: e.size };
  }

  /** The editor was given the content of `path` as the cache holds it now (after a read). */
  markSeen(path: string): void {
    const e = this.tree.get(path);
    if (!e || e.type !== 'file' || isLocal(e)) return;
    const seen = { etag: e.etag, mtime: e.mtime, size: e.size };
    if (e.seen && e.seen.etag === seen.etag && e.seen.mtime === seen.mtime && e.seen.size === seen.size) return;
    this.tree.set({ ...e, seen });
  }

  /** A write of `data` landed with this server version: the bytes are cached under it. */
  async recordWrite(path: string, data: Uint8Array, version: ServerVersion): Promise<void> {
    const now = this.now();
    const prev = this.tree.get(path);
    const base: CacheEntry = {
      path,
      type: 'file',
      size: version.size,
      mtime: version.mtime,
      ctime: prev?.ctime ?? version.mtime,
      etag: version.etag,
      lastAccess: now,
      pinned: prev?.pinned,
      seen: version,
    };
    const stored = await this.storeBlob(path, data, hash =>
      this.tree.set({ ...base, blob: hash, blobEtag: version.etag, blobMtime: version.mtime, blobSize: data.byteLength }),
    );
    if (stored) this.tree.markChecked(path, now);
    else {
      this.tree.set(base);
      this.invalidate(path);
    }
    this.tree.addToParent(path);
    this.invalidate(dirname(path));
    this.tree.changed([path]);
    this.space.scheduleCull();
  }

  recordMkdir(path: string): void {
    const now = this.now();
    this.tree.set({ path, type: 'directory', size: 0, mtime: now, ctime: now, children: [], lastAccess: now });
    this.tree.addToParent(path);
    this.invalidate(dirname(path));
  }

  recordDelete(path: string): void {
    this.tree.forget(path, 'deleted');
    this.invalidate(dirname(path));
  }

  recordMove(from: string, to: string): void {
    this.tree.forget(to, 'replaced by a move');
    for (const e of this.tree.subtree(from)) {
      const path = joinPath(to, relativeTo(e.path, from)!);
      this.tree.delete(e.path);
      this.tree.set({ ...e, path });
      this.invalidate(e.path);
      this.invalidate(path);
    }
    this.tree.removeFromParent(from);
    this.tree.addToParent(to);
    this.invalidate(dirname(from));
    this.invalidate(dirname(to));
    this.tree.changed([from, to]);
  }

  recordCopy(to: string): void {
    this.tree.forget(to, 'replaced by a copy');
    this.invalidate(dirname(to));
  }

  lock(path: string, options?: { timeoutSeconds?: number }): Promise<string> {
    return this.remote.lock(path, options);
  }

  unlock(path: string, token: string): Promise<void> {
    return this.remote.unlock(path, token);
  }

  /** The server says `path` is gone (a listing of it answered 404): forget it, keeping what was changed here. */
  recordGone(path: string): void {
    this.tree.forget(path, 'deleted on the server');
  }


  /** Records a listing taken from the server (by the replay's directory diff), reporting what changed. */
  recordListing(listing: RemoteListing): void {
    this.tree.recordListing(listing);
  }

  private async store(path: string, content: RemoteContent): Promise<RemoteContent> {
    this.refuseGatewayPage(path, content);
    await this.checkSize(path, content.etag, content.data.byteLength);
    const now = this.now();
    const stored = await this.storeBlob(path, content.data, hash => this.setContent(path, hash, content.data.byteLength, content, now));
    if (stored) this.contentAdded(path, now);
    return content;
  }

  /**
   * Downloads `path` into the cache as it arrives, never holding the whole file in memory (pins,
   * background fetches); resolves with the bytes fetched (0 when the valid content is cached already).
   */
  async download(path: string): Promise<number> {
    if (hasValidContent(this.tree.get(path))) return 0;
    const getStream = this.remote.getStream?.bind(this.remote);
    if (!getStream || this.offline) {
      const content = await this.get(path);
      return content === 'not-modified' ? 0 : content.data.byteLength;
    }
    try {
      const now = this.now();
      let size = 0;
      await this.index.writeContent(async () => {
        // resumed where a cut download of the same version stopped (resumableDownload.ts)
        const { stream, blob } = await downloadInto({ getStream }, this.index.store, path, this.tree.get(path), s => this.refuseGatewayPage(path, s));
        size = blob.size;
        // checked before the entry is set: a blob no entry references is collected later
        await this.checkSize(path, stream.etag, blob.size);
        this.setContent(path, blob.hash, blob.size, stream, now);
      });
      this.contentAdded(path, now);
      return size;
    } catch (err) {
      if (isShareError(err, 'NotFound')) this.tree.forget(path, 'deleted on the server');
      else if ((err as { code?: string }).code === 'ENOSPC') this.space.reportStorageFull(path, err);
      throw err;
    }
  }

  /**
   * A gateway whose session expired answers every GET with its sign-in page: a web page without a
   * validator for a file the server lists with one, and whose name is not a web page. Never cache it as
   * the file's content.
   */
  private refuseGatewayPage(path: string, answer: { etag?: string; contentType?: string }): void {
    const known = this.tree.get(path);
    if (known?.etag && !answer.etag && /^\s*text\/html\b/i.test(answer.contentType ?? '') && !/\.x?html?$/i.test(path)) {
      throw signInNeeded('GET', path, 200);
    }
  }

  /**
   * The same version (etag) with another size than the server just listed: one of the two answers is
   * stale (lighttpd's stat cache within a second of a change). Ask again; never cache or serve bytes that
   * contradict the listing.
   */
  private async checkSize(path: string, etag: string | undefined, size: number): Promise<void> {
    const known = this.tree.get(path);
    if (!(known?.type === 'file' && known.etag && etag && weakEtagEquals(known.etag, etag) && known.size !== size)) return;
    const fresh = await this.remote.stat(path);
    this.tree.record(fresh);
    if (fresh.size !== size || !fresh.etag || !weakEtagEquals(fresh.etag, etag)) {
      throw new ShareError('Rejected', `GET ${path}: the server sent ${size} bytes for a version it lists with ${fresh.size} bytes; the content is not trusted. Try again in a moment.`);
    }
  }

  /** Sets the entry of content stored under `hash`, with the validator it came with. */
  private setContent(path: string, hash: string, size: number, answer: { etag?: string; mtime?: number }, now: number): void {
    const prev = this.tree.get(path);
    const mtime = answer.mtime ?? prev?.mtime ?? now;
    this.tree.set({
      ...prev,
      path,
      type: 'file',
      size,
      mtime,
      ctime: prev?.ctime ?? mtime,
      etag: answer.etag ?? prev?.etag,
      lastAccess: now,
      blob: hash,
      blobEtag: answer.etag,
      blobMtime: mtime,
      blobSize: size,
    });
  }

  private contentAdded(path: string, now: number): void {
    this.tree.markChecked(path, now);
    this.tree.addToParent(path);
    this.tree.changed([path]);
    this.space.scheduleCull();
  }

  /**
   * Stores `data` and then sets the entry referencing it. A failing cache (a full disk, a storage quota)
   * never fails the user's operation, which the server already served: it is logged and reported.
   */
  private async storeBlob(path: string, data: Uint8Array, setEntry: (hash: string) => void): Promise<boolean> {
    try {
      await this.index.writeContent(async () => setEntry(await this.index.store.putBlob(data)));
      this.space.storageWorks();
      return true;
    } catch (err) {
      this.log.error(`[cache] ${path}: could not store the content (${(err as Error).message})`);
      if ((err as { code?: string }).code === 'ENOSPC') this.space.reportStorageFull(path, err);
      return false;
    }
  }

  private async readBlob(e: CacheEntry): Promise<Uint8Array | undefined> {
    const data = await this.index.store.getBlob(e.blob!);
    if (!data) {
      this.log.warn(`[cache] ${e.path}: cached content missing or damaged, fetching it again`);
      this.tree.set(withoutContent(e));
    }
    return data;
  }

  private served(e: CacheEntry, data: Uint8Array): RemoteContent {
    this.tree.update(e.path, { lastAccess: this.now() });
    return { data, etag: e.etag, mtime: e.mtime };
  }
}
