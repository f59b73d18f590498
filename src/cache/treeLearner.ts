// Knowing the whole share offline: once a share is open and online, a walk in the background lists
// every folder — names, sizes and validators, never content — so that offline every folder shows its
// names, a file whose content is not here says so, and Go to File finds every file. Content is still
// fetched only when read or pinned.
//
// How it walks: where the server answers PROPFIND `Depth: infinity` (nephele, rclone; the probe says),
// the share's root is listed, then each folder below it in one request each (parsed as it arrives);
// elsewhere (Apache, lighttpd, nginx) folder by folder. Either way `WALK_PARALLELISM` requests at a
// time, like rclone's checkers. The walk is resumable for free: a folder still to list is a folder entry
// without a listing, so after a reload (or a crash) the walk goes on where the committed index stands.
// It stops at `maxTreeEntries` entries (a listing is recorded whole or not at all), when the share goes
// offline or the server asks for a sign-in (going on when it is back), and when the user stops it (kept
// across reloads until they start it again). What it learnt is marked `learned` on each folder: those
// folders are kept fresh by slow rounds of the change poller (refreshRound), a slice of them per round,
// not re-listed on every poll or reconnect like the folders opened here.
import { isShareError } from '../core/errors';
import { Emitter, type IDisposable } from '../core/events';
import type { Logger } from '../core/log';
import type { Settings } from '../core/settings';
import type { Capabilities } from '../remote/capabilities';
import type { RemoteFs, RemoteListing } from '../remote/remoteFs';
import { isLocal, type CacheEntry } from './cacheEntry';
import type { CachedTree } from './cachedTree';
import { groupTree } from './treeListing';
import { walkPool } from './walkPool';

/** Folder listings in flight at once (rclone's default --checkers). */
export const WALK_PARALLELISM = 8;
/** The learned folders re-listed per polling round: all of them in about this many rounds. */
const REFRESH_ROUNDS = 40;
const REFRESH_MIN = 16;
const PROGRESS_EVERY_MS = 500;
/** Recording a whole tree gives the event loop a turn at least this often, ms. */
const RECORD_SLICE_MS = 15;
/** Per-share value: the user stopped the walk ("stopped" until they start it again). */
const STOPPED_KEY = 'treeWalkStopped';

export interface TreeProgress {
  /**
   * learning: the walk runs; complete: every folder's names are known; capped: the limit stopped it
   * (folders beyond it are not known offline); waiting: folders are still to list and the walk waits (for
   * the server, a sign-in, its next start); stopped: the user stopped it; off: the limit is 0.
   */
  readonly state: 'learning' | 'complete' | 'capped' | 'waiting' | 'stopped' | 'off';
  /** Entries (files and folders) the cache knows. */
  readonly known: number;
  /** The limit (`webdavOffline.cache.maxTreeEntries`). */
  readonly cap: number;
  /** Folders listed by the walk in this session. */
  readonly foldersListed: number;
  /** Folders still to list, when last counted. */
  readonly foldersToGo: number;
  /** Folders the server would not list in this session (refused, too large): not known offline. */
  readonly unreadable: number;
}

export interface TreeLearnerOptions {
  /** Delay of the walk after the share opens or comes online, ms (what VS Code asks first goes first). */
  readonly startDelayMs?: number;
}

export class TreeLearner implements IDisposable {
  private capabilities: () => Promise<Capabilities | undefined> = async () => undefined;
  /** Starts by itself (after opening, coming online, each polling round): set by the share's owner. */
  private enabled = false;
  private online = true;
  private disposed = false;
  private running?: Promise<void>;
  private timer?: ReturnType<typeof setTimeout>;
  /** Depth: infinity failed on this server in this session: folder by folder from now on. */
  private noDepthInfinity = false;
  private capped = false;
  /** The entries known when the limit stopped the walk: it goes on by itself only once there are fewer. */
  private cappedAt = 0;
  /** Why the last walk stopped early (offline, a sign-in), if it did. */
  private interrupted = false;
  private readonly unreadable = new Set<string>();
  /** When the walk or a refresh round last listed each learnt folder in this session (ms). */
  private readonly refreshedAt = new Map<string, number>();
  private foldersListed = 0;
  /** Folders still to list when last counted (-1: not counted yet). */
  private foldersToGo = -1;
  /** The running walk's queue, and its visits in flight. */
  private queue?: string[];
  private inFlight = 0;
  private lastFired = 0;
  private readonly startDelayMs: number;
  private readonly _onDidChangeProgress = new Emitter<TreeProgress>();
  readonly onDidChangeProgress = this._onDidChangeProgress.event;

