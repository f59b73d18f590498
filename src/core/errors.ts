// The core's error vocabulary. Remote failures are classified into it in ONE place
// (remote/httpErrors.ts); the VS Code adapter translates it in ONE place (provider/errorMapping.ts).
// NB if you add a code, update provider/errorMapping.ts.

export type ShareErrorCode =
  | 'NotFound' // 404, or a parent folder that does not exist
  | 'Exists' // the target exists and may not be replaced
  | 'NotADirectory'
  | 'IsADirectory'
  | 'NotEmpty' // non-recursive delete of a folder with children
  | 'Unauthorized' // 401: credentials missing or wrong
  | 'NoPermissions' // 403, or an operation this share refuses
  | 'Locked' // 423
  | 'Conflict' // 412: a precondition (If-Match, If-None-Match, Overwrite: F) failed
  | 'InsufficientStorage' // 507
  | 'Rejected' // the server refused the request itself (400, 414, 415, 422, 501…), e.g. a name it cannot store
  | 'Unavailable' // the server cannot be reached or answers 5xx
  | 'Other';

/** Why a server is unavailable; the offline logic decides from this whether to switch offline. */
export type UnavailableReason =
  | 'refused'
  | 'dns'
  | 'reset'
  | 'timeout'
  | 'network'
  | 'server'
  | 'tls'
  /** the server (or a gateway in front of it) answered with a web page instead of WebDAV: a sign-in is needed */
  | 'signin'
  /** the server accepted a change but did not store it (or stored something else): not landed */
  | 'unstored'
  /** not a failure of the network: the share is offline and the item is not in the cache */
  | 'offline';

export interface ShareErrorOptions {
  cause?: unknown;
  /** HTTP status, when the server answered. */
  status?: number;
  reason?: UnavailableReason;
  /** How long the server asked to wait before the next request (a 429's or 503's `Retry-After`), ms. */
  retryAfterMs?: number;
}

export class ShareError extends Error {
  readonly code: ShareErrorCode;
  readonly status?: number;
  readonly reason?: UnavailableReason;
  readonly retryAfterMs?: number;

  constructor(code: ShareErrorCode, message: string, options: ShareErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ShareError';
    this.code = code;
    this.status = options.status;
    this.reason = options.reason;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** A copy with a message prefix, keeping code, status and reason: `err.prefixed('write /a.txt')`. */
  prefixed(prefix: string): ShareError {
    return new ShareError(this.code, `${prefix}: ${this.message}`, {
      cause: this.cause ?? this,
      status: this.status,
      reason: this.reason,
      retryAfterMs: this.retryAfterMs,
    });
  }
}

export function isShareError(err: unknown, code?: ShareErrorCode): err is ShareError {
  return err instanceof ShareError && (code === undefined || err.code === code);
}
