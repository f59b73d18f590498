// One open share: the facade the VS Code adapters talk to. It gives the share the exact semantics of a
// VS Code FileSystemProvider (create/overwrite, recursive delete, rename/copy with overwrite), online
// through the cache to the server, offline on the cached tree with every change journaled.
import type { CacheFull, CacheUsage, RemoteChange } from '../cache/cachingRemote';
import type { PinProgress, PinResult } from '../cache/pinner';
import { findFiles, findInCachedFiles, type FileHit, type TextHit } from '../cache/cacheSearch';
import { isShareError, ShareError } from '../core/errors';
import { Emitter, toDisposable, type IDisposable } from '../core/events';
import type { Logger } from '../core/log';
import { basename, dirname, isEqualOrParent, normalizePath } from '../core/remotePath';
import { shareKey, type ShareLocation } from '../core/shareLocation';
import { Connection, isNetworkFailure, type ConnectionChange, type ConnectionState } from '../offline/connection';
import type { JournalItem } from '../offline/journalOps';
import type { RecoveredFile } from '../offline/recoveryArea';
import type { Credentials, EntryType, RemoteEntry, RemoteFs } from '../remote/remoteFs';
import type { AuthHandler } from './auth';
import { ConflictList, type Conflict } from '../offline/conflicts';
import { ConflictResolver, type Resolution } from '../sync/conflictResolver';
import { ObservedRemote } from './observedRemote';
import { OfflineOps } from '../sync/offlineOps';
import { Replayer, type PreviewItem, type ReplayHooks, type ReplayReport } from '../sync/replayer';
import { notLanded, ProvenWrites, type WriteBase, type WriteOutcome } from '../sync/provenWrites';
import { ServerCapabilities } from '../sync/serverCapabilities';
import { ShareAuth } from './shareAuth';
import type { OpenShareCache, ShareCache } from './shareCache';

export type { CacheFull, CacheUsage, RemoteChange, RemoteChangeType } from '../cache/cachingRemote';
export type { PinProgress, PinResult } from '../cache/pinner';
export type { FileHit, TextHit } from '../cache/cacheSearch';
export type { ConnectionState } from '../offline/connection';
export type { JournalItem, JournalOp } from '../offline/journalOps';
export type { RecoveredFile } from '../offline/recoveryArea';
export type { Conflict, ConflictKind } from '../offline/conflicts';
export type { PreviewItem, ReplayHooks, ReplayReport } from '../sync/replayer';
export type { Resolution } from '../sync/conflictResolver';

/** Hooks for a share without a UI (tests, and before the UI attaches): never ask, never tell. */
export const SILENT_HOOKS: ReplayHooks = {
  confirmMassDelete: async () => true,
  warnNoPreconditions: () => undefined,
  progress: () => undefined,
};

/** Per-share value remembering that the user chose to work offline (survives reloads). */
const OFFLINE_BY_HAND = 'offlineByHand';

export class Share {
  readonly key: string;
  /**
   * The authority VS Code uses in this share's URIs: the location's, unless a URI carried user info
   * (`alice@host`); kept out of the key, logs and messages.
   */
  uriAuthority: string;
  private readonly ready: Promise<void>;
  private readonly auth: ShareAuth;
  /** What reads go through: the caching remote, or the server itself in live mode. */
  private fs: RemoteFs;
  /** The server, observed by the connection when there is one (network failures switch it offline). */
  private server: RemoteFs;
  private serverCaps: ServerCapabilities;
  /** Online changes: conditional, and counted only when the server shows them. */
  private writes: ProvenWrites;
  /** Live mode: the version of each file last read or written (what a save's If-Match names). */
  private readonly seenLive = new Map<string, { etag?: string; mtime: number; size: number }>();
  private cache?: ShareCache;
  private offline?: OfflineOps;
  private conflictList?: ConflictList;
  private replayer?: Replayer;
  private resolver?: ConflictResolver;
  /** Online / offline; only shares with a cache can work offline. */
  readonly connection?: Connection;
  private readonly disposables: IDisposable[] = [];

