// One open share: the facade the VS Code adapters talk to. Its files have the exact semantics of a VS
// Code FileSystemProvider (shareFiles.ts); around them: sign-in (shareAuth.ts), the connection (online,
// offline by hand, unreachable, sign-in needed) with the replay that runs before it counts as online,
// conflicts and their resolution, pending changes and recovered files, and the cache (pins, space,
// search, watching, the whole tree learnt in the background) — all through the named parts of the cache
// (cache/openCache.ts) and of the write-back (sync/writeBack.ts). The cache may come later: while another
// window has it open, this one works without it and switches to it once it is free (cacheSlot.ts).
import type { CachedTree, RemoteChange } from '../cache/cachedTree';
import type { CacheFull, CacheUsage } from '../cache/cacheSpace';
import type { CacheWait, OpenCache, OpenShareCache } from '../cache/openCache';
import type { PinProgress, PinResult } from '../cache/pinner';
import { findFiles, findInCachedFiles, type FileHit, type TextSearch } from '../cache/cacheSearch';
import type { TreeProgress } from '../cache/treeLearner';
import { isShareError, ShareError } from '../core/errors';
import { Emitter, toDisposable, type Event, type IDisposable } from '../core/events';
import type { Logger } from '../core/log';
import { shareKey, type ShareLocation } from '../core/shareLocation';
import { Connection, isNetworkFailure, type ConnectionChange, type ConnectionState } from '../offline/connection';
import type { Conflict } from '../offline/conflicts';
import type { JournalItem } from '../offline/journalOps';
import type { RecoveredFile } from '../offline/recoveryArea';
import type { Credentials, EntryType, RemoteEntry, RemoteFs } from '../remote/remoteFs';
import type { Resolution } from '../sync/conflictResolver';
import { ProvenWrites } from '../sync/provenWrites';
import type { PreviewItem, ReplayHooks, ReplayReport } from '../sync/replayer';
import { ServerCapabilities } from '../sync/serverCapabilities';
import { WriteBack } from '../sync/writeBack';
import type { AuthHandler } from './auth';
import { CacheSlot, type CacheStatus } from './cacheSlot';
import { ObservedRemote } from './observedRemote';
import { ShareAuth } from './shareAuth';
import { ShareFiles } from './shareFiles';

export type { RemoteChange, RemoteChangeType } from '../cache/cachedTree';
export type { CacheFull, CacheUsage } from '../cache/cacheSpace';
export type { StoredCache, StoredCaches } from '../cache/storedCaches';
export type { PinProgress, PinResult } from '../cache/pinner';
export type { FileHit, TextHit, TextSearch } from '../cache/cacheSearch';
export type { TreeProgress } from '../cache/treeLearner';
export type { ConnectionState } from '../offline/connection';
export type { JournalItem, JournalOp } from '../offline/journalOps';
export type { RecoveredFile } from '../offline/recoveryArea';
export type { Conflict, ConflictKind } from '../offline/conflicts';
export { describeConflictKind } from '../offline/conflicts';
export type { PreviewItem, ReplayHooks, ReplayReport } from '../sync/replayer';
export type { Resolution } from '../sync/conflictResolver';
export type { CacheStatus } from './cacheSlot';

/** Hooks for a share without a UI (tests, and before the UI attaches): never ask, never tell. */
export const SILENT_HOOKS: ReplayHooks = {
  confirmMassDelete: async () => true,
  warnNoPreconditions: () => undefined,
  progress: () => undefined,
};

/** Per-share value remembering that the user chose to work offline (survives reloads). */
const OFFLINE_BY_HAND = 'offlineByHand';

export interface ShareOptions {
  /** How long operations wait for a cache another window has open before going on without it (ms). */
  readonly cacheWaitMs?: number;
}

