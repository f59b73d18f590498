// Honours FileSystemProvider.watch by polling; CachingRemote reports what changed. Where the server
// propagates etags up the tree (Nextcloud, ownCloud), a round asks each watched root's etag (Depth 0)
// and descends only into folders whose etag changed: a quiet tree costs one request. Elsewhere (Apache,
// nginx, rclone, nephele: a folder's etag does not change when something deeper does) each folder opened
// under the watched paths, and each pinned folder, is re-listed (Depth 1), and a slice of the folders
// only the whole-tree walk listed (treeLearner.ts refreshRound: all of them every few minutes). After
// each round the walk goes on with folders that appeared meanwhile. Where the server answers PROPFIND
// `Depth: infinity`, each tree watched recursively is re-listed in one request instead (up to a size).
import { isShareError } from '../core/errors';
import { toDisposable, type IDisposable } from '../core/events';
import type { Logger } from '../core/log';
import { dirname, isEqualOrParent } from '../core/remotePath';
import type { Settings } from '../core/settings';
import type { Capabilities } from '../remote/capabilities';
import type { CachedTree } from './cachedTree';
import type { CachingRemote } from './cachingRemote';
import type { TreeLearner } from './treeLearner';
import { groupTree } from './treeListing';
import type { RemoteFs } from '../remote/remoteFs';

/** Entries at most in one whole-tree listing of a poll (recorded at once): a larger tree is listed folder by folder. */
const POLL_TREE_ENTRIES = 20_000;

/**
 * Folders listed at once in a polling round, twice rclone's 8 checkers: a round is a short burst of small
 * answers that wait on round trips (10,000 files in 100 folders on Apache at 50 ms: 0.85 s with 8, 0.54 s
 * with 16 — BENCHMARKS.md W5); the pin's ceiling when that is lower. A busy answer ends the round.
 */
export const POLL_PARALLEL = 16;

export class ChangePoller implements IDisposable {
  private readonly watches = new Map<number, { path: string; recursive: boolean }>();
  private nextId = 0;
  private timer?: ReturnType<typeof setTimeout>;
  private round?: Promise<number>;
  private disposed = false;
  /** What the server can do (probed by the share); without it, the safe way: re-list every folder. */
  private capabilities: () => Promise<Capabilities | undefined> = async () => undefined;

  constructor(
    private readonly cache: CachingRemote,
    private readonly tree: CachedTree,
    private readonly settings: () => Settings,
    private readonly log: Logger,
    /** The server's whole-tree listing (PROPFIND `Depth: infinity`), where the remote can ask for one. */
    private readonly listTree?: RemoteFs['listTree'],
  ) {}

  useCapabilities(capabilities: () => Promise<Capabilities | undefined>): void {
    this.capabilities = capabilities;
  }

  /** The walk of the whole tree: its folders are refreshed a slice per round, and it goes on after each round. */
  useTreeLearner(learner: Pick<TreeLearner, 'refreshRound' | 'kick'>): void {
    this.learner = learner;
  }