  private readonly _onDidChangeRemote = new Emitter<RemoteChange[]>();
  /** Changes others made on the server, found by validation or polling. */
  readonly onDidChangeRemote = this._onDidChangeRemote.event;
  private readonly _onDidChangeCacheState = new Emitter<string[]>();
  /** Paths whose cache state changed (content cached or dropped, pinned, changed here). */
  readonly onDidChangeCacheState = this._onDidChangeCacheState.event;
  private readonly _onDidBecomeFull = new Emitter<CacheFull>();
  readonly onDidBecomeFull = this._onDidBecomeFull.event;
  private readonly _onDidChangeConnection = new Emitter<ConnectionChange>();
  readonly onDidChangeConnection = this._onDidChangeConnection.event;
  private readonly _onDidChangePending = new Emitter<void>();
  /** The pending changes, the conflicts or the recovered files changed. */
  readonly onDidChangePending = this._onDidChangePending.event;
  private readonly _onDidReplay = new Emitter<ReplayReport>();
  /** A reconnect replayed the journal (what was uploaded, merged, and the conflicts found). */
  readonly onDidReplay = this._onDidReplay.event;
  private readonly _onDidReplayProgress = new Emitter<{ done: number; total: number }>();
  readonly onDidReplayProgress = this._onDidReplayProgress.event;

  constructor(
    readonly location: ShareLocation,
    private readonly remote: RemoteFs,
    authHandler: AuthHandler,
    private readonly log: Logger,
    openCache?: OpenShareCache,
    private readonly hooks: ReplayHooks = SILENT_HOOKS,
  ) {
    this.key = shareKey(location);
    this.uriAuthority = location.authority;
    this.fs = remote;
    this.server = remote;
    this.serverCaps = new ServerCapabilities(remote, undefined, log);
    this.writes = new ProvenWrites(remote, () => this.serverCaps.get(), log);
    this.auth = new ShareAuth(location, remote, authHandler, log);
    if (openCache) {
      this.connection = new Connection({
        log,
        probe: () => this.probe(),
        beforeOnline: () => this.beforeOnline(),
      });
      this.connection.onDidChange(change => this.connectionChanged(change), undefined, this.disposables);
    }
    this.ready = Promise.all([this.auth.ready, openCache && this.openCache(openCache)]).then(() => undefined);
  }

  private async openCache(open: OpenShareCache): Promise<void> {
    try {
      const observed = new ObservedRemote(this.remote, this.connection!);
      const cache = await open(observed);
      if (!cache) return;
      const offline = await OfflineOps.open(cache.remote, this.log);
      const conflicts = await ConflictList.open(cache.remote.index, this.log);
      const capabilities = new ServerCapabilities(observed, cache.remote.index, this.log);
      const writes = new ProvenWrites(observed, () => capabilities.get(), this.log);
      cache.remote.index.addBlobHolder(() => conflicts.blobs());
      const hooks: ReplayHooks = {
        ...this.hooks,
        progress: (done, total) => {
          this._onDidReplayProgress.fire({ done, total });
          this.hooks.progress(done, total);
        },
      };
      this.replayer = new Replayer(this.remote, cache.remote, offline.journal, conflicts, capabilities, cache.settings, hooks, this.log);
      this.resolver = new ConflictResolver(this.remote, cache.remote, offline, conflicts, new ProvenWrites(this.remote, () => capabilities.get(), this.log), this.log);
      this.conflictList = conflicts;
      this.server = observed;
      this.serverCaps = capabilities;
      this.writes = writes;
      cache.poller.useCapabilities(() => capabilities.get());
      this.offline = offline;
      this.cache = cache;
      this.disposables.push(conflicts.onDidChange(() => this._onDidChangePending.fire()));
      this.fs = cache.remote;
      cache.remote.onDidChangeRemote(e => this._onDidChangeRemote.fire(e), undefined, this.disposables);
      cache.remote.onDidChangeCacheState(e => this._onDidChangeCacheState.fire(e), undefined, this.disposables);
      cache.remote.onDidBecomeFull(e => this._onDidBecomeFull.fire(e), undefined, this.disposables);
      this.disposables.push(this.offline.journal.onDidChange(() => this._onDidChangePending.fire()));
      this.disposables.push(this.offline.recovery.onDidChange(() => this._onDidChangePending.fire()));
      void cache.collectGarbage(); // only now: the journal, conflicts and recovery area hold their blobs
      if (cache.remote.index.getMeta(OFFLINE_BY_HAND)) this.connection!.goOffline();
      else if (this.offline.pending.length) void this.connection!.resync(); // replay what an earlier session left
    } catch (err) {
      // without a cache the share still works, live
      this.log.error(`[cache] ${this.key}: cannot open the cache, working without it (${(err as Error).message})`);
    }
  }

