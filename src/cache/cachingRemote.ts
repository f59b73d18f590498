// The persistent cache as a RemoteFs decorator: reads go through it, writes go to the server and then
// into it with their new validator. The share's provider semantics (share/share.ts) run on top unchanged.
//
// Coherency rules (each has a test in test/conformance/cache.test.ts):
// - content and the validator it was fetched with are stored together (blob + blobEtag/blobMtime/
//   blobSize); content is served only while that validator matches the entry's current one, so old
//   bytes are never served under a newer etag;
// - an item validated less than `freshnessMs` ago is served without a request; after that a file is
//   revalidated with a conditional GET (If-None-Match → 304), or by PROPFIND where there is no etag;
// - etags compare weakly (Apache gives `W/"…"` for a second after a write, then the strong form);
// - when the server cannot be reached, what is cached is served (stale-if-error); a 404 forgets.
import { isShareError, ShareError } from '../core/errors';
import { Emitter } from '../core/events';
import type { Logger } from '../core/log';
import { basename, dirname, isEqualOrParent, joinPath, relativeTo } from '../core/remotePath';
import type { Settings } from '../core/settings';
import type {
  Credentials,
  Preconditions,
  RemoteContent,
  RemoteEntry,
  RemoteFs,
  RemoteListing,
  WriteResult,
} from '../remote/remoteFs';
import { weakEtagEquals } from '../remote/etag';
import { signInNeeded } from '../remote/httpExchange';
import type { CacheEntry } from './cacheEntry';
import type { CacheIndex } from './cacheIndex';
import { planCull } from './eviction';

export type RemoteChangeType = 'created' | 'changed' | 'deleted';

export interface RemoteChange {
  readonly type: RemoteChangeType;
  readonly path: string;
}

export interface CacheFull {
  /** Bytes that may never be culled (pinned, dirty, conflicted). */
  readonly keptBytes: number;
  readonly limitBytes: number;
  /** `limit`: what may not be culled exceeds the size limit; `storage`: the disk or storage quota is full. */
  readonly reason: 'limit' | 'storage';
}

const CULL_DELAY_MS = 500;

/** True when the cached bytes belong to the entry's current validator. */
export function hasValidContent(e: CacheEntry | undefined): boolean {
  if (!e?.blob) return false;
  if ((e.state ?? 'clean') !== 'clean') return true; // changed here: the local content is what counts
  if (e.etag && e.blobEtag) return weakEtagEquals(e.etag, e.blobEtag);
  return e.blobMtime === e.mtime && e.blobSize === e.size;
}

export class CachingRemote implements RemoteFs {
  /** When each path was last validated against the server (live state, not persisted). */
  private readonly checked = new Map<string, number>();
  /** When each folder's listing was last taken from the server (a stat does not refresh a listing). */
  private readonly listed = new Map<string, number>();
  private cullTimer?: ReturnType<typeof setTimeout>;
  /** Why the cache is full now, once reported (each becomes news again when it ends). */
  private fullReason?: 'limit' | 'storage';
  /** Offline: no request reaches the server; everything is answered from the cache. */
  private offline = false;

  /** Changes made on the server by others, found while validating (for watchers). */
  private readonly _onDidChangeRemote = new Emitter<RemoteChange[]>();
  readonly onDidChangeRemote = this._onDidChangeRemote.event;
  /** Paths whose cache state (content, pin) changed (for decorations). */
  private readonly _onDidChangeCacheState = new Emitter<string[]>();
  readonly onDidChangeCacheState = this._onDidChangeCacheState.event;
  /** Files below a pinned folder that need (new) content. */
  private readonly _onDidNeedPinnedContent = new Emitter<string[]>();
  readonly onDidNeedPinnedContent = this._onDidNeedPinnedContent.event;
  /** What must never be culled exceeds the limit (fired when that starts being true). */
  private readonly _onDidBecomeFull = new Emitter<CacheFull>();
  readonly onDidBecomeFull = this._onDidBecomeFull.event;

