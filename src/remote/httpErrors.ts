// The ONE place that interprets HTTP statuses and network failures. Everything the `webdav` client,
// fetch or node-fetch can throw becomes a ShareError here (core/errors.ts).
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
  const status = typeof e?.status === 'number' ? e.status : e?.response?.status;
  if (typeof status === 'number') return classifyStatus(status, method, path, err, e?.response?.statusText);

  const code = e?.code ?? e?.cause?.code;
  if (code && NETWORK_CODES[code]) return unavailable(NETWORK_CODES[code], where, err);
  // Node's HTTP parser refused the answer (a header with a control character, a bad length): not a network
  // failure, and not something to retry — the server speaks broken HTTP
  if ((code && /^HPE_/.test(code)) || /Parse Error: /.test(String(e?.message ?? ''))) {
    return new ShareError('Rejected', `${where}: the server's answer is not valid HTTP (${String(e?.message ?? code).replace(/^.*Parse Error: /, '')})`, { cause: err });
  }
  if (code && TLS_CODE.test(code)) return unavailable('tls', where, err, code);
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
    case 401:
      return make('Unauthorized', 'the server needs a valid user name and password');
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