  // --- authentication

  signIn(given?: Credentials): Promise<boolean> {
    return this.auth.signIn(given);
  }

  forgetCredentials(): void {
    this.auth.forget();
  }

  private async call<T>(op: () => Promise<T>): Promise<T> {
    await this.ready;
    try {
      return await this.auth.call(op);
    } catch (err) {
      // found above the remote (a gateway's page served as a file's content): the connection hears of it too
      if (isShareError(err, 'Unavailable') && (err.reason === 'signin' || err.reason === 'unstored')) this.connection?.reportFailure(err);
      throw err;
    }
  }

  // --- connection

  get connectionState(): ConnectionState | undefined {
    return this.connection?.state;
  }

  /** "Go Offline". */
  async goOffline(): Promise<void> {
    await this.ready;
    if (!this.connection || !this.cache) throw liveMode(this.key, 'working offline');
    this.connection.goOffline();
  }

  /** "Go Online": probes, replays what is pending, then works online. Resolves whether it is online. */
  async goOnline(): Promise<boolean> {
    await this.ready;
    if (!this.connection) return true;
    return this.connection.goOnline();
  }

  private async probe(): Promise<void> {
    try {
      await this.remote.stat('/');
    } catch (err) {
      if (isNetworkFailure(err)) throw err; // anything else is an answer: the server is there
    }
  }

  /** Runs after a successful probe, before the share counts as online: the journal replay. */
  private async beforeOnline(): Promise<void> {
    if (!this.replayer) return;
    const report = await this.auth.call(() => this.replayer!.replay());
    // a merge changed the local content: open editors must show the merged text
    if (report.merged.length) this._onDidChangeRemote.fire(report.merged.map(path => ({ type: 'changed' as const, path })));
    this._onDidReplay.fire(report);
  }

  /** A dry run of the reconnect: what each pending change would do on the server now (nothing is written). */
  async previewReconnect(): Promise<readonly PreviewItem[]> {
    await this.ready;
    if (!this.replayer) return [];
    return this.call(() => this.replayer!.preview());
  }

  /** The server's probed capabilities (probing them once if needed). */
  async capabilities() {
    await this.ready;
    return this.call(() => this.serverCaps.get());
  }

  // --- conflicts

  async conflicts(): Promise<readonly Conflict[]> {
    await this.ready;
    return this.conflictList?.all ?? [];
  }

  /** Resolves a conflict (needs the server); resolves with a note for the user (e.g. the copy's name). */
  async resolveConflict(id: number, resolution: Resolution): Promise<string | undefined> {
    await this.ready;
    if (!this.resolver) throw liveMode(this.key, 'resolving conflicts');
    if (this.connection && !this.connection.isOnline) {
      throw new ShareError('Unavailable', `${this.key} is offline: resolving a conflict needs the server. Go online first.`, { reason: 'offline' });
    }
    const path = this.conflictList?.all.find(c => c.id === id)?.path;
    const note = await this.call(() => this.resolver!.resolve(id, resolution));
    // the file's content or version changed under open editors
    if (path) this._onDidChangeRemote.fire([{ type: 'changed', path }]);
    return note;
  }

  /** Whether `path` is in conflict. */
  isConflicted(path: string): boolean {
    return this.cache?.remote.index.get(path)?.state === 'conflict' || !!this.conflictList?.all.some(c => c.path === path);
  }

  /** Deletes a recovered file for good. */
  async deleteRecovered(id: number): Promise<void> {
    await this.ready;
    await this.offline?.recovery.delete(id);
  }