  constructor(
    /** The server, as the cache's owner observes it (failures switch the share offline). */
    private readonly remote: RemoteFs,
    private readonly tree: CachedTree,
    private readonly values: { getMeta<T>(key: string): T | undefined; setMeta(key: string, value: unknown): void },
    private readonly settings: () => Settings,
    private readonly log: Logger,
    options: TreeLearnerOptions = {},
  ) {
    this.startDelayMs = options.startDelayMs ?? 3_000;
  }

  useCapabilities(capabilities: () => Promise<Capabilities | undefined>): void {
    this.capabilities = capabilities;
  }

  // --- when it runs

  /** Lets the walk start by itself: soon, when the share comes online, after polling rounds. */
  enable(): void {
    this.enabled = true;
    this.schedule(this.startDelayMs);
  }

  setOnline(online: boolean): void {
    const was = this.online;
    this.online = online;
    if (online && !was) this.schedule(this.startDelayMs);
  }

  /** Goes on with the walk now if it may run by itself and has folders to list (after a polling round). */
  kick(): void {
    if (!this.enabled || !this.mayRun() || this.running) return;
    if (this.capped && this.tree.size >= this.cappedAt) return; // no room was made since the limit stopped it
    void this.start();
  }

  /** Walks now (also when stopped by the user before: this starts it again); resolves when it ends. */
  async run(): Promise<TreeProgress> {
    if (this.values.getMeta(STOPPED_KEY)) this.values.setMeta(STOPPED_KEY, undefined);
    await this.start();
    return this.progress();
  }

  /** The user stops the walk: no request after those in flight, and none after a reload until run(). */
  stop(): void {
    this.values.setMeta(STOPPED_KEY, true);
    this.fire(true);
  }

  private get stopped(): boolean {
    return !!this.values.getMeta(STOPPED_KEY);
  }

  private mayRun(): boolean {
    return !this.disposed && this.online && !this.stopped && this.settings().maxTreeEntries > 0;
  }

