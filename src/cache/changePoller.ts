// Honours FileSystemProvider.watch by polling: each round re-lists the cached folders under the watched
// paths (and pinned folders), one Depth-1 PROPFIND each; CachingRemote reports what changed. No server
// here propagates etags beyond one level, so unchanged folders cannot be skipped wholesale.
import { isShareError } from '../core/errors';
import { toDisposable, type IDisposable } from '../core/events';
import type { Logger } from '../core/log';
import { dirname, isEqualOrParent } from '../core/remotePath';
import type { Settings } from '../core/settings';
import type { CachingRemote } from './cachingRemote';

export class ChangePoller implements IDisposable {
  private readonly watches = new Map<number, { path: string; recursive: boolean }>();
  private nextId = 0;
  private timer?: ReturnType<typeof setTimeout>;
  private round?: Promise<number>;
  private disposed = false;

  constructor(
    private readonly cache: CachingRemote,
    private readonly settings: () => Settings,
    private readonly log: Logger,
  ) {}

  watch(path: string, recursive: boolean): IDisposable {
    const id = this.nextId++;
    this.watches.set(id, { path, recursive });
    this.schedule();
    return toDisposable(() => {
      this.watches.delete(id);
      if (this.watches.size === 0 && this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
    });
  }

  private schedule(): void {
    const interval = this.settings().pollIntervalMs;
    if (this.timer || this.disposed || interval <= 0 || this.watches.size === 0) return;
    this.timer = setTimeout(async () => {
      await this.poll().catch(err => this.log.debug(`[watch] poll failed (${(err as Error).message})`));
      this.timer = undefined;
      this.schedule();
    }, interval);
  }

  /** The folders one round re-lists. */
  foldersToPoll(): string[] {
    const roots: { path: string; recursive: boolean }[] = [...this.watches.values()];
    const out = new Set<string>();
    for (const e of this.cache.index.all()) {
      if (e.type !== 'directory' || !e.children) continue;
      const watched = roots.some(w => (w.recursive ? isEqualOrParent(e.path, w.path) : e.path === w.path || e.path === dirname(w.path)));
      if (watched || this.cache.isPinned(e.path)) out.add(e.path);
    }
    return [...out].sort();
  }

  /** One polling round; resolves with the number of folders listed. Rounds never overlap. */
  poll(): Promise<number> {
    this.round ??= (async () => {
      let listed = 0;
      for (const folder of this.foldersToPoll()) {
        if (this.disposed) break;
        try {
          await this.cache.refreshListing(folder);
          listed++;
        } catch (err) {
          if (isShareError(err, 'NotFound')) continue;
          this.log.debug(`[watch] ${folder}: ${(err as Error).message}`);
          if (isShareError(err, 'Unavailable') || isShareError(err, 'Unauthorized')) break;
        }
      }
      return listed;
    })().finally(() => (this.round = undefined));
    return this.round;
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.watches.clear();
  }
}
