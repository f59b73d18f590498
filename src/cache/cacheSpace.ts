// The space the cache takes: what is pinned ("Keep Available Offline"), what is dropped on request
// ("Free Up Space"), how much is used, culling least-recently-used clean content above the limit (on a
// timer after content is added), and telling once when the cache is full — because what may never be
// culled (pinned, changed here, in conflict) exceeds the limit, or because the disk or the browser's
// storage has no room. The culling policy itself is a pure function (eviction.ts).
import { Emitter, type IDisposable } from '../core/events';
import { withoutContent, isLocal } from './cacheEntry';
import type { CacheIndex } from './cacheIndex';
import type { CachedTree } from './cachedTree';
import { notFound } from './cachedTree';
import { planCull } from './eviction';
import type { TreeProgress } from './treeLearner';

export interface CacheFull {
  /** Bytes that may never be culled (pinned, dirty, conflicted). */
  readonly keptBytes: number;
  readonly limitBytes: number;
  /** `limit`: what may not be culled exceeds the size limit; `storage`: the disk or storage quota is full. */
  readonly reason: 'limit' | 'storage';
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
  /** The server's quota for the share, as its root folder last said (RFC 4331), bytes. */
  readonly quota?: { readonly available?: number; readonly used?: number };
  /** How much of the share's tree is known (the walk of treeLearner.ts; set by the share). */
  readonly tree?: TreeProgress;
}

const CULL_DELAY_MS = 500;

export class CacheSpace implements IDisposable {
  private cullTimer?: ReturnType<typeof setTimeout>;
  /** Why the cache is full now, once reported (each becomes news again when it ends). */
  private fullReason?: 'limit' | 'storage';
  /** What must never be culled exceeds the limit, or the storage is full (fired when that starts being true). */
  private readonly _onDidBecomeFull = new Emitter<CacheFull>();
  readonly onDidBecomeFull = this._onDidBecomeFull.event;

  constructor(
    private readonly tree: CachedTree,
    private readonly index: CacheIndex,
  ) {}

  setPinned(path: string, pinned: boolean): void {
    const e = this.tree.get(path);
    if (!e) throw notFound(path, 'not in the cache');
    this.tree.set({ ...e, pinned: pinned || undefined });
    this.tree.changed(this.tree.subtree(path).map(x => x.path));
  }

  /** Drops the content of clean items at and below `path` ("Free Up Space"); returns the bytes freed. */
  async dropContent(path: string, reason: string): Promise<number> {
    let freed = 0;
    const changed: string[] = [];
    for (const e of this.tree.subtree(path)) {
      if (!e.blob || isLocal(e)) continue;
      freed += e.blobSize ?? e.size;
      this.tree.set(withoutContent(e));
      changed.push(e.path);
    }
    if (changed.length) this.tree.log.info(`[cache] ${path}: dropped the content of ${changed.length} files (${reason})`);
    await this.index.collectGarbage();
    this.tree.changed(changed);
    return freed;
  }

  usage(): CacheUsage {
    const limitBytes = this.tree.settings().maxCacheBytes;
    const plan = planCull(this.tree.all(), limitBytes, e => this.tree.isPinned(e.path));
    let files = 0;
    let pinnedFiles = 0;
    for (const e of this.tree.all()) {
      if (!e.blob) continue;
      files++;
      if (this.tree.isPinned(e.path)) pinnedFiles++;
    }
    const quota = this.tree.get('/')?.quota;
    return { entries: this.tree.size, files, bytes: plan.totalBytes, pinnedFiles, keptBytes: plan.keptBytes, limitBytes, ...(quota ? { quota } : {}) };
  }

  /** Culls now (normally scheduled after content is added). */
  async cull(): Promise<void> {
    const s = this.tree.settings();
    const plan = planCull(this.tree.all(), s.maxCacheBytes, e => this.tree.isPinned(e.path));
    if (plan.full && this.fullReason !== 'limit') {
      this.tree.log.warn(`[cache] full: ${plan.keptBytes} bytes are pinned or unsynced, the limit is ${s.maxCacheBytes}`);
      this._onDidBecomeFull.fire({ keptBytes: plan.keptBytes, limitBytes: s.maxCacheBytes, reason: 'limit' });
    }
    if (plan.full) this.fullReason = 'limit';
    else if (this.fullReason === 'limit') this.fullReason = undefined;
    if (!s.cullingEnabled || plan.victims.length === 0) return;
    for (const v of plan.victims) this.tree.set(withoutContent(v));
    this.tree.log.info(`[cache] culled ${plan.victims.length} files, least recently used first (${plan.totalBytes} → ${plan.remainingBytes} bytes)`);
    await this.index.collectGarbage();
    this.tree.changed(plan.victims.map(v => v.path));
  }

  /** Content was added: cull soon (one timer for many additions). */
  scheduleCull(): void {
    if (this.cullTimer) return;
    this.cullTimer = setTimeout(() => {
      this.cullTimer = undefined;
      void this.cull().catch(err => this.tree.log.error(`[cache] culling failed (${(err as Error).message})`));
    }, CULL_DELAY_MS);
  }

  /** The disk or the browser's storage is full: said once, until content can be stored again. */
  reportStorageFull(path: string, err: unknown): void {
    if (this.fullReason) return;
    this.tree.log.warn(`[cache] ${path}: the storage is full (${(err as Error).message})`);
    this.fullReason = 'storage';
    this._onDidBecomeFull.fire({ keptBytes: this.usage().keptBytes, limitBytes: this.tree.settings().maxCacheBytes, reason: 'storage' });
  }

  /** Content could be stored again: a later "storage full" is news again (the limit's own state is cull()'s). */
  storageWorks(): void {
    if (this.fullReason === 'storage') this.fullReason = undefined;
  }

  dispose(): void {
    if (this.cullTimer) clearTimeout(this.cullTimer);
    this.cullTimer = undefined;
    this._onDidBecomeFull.dispose();
  }
}
