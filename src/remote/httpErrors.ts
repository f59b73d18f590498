// The ONE place that interprets HTTP statuses and network failures. Everything the `webdav` client,
// fetch, node-fetch or the Node transport can throw becomes a ShareError here (core/errors.ts). TLS
// failures are `Unavailable` with reason `tls` (not "unreachable": the share does not go offline by
// itself for them); one the transport explained (an untrusted or changed certificate, an unusable
// client certificate) keeps its explanation in the cause, for the share's trust prompt
// (core/certificates.ts `tlsProblemOf`). A server that asks to slow down (429 Too Many Requests, 503 Service
// Unavailable) is `Unavailable` with reason `server`, carrying its `Retry-After` (capped) for whoever
// retries (the pinner's adaptive parallelism, cache/adaptiveLimit.ts).
import { describeTrustReason, tlsProblemOf, type TlsProblem } from '../core/certificates';
import { ShareError, UnavailableReason } from '../core/errors';

export type Method = 'PROPFIND' | 'GET' | 'PUT' | 'MKCOL' | 'DELETE' | 'MOVE' | 'COPY' | 'LOCK' | 'UNLOCK';

const NETWORK_CODES: Record<string, UnavailableReason> = {
  ECONNREFUSED: 'refused',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  ECONNRESET: 'reset',
  EPIPE: 'reset',
  ECONNABORTED: 'reset',
  ERR_STREAM_PREMATURE_CLOSE: 'reset',
  UND_ERR_SOCKET: 'reset',
  ETIMEDOUT: 'timeout',
  ESOCKETTIMEDOUT: 'timeout',
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  EHOSTUNREACH: 'network',
  ENETUNREACH: 'network',
  ENETDOWN: 'network',
  EHOSTDOWN: 'network',
  EADDRNOTAVAIL: 'network',
};

const TLS_CODE = /^(CERT_|ERR_TLS_|ERR_SSL_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(VERIFY|GET)_|EPROTO$)/;

const REASON_TEXT: Record<UnavailableReason, string> = {
  refused: 'the server refused the connection',
  dns: 'the host name could not be resolved',
  reset: 'the connection was dropped',
  timeout: 'the server did not answer in time',
  network: 'the network is unreachable',
  server: 'the server had an internal error',
  tls: 'the secure connection failed (certificate or TLS problem)',
  signin: 'the server (or a gateway in front of it) answered with a web page instead of WebDAV data: a sign-in is needed',
  unstored: 'the server answered, but did not store the change',
  offline: 'the share is offline',
};

