// "Keep Available Offline" and "Free Up Space": pinning downloads a whole tree in parallel with
// progress and cancellation; files that appear later below a pinned folder are fetched in the background.
// How many requests are in flight is found as it goes (adaptiveLimit.ts, one per share, shared by pins
// and background fetches): it grows while the server delivers more and answers cleanly, halves when it
// is throttled, never exceeds the setting `cache.parallelDownloads` (a ceiling). A request the server
// throttled (429, 503 — after its Retry-After —, a timeout, a reset) is sent again, a few times at most,
// instead of failing its file.
import { isShareError } from '../core/errors';
import { dispose, type IDisposable } from '../core/events';
import type { Logger } from '../core/log';
import { isEqualOrParent } from '../core/remotePath';
import type { Settings } from '../core/settings';
import type { RemoteEntry } from '../remote/remoteFs';
import { AdaptiveLimit, type Throttle } from './adaptiveLimit';
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

/** Sends of one request at most when the server keeps throttling it (then its file fails). */
export const MAX_TRIES = 5;
/**
 * Folders listed at once, at most (within the limit): a listing costs the server a look at every entry
 * (nephele, in-process, takes seconds for 100 files on a busy machine), and eight at once made each
 * take eight times as long — past the request timeout.
 */
const LIST_PARALLEL = 4;

/** What to do with an item whose request failed. */
type AfterFailure = 'retry' | 'skip' | 'stop';

/** One run of requests through the limit: resolves when its queue is empty and nothing is in flight. */
interface Drain {
  readonly done: Promise<void>;
  /** Items were added to its queue (or the pinner is disposed): start what may start. */
  wake(): void;
}

export class Pinner implements IDisposable {
  private disposables: IDisposable[] = [];
  private disposed = false;
  /** Downloads in flight, shared by explicit pins and background fetches. */
  private readonly inFlight = new Map<string, Promise<number>>();
  private readonly backlog: string[] = [];
  private background?: Drain;
  private readonly drains = new Set<Drain>();
  /** The folders being pinned now: what appears below them is the pin's to download, not the background's. */
  private readonly pinning = new Map<string, number>();
  /** Requests in flight at once, adapted to the server; made with the first request. */
  private limiter?: AdaptiveLimit;

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

  /** The share's limit of requests in flight (for tests and the log): its ceiling is the setting. */
  get limit(): AdaptiveLimit {
    const ceiling = Math.max(1, Math.round(this.settings().parallelDownloads));
    if (!this.limiter) this.limiter = new AdaptiveLimit({ ceiling });
    else if (this.limiter.ceiling !== ceiling) this.limiter.setCeiling(ceiling);
    return this.limiter;
  }

  async pin(path: string, onProgress: (p: PinProgress) => void = () => {}, signal?: AbortSignal): Promise<PinResult> {
    const root = await this.cache.stat(path);
    this.pinning.set(path, (this.pinning.get(path) ?? 0) + 1);
    try {
      return await this.pinTree(path, root, onProgress, signal);
    } finally {
      const n = (this.pinning.get(path) ?? 1) - 1;
      if (n) this.pinning.set(path, n);
      else this.pinning.delete(path);
    }
  }

