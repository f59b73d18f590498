// Where a share's cache stands in this window: off (live mode), opening, open, waiting for another window
// that has it open, or failed — and the switch to it the moment it is got. A share's cache (its store, its
// journal) is open in ONE window at a time; another window on the same share works without it meanwhile
// (live: reads and conditional saves go to the server, nothing works offline), says so in its status bar,
// and takes the cache over as soon as the other window closes or ends. The first moments of waiting
// (waitMs) hold the share's operations instead: a window reopened while the old one is still closing gets
// the cache without ever running live. The switch itself waits until no operation of this window is under
// way (each of them went to the server without the cache), so none is half in one world and half in the
// other.
import { ShareError } from '../core/errors';
import { Emitter } from '../core/events';
import type { Logger } from '../core/log';
import type { CacheWait } from '../cache/openCache';

export type CacheStatus =
  /** Live mode (settings): no cache. */
  | { readonly kind: 'off' }
  | { readonly kind: 'opening' }
  | { readonly kind: 'open' }
  /**
   * Open in another window (`holder`, for people). `live`: this window works without the cache until it
   * gets it; else its operations still wait for it (the first moments).
   */
  | { readonly kind: 'waiting'; readonly holder: string; readonly live: boolean }
  /** It could not be opened (`reason`): this window works without it. */
  | { readonly kind: 'failed'; readonly reason: string };

/** How long a share's operations wait for a cache another window has open before they go on without it. */
export const DEFAULT_CACHE_WAIT_MS = 3000;
/** The switch waits at most this long for a moment when no operation is under way. */
const SWITCH_WAIT_MS = 10_000;

export class CacheSlot {
  private _status: CacheStatus;
  private readonly _onDidChange = new Emitter<CacheStatus>();
  readonly onDidChange = this._onDidChange.event;
  private readonly aborter = new AbortController();
  private opening: Promise<void> = Promise.resolve();
  /** Operations of this window under way, and who waits for a moment without any. */
  private running = 0;
  private idle?: () => void;

  constructor(
    private readonly key: string,
    enabled: boolean,
    private readonly waitMs = DEFAULT_CACHE_WAIT_MS,
  ) {
    this._status = enabled ? { kind: 'opening' } : { kind: 'off' };
  }

  get status(): CacheStatus {
    return this._status;
  }

  /** The share is closed: an opening that ends now must close what it opened. */
  get closed(): boolean {
    return this.aborter.signal.aborted;
  }

  set(status: CacheStatus): void {
    this._status = status;
    this._onDidChange.fire(status);
  }

  /**
   * Runs `open` (it never rejects) with a wait for another window; resolves once it settled, or once it has
   * waited `waitMs` for another window — from then on this window works without the cache until `open`
   * gets it.
   */
  start(open: (wait: CacheWait) => Promise<void>): Promise<void> {
    return new Promise<void>(resolve => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const wait: CacheWait = {
        signal: this.aborter.signal,
        busy: holder => {
          const live = this._status.kind === 'waiting' && this._status.live;
          this.set({ kind: 'waiting', holder, live });
          timer ??= setTimeout(() => {
            if (this._status.kind === 'waiting' && !this._status.live) this.set({ ...this._status, live: true });
            resolve();
          }, this.waitMs);
        },
      };
      this.opening = open(wait)
        .catch(() => undefined) // open() says what went wrong itself
        .finally(() => {
          clearTimeout(timer);
          resolve();
        });
    });
  }

  /** Runs an operation of this window (counted, so that a switch can wait for a moment without any). */
  async run<T>(op: () => Promise<T>): Promise<T> {
    this.running++;
    try {
      return await op();
    } finally {
      if (--this.running === 0) this.idle?.();
    }
  }

  /**
   * Puts the cache in place: waits for a moment when no operation runs (at most SWITCH_WAIT_MS), then runs
   * `install` — synchronously, so that no operation starts in between. Resolves whether this window
   * worked without it until now (another window had it).
   */
  async switchIn(install: () => void, log: Logger): Promise<boolean> {
    const deadline = Date.now() + SWITCH_WAIT_MS;
    while (this.running > 0 && Date.now() < deadline) {
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.idle = undefined;
    }
    install();
    const switched = this._status.kind === 'waiting';
    this.set({ kind: 'open' });
    if (switched) log.info(`[cache] ${this.key}: the other window let go of the cache; this window uses it now`);
    return switched;
  }

  /** The opening failed, or the share was closed meanwhile: what was opened is closed again, and it is said. */
  async failed(err: unknown, opened: { dispose(): Promise<void> } | undefined, log: Logger): Promise<void> {
    await opened?.dispose().catch(() => undefined); // its store is open: let another window have it
    if (this.closed) return;
    const reason = err instanceof Error ? err.message : String(err);
    log.error(`[cache] ${this.key}: cannot open the cache, working without it (${reason})`);
    this.set({ kind: 'failed', reason });
  }

  /** The error of an operation that needs the cache while this window has none. */
  unavailable(what: string): ShareError {
    const s = this._status;
    const which =
      s.kind === 'waiting'
        ? `which another window has open (${s.holder}); this window switches to it as soon as that window is closed`
        : s.kind === 'failed'
          ? `which could not be opened (${s.reason})`
          : 'which is off for this share (live mode)';
    return new ShareError('NoPermissions', `${this.key}: ${what} needs the cache, ${which}`);
  }

  /** Stops waiting for the cache; resolves once the opening ended (what it opened is closed again). */
  async dispose(): Promise<void> {
    this.aborter.abort();
    await this.opening;
    this._onDidChange.dispose();
  }
}