  private connectionChanged(change: ConnectionChange): void {
    this.cache?.remote.setOffline(change.current.kind !== 'online');
    const byHand = change.current.kind === 'offline' && change.current.manual;
    if (this.cache && !!this.cache.remote.index.getMeta(OFFLINE_BY_HAND) !== byHand && change.current.kind !== 'reconnecting') {
      this.cache.remote.index.setMeta(OFFLINE_BY_HAND, byHand || undefined);
    }
    this._onDidChangeConnection.fire(change);
  }

  /**
   * Runs a change online, or records it offline. An online change that fails because the server cannot
   * be reached, or that the server answered without storing it, is recorded offline instead of failing
   * (the connection is offline then); one that met another version (a 412, a changed validator) is
   * recorded and replayed at once, to be merged, found identical, or listed as a conflict — never an
   * overwrite, and the user's bytes are kept either way.
   */
  private async change<T>(online: () => Promise<T>, offline: (ops: OfflineOps, sent: boolean) => Promise<T>, path?: string): Promise<T> {
    await this.ready;
    const ops = this.offline;
    if (!ops || !this.connection) return this.call(online);
    // while offline, and for an item in conflict (its edits are the local side until it is resolved)
    if (!this.connection.isOnline || (path !== undefined && this.isConflicted(path))) return offline(ops, false);
    try {
      return await this.call(online);
    } catch (err) {
      if (err instanceof OnlineConflict) {
        this.log.info(`[share] ${err.path}: another version is on the server; the change is kept and compared`);
        const result = await offline(ops, false);
        await this.replayNow();
        return result;
      }
      if (isNetworkFailure(err) && !this.connection.isOnline) {
        this.log.info(`[share] ${this.key}: the change is kept offline (${err.message})`);
        // it may have reached the server before the failure (an answer lost): the replay checks for that
        return offline(ops, true);
      }
      throw err;
    }
  }

  /** Replays what is pending now (an online change that met another version): merged, identical or a conflict. */
  private async replayNow(): Promise<void> {
    if (!this.replayer) return;
    const report = await this.call(() => this.replayer!.replayPending());
    if (report.merged.length) this._onDidChangeRemote.fire(report.merged.map(p => ({ type: 'changed' as const, path: p })));
    this._onDidReplay.fire(report);
  }

  /**
   * What an online change's outcome means: landed → `record` it; another version → an OnlineConflict
   * (kept and compared by change()); not stored → the share goes offline and the change is kept.
   */
  private settle(path: string, outcome: WriteOutcome, what: string): Extract<WriteOutcome, { kind: 'landed' }> {
    if (outcome.kind === 'landed') return outcome;
    if (outcome.kind === 'conflict') {
      if (this.offline) throw new OnlineConflict(path);
      throw new ShareError('Conflict', `${path} was changed on the server by someone else since you opened it; your version was not saved over theirs. Copy your changes, reopen the file and apply them again.`);
    }
    const err = notLanded([path], outcome.html, what);
    this.connection?.reportFailure(err);
    throw err;
  }

  /** The version a save of `path` starts from: the one the editor was given. */
  private async writeBase(path: string, existing: EntryType | undefined): Promise<WriteBase> {
    if (!existing) return 'absent';
    const base = this.cache?.remote.writeBase(path) ?? this.seenLive.get(path);
    if (base) return base;
    const current = await this.fs.stat(path);
    return { etag: current.etag, mtime: current.mtime, size: current.size };
  }

  // --- provider semantics

  stat(path: string): Promise<RemoteEntry> {
    return this.call(() => this.fs.stat(path));
  }

  async readDirectory(path: string): Promise<[string, EntryType][]> {
    const listing = await this.call(() => this.fs.list(path));
    if (listing.self.type !== 'directory') throw new ShareError('NotADirectory', `${path}: is a file, not a folder`);
    return listing.children.map(c => [basename(c.path), c.type]);
  }