  private async pinTree(path: string, root: RemoteEntry, onProgress: (p: PinProgress) => void, signal: AbortSignal | undefined): Promise<PinResult> {
    this.space.setPinned(path, true);
    let progress = { filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0 };
    const failed: { path: string; error: string }[] = [];
    const files: { path: string; size: number }[] = [];
    // 1. list the tree, a folder at a time (most servers refuse Depth infinity), a few folders at once
    if (root.type === 'file') {
      files.push({ path, size: root.size });
      progress = { ...progress, filesTotal: 1, bytesTotal: root.size };
    }
    const folders = root.type === 'directory' ? [path] : [];
    let listingFailure: { err: unknown } | undefined;
    const listed = this.drain(
      folders,
      signal,
      async folder => {
        let bytes = 0;
        for (const c of (await this.cache.list(folder, { current: true })).children) {
          if (c.type === 'directory') folders.push(c.path);
          else {
            files.push({ path: c.path, size: c.size });
            bytes += c.size;
          }
        }
        progress = { ...progress, filesTotal: files.length, bytesTotal: progress.bytesTotal + bytes };
        onProgress(progress);
        return 0;
      },
      this.retrying('list', (_folder, err) => {
        listingFailure ??= { err };
        return 'stop';
      }),
      LIST_PARALLEL,
    );
    await listed.done;
    if (listingFailure) throw listingFailure.err;
    // 2. download what is not cached yet
    const queue: { path: string; size: number }[] = [];
    const count = (f: { size: number }) => (progress = { ...progress, filesDone: progress.filesDone + 1, bytesDone: progress.bytesDone + f.size });
    for (const f of files) {
      if (this.tree.hasContent(f.path)) count(f);
      else queue.push(f);
    }
    if (progress.filesDone) onProgress(progress);
    const downloads = this.drain(
      queue,
      signal,
      async f => {
        const bytes = await this.download(f.path);
        onProgress(count(f));
        return bytes;
      },
      this.retrying('download', (f, err) => {
        failed.push({ path: f.path, error: (err as Error).message });
        this.log.warn(`[pin] ${f.path}: download failed (${(err as Error).message})`);
        onProgress(count(f));
        return isShareError(err, 'Unavailable') ? 'stop' : 'skip'; // the server is gone: stop
      }),
    );
    await downloads.done;
    const cancelled = !!signal?.aborted;
    if (cancelled) {
      this.space.setPinned(path, false); // cancelling undoes the pin; what was downloaded stays cached
      this.log.info(`[pin] ${path}: cancelled after ${progress.filesDone} of ${progress.filesTotal} files`);
    } else {
      this.log.info(`[pin] ${path}: ${progress.filesTotal} files, ${progress.bytesTotal} bytes kept available offline (up to ${this.limit.limit} requests at once)`);
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
    for (const p of paths) if (!this.backlog.includes(p) && !this.isBeingPinned(p)) this.backlog.push(p);
    if (this.background) return this.background.wake();
    if (this.disposed || !this.backlog.length) return;
    const run = this.drain(
      this.backlog,
      undefined,
      async path => {
        if (!this.tree.isPinned(path)) return 0;
        const n = await this.download(path);
        if (n) this.log.debug(`[pin] ${path}: fetched in the background (${n} bytes)`);
        return n;
      },
      this.retrying('background fetch', (path, err) => {
        this.log.debug(`[pin] ${path}: background fetch failed (${(err as Error).message})`);
        return 'skip';
      }),
    );
    this.background = run;
    void run.done.finally(() => {
      this.background = undefined;
      if (this.backlog.length) this.fetchInBackground([]); // added as the run ended
    });
  }

  private isBeingPinned(path: string): boolean {
    return [...this.pinning.keys()].some(root => isEqualOrParent(path, root));
  }

  /**
   * The failure handler of a drain: a throttled request is sent again (MAX_TRIES sends at most; the
   * limit already waits out its Retry-After), anything else is `otherwise`'s to decide.
   */
  private retrying<T>(what: string, otherwise: (item: T, err: unknown) => AfterFailure): (item: T, err: unknown, throttle?: Throttle) => AfterFailure {
    const tries = new Map<T, number>();
    return (item, err, throttle) => {
      const n = (tries.get(item) ?? 0) + 1;
      tries.set(item, n);
      if (throttle && n < MAX_TRIES) {
        this.log.debug(`[pin] ${what} throttled (${(err as Error).message}): again, now up to ${this.limit.limit} at once`);
        return 'retry';
      }
      return otherwise(item, err);
    };
  }

  /**
   * Runs `work` on each item of `queue` — which `work` may extend — as many at once as the limit (and
   * `cap`) lets start (it tells the limit how each ended: the bytes fetched, a throttle, another failure). Stops
   * starting on `signal`, on dispose, or when `onFailure` says so; resolves when nothing is in flight.
   */
  private drain<T>(
    queue: T[],
    signal: AbortSignal | undefined,
    work: (item: T) => Promise<number>,
    onFailure: (item: T, err: unknown, throttle?: Throttle) => AfterFailure,
    /** At most this many of this drain's requests at once, whatever the limit. */
    cap = Number.POSITIVE_INFINITY,
  ): Drain {
    let running = 0;
    let stopped = false;
    let finished = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let finish!: () => void;
    const done = new Promise<void>(resolve => (finish = resolve));
    const limit = this.limit;
    const halted = () => stopped || this.disposed || !!signal?.aborted;
    const pump = () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      if (finished) return;
      while (!halted() && queue.length && running < cap && limit.canStart()) {
        const item = queue.shift()!;
        const startedAt = limit.begin();
        running++;
        void work(item)
          .then(
            bytes => limit.succeeded(startedAt, bytes),
            (err: unknown) => {
              const throttle = throttleOf(err);
              if (throttle) limit.throttled(startedAt, throttle.kind, throttle.retryAfterMs);
              else limit.failed();
              const next = onFailure(item, err, throttle?.kind);
              if (next === 'retry') queue.unshift(item);
              else if (next === 'stop') stopped = true;
            },
          )
          .finally(() => {
            running--;
            pump();
            // a slot is free for the others too: pins before background fetches
            for (const other of [...this.drains]) if (other !== drain && other !== this.background) other.wake();
            if (this.background && this.background !== drain) this.background.wake();
          });
      }
      if (!running && (halted() || !queue.length)) {
        signal?.removeEventListener('abort', pump);
        this.drains.delete(drain);
        finished = true;
        finish();
        return;
      }
      // waiting out a Retry-After (with nothing in flight to wake us): a timer does
      const wait = limit.waitMs();
      if (!halted() && queue.length && wait > 0) timer = setTimeout(pump, wait);
    };
    const drain: Drain = { done, wake: pump };
    this.drains.add(drain);
    signal?.addEventListener('abort', pump);
    pump();
    return drain;
  }

  /** Resolves when no background fetch is queued or running (for tests). */
  async idle(): Promise<void> {
    while (this.background || this.inFlight.size > 0) {
      await Promise.allSettled([...this.inFlight.values(), this.background?.done]);
      await new Promise(r => setTimeout(r, 10));
    }
  }

  dispose(): void {
    this.disposed = true;
    this.backlog.length = 0;
    for (const d of [...this.drains]) d.wake(); // each stops starting, its timer cleared
    this.disposables = dispose(this.disposables);
  }
}

/** Whether a failure means the server wants fewer requests: a 429 or 503 (busy), a timeout, a reset. */
function throttleOf(err: unknown): { kind: Throttle; retryAfterMs?: number } | undefined {
  if (!isShareError(err, 'Unavailable')) return undefined;
  if (err.status === 429 || err.status === 503) return { kind: 'busy', retryAfterMs: err.retryAfterMs };
  if (err.reason === 'timeout' || err.reason === 'reset') return { kind: err.reason };
  return undefined;
}