export class Share {
  readonly key: string;
  /**
   * The authority VS Code uses in this share's URIs: the location's, unless a URI carried user info
   * (`alice@host`); kept out of the key, logs and messages.
   */
  uriAuthority: string;
  private readonly ready: Promise<void>;
  private readonly auth: ShareAuth;
  private readonly files: ShareFiles;
  /** Live mode (no cache): what the server honours, probed once; online writes over the server itself. */
  private readonly liveCapabilities: ServerCapabilities;
  private readonly liveWrites: ProvenWrites;
  private readonly slot: CacheSlot;
  private cache?: OpenCache;
  private writeBack?: WriteBack;
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
  readonly onDidChangeCacheStatus: Event<CacheStatus>;
  private readonly _onDidChangeTreeProgress = new Emitter<TreeProgress>();
  /** The walk that learns the whole tree progressed, started or ended. */
  readonly onDidChangeTreeProgress = this._onDidChangeTreeProgress.event;
  private learnWanted = false; // learnTreeInBackground() was called

  constructor(
    readonly location: ShareLocation,
    private readonly remote: RemoteFs,
    authHandler: AuthHandler,
    private readonly log: Logger,
    openCache?: OpenShareCache,
    private readonly hooks: ReplayHooks = SILENT_HOOKS,
    options: ShareOptions = {},
  ) {
    this.key = shareKey(location);
    this.uriAuthority = location.authority;
    this.liveCapabilities = new ServerCapabilities(remote, undefined, log);
    this.liveWrites = new ProvenWrites(remote, () => this.liveCapabilities.get(), log);
    this.auth = new ShareAuth(location, remote, authHandler, log);
    this.slot = new CacheSlot(this.key, !!openCache, options.cacheWaitMs);
    this.onDidChangeCacheStatus = this.slot.onDidChange;
    if (openCache) {
      this.connection = new Connection({
        log,
        probe: () => this.probe(),
        beforeOnline: () => this.beforeOnline(),
      });
      this.connection.onDidChange(change => this.connectionChanged(change), undefined, this.disposables);
    }
    this.ready = Promise.all([this.auth.ready, openCache && this.slot.start(wait => this.openCache(openCache, wait))]).then(() => undefined);
    this.files = new ShareFiles({
      key: this.key,
      log,
      ready: this.ready,
      call: op => this.call(op),
      reads: () => this.cache?.remote ?? this.remote,
      writes: () => this.writeBack?.writes ?? this.liveWrites,
      cache: () => this.cache,
      offline: () => this.writeBack?.offline,
      connection: this.connection,
      isConflicted: path => this.isConflicted(path),
      replayNow: () => this.replayNow(),
    });
  }

  private async openCache(open: OpenShareCache, wait: CacheWait): Promise<void> {
    let cache: OpenCache | undefined;
    try {
      const observed = new ObservedRemote(this.remote, this.connection!);
      cache = await open(observed, wait);
      if (!cache) return this.slot.set({ kind: 'off' });
      const hooks: ReplayHooks = {
        ...this.hooks,
        progress: (done, total) => {
          this._onDidReplayProgress.fire({ done, total });
          this.hooks.progress(done, total);
        },
      };
      const writeBack = await WriteBack.open(cache, this.remote, observed, hooks, this.log);
      if (this.slot.closed) throw new Error('the share was closed');
      cache.poller.useCapabilities(() => writeBack.capabilities.get());
      cache.remote.background.failed = err => this.foundAboveTheRemote(err);
      cache.learner.useCapabilities(() => writeBack.capabilities.get());
      cache.learner.onDidChangeProgress(e => this._onDidChangeTreeProgress.fire(e), undefined, this.disposables);
      const opened = cache;
      const switched = await this.slot.switchIn(() => {
        this.cache = opened;
        this.writeBack = writeBack;
        this.files.adopt(opened);
        if (this.learnWanted) opened.learner.enable();
        opened.remote.setOffline(!this.connection!.isOnline);
      }, this.log);
      if (switched) this._onDidChangeCacheState.fire([...cache.tree.all()].filter(e => e.blob || e.pinned || e.state).map(e => e.path)); // badges
      const pending = () => this._onDidChangePending.fire();
      this.disposables.push(writeBack.conflicts.onDidChange(pending), writeBack.offline.journal.onDidChange(pending), writeBack.offline.recovery.onDidChange(pending));
      cache.tree.onDidChangeRemote(e => this._onDidChangeRemote.fire(e), undefined, this.disposables);
      cache.tree.onDidChangeCacheState(e => this._onDidChangeCacheState.fire(e), undefined, this.disposables);
      cache.space.onDidBecomeFull(e => this._onDidBecomeFull.fire(e), undefined, this.disposables);
      void cache.collectGarbage(); // only now: the journal, conflicts and recovery area hold their blobs
      // offline by hand is the share's state, kept with its cache: every window that gets the cache follows it
      if (cache.values.getMeta(OFFLINE_BY_HAND)) this.connection!.goOffline();
      else if (writeBack.offline.pending.length) void this.connection!.resync(); // replay what an earlier session (or window) left
    } catch (err) {
      await this.slot.failed(err, cache, this.log); // without a cache the share still works, live — and says so
    }
  }