  constructor(
    private readonly remote: RemoteFs,
    readonly index: CacheIndex,
    private readonly settings: () => Settings,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  setCredentials(credentials: Credentials | undefined): void {
    this.remote.setCredentials(credentials);
  }

  /** Switches between asking the server (online) and answering from the cache alone (offline). */
  setOffline(offline: boolean): void {
    this.offline = offline;
  }

  // --- freshness

  private isFresh(path: string, times = this.checked): boolean {
    const t = times.get(path);
    return t !== undefined && this.now() - t < this.settings().freshnessMs;
  }

  /** Forgets that `path` was validated, so the next access asks the server. */
  invalidate(path: string): void {
    this.checked.delete(path);
    this.listed.delete(path);
  }

  // --- reading

  async stat(path: string): Promise<RemoteEntry> {
    const cached = this.index.get(path);
    if (cached && (this.isFresh(path) || isLocal(cached))) return toRemoteEntry(cached);
    if (!cached && this.listedAbsent(path, true)) throw notFound(path, 'not in the folder listing');
    if (this.offline) return this.statFromCache(path);
    try {
      const entry = await this.remote.stat(path);
      this.record(entry);
      this.checked.set(path, this.now());
      const now = this.index.get(path);
      return now ? toRemoteEntry(now) : entry;
    } catch (err) {
      if (isShareError(err, 'NotFound')) this.forget(path, 'deleted on the server');
      else if (isShareError(err, 'Unavailable')) return this.statFromCache(path, err);
      throw err;
    }
  }

  /** What the cache knows of `path` when the server cannot be asked. */
  private statFromCache(path: string, err?: ShareError): RemoteEntry {
    const cached = this.index.get(path);
    if (cached) return toRemoteEntry(cached);
    if (this.listedAbsent(path, false)) throw notFound(path, 'not in the last folder listing');
    // a folder above cached items exists even if it was never stat'ed itself
    if (this.index.hasBelow(path)) return { path, type: 'directory', size: 0, mtime: 0, ctime: 0 };
    throw notAvailableOffline(path, err);
  }

  async list(path: string): Promise<RemoteListing> {
    const cached = this.index.get(path);
    if (cached?.children && (this.isFresh(path, this.listed) || isLocal(cached))) return this.cachedListing(cached);
    if (this.offline) return this.listFromCache(path);
    try {
      return await this.refreshListing(path);
    } catch (err) {
      if (isShareError(err, 'Unavailable')) return this.listFromCache(path, err);
      throw err;
    }
  }

  private listFromCache(path: string, err?: ShareError): RemoteListing {
    const cached = this.index.get(path);
    if (cached?.children) return this.cachedListing(cached);
    if (cached?.type === 'file') return { self: toRemoteEntry(cached), children: [] };
    if (!cached && this.listedAbsent(path, false)) throw notFound(path, 'not in the last folder listing');
    throw notAvailableOffline(path, err);
  }

  /** Asks the server for `path` now (whatever the freshness), records it and reports changes. */
  async revalidate(path: string): Promise<RemoteEntry> {
    try {
      const entry = await this.remote.stat(path);
      const changed = this.record(entry);
      this.checked.set(path, this.now());
      if (changed) this._onDidChangeRemote.fire([{ type: 'changed', path }]);
      return entry;
    } catch (err) {
      if (isShareError(err, 'NotFound')) this.forget(path, 'deleted on the server');
      throw err;
    }
  }

  /** Lists `path` on the server, records what changed and reports it. */
  async refreshListing(path: string): Promise<RemoteListing> {
    try {
      const listing = await this.remote.list(path);
      this.recordListing(listing);
      return listing;
    } catch (err) {
      if (isShareError(err, 'NotFound')) this.forget(path, 'deleted on the server');
      throw err;
    }
  }

  async get(path: string, options: { ifNoneMatch?: string } = {}): Promise<RemoteContent | 'not-modified'> {
    if (options.ifNoneMatch) return this.remote.get(path, options); // a caller's own revalidation
    const cached = this.index.get(path);
    if (cached?.type === 'directory') throw new ShareError('IsADirectory', `${path}: is a folder, not a file`);
    if (cached && hasValidContent(cached) && (this.isFresh(path) || isLocal(cached) || this.offline)) {
      const data = await this.readBlob(cached);
      if (data) return this.served(cached, data);
    }
    if (this.offline) {
      if (!cached && this.listedAbsent(path, false)) throw notFound(path, 'not in the last folder listing');
      throw notAvailableOffline(path);
    }
    try {
      if (cached && hasValidContent(cached)) {
        const validator = cached.blobEtag ?? cached.etag;
        if (validator) {
          const answer = await this.remote.get(path, { ifNoneMatch: validator });
          if (answer === 'not-modified') {
            this.checked.set(path, this.now());
            const data = await this.readBlob(cached);
            if (data) return this.served(cached, data);
            return await this.fetch(path);
          }
          return await this.store(path, answer);
        }
        // no etag anywhere: revalidate by mtime + size
        this.record(await this.remote.stat(path));
        this.checked.set(path, this.now());
        const current = this.index.get(path);
        if (current && hasValidContent(current)) {
          const data = await this.readBlob(current);
          if (data) return this.served(current, data);
        }
      }
      return await this.fetch(path);
    } catch (err) {
      if (isShareError(err, 'NotFound')) this.forget(path, 'deleted on the server');
      else if (isShareError(err, 'Unavailable')) {
        if (cached && hasValidContent(cached)) {
          const data = await this.readBlob(cached);
          if (data) {
            this.log.debug(`[cache] ${path}: served from the cache, the server is unreachable`);
            return this.served(cached, data);
          }
        }
        if (err.reason === 'signin') throw err;
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
    else this.forget(path, 'written; its new version is not known yet');
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
  writeBase(path: string): { etag?: string; mtime: number; size: number } | undefined {
    const e = this.index.get(path);
    if (!e || e.type !== 'file') return undefined;
    return e.seen ?? { etag: e.etag, mtime: e.mtime, size: e.size };
  }

  /** The editor was given the content of `path` as the cache holds it now (after a read). */
  markSeen(path: string): void {
    const e = this.index.get(path);
    if (!e || e.type !== 'file' || isLocal(e)) return;
    const seen = { etag: e.etag, mtime: e.mtime, size: e.size };
    if (e.seen && e.seen.etag === seen.etag && e.seen.mtime === seen.mtime && e.seen.size === seen.size) return;
    this.index.set({ ...e, seen });
  }

  /** A write of `data` landed with this server version: the bytes are cached under it. */
  async recordWrite(path: string, data: Uint8Array, version: { etag?: string; mtime: number; size: number }): Promise<void> {
    const now = this.now();
    const prev = this.index.get(path);
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
      this.index.set({ ...base, blob: hash, blobEtag: version.etag, blobMtime: version.mtime, blobSize: data.byteLength }),
    );
    if (stored) this.checked.set(path, now);
    else {
      this.index.set(base);
      this.invalidate(path);
    }
    this.addToParent(path);
    this.invalidate(dirname(path));
    this._onDidChangeCacheState.fire([path]);
    this.scheduleCull();
  }

  recordMkdir(path: string): void {
    const now = this.now();
    this.index.set({ path, type: 'directory', size: 0, mtime: now, ctime: now, children: [], lastAccess: now });
    this.addToParent(path);
    this.invalidate(dirname(path));
  }

  recordDelete(path: string): void {
    this.forget(path, 'deleted');
    this.invalidate(dirname(path));
  }

  recordMove(from: string, to: string): void {
    this.forget(to, 'replaced by a move');
    for (const e of this.index.subtree(from)) {
      const path = joinPath(to, relativeTo(e.path, from)!);
      this.index.delete(e.path);
      this.index.set({ ...e, path });
      this.invalidate(e.path);
      this.invalidate(path);
    }
    this.removeFromParent(from);
    this.addToParent(to);
    this.invalidate(dirname(from));
    this.invalidate(dirname(to));
    this._onDidChangeCacheState.fire([from, to]);
  }

  recordCopy(to: string): void {
    this.forget(to, 'replaced by a copy');
    this.invalidate(dirname(to));
  }

  lock(path: string, options?: { timeoutSeconds?: number }): Promise<string> {
    return this.remote.lock(path, options);
  }

  unlock(path: string, token: string): Promise<void> {
    return this.remote.unlock(path, token);
  }

  // --- local changes (offline): the journal records them, these apply them to the cache.
  // Synchronous and idempotent: they only queue index changes, which the journal commits with its record.

  /** Content stored durably before the journal records the change; resolves with its hash. */
  storeLocalContent(data: Uint8Array): Promise<string> {
    return this.index.store.putBlob(data);
  }

  /** Runs `fn` while garbage collection waits (a blob stored, its entry or record not yet set). */
  holdingBlobs<T>(fn: () => Promise<T>): Promise<T> {
    return this.index.writeContent(fn);
  }

  localWrite(path: string, blob: string, size: number): void {
    const now = this.now();
    const prev = this.index.get(path);
    this.index.set({
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
    this.addToParent(path);
    this._onDidChangeCacheState.fire([path]);
  }

  localMkdir(path: string): void {
    const now = this.now();
    const prev = this.index.get(path);
    if (prev?.type === 'directory') return;
    this.index.set({ path, type: 'directory', size: 0, mtime: now, ctime: now, children: [], lastAccess: now, state: 'dirty' });
    this.addToParent(path);
    this._onDidChangeCacheState.fire([path]);
  }

  localDelete(path: string): void {
    this.forget(path, 'deleted here', false);
  }

  localMove(from: string, to: string): void {
    const moved = this.index.subtree(from);
    if (moved.length === 0) return;
    this.forget(to, 'replaced by a move here', false);
    for (const e of moved) {
      const path = joinPath(to, relativeTo(e.path, from)!);
      this.index.delete(e.path);
      this.index.set({ ...e, path, state: 'dirty' });
    }
    this.removeFromParent(from);
    this.addToParent(to);
    this._onDidChangeCacheState.fire([...moved.map(e => e.path), to]);
  }

  localCopy(from: string, to: string): void {
    const copied = this.index.subtree(from);
    if (copied.length === 0) return;
    this.forget(to, 'replaced by a copy here', false);
    for (const e of copied) {
      const path = joinPath(to, relativeTo(e.path, from)!);
      const { pinned: _p, ...rest } = e;
      this.index.set({ ...rest, path, state: 'dirty', lastAccess: this.now() });
    }
    this.addToParent(to);
    this._onDidChangeCacheState.fire([to]);
  }

  /** A replay found a conflict at `path`: it stays local (never culled, never overwritten) until resolved. */
  markConflict(path: string): void {
    if (this.index.update(path, { state: 'conflict' })) this._onDidChangeCacheState.fire([path]);
  }

  /** After a replay: the server now has what the entry holds; it is clean again with this validator. */
  markSynced(path: string, server: RemoteEntry | undefined): void {
    const e = this.index.get(path);
    if (!e) return;
    if (!server) {
      this.index.set({ ...e, state: undefined });
    } else {
      const contentMatches = e.type === 'file' && e.blob && server.size === (e.blobSize ?? e.size);
      this.index.set({
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
    this.checked.set(path, this.now());
    this._onDidChangeCacheState.fire([path]);
  }

  // --- pins and content management (used by the pinning commands)

  /** Pinned itself or below a pinned folder. */
  isPinned(path: string): boolean {
    for (let p = path; ; p = dirname(p)) {
      if (this.index.get(p)?.pinned) return true;
      if (p === '/') return false;
    }
  }

  hasContent(path: string): boolean {
    return hasValidContent(this.index.get(path));
  }

  setPinned(path: string, pinned: boolean): void {
    const e = this.index.get(path);
    if (!e) throw notFound(path, 'not in the cache');
    this.index.set({ ...e, pinned: pinned || undefined });
    this._onDidChangeCacheState.fire(this.index.subtree(path).map(x => x.path));
  }

  /** Drops the content of clean items at and below `path` ("Free Up Space"); returns the bytes freed. */
  async dropContent(path: string, reason: string): Promise<number> {
    let freed = 0;
    const changed: string[] = [];
    for (const e of this.index.subtree(path)) {
      if (!e.blob || (e.state ?? 'clean') !== 'clean') continue;
      freed += e.blobSize ?? e.size;
      this.index.set(withoutContent(e));
      changed.push(e.path);
    }
    if (changed.length) this.log.info(`[cache] ${path}: dropped the content of ${changed.length} files (${reason})`);
    await this.index.collectGarbage();
    this._onDidChangeCacheState.fire(changed);
    return freed;
  }

  usage(): CacheUsage {
    const plan = planCull(this.index.all(), this.settings().maxCacheBytes, e => this.isPinned(e.path));
    let files = 0;
    let pinnedFiles = 0;
    for (const e of this.index.all()) {
      if (!e.blob) continue;
      files++;
      if (this.isPinned(e.path)) pinnedFiles++;
    }
    return {
      entries: this.index.size,
      files,
      bytes: plan.totalBytes,
      pinnedFiles,
      keptBytes: plan.keptBytes,
      limitBytes: this.settings().maxCacheBytes,
    };
  }

  /** Culls now (normally scheduled after content is added). */
  async cull(): Promise<void> {
    const s = this.settings();
    const plan = planCull(this.index.all(), s.maxCacheBytes, e => this.isPinned(e.path));
    if (plan.full && this.fullReason !== 'limit') {
      this.log.warn(`[cache] full: ${plan.keptBytes} bytes are pinned or unsynced, the limit is ${s.maxCacheBytes}`);
      this._onDidBecomeFull.fire({ keptBytes: plan.keptBytes, limitBytes: s.maxCacheBytes, reason: 'limit' });
    }
    if (plan.full) this.fullReason = 'limit';
    else if (this.fullReason === 'limit') this.fullReason = undefined;
    if (!s.cullingEnabled || plan.victims.length === 0) return;
    for (const v of plan.victims) this.index.set(withoutContent(v));
    this.log.info(`[cache] culled ${plan.victims.length} files, least recently used first (${plan.totalBytes} → ${plan.remainingBytes} bytes)`);
    await this.index.collectGarbage();
    this._onDidChangeCacheState.fire(plan.victims.map(v => v.path));
  }

  private scheduleCull(): void {
    if (this.cullTimer) return;
    this.cullTimer = setTimeout(() => {
      this.cullTimer = undefined;
      void this.cull().catch(err => this.log.error(`[cache] culling failed (${(err as Error).message})`));
    }, CULL_DELAY_MS);
  }

  // --- recording what the server said

  /** Merges fresh metadata into the index; returns whether a known item changed. */
  private record(r: RemoteEntry): boolean {
    const prev = this.index.get(r.path);
    if (prev && isLocal(prev)) {
      // changed here and not yet uploaded: the local view stands; what the server has is the replay's concern
      return false;
    }
    if (prev && prev.type !== r.type) {
      this.forget(r.path, `became a ${r.type} on the server`);
      return this.record(r) || true;
    }
    // The same version (by etag) keeps the mtime first reported for it: VS Code takes a newer mtime for a
    // change on disk ("the content of the file is newer"), and a save's own mtime is only ours until the
    // server's listing says it to the second.
    const sameEtag = !!prev?.etag && !!r.etag && prev.type === r.type && weakEtagEquals(prev.etag, r.etag);
    const next: CacheEntry = {
      ...prev,
      path: r.path,
      type: r.type,
      size: r.size,
      mtime: sameEtag ? prev.mtime : r.mtime,
      ctime: sameEtag ? prev.ctime : r.ctime,
      etag: r.etag,
      lastAccess: prev?.lastAccess ?? this.now(),
    };
    const changed = !!prev && (r.type === 'file' ? !sameVersion(prev, r) : false);
    if (prev?.blob && !hasValidContent(next)) {
      this.index.set(withoutContent(next));
      this._onDidChangeCacheState.fire([r.path]);
      if (this.isPinned(r.path)) this._onDidNeedPinnedContent.fire([r.path]);
    } else if (!prev || !sameEntry(prev, next)) this.index.set(next);
    return changed;
  }

  /** The server says `path` is gone (a listing of it answered 404): forget it, keeping what was changed here. */
  recordGone(path: string): void {
    this.forget(path, 'deleted on the server');
  }

  /** Records a listing taken from the server (by the replay's directory diff), reporting what changed. */
  recordListing(listing: RemoteListing): void {
    const dir = listing.self.path;
    const prev = this.index.get(dir);
    const hadListing = prev?.type === 'directory' && prev.children !== undefined;
    const changes: RemoteChange[] = [];
    this.record(listing.self);
    const now = this.now();
    const names: string[] = [];
    for (const child of listing.children) {
      names.push(basename(child.path));
      const known = this.index.get(child.path);
      if (this.record(child)) changes.push({ type: 'changed', path: child.path });
      else if (!known && hadListing) changes.push({ type: 'created', path: child.path });
      this.checked.set(child.path, now);
    }
    const current = new Set(names);
    for (const old of prev?.children ?? []) {
      if (!current.has(old)) {
        const path = joinPath(dir, old);
        if (this.index.subtree(path).some(isLocal)) {
          names.push(old); // made or changed here, not uploaded yet: keep it
          continue;
        }
        this.forget(path, 'deleted on the server');
        changes.push({ type: 'deleted', path });
      }
    }
    this.index.update(dir, { children: names });
    this.checked.set(dir, now);
    this.listed.set(dir, now);
    if (this.isPinned(dir)) {
      const need = listing.children.filter(c => c.type === 'file' && !hasValidContent(this.index.get(c.path))).map(c => c.path);
      if (need.length) this._onDidNeedPinnedContent.fire(need);
    }
    if (changes.length) this._onDidChangeRemote.fire(changes);
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
    if (hasValidContent(this.index.get(path))) return 0;
    if (!this.remote.getStream || this.offline) {
      const content = await this.get(path);
      return content === 'not-modified' ? 0 : content.data.byteLength;
    }
    try {
      const stream = await this.remote.getStream(path);
      try {
        this.refuseGatewayPage(path, stream);
      } catch (err) {
        await stream.chunks[Symbol.asyncIterator]().return?.();
        throw err;
      }
      const now = this.now();
      let size = 0;
      await this.index.writeContent(async () => {
        const blob = await this.index.store.putBlobStream(stream.chunks);
        size = blob.size;
        // checked before the entry is set: a blob no entry references is collected later
        await this.checkSize(path, stream.etag, blob.size);
        this.setContent(path, blob.hash, blob.size, stream, now);
      });
      this.contentAdded(path, now);
      return size;
    } catch (err) {
      if (isShareError(err, 'NotFound')) this.forget(path, 'deleted on the server');
      else if ((err as { code?: string }).code === 'ENOSPC') this.reportStorageFull(path, err);
      throw err;
    }
  }

  /**
   * A gateway whose session expired answers every GET with its sign-in page: a web page without a
   * validator for a file the server lists with one, and whose name is not a web page. Never cache it as
   * the file's content.
   */
  private refuseGatewayPage(path: string, answer: { etag?: string; contentType?: string }): void {
    const known = this.index.get(path);
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
    const known = this.index.get(path);
    if (!(known?.type === 'file' && known.etag && etag && weakEtagEquals(known.etag, etag) && known.size !== size)) return;
    const fresh = await this.remote.stat(path);
    this.record(fresh);
    if (fresh.size !== size || !fresh.etag || !weakEtagEquals(fresh.etag, etag)) {
      throw new ShareError('Rejected', `GET ${path}: the server sent ${size} bytes for a version it lists with ${fresh.size} bytes; the content is not trusted. Try again in a moment.`);
    }
  }

  /** Sets the entry of content stored under `hash`, with the validator it came with. */
  private setContent(path: string, hash: string, size: number, answer: { etag?: string; mtime?: number }, now: number): void {
    const prev = this.index.get(path);
    const mtime = answer.mtime ?? prev?.mtime ?? now;
    this.index.set({
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
    this.checked.set(path, now);
    this.addToParent(path);
    this._onDidChangeCacheState.fire([path]);
    this.scheduleCull();
  }

  /**
   * Stores `data` and then sets the entry referencing it. A failing cache (a full disk, a storage quota)
   * never fails the user's operation, which the server already served: it is logged and reported.
   */
  private async storeBlob(path: string, data: Uint8Array, setEntry: (hash: string) => void): Promise<boolean> {
    try {
      await this.index.writeContent(async () => setEntry(await this.index.store.putBlob(data)));
      // space came back: a later "storage full" is news again (the limit's own state is cull()'s)
      if (this.fullReason === 'storage') this.fullReason = undefined;
      return true;
    } catch (err) {
      this.log.error(`[cache] ${path}: could not store the content (${(err as Error).message})`);
      if ((err as { code?: string }).code === 'ENOSPC') this.reportStorageFull(path, err);
      return false;
    }
  }

  /** The disk or the browser's storage is full: said once, until content can be stored again. */
  private reportStorageFull(path: string, err: unknown): void {
    if (this.fullReason) return;
    this.log.warn(`[cache] ${path}: the storage is full (${(err as Error).message})`);
    this.fullReason = 'storage';
    this._onDidBecomeFull.fire({ keptBytes: this.usage().keptBytes, limitBytes: this.settings().maxCacheBytes, reason: 'storage' });
  }

  private async readBlob(e: CacheEntry): Promise<Uint8Array | undefined> {
    const data = await this.index.store.getBlob(e.blob!);
    if (!data) {
      this.log.warn(`[cache] ${e.path}: cached content missing or damaged, fetching it again`);
      this.index.set(withoutContent(e));
    }
    return data;
  }

  private served(e: CacheEntry, data: Uint8Array): RemoteContent {
    this.index.update(e.path, { lastAccess: this.now() });
    return { data, etag: e.etag, mtime: e.mtime };
  }

  private cachedListing(dir: CacheEntry): RemoteListing {
    const children: RemoteEntry[] = [];
    for (const name of dir.children ?? []) {
      const child = this.index.get(joinPath(dir.path, name));
      if (child) children.push(toRemoteEntry(child));
    }
    return { self: toRemoteEntry(dir), children };
  }

  /**
   * Whether a cached listing says `path` does not exist: its parent's, or (when the cache is all we
   * may ask, `freshOnly` false) any ancestor's that lacks the next step towards it.
   */
  private listedAbsent(path: string, freshOnly: boolean): boolean {
    for (let child = path, dir = dirname(path); child !== '/'; child = dir, dir = dirname(dir)) {
      const listing = this.index.get(dir);
      if (listing?.children && (!freshOnly || this.isFresh(dir, this.listed))) return !listing.children.includes(basename(child));
      if (freshOnly) return false; // only the parent's fresh listing is proof online
    }
    return false;
  }

  private addToParent(path: string): void {
    if (path === '/') return;
    const parent = this.index.get(dirname(path));
    const name = basename(path);
    if (parent?.children && !parent.children.includes(name)) {
      this.index.update(parent.path, { children: [...parent.children, name] });
    }
  }

  private removeFromParent(path: string): void {
    if (path === '/') return;
    const parent = this.index.get(dirname(path));
    const name = basename(path);
    if (parent?.children?.includes(name)) {
      this.index.update(parent.path, { children: parent.children.filter(n => n !== name) });
    }
  }

  /**
   * Removes `path` and everything below it from the cache, except what was made or changed here and
   * not uploaded yet (and the folders above it): that is the replay's to decide, never lost here.
   */
  private forget(path: string, reason: string, keepLocal = true): void {
    const subtree = this.index.subtree(path);
    const local = keepLocal ? subtree.filter(isLocal) : [];
    const gone = subtree.filter(e => !local.some(l => isEqualOrParent(l.path, e.path)));
    for (const e of gone) {
      this.index.delete(e.path);
      this.invalidate(e.path);
    }
    if (local.length === 0) this.removeFromParent(path);
    if (gone.length) {
      this.log.debug(`[cache] ${path}: forgotten (${reason})${local.length ? `, keeping ${local.length} items changed here` : ''}`);
      this._onDidChangeCacheState.fire(gone.map(e => e.path));
    }
  }

  async dispose(): Promise<void> {
    if (this.cullTimer) clearTimeout(this.cullTimer);
    this._onDidChangeRemote.dispose();
    this._onDidChangeCacheState.dispose();
    this._onDidNeedPinnedContent.dispose();
    this._onDidBecomeFull.dispose();
    await this.index.dispose();
  }
}

export interface CacheUsage {
  readonly entries: number;
  /** Files whose content is cached. */
  readonly files: number;
  readonly bytes: number;
  readonly pinnedFiles: number;
  /** Bytes that are pinned, dirty or conflicted (never culled). */
  readonly keptBytes: number;
  readonly limitBytes: number;
}

const withoutContentFields = { blob: undefined, blobEtag: undefined, blobMtime: undefined, blobSize: undefined };

/** Made or changed here and not yet on the server. */
export function isLocal(e: CacheEntry): boolean {
  return (e.state ?? 'clean') !== 'clean';
}

function notAvailableOffline(path: string, cause?: ShareError): ShareError {
  return new ShareError(
    'Unavailable',
    `${path} is not available offline: it was never downloaded to this computer. ` +
      'Go online ("WebDAV: Go Online"), and next time keep its folder available offline ("WebDAV: Keep Available Offline").',
    { cause, reason: 'offline' },
  );
}

function toRemoteEntry(e: CacheEntry): RemoteEntry {
  return { path: e.path, type: e.type, size: e.size, mtime: e.mtime, ctime: e.ctime, etag: e.etag };
}

function withoutContent(e: CacheEntry): CacheEntry {
  const { blob: _b, blobEtag: _e, blobMtime: _m, blobSize: _s, ...rest } = e;
  return rest;
}

function sameVersion(prev: CacheEntry, r: RemoteEntry): boolean {
  if (prev.etag && r.etag) return weakEtagEquals(prev.etag, r.etag);
  return prev.mtime === r.mtime && prev.size === r.size;
}

function sameEntry(a: CacheEntry, b: CacheEntry): boolean {
  return a.size === b.size && a.mtime === b.mtime && a.ctime === b.ctime && a.etag === b.etag && a.type === b.type;
}

function notFound(path: string, why: string): ShareError {
  return new ShareError('NotFound', `${path}: not found (${why})`);
}