/** Classifies any failure of one request. `op` names the request for the message, e.g. `PUT /a.txt`. */
export function classifyError(err: unknown, method: Method, path: string): ShareError {
  if (err instanceof ShareError) return err;
  const e = err as { status?: number; response?: { status?: number; statusText?: string }; code?: string; name?: string; message?: string; cause?: { code?: string; name?: string } } | undefined;
  const where = `${method} ${path}`;
  const problem = tlsProblemOf(err);
  if (problem) return new ShareError('Unavailable', `${where}: ${describeTlsProblem(problem)}`, { cause: err, reason: 'tls' });
  const status = typeof e?.status === 'number' ? e.status : e?.response?.status;
  if (typeof status === 'number') return classifyStatus(status, method, path, err, e?.response?.statusText);

  const code = e?.code ?? e?.cause?.code;
  const proxy = (err as { proxy?: string } | undefined)?.proxy;
  if (proxy && code === 'ERR_PROXY_AUTH') {
    return new ShareError('Other', `${where}: the proxy ${proxy} asks for a user name and password (HTTP 407). ${PROXY_CREDENTIALS}`, { cause: err, status: 407 });
  }
  if (proxy && code === 'ERR_PROXY_REFUSED') return new ShareError('Other', `${where}: ${e?.message}`, { cause: err });
  if (proxy && code === 'ERR_PROXY_CONFIG') return new ShareError('Other', `${where}: ${e?.message}`, { cause: err });
  if (code && NETWORK_CODES[code]) return unavailable(NETWORK_CODES[code], where, err, proxy ? `through the proxy ${proxy}` : undefined);
  // Node's HTTP parser refused the answer (a header with a control character, a bad length): not a network
  // failure, and not something to retry — the server speaks broken HTTP
  if ((code && /^HPE_/.test(code)) || /Parse Error: /.test(String(e?.message ?? ''))) {
    return new ShareError('Rejected', `${where}: the server's answer is not valid HTTP (${String(e?.message ?? code).replace(/^.*Parse Error: /, '')})`, { cause: err });
  }
  if (code && TLS_CODE.test(code)) {
    return unavailable('tls', where, err, proxy ? `${code}, with the proxy ${proxy}: its certificate is checked as the setting http.proxyStrictSSL says` : tlsDetail(code));
  }
  const name = e?.name ?? '';
  const message = String(e?.message ?? err ?? '');
  if (name === 'AbortError' || name === 'TimeoutError' || e?.cause?.name === 'TimeoutError' || /aborted|timed? ?out/i.test(message)) {
    return unavailable('timeout', where, err);
  }
  // The browser's fetch reports every network failure as a bare TypeError (Chrome: "Failed to fetch",
  // undici: "fetch failed", Firefox: "NetworkError when attempting to fetch resource.", Safari: "Load failed").
  if (name === 'TypeError' && /fetch|network|load failed/i.test(message)) return unavailable('network', where, err);
  if (/socket hang up|premature close|other side closed/i.test(message)) return unavailable('reset', where, err);
  if (/No root multistatus found|Invalid response: .*multistatus/i.test(message)) {
    return new ShareError('Rejected', `${where}: the server did not answer as a WebDAV server`, { cause: err });
  }
  return new ShareError('Other', `${where}: ${message || 'unknown error'}`, { cause: err });
}

export function classifyStatus(status: number, method: Method, path: string, cause?: unknown, statusText?: string): ShareError {
  const where = `${method} ${path}`;
  const http = `${status}${statusText ? ' ' + statusText : ''}`;
  const make = (code: ConstructorParameters<typeof ShareError>[0], what: string) =>
    new ShareError(code, `${where}: ${what} (HTTP ${http})`, { cause, status });
  switch (status) {
    case 401: {
      const schemes = authSchemes(challengeOf(cause));
      if (schemes.length && schemes.every(s => WINDOWS_SIGN_IN.has(s))) {
        return make(
          'Other',
          'this server asks for Windows sign-in (Negotiate/NTLM), which WebDAV Offline does not support; ask its administrator for an app password, or for Basic sign-in over HTTPS',
        );
      }
      return make('Unauthorized', 'the server needs a valid user name and password');
    }
    case 407:
      return make('Other', `a proxy between here and the server asks for a user name and password. ${PROXY_CREDENTIALS}`);
    case 403:
      return make('NoPermissions', 'the server does not allow this');
    case 404:
    case 410:
      return make('NotFound', 'not found on the server');
    case 405:
      if (method === 'MKCOL') return make('Exists', 'something with this name already exists');
      return make('Rejected', 'the server does not allow this operation here');
    case 409:
      if (method === 'PUT' || method === 'MKCOL' || method === 'MOVE' || method === 'COPY') {
        return make('NotFound', 'the parent folder does not exist');
      }
      return make('Rejected', 'the server reports a conflict with the current state');
    case 412:
      return make('Conflict', 'the item changed on the server or already exists');
    case 423:
      return make('Locked', 'the item is locked on the server');
    case 507:
      return make('InsufficientStorage', 'the server has no space left');
    case 429:
    case 503: {
      const wait = retryAfterOf(cause);
      const what = status === 429 ? 'the server asks to slow down (too many requests)' : 'the server is unavailable for now (busy, or down for maintenance)';
      const when = wait === undefined ? '' : `; it asks to wait ${Math.ceil(wait / 1000)} s`;
      return new ShareError('Unavailable', `${where}: ${what}${when} (HTTP ${http})`, { cause, status, reason: 'server', retryAfterMs: wait });
    }
    case 400:
    case 414:
    case 415:
    case 422:
    case 501:
      return make('Rejected', 'the server rejected the request (for example a name it cannot store)');
    default:
      if (status >= 500) {
        return new ShareError('Unavailable', `${where}: ${REASON_TEXT.server} (HTTP ${http})`, {
          cause,
          status,
          reason: 'server',
        });
      }
      return make('Other', 'unexpected answer from the server');
  }
}

