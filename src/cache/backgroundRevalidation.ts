// Stale-while-revalidate for the cache (the `revalidation: background` setting, the default): after the
// freshness window a cached item is served at once and checked here, in the background — a file with
// content by one conditional GET, a listed folder by one listing, anything else by one stat. What the
// server changed is recorded and told as a remote change, so VS Code reloads what it shows. This is safe
// because every save names the version it edits (If-Match): an edit of a version that turns out old meets
// the newer one as a conflict, never overwrites it. One check per path at a time, and one listing answers
// for a folder's children (a file without content is checked by its folder's listing; a file whose folder
// is being listed waits for that listing first); an answer that arrives after the item changed here (a
// save, an offline change) is dropped — that version stands.
import { isShareError } from '../core/errors';
import { dirname } from '../core/remotePath';
import type { RemoteContent } from '../remote/remoteFs';
import { hasValidContent, isLocal, type CacheEntry } from './cacheEntry';
import type { CachedTree } from './cachedTree';

/** The cache's own steps a check uses (CachingRemote's). */
export interface RevalidationSteps {
  /** Lists the folder on the server and records the listing (its changes are told). */
  listing(path: string): Promise<unknown>;
  /** Stats the item on the server and records it (a change is told). */
  entry(path: string): Promise<unknown>;
  /** A conditional GET. */
  get(path: string, validator: string): Promise<RemoteContent | 'not-modified'>;
  /** Stores a file's new content (checked: no gateway page, the size the listing says). */
  store(path: string, content: RemoteContent): Promise<unknown>;
}

export class BackgroundRevalidation {
  /** Checks running, by path. */
  private readonly running = new Map<string, Promise<void>>();
  private closed = false;
  /** Told of a check that failed (not a deletion): the share's connection hears of a sign-in page this way. */
  failed: (err: unknown) => void = () => undefined;

  constructor(
    private readonly tree: CachedTree,
    private readonly steps: RevalidationSteps,
  ) {}

  /**
   * Starts checking `cached` in the background where the settings ask for it; returns whether the caller
   * may serve what is cached meanwhile (false: `beforeRead`, the caller asks the server first).
   */
  start(cached: CacheEntry): boolean {
    if (this.tree.settings().revalidation !== 'background' || this.closed) return false;
    const { path } = cached;
    // a folder's listing is one check, anything else of the same path another (a stat of a folder never listed)
    const key = checkKey(cached);
    if (!this.running.has(key)) {
      // begun after the caller's answer went out: a request's set-up does not delay what is served now
      const run = afterThisTask()
        .then(() => (this.closed ? undefined : this.check(cached)))
        .catch(err => {
          this.tree.log.debug(`[cache] ${path}: the check in the background failed (${(err as Error).message})`);
          if (!this.closed) this.failed(err);
        })
        .finally(() => this.running.delete(key));
      this.running.set(key, run);
    }
    return true;
  }

  /** Settles once no check runs (tests). */
  async settled(): Promise<void> {
    while (this.running.size) await Promise.all([...this.running.values()]);
  }

  /** The cache closes: no new check starts, and answers still to come are dropped. */
  close(): void {
    this.closed = true;
  }

  private async check(cached: CacheEntry): Promise<void> {
    const { path } = cached;
    try {
      if (cached.type === 'directory' && cached.children) {
        await this.steps.listing(path);
        this.tree.markChecked(path);
        return;
      }
      // the folder's listing being checked answers for its children too (a re-opened folder: one listing)
      const parent = path === '/' ? undefined : this.tree.get(dirname(path));
      const sibling = parent && this.running.get(checkKey(parent));
      if (sibling) {
        await sibling;
        if (this.closed || this.tree.isFresh(path) || !this.tree.get(path)) return;
      }
      const validator = cached.type === 'file' && hasValidContent(cached) ? (cached.blobEtag ?? cached.etag) : undefined;
      if (!validator) {
        // no content to check: one listing of the folder checks every name in it, else one stat
        if (parent?.children && this.start(parent)) await this.running.get(checkKey(parent));
        else await this.steps.entry(path);
        return;
      }
      const answer = await this.steps.get(path, validator);
      if (this.closed) return;
      const now = this.tree.get(path);
      if (answer === 'not-modified') {
        if (now && now.etag === cached.etag) this.tree.markChecked(path);
        return;
      }
      if (!now || isLocal(now) || now.etag !== cached.etag) return;
      await this.steps.store(path, answer);
      this.tree.log.debug(`[cache] ${path}: another version on the server (found in the background); told to the editor`);
      this.tree.remoteChanged([{ type: 'changed', path }]);
    } catch (err) {
      if (this.closed) return;
      if (!isShareError(err, 'NotFound')) throw err;
      this.tree.forget(path, 'deleted on the server');
      this.tree.remoteChanged([{ type: 'deleted', path }]);
    }
  }
}

/** What identifies a check: a folder's listing, or the item itself. */
function checkKey(e: CacheEntry): string {
  return e.type === 'directory' && e.children ? `listing ${e.path}` : `item ${e.path}`;
}

/** Resolves once the current task (and the answer it is giving) is done. */
function afterThisTask(): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, 0));
}