  /** Where this window's cache stands: open, off, waiting for another window that has it, or failed. */
  get cacheStatus(): CacheStatus {
    return this.slot.status;
  }

  // --- authentication

  signIn(given?: Credentials): Promise<boolean> {
    return this.auth.signIn(given);
  }

  forgetCredentials(): void {
    this.auth.forget();
  }

  /** A sign-in prompt was cancelled or refused: nothing is asked again until "Sign In". */
  get needsSignIn(): boolean {
    return this.auth.needsSignIn;
  }

  private async call<T>(op: () => Promise<T>): Promise<T> {
    await this.ready;
    try {
      return await this.slot.run(() => this.auth.call(op));
    } catch (err) {
      this.foundAboveTheRemote(err);
      throw err;
    }
  }

  /** A failure found above the remote (a gateway's page served as a file's content): the connection hears of it too. */
  private foundAboveTheRemote(err: unknown): void {
    if (isShareError(err, 'Unavailable') && (err.reason === 'signin' || err.reason === 'unstored')) this.connection?.reportFailure(err);
  }

  // --- files (FileSystemProvider semantics)

  // (shareFiles.ts: online conditional and proven, offline journaled)
  stat = (path: string): Promise<RemoteEntry> => this.files.stat(path);
  readDirectory = (path: string): Promise<[string, EntryType][]> => this.files.readDirectory(path);
  readFile = (path: string): Promise<Uint8Array> => this.files.readFile(path);
  writeFile = (path: string, data: Uint8Array, options: { create: boolean; overwrite: boolean }): Promise<'created' | 'changed'> => this.files.writeFile(path, data, options);
  createDirectory = (path: string): Promise<void> => this.files.createDirectory(path);
  delete = (path: string, options: { recursive: boolean }): Promise<void> => this.files.delete(path, options);
  rename = (from: string, to: string, options: { overwrite: boolean }): Promise<void> => this.files.rename(from, to, options);
  copy = (from: string, to: string, options: { overwrite: boolean }): Promise<void> => this.files.copy(from, to, options);

  // --- connection

  get connectionState(): ConnectionState | undefined {
    return this.connection?.state;
  }

  /** "Go Offline". */
  async goOffline(): Promise<void> {
    await this.ready;
    if (!this.connection || !this.cache) throw this.slot.unavailable('working offline');
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
    if (!this.writeBack) return;
    const replayer = this.writeBack.replayer;
    this.reported(await this.auth.call(() => replayer.replay()));
  }

  /** Replays what is pending now (an online change that met another version): merged, identical or a conflict. */
  private async replayNow(): Promise<void> {
    if (!this.writeBack) return;
    const replayer = this.writeBack.replayer;
    this.reported(await this.call(() => replayer.replayPending()));
  }

