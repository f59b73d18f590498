// How many downloads a pin keeps in flight, found as it goes — a fixed number is either too few for a
// long, fat link (each request waits a round trip, the link idles) or too many for a small server (it
// answers 429/503). AIMD, like TCP's congestion window: it starts at min(8, ceiling); each measuring
// window (a few request durations, at least MIN_WINDOW_MS) in which the limit was reached and nothing
// was throttled, it grows while the throughput (bytes per second) grows — by half at first, by one once a
// plateau or a throttle was seen — and holds when it does not. A throttle — 429, 503, a timeout, a reset
// — halves it (once per round of requests: those already in flight when it was cut do not cut it again),
// and a 429 or 503 stops new starts for its `Retry-After` (capped; without one, 1 s doubling). The
// ceiling (the setting `cache.parallelDownloads`) is never exceeded. Pure logic with an injected clock;
// the pinner (pinner.ts) asks it before each start and tells it how each request ended.

export type Throttle = 'busy' | 'timeout' | 'reset';

export interface AdaptiveLimitOptions {
  /** The most in flight, ever (the setting `cache.parallelDownloads`). */
  readonly ceiling: number;
  /** Where the limit starts (default min(START, ceiling)). */
  readonly start?: number;
  /** Milliseconds, monotonic (default performance.now). */
  readonly now?: () => number;
}

/** Where the limit starts when not told: what a browser opens per host, and rclone's checkers. */
export const START = 8;
/** Shortest measuring window, ms. */
export const MIN_WINDOW_MS = 250;
/** A window is this many request durations long at least (new connections take a round trip to help). */
const WINDOW_REQUESTS = 4;
/** Throughput counts as grown when it is this much above the previous window's. */
const GAIN = 0.05;
/** The wait after a 429/503 without `Retry-After`, ms, doubling while the server keeps refusing. */
const BUSY_WAIT_MS = 1_000;
/** The longest wait, ms (also the cap of a `Retry-After`). */
export const MAX_WAIT_MS = 60_000;

export class AdaptiveLimit {
  private _limit: number;
  private _ceiling: number;
  private _inFlight = 0;
  private readonly now: () => number;
  /** No start before this time (a Retry-After being waited out). */
  private pausedUntil = 0;
  /** Growing by half each window until the first plateau or throttle, then by one. */
  private slowStart = true;
  /** 429/503 answers since the last success: the wait without Retry-After doubles with each. */
  private busyStreak = 0;
  /** When the limit was last cut: requests started before it do not cut it again. */
  private lastCutAt = Number.NEGATIVE_INFINITY;
  /** Mean duration of a successful request, ms (exponentially weighted). */
  private meanMs?: number;
  /** The previous window's throughput, bytes/s. */
  private lastRate?: number;
  private window!: { start: number; bytes: number; done: number; bound: boolean; throttled: boolean };

  constructor(options: AdaptiveLimitOptions) {
    this.now = options.now ?? (() => performance.now());
    this._ceiling = Math.max(1, Math.floor(options.ceiling));
    this._limit = clamp(options.start ?? START, 1, this._ceiling);
    this.newWindow(this.now());
  }

  /** Requests that may be in flight now. */
  get limit(): number {
    return this._limit;
  }

  get ceiling(): number {
    return this._ceiling;
  }

  /** Requests in flight now (begun, not ended). */
  get inFlight(): number {
    return this._inFlight;
  }

  /** A new ceiling (the setting changed): the limit never exceeds it. */
  setCeiling(ceiling: number): void {
    this._ceiling = Math.max(1, Math.floor(ceiling));
    this._limit = Math.min(this._limit, this._ceiling);
  }

  /** How long until the next request may start, ms (0: now; a Retry-After is being waited out). */
  waitMs(): number {
    return Math.max(0, this.pausedUntil - this.now());
  }

  /** Whether one more request may start now. */
  canStart(): boolean {
    return this._inFlight < this._limit && this.waitMs() === 0;
  }

  /** A request starts; returns its start time, to hand back when it ends. */
  begin(): number {
    const now = this.now();
    if (this.window.start < this.pausedUntil) this.newWindow(now); // the wait is not measured
    this._inFlight++;
    if (this._inFlight >= this._limit) this.window.bound = true;
    return now;
  }

  /** A request ended well, having fetched `bytes`. */
  succeeded(startedAt: number, bytes: number): void {
    const now = this.now();
    this._inFlight = Math.max(0, this._inFlight - 1);
    this.busyStreak = 0;
    const ms = Math.max(0, now - startedAt);
    this.meanMs = this.meanMs === undefined ? ms : this.meanMs * 0.9 + ms * 0.1;
    this.window.bytes += bytes;
    this.window.done++;
    const length = Math.max(MIN_WINDOW_MS, WINDOW_REQUESTS * (this.meanMs ?? 0));
    if (now - this.window.start >= length && this.window.done >= WINDOW_REQUESTS) this.endWindow(now);
  }

  /** A request ended with a failure that says nothing about the load (a 404, a refused name…). */
  failed(): void {
    this._inFlight = Math.max(0, this._inFlight - 1);
  }

  /**
   * A request was throttled: `busy` (429, 503), a timeout, a reset. The limit halves (once for the
   * requests that were in flight together); a busy answer stops new starts for `retryAfterMs` (capped),
   * or for a wait that doubles while the server keeps refusing.
   */
  throttled(startedAt: number, kind: Throttle, retryAfterMs?: number): void {
    const now = this.now();
    this._inFlight = Math.max(0, this._inFlight - 1);
    this.window.throttled = true;
    if (startedAt >= this.lastCutAt) {
      this._limit = Math.max(1, Math.floor(this._limit / 2));
      this.lastCutAt = now;
      this.slowStart = false;
      this.lastRate = undefined; // what was measured at the old limit says nothing about the new one
    }
    if (kind === 'busy') {
      const wait = retryAfterMs ?? BUSY_WAIT_MS * 2 ** Math.min(this.busyStreak, 6);
      this.busyStreak++;
      this.pausedUntil = Math.max(this.pausedUntil, now + clamp(wait, 0, MAX_WAIT_MS));
    }
  }

  private endWindow(now: number): void {
    const w = this.window;
    const rate = (w.bytes * 1000) / Math.max(1, now - w.start);
    const judged = w.bound && !w.throttled && w.bytes > 0; // (listings carry no bytes: nothing to judge)
    if (judged) {
      if (this.lastRate === undefined || rate > this.lastRate * (1 + GAIN)) {
        const step = this.slowStart ? Math.max(1, Math.ceil(this._limit / 2)) : 1;
        this._limit = Math.min(this._ceiling, this._limit + step);
      } else {
        this.slowStart = false; // a plateau: more in flight did not fetch more
      }
    }
    // a window in which the limit was not reached measured the work, not the limit
    if (judged) this.lastRate = rate;
    this.newWindow(now);
  }

  private newWindow(now: number): void {
    this.window = { start: now, bytes: 0, done: 0, bound: this._inFlight >= this._limit, throttled: false };
  }
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, Math.floor(n)));
}