  async readFile(path: string): Promise<Uint8Array> {
    let content;
    try {
      content = await this.call(() => this.fs.get(path));
    } catch (err) {
      // Apache answers GET on a folder with 404; lighttpd redirects it to `path/`, which answers 403
      if ((isShareError(err, 'NotFound') || isShareError(err, 'NoPermissions')) && (await this.typeOf(path).catch(() => undefined)) === 'directory') {
        throw isADirectory(path);
      }
      throw err;
    }
    if (content === 'not-modified') throw new ShareError('Other', `GET ${path}: unexpected 304 answer`);
    // nephele answers GET on a folder with an empty 204
    if (content.data.byteLength === 0 && (await this.typeOf(path)) === 'directory') throw isADirectory(path);
    // the editor now holds this version: a save names it in If-Match
    if (this.cache) this.cache.remote.markSeen(path);
    else this.seenLive.set(path, { etag: content.etag, mtime: content.mtime ?? 0, size: content.data.byteLength });
    return content.data;
  }

  async writeFile(path: string, data: Uint8Array, options: { create: boolean; overwrite: boolean }): Promise<'created' | 'changed'> {
    const existing = await this.typeOf(path);
    if (existing === 'directory') throw isADirectory(path);
    if (!existing && !options.create) throw new ShareError('NotFound', `${path}: does not exist`);
    if (existing && !options.overwrite) throw new ShareError('Exists', `${path}: already exists`);
    return this.change(
      async () => {
        let outcome: WriteOutcome;
        try {
          outcome = await this.writes.put(path, data, await this.writeBase(path, existing));
        } catch (err) {
          throw await this.explainParentFailure(path, err);
        }
        // without overwrite, a file created meanwhile by someone else is "exists", as VS Code expects
        if (outcome.kind === 'conflict' && !existing && !options.overwrite) throw new ShareError('Exists', `${path}: was created on the server meanwhile`);
        const landed = this.settle(path, outcome, 'uploaded');
        const version = landed.version ?? { mtime: Date.now(), size: data.byteLength };
        if (this.cache) await this.cache.remote.recordWrite(path, data, version);
        else this.seenLive.set(path, version);
        return existing ? 'changed' : 'created';
      },
      async (ops, sent) => {
        await this.requireParentFolder(path);
        return ops.write(path, data, sent);
      },
      path,
    );
  }

  async createDirectory(path: string): Promise<void> {
    return this.change(
      async () => {
        let outcome: WriteOutcome;
        try {
          outcome = await this.writes.mkcol(path);
        } catch (err) {
          throw await this.explainParentFailure(path, err);
        }
        this.settle(path, outcome, 'created');
        this.cache?.remote.recordMkdir(path);
      },
      async (ops, sent) => {
        if (await this.typeOf(path)) throw new ShareError('Exists', `${path}: already exists`);
        await this.requireParentFolder(path);
        await ops.mkdir(path, sent);
      },
    );
  }

  async delete(path: string, options: { recursive: boolean }): Promise<void> {
    if (!options.recursive) {
      // WebDAV DELETE of a folder is always recursive; honour recursive: false ourselves
      const listing = await this.call(() => this.fs.list(path)).catch(err => {
        if (isShareError(err, 'NotFound')) throw err;
        return undefined;
      });
      if (listing?.self.type === 'directory' && listing.children.length > 0) {
        throw new ShareError('NotEmpty', `${path}: the folder is not empty`);
      }
    }
    return this.change(
      async () => {
        const type = await this.typeOf(path);
        const base = type === 'file' ? await this.writeBase(path, type) : undefined;
        this.settle(path, await this.writes.delete(path, base === 'absent' ? undefined : base), 'deleted');
        this.cache?.remote.recordDelete(path);
        this.seenLive.delete(path);
      },
      async (ops, sent) => {
        const type = await this.typeOf(path);
        if (!type) throw new ShareError('NotFound', `${path}: not found`);
        await ops.delete(path, type, sent);
      },
    );
  }

  rename(from: string, to: string, options: { overwrite: boolean }): Promise<void> {
    return this.transfer('move', from, to, options.overwrite);
  }

  copy(from: string, to: string, options: { overwrite: boolean }): Promise<void> {
    return this.transfer('copy', from, to, options.overwrite);
  }