  private reported(report: ReplayReport): void {
    // a merge changed the local content: open editors must show the merged text
    if (report.merged.length) this._onDidChangeRemote.fire(report.merged.map(path => ({ type: 'changed' as const, path })));
    this._onDidReplay.fire(report);
  }

  /** A dry run of the reconnect: what each pending change would do on the server now (nothing is written). */
  async previewReconnect(): Promise<readonly PreviewItem[]> {
    await this.ready;
    const replayer = this.writeBack?.replayer;
    return replayer ? this.call(() => replayer.preview()) : [];
  }

  /** The server's probed capabilities (probing them once if needed). */
  async capabilities() {
    await this.ready;
    const caps = this.writeBack?.capabilities ?? this.liveCapabilities;
    return this.call(() => caps.get());
  }

  /** What the server was found to honour, without asking it now (undefined until probed). */
  knownCapabilities() {
    return (this.writeBack?.capabilities ?? this.liveCapabilities).peek();
  }

  private connectionChanged(change: ConnectionChange): void {
    this.cache?.remote.setOffline(change.current.kind !== 'online');
    this.cache?.learner.setOnline(change.current.kind === 'online');
    const byHand = change.current.kind === 'offline' && change.current.manual;
    const values = this.cache?.values;
    if (values && !!values.getMeta(OFFLINE_BY_HAND) !== byHand && change.current.kind !== 'reconnecting') {
      values.setMeta(OFFLINE_BY_HAND, byHand || undefined);
    }
    this._onDidChangeConnection.fire(change);
  }

  // --- conflicts, pending changes, recovered files

  async conflicts(): Promise<readonly Conflict[]> {
    await this.ready;
    return this.writeBack?.conflicts.all ?? [];
  }

  /** Resolves a conflict (needs the server); resolves with a note for the user (e.g. the copy's name). */
  async resolveConflict(id: number, resolution: Resolution): Promise<string | undefined> {
    await this.ready;
    const writeBack = this.writeBack;
    if (!writeBack) throw this.slot.unavailable('resolving conflicts');
    if (this.connection && !this.connection.isOnline) {
      throw new ShareError('Unavailable', `${this.key} is offline: resolving a conflict needs the server. Go online first.`, { reason: 'offline' });
    }
    const path = writeBack.conflicts.all.find(c => c.id === id)?.path;
    const note = await this.call(() => writeBack.resolver.resolve(id, resolution));
    // the file's content or version changed under open editors
    if (path) this._onDidChangeRemote.fire([{ type: 'changed', path }]);
    return note;
  }

  /** Whether `path` is in conflict. */
  isConflicted(path: string): boolean {
    return this.cache?.tree.get(path)?.state === 'conflict' || !!this.writeBack?.isConflicted(path);
  }

  /** Settles once the cache's checks in the background (reads after the freshness window) have ended. */
  async backgroundChecks(): Promise<void> {
    await this.cache?.remote.background.settled();
  }

  /** The changes recorded offline and not yet on the server, in replay order. */
  async pendingChanges(): Promise<readonly JournalItem[]> {
    await this.ready;
    return this.writeBack?.offline.pending ?? [];
  }

  /** Discards one pending change; a discarded local version goes to the recovery area. */
  async discardChange(id: number): Promise<void> {
    await this.ready;
    if (!this.writeBack) throw this.slot.unavailable('discarding changes');
    await this.writeBack.offline.discard(id);
  }

  async recoveredFiles(): Promise<readonly RecoveredFile[]> {
    await this.ready;
    return this.writeBack?.offline.recovery.all ?? [];
  }

  /** Deletes a recovered file for good. */
  async deleteRecovered(id: number): Promise<void> {
    await this.ready;
    await this.writeBack?.offline.recovery.delete(id);
  }

