// The connection state of one share: Online, Offline (by hand), Offline (unreachable), Reconnecting.
// Network failures switch it offline by themselves; a probe with exponential backoff brings it back.
// A 401/403 is not "offline": the server answered.
import { isShareError, type ShareError, type UnavailableReason } from '../core/errors';
import { Emitter, type IDisposable } from '../core/events';
import type { Logger } from '../core/log';

export type ConnectionState =
  | { readonly kind: 'online' }
  | { readonly kind: 'offline'; readonly manual: true }
  /**
   * `reason` says why in words; `cause` is what kind of failure: the network or the server failing
   * (`refused`, `timeout`, …), a sign-in the server or a gateway asks for (`signin`), a change the server
   * accepted but did not store (`unstored`), or `other` (the replay failed for another reason).
   */
  | { readonly kind: 'offline'; readonly manual: false; readonly reason: string; readonly cause: UnavailableReason | 'other' }
  | { readonly kind: 'reconnecting'; readonly manual: boolean };

export interface ConnectionChange {
  readonly previous: ConnectionState;
  readonly current: ConnectionState;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ConnectionOptions {
  /** Asks the server something cheap; rejects when it cannot be reached. */
  readonly probe: () => Promise<void>;
  /** Runs after a successful probe, before the share counts as online again (the journal replay). */
  readonly beforeOnline?: () => Promise<void>;
  readonly log: Logger;
  readonly timers?: Timers;
  readonly firstRetryMs?: number;
  readonly maxRetryMs?: number;
  /** This many 5xx answers in a row switch the share offline. */
  readonly serverErrorLimit?: number;
}

const REAL_TIMERS: Timers = { setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout: h => clearTimeout(h as ReturnType<typeof setTimeout>) };

/** Whether a failure means the server cannot be reached (as opposed to an answer we do not like). */
export function isNetworkFailure(err: unknown): err is ShareError {
  return isShareError(err, 'Unavailable') && err.reason !== 'tls' && err.reason !== 'offline';
}

export class Connection implements IDisposable {
  private _state: ConnectionState = { kind: 'online' };
  private readonly _onDidChange = new Emitter<ConnectionChange>();
  readonly onDidChange = this._onDidChange.event;
  private serverErrors = 0;
  private retryMs: number;
  private timer?: unknown;
  private reconnecting?: Promise<boolean>;
  private disposed = false;
  private readonly timers: Timers;

  constructor(private readonly options: ConnectionOptions) {
    this.timers = options.timers ?? REAL_TIMERS;
    this.retryMs = options.firstRetryMs ?? 1_000;
  }

  get state(): ConnectionState {
    return this._state;
  }

  get isOnline(): boolean {
    return this._state.kind === 'online';
  }

  private set state(next: ConnectionState) {
    const previous = this._state;
    this._state = next;
    if (previous.kind !== next.kind || (previous.kind === 'offline' && next.kind === 'offline' && previous.manual !== next.manual)) {
      this.options.log.info(`[connection] ${describeState(previous)} → ${describeState(next)}`);
    }
    this._onDidChange.fire({ previous, current: next });
  }

  /** "Go Offline": no request reaches the server until "Go Online". */
  goOffline(): void {
    this.cancelRetry();
    this.state = { kind: 'offline', manual: true };
  }

  /** "Go Online" (or a retry): probes, replays, then counts as online. Resolves whether it is online. */
  goOnline(): Promise<boolean> {
    this.cancelRetry();
    if (this._state.kind === 'online') return Promise.resolve(true);
    this.reconnecting ??= this.reconnect().finally(() => (this.reconnecting = undefined));
    return this.reconnecting;
  }

  /** Runs the reconnect (probe, then the replay) now, online or not — unless offline by hand. */
  resync(): Promise<boolean> {
    this.cancelRetry();
    if (this._state.kind === 'offline' && this._state.manual) return Promise.resolve(false);
    this.reconnecting ??= this.reconnect().finally(() => (this.reconnecting = undefined));
    return this.reconnecting;
  }

  private async reconnect(): Promise<boolean> {
    const manual = this._state.kind === 'offline' && this._state.manual;
    this.state = { kind: 'reconnecting', manual };
    try {
      await this.options.probe();
      await this.options.beforeOnline?.();
    } catch (err) {
      const network = isNetworkFailure(err);
      const why = network ? describeFailure(err) : (err as Error).message;
      this.options.log.debug(`[connection] reconnect failed (${(err as Error).message})`);
      this.state = { kind: 'offline', manual: false, reason: why, cause: network ? (err.reason ?? 'other') : 'other' };
      this.scheduleRetry();
      return false;
    }
    this.retryMs = this.options.firstRetryMs ?? 1_000;
    this.serverErrors = 0;
    this.state = { kind: 'online' };
    return true;
  }

  /**
   * Tells the connection a request failed. Returns true when the failure means the server is
   * unreachable: the share is (now) offline and the caller serves the operation locally.
   */
  reportFailure(err: unknown): boolean {
    if (!isNetworkFailure(err)) return false;
    // a server that says when to come back (429, 503 with Retry-After) is reachable and busy, not gone
    if (err.retryAfterMs !== undefined) return false;
    if (err.reason === 'server' && ++this.serverErrors < (this.options.serverErrorLimit ?? 3)) return false;
    if (this._state.kind === 'online') {
      this.state = { kind: 'offline', manual: false, reason: describeFailure(err), cause: err.reason ?? 'other' };
      this.scheduleRetry();
    }
    return true;
  }

  /** Tells the connection a request succeeded. */
  reportSuccess(): void {
    this.serverErrors = 0;
  }

  private scheduleRetry(): void {
    this.cancelRetry();
    if (this.disposed) return; // a reconnect that ends after dispose() schedules nothing
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, this.options.maxRetryMs ?? 60_000);
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      if (this._state.kind === 'offline' && !this._state.manual) void this.goOnline();
    }, delay);
  }

  private cancelRetry(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  dispose(): void {
    this.disposed = true;
    this.cancelRetry();
    this._onDidChange.dispose();
  }
}

/** Why the server cannot be reached, about the server rather than the request that found out. */
export function describeFailure(err: ShareError): string {
  return err.message.replace(/^[A-Z]+ \/[^:]*: /, '');
}

export function describeState(s: ConnectionState): string {
  switch (s.kind) {
    case 'online':
      return 'online';
    case 'offline':
      if (s.manual) return 'offline (by hand)';
      switch (s.cause) {
        case 'signin':
          return `offline (sign-in needed: ${s.reason})`;
        case 'unstored':
          return `offline (changes not stored: ${s.reason})`;
        case 'other':
          return `offline (reconnect failed: ${s.reason})`;
        default:
          return `offline (unreachable: ${s.reason})`;
      }
    case 'reconnecting':
      return 'reconnecting';
  }
}