  private learner?: Pick<TreeLearner, 'refreshRound' | 'kick'>;

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
    for (const e of this.tree.all()) {
      if (e.type !== 'directory' || !e.children || e.learned) continue; // learnt ones: a slice per round (below)
      const watched = roots.some(w => (w.recursive ? isEqualOrParent(e.path, w.path) : e.path === w.path || e.path === dirname(w.path)));
      if (watched || this.tree.isPinned(e.path)) out.add(e.path);
    }
    return [...out].sort();
  }

  /** One polling round; resolves with the number of requests sent. Rounds never overlap. */
  poll(): Promise<number> {
    this.round ??= (async () => {
      const caps = await this.capabilities().catch(() => undefined);
      if (caps?.etagPropagation) return this.afterRound(await this.pollPropagating());
      // where the server answers Depth: infinity, one request re-lists each watched tree (up to a size)
      let queue = this.foldersToPoll();
      let listed = 0;
      if (caps?.depthInfinity) {
        for (const root of this.recursiveRoots()) {
          const covered = await this.refreshTree(root).catch(err => void this.log.debug(`[watch] ${root}: no whole-tree listing (${(err as Error).message})`));
          if (!covered) continue;
          listed++;
          queue = queue.filter(f => !isEqualOrParent(f, root));
        }
      }
      // the other folders are listed a few at a time (POLL_PARALLEL, the pin's ceiling when lower)
      let stop = false;
      const worker = async () => {
        while (queue.length && !stop && !this.disposed) {
          const folder = queue.shift()!;
          try {
            await this.cache.refreshListing(folder);
            listed++;
          } catch (err) {
            if (isShareError(err, 'NotFound')) continue;
            this.log.debug(`[watch] ${folder}: ${(err as Error).message}`);
            if (isShareError(err, 'Unavailable') || isShareError(err, 'Unauthorized')) stop = true;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(POLL_PARALLEL, this.settings().parallelDownloads)) }, worker));
      if (!stop && !this.disposed && this.learner) listed += await this.learner.refreshRound();
      return this.afterRound(listed);
    })().finally(() => (this.round = undefined));
    return this.round;
  }

  /**
   * Re-lists the whole tree below `root` in one request and records the listing of each folder listed before
   * (without undoing changes made here meanwhile); resolves with the folders recorded, or undefined when it
   * cannot (no such request, more than POLL_TREE_ENTRIES entries). A hostile answer is refused (groupTree).
   */
  private async refreshTree(root: string): Promise<string[] | undefined> {
    if (!this.listTree) return undefined;
    const asked = this.tree.changeCount();
    const entries = await this.listTree(root, POLL_TREE_ENTRIES);
    if (entries === 'too-large') return undefined;
    // only the folders a folder-by-folder round would list (listed before: opened, or learnt by the walk) —
    // the others' names stay unlisted, as the user left them (the walk stopped, the limit)
    const recorded: string[] = [];
    for (const l of groupTree(root, entries).listings) {
      const known = this.tree.get(l.self.path);
      if (known?.type !== 'directory' || !known.children) continue;
      this.tree.recordListing(l, !!known.learned, asked);
      recorded.push(l.self.path);
    }
    return recorded;
  }

  /** The watched folders watched recursively, without those below another one. */
  private recursiveRoots(): string[] {
    const roots = [...new Set([...this.watches.values()].filter(w => w.recursive).map(w => w.path))].filter(p => this.tree.get(p)?.type === 'directory');
    return roots.filter(r => !roots.some(o => o !== r && isEqualOrParent(r, o)));
  }

  private afterRound(requests: number): number {
    if (!this.disposed) this.learner?.kick();
    return requests;
  }

  /** A round on a server whose folder etags change with anything below them. */
  private async pollPropagating(): Promise<number> {
    let requests = 0;
    const roots = [...new Set([...this.watches.values()].map(w => w.path))].filter(p => this.tree.get(p)?.type === 'directory');
    try {
      for (const root of roots) {
        const known = this.tree.get(root)?.etag;
        const now = await this.cache.revalidate(root);
        requests++;
        if (known && now.etag === known) continue; // nothing changed anywhere below
        const queue = [root];
        while (queue.length && !this.disposed) {
          const folder = queue.shift()!;
          const before = new Map<string, string | undefined>();
          for (const name of this.tree.get(folder)?.children ?? []) {
            const child = this.tree.get(folder === '/' ? `/${name}` : `${folder}/${name}`);
            if (child?.type === 'directory') before.set(child.path, child.etag);
          }
          const listing = await this.cache.refreshListing(folder);
          requests++;
          for (const c of listing.children) {
            if (c.type === 'directory' && before.has(c.path) && before.get(c.path) !== c.etag && this.tree.get(c.path)?.children) queue.push(c.path);
          }
        }
      }
    } catch (err) {
      this.log.debug(`[watch] ${(err as Error).message}`);
    }
    return requests;
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.watches.clear();
  }
}
