// "Keep Available Offline" and "Free Up Space": pinning downloads a whole tree in parallel with
// progress and cancellation; files that appear later below a pinned folder are fetched in the background.
import { isShareError } from '../core/errors';
import { dispose, type IDisposable } from '../core/events';
import type { Logger } from '../core/log';
import type { Settings } from '../core/settings';
import type { CachedTree } from './cachedTree';
import type { CacheSpace } from './cacheSpace';
import type { CachingRemote } from './cachingRemote';

export interface PinProgress {
  readonly filesDone: number;
  readonly filesTotal: number;
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

export interface PinResult extends PinProgress {
  readonly failed: readonly { path: string; error: string }[];
  readonly cancelled: boolean;
}

export class Pinner implements IDisposable {
  private disposables: IDisposable[] = [];
  /** Downloads in flight, shared by explicit pins and background fetches. */
  private readonly inFlight = new Map<string, Promise<number>>();
  private readonly backlog: string[] = [];
  private backgroundRunning = 0;

  constructor(
    private readonly cache: CachingRemote,
    private readonly tree: CachedTree,
    private readonly space: CacheSpace,
    /** Commits what the cache queued (the pins) durably. */
    private readonly flush: () => Promise<void>,
    private readonly settings: () => Settings,
    private readonly log: Logger,
  ) {
    tree.onDidNeedPinnedContent(paths => this.fetchInBackground(paths), this, this.disposables);
  }

  async pin(path: string, onProgress: (p: PinProgress) => void = () => {}, signal?: AbortSignal): Promise<PinResult> {
    const root = await this.cache.stat(path);
    this.space.setPinned(path, true);
    let progress = { filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0 };
    const failed: { path: string; error: string }[] = [];
    const files: { path: string; size: number }[] = [];
    // 1. list the tree (Depth 1 at a time: most servers refuse Depth infinity)
    if (root.type === 'file') files.push({ path, size: root.size });
    const folders = root.type === 'directory' ? [path] : [];
    while (folders.length && !signal?.aborted) {
      const listing = await this.cache.list(folders.shift()!, { current: true });
      for (const c of listing.children) {
        if (c.type === 'directory') folders.push(c.path);
        else files.push({ path: c.path, size: c.size });
      }
      progress = { ...progress, filesTotal: files.length, bytesTotal: files.reduce((n, f) => n + f.size, 0) };
      onProgress(progress);
    }
    // 2. download what is not cached yet, N at a time
    const queue = [...files];
    const worker = async () => {
      while (queue.length && !signal?.aborted) {
        const f = queue.shift()!;
        try {
          await this.download(f.path);
        } catch (err) {
          if (isShareError(err, 'Unavailable')) queue.length = 0; // the server is gone: stop
          failed.push({ path: f.path, error: (err as Error).message });
          this.log.warn(`[pin] ${f.path}: download failed (${(err as Error).message})`);
        }
        progress = { ...progress, filesDone: progress.filesDone + 1, bytesDone: progress.bytesDone + f.size };
        onProgress(progress);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.settings().parallelDownloads) }, worker));
    const cancelled = !!signal?.aborted;
    if (cancelled) {
      this.space.setPinned(path, false); // cancelling undoes the pin; what was downloaded stays cached
      this.log.info(`[pin] ${path}: cancelled after ${progress.filesDone} of ${progress.filesTotal} files`);
    } else {
      this.log.info(`[pin] ${path}: ${progress.filesTotal} files, ${progress.bytesTotal} bytes kept available offline`);
    }
    await this.flush();
    return { ...progress, failed, cancelled };
  }

  /** Unpins `path` and everything pinned below it, and drops their clean cached content. */
  async freeUpSpace(path: string): Promise<number> {
    for (const e of this.tree.subtree(path)) if (e.pinned) this.space.setPinned(e.path, false);
    const freed = await this.space.dropContent(path, 'free up space');
    await this.flush();
    return freed;
  }

  /** Downloads `path` into the cache unless it is there already; resolves with the bytes fetched. */
  private download(path: string): Promise<number> {
    if (this.tree.hasContent(path)) return Promise.resolve(0);
    let p = this.inFlight.get(path);
    if (!p) {
      p = this.cache.download(path).finally(() => this.inFlight.delete(path));
      this.inFlight.set(path, p);
    }
    return p;
  }

  private fetchInBackground(paths: readonly string[]): void {
    for (const p of paths) if (!this.backlog.includes(p)) this.backlog.push(p);
    const max = Math.max(1, this.settings().parallelDownloads);
    while (this.backgroundRunning < max && this.backlog.length) {
      this.backgroundRunning++;
      void (async () => {
        while (this.backlog.length) {
          const path = this.backlog.shift()!;
          if (!this.tree.isPinned(path)) continue;
          await this.download(path).then(
            n => n && this.log.debug(`[pin] ${path}: fetched in the background (${n} bytes)`),
            err => this.log.debug(`[pin] ${path}: background fetch failed (${(err as Error).message})`),
          );
        }
      })().finally(() => this.backgroundRunning--);
    }
  }

  /** Resolves when no background fetch is queued or running (for tests). */
  async idle(): Promise<void> {
    while (this.backgroundRunning > 0 || this.inFlight.size > 0) {
      await Promise.allSettled([...this.inFlight.values()]);
      await new Promise(r => setTimeout(r, 10));
    }
  }

  dispose(): void {
    this.backlog.length = 0;
    this.disposables = dispose(this.disposables);
  }
}