  private async transfer(kind: 'move' | 'copy', from: string, to: string, overwrite: boolean): Promise<void> {
    const src = normalizePath(from);
    const dst = normalizePath(to);
    if (src === dst) {
      if (kind === 'copy' && !overwrite) throw new ShareError('Exists', `${dst}: already exists`);
      await this.stat(src); // a no-op for an existing item, NotFound otherwise
      return;
    }
    if (isEqualOrParent(dst, src)) {
      throw new ShareError('NoPermissions', `Cannot ${kind} ${src} into itself (${dst})`);
    }
    return this.change(
      async () => {
        const type = (await this.typeOf(src)) ?? 'file';
        try {
          const outcome = await this.writes.transfer(kind, src, dst, type, overwrite);
          if (outcome.kind === 'conflict') throw new ShareError('Rejected', `${src} → ${dst}: the server answered, but shows something else at ${dst}`);
          this.settle(dst, outcome, kind === 'move' ? 'moved' : 'copied');
          if (kind === 'move') this.cache?.remote.recordMove(src, dst);
          else this.cache?.remote.recordCopy(dst);
        } catch (err) {
          if (err instanceof ShareError && (err.reason === 'signin' || err.reason === 'unstored')) throw err;
          if (isShareError(err, 'Conflict') || (isShareError(err, 'NoPermissions') && !overwrite && (await this.typeOf(dst)))) {
            throw new ShareError('Exists', `${dst}: already exists`, { cause: err });
          }
          if (isShareError(err, 'NotFound') && !(await this.typeOf(src))) throw err;
          throw await this.explainParentFailure(dst, err);
        }
      },
      async (ops, sent) => {
        const type = await this.typeOf(src);
        if (!type) throw new ShareError('NotFound', `${src}: not found`);
        const target = await this.typeOf(dst);
        if (target && !overwrite) throw new ShareError('Exists', `${dst}: already exists`);
        await this.requireParentFolder(dst);
        await ops[kind](src, dst, type, overwrite, sent);
      },
    );
  }

  // --- pending changes and recovered files

  /** The changes recorded offline and not yet on the server, in replay order. */
  async pendingChanges(): Promise<readonly JournalItem[]> {
    await this.ready;
    return this.offline?.pending ?? [];
  }

  /** Discards one pending change; a discarded local version goes to the recovery area. */
  async discardChange(id: number): Promise<void> {
    await this.ready;
    if (!this.offline) throw liveMode(this.key, 'discarding changes');
    await this.offline.discard(id);
  }

  async recoveredFiles(): Promise<readonly RecoveredFile[]> {
    await this.ready;
    return this.offline?.recovery.all ?? [];
  }

  /** Content of a blob the cache holds (a base version, a recovered file), or undefined. */
  async blob(hash: string): Promise<Uint8Array | undefined> {
    await this.ready;
    return this.cache?.remote.index.store.getBlob(hash);
  }

  /** Whether `path` was made or changed here and is not on the server yet. */
  isProvisional(path: string): boolean {
    const e = this.cache?.remote.index.get(path);
    return !!e && (e.state ?? 'clean') !== 'clean';
  }

  // --- cache

  /** Whether this share has a cache (false in live mode). */
  async hasCache(): Promise<boolean> {
    await this.ready;
    return !!this.cache;
  }

  private async requireCache(what: string): Promise<ShareCache> {
    await this.ready;
    if (!this.cache) throw liveMode(this.key, what);
    return this.cache;
  }

  /** "Keep Available Offline": pins `path` and downloads everything below it. */
  async pin(path: string, onProgress?: (p: PinProgress) => void, signal?: AbortSignal): Promise<PinResult> {
    const cache = await this.requireCache('keeping files available offline');
    if (this.connection && !this.connection.isOnline) {
      throw new ShareError('Unavailable', `${this.key} is offline: keeping files available offline needs the server. Go online first.`, { reason: 'offline' });
    }
    return this.call(() => cache.pinner.pin(path, onProgress, signal));
  }

  /** "Free Up Space": unpins `path` and drops the cached content below it; resolves with the bytes freed. */
  async freeUpSpace(path: string): Promise<number> {
    return (await this.requireCache('freeing up space')).pinner.freeUpSpace(path);
  }