  /** Content of a blob the cache holds (a base version, a recovered file), or undefined. */
  async blob(hash: string): Promise<Uint8Array | undefined> {
    await this.ready;
    return this.cache?.local.blob(hash);
  }

  /** Whether `path` was made or changed here and is not on the server yet. */
  isProvisional = (path: string): boolean => !!this.cache?.tree.isProvisional(path);

  // --- cache

  /** Whether this share has a cache (false in live mode). */
  async hasCache(): Promise<boolean> {
    return !!(await this.opened());
  }

  /** The cache once the share is ready (undefined: live mode, or another window has it). */
  private async opened(): Promise<OpenCache | undefined> {
    await this.ready;
    return this.cache;
  }

  private async requireCache(what: string): Promise<OpenCache> {
    const c = await this.opened();
    if (!c) throw this.slot.unavailable(what);
    return c;
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

  /** The paths kept available offline by the user themselves (not what lies below them), sorted. */
  pinnedPaths(): string[] {
    const tree = this.cache?.tree;
    return tree ? [...tree.all()].filter(e => e.pinned).map(e => e.path).sort() : [];
  }

  /** Stops keeping `path` available offline; its cached content stays until culled or freed. */
  async unpin(path: string): Promise<void> {
    const cache = await this.requireCache('unpinning');
    cache.space.setPinned(path, false);
    cache.space.scheduleCull();
  }

  async usage(): Promise<CacheUsage | undefined> {
    const c = await this.opened();
    return c && { ...c.space.usage(), tree: c.learner.progress() };
  }

  /** Cache state of one path, for decorations (undefined: live mode, nothing known); `listed`: a folder's names known offline. */
  cacheState(path: string): { pinned: boolean; cached: boolean; type: EntryType; listed: boolean } | undefined {
    const tree: CachedTree | undefined = this.cache?.tree;
    const e = tree?.get(path);
    if (!tree || !e) return undefined;
    return { pinned: tree.isPinned(path), cached: tree.hasContent(path), type: e.type, listed: !!e.children };
  }

  // --- the whole tree, learnt in the background (cache/treeLearner.ts)

  /** Lets the walk start by itself: now (after a short delay), when the share comes online, after polls. */
  learnTreeInBackground(): void {
    this.learnWanted = true; // a cache that comes later (another window had it) starts it then
    this.cache?.learner.enable();
  }

  /** Learns the whole tree now (also after the user stopped it); resolves when the walk ends. */
  learnTree = async (): Promise<TreeProgress | undefined> => (await this.opened())?.learner.run();

  /** Stops the walk (until learnTree() is called again, also across reloads). */
  stopLearningTree = async (): Promise<void> => (await this.opened())?.learner.stop();

  /** How far the walk got (undefined in live mode or before the cache is open). */
  treeProgress = (): TreeProgress | undefined => this.cache?.learner.progress();

  /** Files the cache knows matching `query`, best first (works offline, no request). */
  async findFiles(query: string, limit?: number): Promise<readonly FileHit[]> {
    const c = await this.opened();
    return c ? findFiles(c.tree, query, limit) : [];
  }

  /** Lines of cached text files containing `query`, and how many files were not searched (works offline, no request). */
  async findInFiles(query: string): Promise<TextSearch> {
    const c = await this.opened();
    return c ? findInCachedFiles({ all: () => c.tree.all(), blob: hash => c.local.blob(hash) }, query) : { hits: [], notDownloaded: 0 };
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
    await this.slot.dispose(); // a wait for another window's cache ends here
    await this.ready;
    this.connection?.dispose();
    this.disposables.forEach(d => d.dispose());
    const emitters = [this._onDidChangeRemote, this._onDidChangeCacheState, this._onDidBecomeFull, this._onDidChangeConnection];
    for (const e of [...emitters, this._onDidChangePending, this._onDidReplay, this._onDidReplayProgress, this._onDidChangeTreeProgress]) e.dispose();
    await this.cache?.dispose();
    this.remote.dispose?.();
  }
}