  private schedule(ms: number): void {
    if (this.timer || !this.enabled || this.disposed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.kick();
    }, ms);
  }

  private start(): Promise<void> {
    this.running ??= this.walk()
      .catch(err => this.log.warn(`[tree] the walk failed (${(err as Error).message})`))
      .finally(() => {
        this.running = undefined;
        this.fire(true);
      });
    return this.running;
  }

  /** Resolves when no walk runs (for tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  // --- progress

  progress(): TreeProgress {
    const cap = this.settings().maxTreeEntries;
    const state: TreeProgress['state'] =
      cap <= 0 ? 'off'
      : this.stopped ? 'stopped'
      : this.running && this.mayRun() ? 'learning'
      : this.foldersToGo === 0 ? 'complete'
      : this.capped ? 'capped'
      : 'waiting';
    const toGo = this.queue ? this.queue.length + this.inFlight : this.foldersToGo;
    return { state, known: this.tree.size, cap, foldersListed: this.foldersListed, foldersToGo: Math.max(0, toGo), unreadable: this.unreadable.size };
  }

  private fire(now = false): void {
    if (this.disposed || (!now && Date.now() - this.lastFired < PROGRESS_EVERY_MS)) return;
    this.lastFired = Date.now();
    this._onDidChangeProgress.fire(this.progress());
  }

  // --- the walk

  /** A folder the walk has to list: known as a folder, never listed, on the server (not made here). */
  private needsListing(e: CacheEntry | undefined): e is CacheEntry {
    return !!e && e.type === 'directory' && !e.children && !isLocal(e) && !this.unreadable.has(e.path);
  }

  /** The folders still to list, shallow ones first. */
  private frontier(): string[] {
    const out: string[] = this.tree.get('/') ? [] : ['/'];
    for (const e of this.tree.all()) if (this.needsListing(e)) out.push(e.path);
    const depth = (p: string) => (p === '/' ? 0 : p.split('/').length - 1);
    return out.sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
  }

  private async walk(): Promise<void> {
    if (!this.mayRun()) return;
    const queue = this.frontier();
    this.foldersToGo = queue.length;
    this.capped = false;
    this.interrupted = false;
    if (!queue.length) return;
    const caps = await this.capabilities().catch(() => undefined);
    const whole = !!caps?.depthInfinity && !!this.remote.listTree && !this.noDepthInfinity;
    const t0 = Date.now();
    const before = { listed: this.foldersListed, known: this.tree.size };
    this.log.info(`[tree] learning the share's names: ${queue.length} folders to list${whole ? ' (Depth: infinity below the root)' : ''}, ${this.tree.size} entries known`);
    this.queue = queue;
    this.fire(true);
    try {
      await walkPool(
        queue,
        WALK_PARALLELISM,
        async folder => {
          this.inFlight++;
          try {
            return await this.visit(folder, whole && folder !== '/' && !this.noDepthInfinity);
          } finally {
            this.inFlight--;
            this.fire();
          }
        },
        () => !this.mayRun() || this.capped || this.interrupted,
      );
    } finally {
      this.queue = undefined;
    }
    if (this.disposed) return;
    this.foldersToGo = this.frontier().length;
    if (this.capped) this.cappedAt = this.tree.size;
    const what = `${this.foldersListed - before.listed} folders listed, ${this.tree.size - before.known} entries learnt in ${Date.now() - t0} ms`;
    if (this.foldersToGo === 0) this.log.info(`[tree] every folder is known: ${what}; ${this.tree.size} entries`);
    else if (this.capped) this.log.warn(`[tree] stopped at the limit of ${this.settings().maxTreeEntries} entries (webdavOffline.cache.maxTreeEntries): ${what}; ${this.foldersToGo} folders are not known offline`);
    else this.log.info(`[tree] paused: ${what}; ${this.foldersToGo} folders to go`);
  }

  /** Lists one folder (or its whole tree); resolves with the folders found that need listing. */
  private async visit(folder: string, whole: boolean): Promise<string[]> {
    if (!this.mayRun() || this.capped) return [];
    if (this.tree.size >= this.settings().maxTreeEntries) {
      this.capped = true;
      return [];
    }
    try {
      if (whole) {
        const found = await this.learnSubtree(folder);
        if (found) return found;
      }
      const listing = await this.remote.list(folder);
      return await this.record([listing]);
    } catch (err) {
      if (isShareError(err, 'NotFound') && folder !== '/') {
        this.gone([folder]);
      } else if ((isShareError(err, 'Unavailable') && err.reason !== 'server') || isShareError(err, 'Unauthorized')) {
        // unreachable, a sign-in, an untrusted certificate: the walk waits for the share to be back (a
        // server error on one folder is that folder's: it is skipped below)
        this.interrupted = true;
        this.log.debug(`[tree] ${folder}: ${(err as Error).message}; the walk waits`);
      } else {
        this.unreadable.add(folder);
        this.log.warn(`[tree] ${folder}: cannot be listed (${(err as Error).message}); it is not known offline`);
      }
      return [];
    }
  }

  /** The whole tree below `folder` in one request; undefined when it must be listed folder by folder. */
  private async learnSubtree(folder: string): Promise<string[] | undefined> {
    let tree;
    try {
      const entries = await this.remote.listTree!(folder, Math.max(1, this.settings().maxTreeEntries - this.tree.size));
      if (entries === 'too-large') return undefined; // more than the room left: folder by folder, up to the limit
      tree = groupTree(folder, entries);
    } catch (err) {
      // refused (403), or an answer that cannot be read or trusted: folder by folder from now on
      if (!isShareError(err, 'NoPermissions') && !isShareError(err, 'Rejected')) throw err;
      this.noDepthInfinity = true;
      this.log.info(`[tree] ${folder}: no whole-tree listing from this server (${(err as Error).message}); listing folder by folder`);
      return undefined;
    }
    if (tree.dropped) this.log.warn(`[remote] ${folder}: ignored ${tree.dropped} entries of the whole-tree answer (outside the folder, repeated, or below a file)`);
    return this.record(tree.listings);
  }

  /**
   * Records listings (parents first) while each fits whole under the limit, yielding to the event loop
   * now and then (a whole tree is thousands of folders); resolves with the folders found that still need
   * listing.
   */
  private async record(listings: readonly RemoteListing[]): Promise<string[]> {
    const cap = this.settings().maxTreeEntries;
    const done: string[] = [];
    const next: string[] = [];
    let slice = Date.now();
    for (const listing of listings) {
      if (Date.now() - slice > RECORD_SLICE_MS) {
        await new Promise(r => setTimeout(r, 0));
        slice = Date.now();
      }
      if (this.disposed) return [];
      let added = 0;
      for (const c of listing.children) if (!this.tree.get(c.path)) added++;
      if (this.tree.size + added > cap) {
        this.capped = true;
        break;
      }
      this.tree.recordListing(listing, true);
      this.refreshedAt.set(listing.self.path, Date.now());
      done.push(listing.self.path);
      for (const c of listing.children) if (c.type === 'directory' && this.needsListing(this.tree.get(c.path))) next.push(c.path);
    }
    this.foldersListed += done.length;
    this.tree.changed(done); // decorations: these folders are known offline now
    // a whole-tree answer lists the subfolders it recorded itself
    const recorded = new Set(done);
    return next.filter(p => !recorded.has(p));
  }

  // --- keeping the learnt folders fresh

  /**
   * One slow round over the folders only the walk listed (for the change poller): the least recently
   * listed of them, enough that all are listed again within about REFRESH_ROUNDS rounds. Resolves with
   * the number of folders listed.
   */
  async refreshRound(): Promise<number> {
    if (this.running || !this.online || this.disposed) return 0;
    const learned: CacheEntry[] = [];
    for (const e of this.tree.all()) if (e.type === 'directory' && e.learned && e.children && !isLocal(e)) learned.push(e);
    if (!learned.length) return 0;
    const n = Math.max(REFRESH_MIN, Math.ceil(learned.length / REFRESH_ROUNDS));
    const at = (e: CacheEntry) => this.refreshedAt.get(e.path) ?? 0;
    const queue = learned.sort((a, b) => at(a) - at(b) || (a.path < b.path ? -1 : 1)).slice(0, n).map(e => e.path);
    let listed = 0;
    let stop = false;
    const notFound: string[] = [];
    await walkPool(
      queue,
      WALK_PARALLELISM,
      async folder => {
        try {
          const listing = await this.remote.list(folder);
          if (!this.disposed && this.tree.get(folder)?.children) {
            this.tree.recordListing(listing, true);
            this.refreshedAt.set(folder, Date.now());
            listed++;
          }
        } catch (err) {
          if (isShareError(err, 'NotFound')) {
            notFound.push(folder);
          } else {
            this.log.debug(`[tree] ${folder}: ${(err as Error).message}`);
            if (isShareError(err, 'Unavailable') || isShareError(err, 'Unauthorized')) stop = true;
          }
        }
        return [];
      },
      () => stop || this.disposed,
    );
    // parents first: a folder gone with its parent is reported once, as its parent's listing did
    this.gone(notFound.sort((a, b) => a.length - b.length));
    return listed;
  }

  /** Folders the server no longer has: forgotten (what was changed here stays), and reported to watchers. */
  private gone(folders: readonly string[]): void {
    if (this.disposed) return;
    for (const folder of folders) {
      if (!this.tree.get(folder)) continue; // gone with a folder above it
      this.tree.forget(folder, 'deleted on the server');
      this.tree.remoteChanged([{ type: 'deleted', path: folder }]);
    }
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this._onDidChangeProgress.dispose();
  }
}