  async usage(): Promise<CacheUsage | undefined> {
    await this.ready;
    return this.cache?.remote.usage();
  }

  /** Cache state of one path, for decorations: undefined in live mode or when nothing is known. */
  cacheState(path: string): { pinned: boolean; cached: boolean } | undefined {
    const c = this.cache?.remote;
    if (!c || !c.index.get(path)) return undefined;
    return { pinned: c.isPinned(path), cached: c.hasContent(path) };
  }

  /** Files the cache knows whose name or path contains `query` (works offline, no request). */
  async findFiles(query: string): Promise<readonly FileHit[]> {
    await this.ready;
    return this.cache ? findFiles(this.cache.remote.index, query) : [];
  }

  /** Lines of cached text files containing `query` (works offline, no request). */
  async findInFiles(query: string): Promise<readonly TextHit[]> {
    await this.ready;
    return this.cache ? findInCachedFiles(this.cache.remote.index, query) : [];
  }

  /** Polls `path` for changes made by others (FileSystemProvider.watch). */
  watch(path: string, recursive: boolean): IDisposable {
    let watch: IDisposable | undefined;
    let disposed = false;
    void this.ready.then(() => {
      if (!disposed && this.cache) watch = this.cache.poller.watch(path, recursive);
    });
    return toDisposable(() => {
      disposed = true;
      watch?.dispose();
    });
  }

  async dispose(): Promise<void> {
    await this.ready;
    this.connection?.dispose();
    this.disposables.forEach(d => d.dispose());
    this._onDidChangeRemote.dispose();
    this._onDidChangeCacheState.dispose();
    this._onDidBecomeFull.dispose();
    this._onDidChangeConnection.dispose();
    this._onDidChangePending.dispose();
    this._onDidReplay.dispose();
    this._onDidReplayProgress.dispose();
    await this.cache?.dispose();
  }

  // --- helpers

  /** The type of what is at `path`, or undefined when nothing is. */
  private async typeOf(path: string): Promise<EntryType | undefined> {
    try {
      return (await this.stat(path)).type;
    } catch (err) {
      if (isShareError(err, 'NotFound')) return undefined;
      // Apache answers PROPFIND below a file with 400, lighttpd with 403
      if ((isShareError(err, 'Rejected') || isShareError(err, 'NoPermissions')) && path !== '/') throw await this.explainParentFailure(path, err);
      throw err;
    }
  }

  private async requireParentFolder(path: string): Promise<void> {
    const parent = dirname(path);
    const type = await this.typeOf(parent);
    if (type === 'file') throw new ShareError('NotADirectory', `${parent}: is a file, not a folder`);
    if (!type) throw new ShareError('NotFound', `${parent}: the parent folder does not exist`);
  }

  /** After a failed create at `path`, says precisely what is wrong with its parent, if anything. */
  private async explainParentFailure(path: string, err: unknown): Promise<unknown> {
    // servers disagree on how to say it: 409 (most), 400 (Apache below a file), 403 (nephele), 500 (Apache MOVE)
    const vague = ['NotFound', 'Rejected', 'NoPermissions', 'Other'].includes((err as ShareError)?.code) || (err as ShareError)?.status === 500;
    if (!isShareError(err) || !vague) return err;
    const parent = dirname(path);
    let parentType: EntryType | undefined;
    try {
      parentType = await this.typeOf(parent);
    } catch {
      return err;
    }
    if (parentType === 'file') return new ShareError('NotADirectory', `${parent}: is a file, not a folder`, { cause: err });
    if (!parentType) return new ShareError('NotFound', `${parent}: the parent folder does not exist`, { cause: err });
    return err;
  }
}

/** An online change met another version on the server: change() keeps it and compares (replay). */
class OnlineConflict extends Error {
  constructor(readonly path: string) {
    super(`${path}: another version is on the server`);
    this.name = 'OnlineConflict';
  }
}

function isADirectory(path: string): ShareError {
  return new ShareError('IsADirectory', `${path}: is a folder, not a file`);
}

function liveMode(key: string, what: string): ShareError {
  return new ShareError('NoPermissions', `${key}: ${what} needs the cache, which is off for this share (live mode)`);
}