function unavailable(reason: UnavailableReason, where: string, cause: unknown, detail?: string): ShareError {
  return new ShareError('Unavailable', `${where}: ${REASON_TEXT[reason]}${detail ? ` (${detail})` : ''}`, { cause, reason });
}

const PROXY_CREDENTIALS = 'Put them in the setting http.proxy (http://user:password@host:port) or set http.proxyAuthorization.';

const WINDOWS_SIGN_IN = new Set(['negotiate', 'ntlm', 'kerberos']);

/** The authentication schemes a `WWW-Authenticate` header offers, lower-case, in order (`Digest`, `Basic`…). */
export function authSchemes(header: string | null | undefined): string[] {
  if (!header) return [];
  // quoted strings may hold commas and `=`: out of the way first
  const plain = header.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const schemes: string[] = [];
  for (const part of plain.split(',')) {
    const m = /^\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)(\s*=)?/.exec(part);
    if (m && !m[2]) schemes.push(m[1].toLowerCase()); // `token=` continues the previous challenge's parameters
  }
  return schemes;
}

/** The `WWW-Authenticate` header of the answer a failure carries (a 401's), if any. */
export function challengeOf(err: unknown): string | null {
  return headerOf(err, 'www-authenticate');
}

/** The longest wait a `Retry-After` is honoured for: a server's "come back tomorrow" is not waited out. */
export const MAX_RETRY_AFTER_MS = 60_000;

/**
 * A `Retry-After` value in ms (RFC 9110 §10.2.3: delay-seconds, or an HTTP-date), at most
 * MAX_RETRY_AFTER_MS; undefined when absent or not valid. A date in the past is 0.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Math.min(Number(v) * 1000, MAX_RETRY_AFTER_MS);
  // an HTTP-date has a weekday and a time (IMF-fixdate, or the obsolete forms Date.parse also reads)
  if (!/^[A-Za-z]{3,9},? .*\d{1,2}:\d{2}:\d{2}/.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS);
}

/** The `Retry-After` of the answer a failure carries, in ms, if any. */
function retryAfterOf(err: unknown): number | undefined {
  return parseRetryAfter(headerOf(err, 'retry-after'));
}

/** A header of the answer a failure carries (in it, or in its causes), if any. */
function headerOf(err: unknown, name: string): string | null {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const headers = (e as { response?: { headers?: { get?(name: string): string | null } } }).response?.headers;
    if (typeof headers?.get === 'function') return headers.get(name);
  }
  return null;
}

/** What the user can read in a TLS problem the transport explained. */
export function describeTlsProblem(problem: TlsProblem): string {
  switch (problem.kind) {
    case 'untrusted':
      return `the server's certificate is not trusted: ${describeTrustReason(problem.reason, problem.certificate)} (SHA-256 ${problem.certificate.fingerprint})`;
    case 'changed':
      return (
        `the server's certificate changed since you trusted it for this share — it was ${problem.pinned}, it is now ${problem.certificate.fingerprint}. ` +
        'Someone may be intercepting the connection, or the server got a new certificate: ask its administrator. Nothing was sent. ' +
        'If the new certificate is genuine, run "WebDAV: Review Server Certificate…" to check and trust it'
      );
    case 'options':
      return `the certificate settings of this share cannot be used: ${problem.detail}`;
  }
}

/** A TLS failure's code in words, where there is more to say than the code. */
function tlsDetail(code: string): string {
  const set = 'set "clientCertificate" for this share in the setting webdavOffline.shares';
  if (/CERTIFICATE_REQUIRED/.test(code)) return `${code}: the server asks for a client certificate — ${set}`;
  if (/ALERT_BAD_CERTIFICATE|ALERT_UNKNOWN_CA|ALERT_ACCESS_DENIED|ALERT_CERTIFICATE_UNKNOWN|ALERT_HANDSHAKE_FAILURE/.test(code)) {
    return `${code}: the server refused the connection during the handshake; if it asks for a client certificate, ${set} (one the server accepts)`;
  }
  return code;
}
