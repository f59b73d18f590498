// One HTTP exchange with the share's server, with everything a hostile or broken server could abuse
// checked here, once, for every request:
// - the request target is built by ONE encoder (core/remotePath `encodePath`: every reserved byte of a
//   segment percent-encoded, `\` included) — the same one the Destination header uses;
// - redirects are never followed by fetch: a read (GET, PROPFIND) may follow a few hops within the
//   share's origin (scheme, host AND port), a change only the one hop to its own address with a final
//   `/` (a folder's canonical address); anything else — a change sent elsewhere, another origin, `data:`
//   — is refused with an error that names the target, so neither a body nor the credentials leave;
// - bodies are read as streams against limits (Content-Length checked, a maximum enforced while reading),
//   and multistatus answers are parsed as they arrive, yielding to the event loop between chunks.
// The `webdav` client gives the auth (Basic, Digest) and the platform's fetch; its fetch is patched once
// (its documented hot-patching hook) so that redirects come back to us, and so that a share with a
// transport of its own (remote/transport.ts: the Node host's) sends through it.
import { fetch as platformFetch } from '@buttercup/fetch';
import { getPatcher, type WebDAVClient } from 'webdav';
import { ShareError } from '../core/errors';
import type { Logger } from '../core/log';
import { encodePath } from '../core/remotePath';
import { classifyError, classifyStatus, type Method } from './httpErrors';
import { MultistatusError, MultistatusReader, type MultistatusItem } from './multistatus';
import type { ShareFetch } from './transport';

/** What we read of an answer, whatever the platform's fetch (node-fetch, the browser's). */
export interface FetchResponse {
  readonly status: number;
  readonly statusText?: string;
  readonly headers: { get(name: string): string | null };
  /** `opaqueredirect` in a browser that hid a redirect. */
  readonly type?: string;
  readonly redirected?: boolean;
  readonly url?: string;
  /** A Node stream (node-fetch) or a web ReadableStream. */
  readonly body?: unknown;
}

const READS: readonly string[] = ['GET', 'PROPFIND', 'HEAD', 'OPTIONS'];
const MAX_REDIRECTS = 5;
/** The event loop gets a turn at least this often while a long answer is parsed, ms. */
const PARSE_SLICE_MS = 15;

let patched = false;

/**
 * What the `webdav` client is given as its agent (`httpAgent`, `httpsAgent`) when the share has a
 * transport of its own: the client hands it to fetch with every request, and fetch sends through it.
 */
export interface TransportAgent {
  readonly shareFetch: ShareFetch;
}

/**
 * Every request of the `webdav` client goes out with `redirect: 'manual'`, through the share's own
 * transport when it has one. Where the platform hides the redirect's target (a browser's opaque
 * redirect), a read is sent again with the browser following it (the browser never sends credentials
 * to another origin; the final URL is checked afterwards); a write is never sent again.
 */
function patchFetchOnce(): void {
  if (patched) return;
  patched = true;
  type Fetch = (url: unknown, init: Record<string, unknown>) => Promise<FetchResponse>;
  getPatcher().patch('fetch', async (...args: unknown[]) => {
    const [url, init = {}] = args as [unknown, Record<string, unknown> | undefined];
    const given = typeof init.agent === 'function' ? (init.agent as (u: URL) => unknown)(new URL(String(url))) : init.agent;
    const own = (given as Partial<TransportAgent> | undefined)?.shareFetch;
    const send: Fetch = own ? (u, { agent: _agent, ...rest }) => own(String(u), rest) : (platformFetch as unknown as Fetch);
    const res = await send(url, { ...init, redirect: 'manual' });
    if (res.type === 'opaqueredirect' && READS.includes(String(init.method ?? 'GET').toUpperCase())) {
      return send(url, { ...init, redirect: 'follow' });
    }
    return res;
  });
}

export interface SendOptions {
  readonly headers?: Record<string, string>;
  /** The body; a function makes a fresh one for each time the request is sent (a stream read once). */
  readonly data?: string | ArrayBuffer | (() => unknown);
  /** Whole-file transfer (GET, PUT): the transfer timeout applies, else the request timeout. */
  readonly transfer?: boolean;
}

export class HttpExchange {
  /** `http://host:port`, lower-case. */
  readonly origin: string;

  constructor(
    /** The share's base URL, percent-encoded, without a trailing slash (`http://h:1/my%20share`). */
    private readonly baseUrl: string,
    private readonly client: () => WebDAVClient,
    private readonly timeouts: () => { requestMs: number; transferMs: number },
    private readonly log: Logger,
  ) {
    patchFetchOnce();
    this.origin = new URL(baseUrl).origin.toLowerCase();
  }

  /** The URL of a share path: the one encoder for request targets and Destination headers. */
  url(path: string): string {
    return this.baseUrl + encodePath(path);
  }

  /**
   * Sends one request (following a read's redirects within the origin); resolves with the answer to
   * read, rejects with a classified ShareError (status ≥ 400, network failure, refused redirect).
   * `signal` (optional) aborts it; otherwise the configured timeout does.
   */
  async send(method: Method, path: string, options: SendOptions = {}, signal?: AbortSignal): Promise<FetchResponse> {
    const t = this.timeouts();
    const abort = signal ?? AbortSignal.timeout(options.transfer ? t.transferMs : t.requestMs);
    let url = this.url(path);
    for (let hop = 0; ; hop++) {
      let res: FetchResponse;
      try {
        res = (await this.client().customRequest(path, { url, method, headers: options.headers, data: bodyOf(options.data), signal: abort }));
      } catch (err) {
        const answer = (err as { response?: FetchResponse } | undefined)?.response;
        if (answer) cancelBody(answer); // the error answer's body is not read: free the connection
        throw classifyError(err, method, path);
      }
      if (res.status >= 400) {
        // the client hands back a 401 when it does Digest (its own retry with the challenge was refused)
        cancelBody(res);
        throw classifyStatus(res.status, method, path, { response: res }, res.statusText);
      }
      if (res.type === 'opaqueredirect' || res.status === 0) {
        // a browser that hides the target (only writes get here)
        throw new ShareError('Rejected', `${method} ${path}: the server redirected this request (the browser does not say where); changes are never sent on to another address. Check the share's address.`);
      }
      if (res.redirected && res.url && new URL(res.url).origin.toLowerCase() !== this.origin) {
        cancelBody(res);
        throw new ShareError('Rejected', `${method} ${path}: the server redirected to another server (${safeUrl(res.url)}); WebDAV Offline only talks to ${this.origin}.`);
      }
      if (res.status < 300 || res.status === 304) return res;
      // 3xx: decide by hand
      cancelBody(res);
      const location = res.headers.get('location');
      let target: URL | undefined;
      try {
        target = location ? new URL(location, url) : undefined;
      } catch {
        target = undefined;
      }
      const where = target ? safeUrl(target.href) : 'an address it did not give';
      // A folder's canonical address ends with `/` (lighttpd and nginx redirect there): the same resource,
      // so even a change may follow that one hop. Anything else a change never follows.
      if (target && hop === 0 && target.href === `${url.replace(/\/$/, '')}/` && !url.endsWith('/')) {
        this.log.debug(`[remote] ${method} ${path}: the server asks for the folder's address with a final "/"`);
        url = target.href;
        continue;
      }
      if (!READS.includes(method)) {
        throw new ShareError(
          'Rejected',
          `${method} ${path}: the server redirected this change to ${where} (HTTP ${res.status}); changes are never sent on to another address. Check the share's address.`,
          { status: res.status },
        );
      }
      if (!target || target.origin.toLowerCase() !== this.origin) {
        throw new ShareError('Rejected', `${method} ${path}: the server redirected to ${where}, outside ${this.origin}; WebDAV Offline only follows redirects on the share's own server.`, {
          status: res.status,
        });
      }
      if (hop >= MAX_REDIRECTS) {
        throw new ShareError('Rejected', `${method} ${path}: more than ${MAX_REDIRECTS} redirects (last to ${where}); the server's configuration loops.`, { status: res.status });
      }
      this.log.debug(`[remote] ${method} ${path}: redirected (${res.status}) to ${where}`);
      url = target.href;
    }
  }

  /** Reads a body as bytes, refusing more than `max` bytes or more (or fewer) than Content-Length announces. */
  async readBytes(res: FetchResponse, method: Method, path: string, max: number): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of this.streamBytes(res, method, path, max)) {
      chunks.push(chunk);
      total += chunk.byteLength;
    }
    return concat(chunks, total);
  }

  /**
   * The body's chunks as they arrive, refusing more than `max` bytes or more (or fewer) than
   * Content-Length announces; a failure while reading is a ShareError of this request.
   */
  async *streamBytes(res: FetchResponse, method: Method, path: string, max: number): AsyncGenerator<Uint8Array> {
    const announced = contentLength(res);
    if (announced !== undefined && announced > max) {
      cancelBody(res);
      throw tooLarge(method, path, `${announced} bytes announced`, max);
    }
    let total = 0;
    let finished = false;
    try {
      for await (const chunk of bodyChunks(res)) {
        total += chunk.byteLength;
        if (total > max) throw tooLarge(method, path, 'more bytes than that', max);
        if (announced !== undefined && total > announced) {
          throw new ShareError('Rejected', `${method} ${path}: the server sent more than the ${announced} bytes it announced; the answer is not trusted.`);
        }
        yield chunk;
      }
      finished = true;
    } catch (err) {
      throw classifyError(err, method, path);
    } finally {
      if (!finished) cancelBody(res); // an error, or a reader that stopped early
    }
    if (announced !== undefined && total < announced) {
      throw new ShareError('Unavailable', `${method} ${path}: the connection ended after ${total} of ${announced} bytes`, { reason: 'reset' });
    }
  }

  /** Reads a (small) text body, at most `max` bytes. */
  async readText(res: FetchResponse, method: Method, path: string, max = 1024 * 1024): Promise<string> {
    return new TextDecoder().decode(await this.readBytes(res, method, path, max));
  }

  /**
   * Reads and parses a multistatus answer as it arrives: at most `maxBytes` and `maxEntries`, never
   * blocking the event loop for long. A 2xx answer that is a web page means a sign-in (a gateway's
   * page); anything else that is not a multistatus is not WebDAV. With `onItems`, the entries are handed
   * over as they are parsed (the answer is never held whole) and the promise resolves with none.
   */
  async readMultistatus(
    res: FetchResponse,
    method: Method,
    path: string,
    limits: { maxBytes: number; maxEntries: number },
    onItems?: (items: MultistatusItem[]) => void,
  ): Promise<MultistatusItem[]> {
    if (res.status !== 207 && isHtml(res)) {
      cancelBody(res);
      throw signInNeeded(method, path, res.status);
    }
    const announced = contentLength(res);
    if (announced !== undefined && announced > limits.maxBytes) {
      cancelBody(res);
      throw tooLarge(method, path, `${announced} bytes announced`, limits.maxBytes);
    }
    const reader = new MultistatusReader({ maxEntries: limits.maxEntries });
    const decoder = new TextDecoder();
    let total = 0;
    let head = '';
    let slice = Date.now();
    try {
      for await (const chunk of bodyChunks(res)) {
        total += chunk.byteLength;
        if (total > limits.maxBytes) throw tooLarge(method, path, 'more than that', limits.maxBytes);
        const text = decoder.decode(chunk, { stream: true });
        if (head.length < 512) head += text.slice(0, 512);
        reader.write(text);
        if (onItems) {
          const got = reader.take();
          if (got.length) onItems(got);
        }
        if (Date.now() - slice > PARSE_SLICE_MS) {
          await new Promise(r => setTimeout(r, 0));
          slice = Date.now();
        }
      }
      reader.write(decoder.decode());
      const items = reader.end();
      if (!onItems) return items;
      if (items.length) onItems(reader.take());
      return [];
    } catch (err) {
      cancelBody(res);
      if (err instanceof MultistatusError) {
        if (looksLikeHtml(head)) throw signInNeeded(method, path, res.status);
        if (err.kind === 'limit') throw new ShareError('Rejected', `${method} ${path}: the folder is too large to list (${err.message}; the limit is the setting webdavOffline.limits.maxListingEntries).`);
        throw new ShareError('Rejected', `${method} ${path}: the server's answer is not valid WebDAV (${err.message}).`);
      }
      throw classifyError(err, method, path);
    }
  }

  /**
   * Consumes the answer to a change. A 207 Multi-Status fails when any inner status is an error, or when
   * it cannot be read at all. Resolves whether the answer was a web page with a 200 (what a gateway's
   * sign-in page looks like): the caller's proof of landing decides what that means.
   */
  async drainChange(res: FetchResponse, method: Method, path: string): Promise<{ html: boolean }> {
    const html = res.status === 200 && isHtml(res);
    if (res.status !== 207) {
      await this.readBytes(res, method, path, 1024 * 1024).catch(err => {
        if (!(err instanceof ShareError) || err.code !== 'Rejected') throw err; // a long body is not a failure
      });
      return { html };
    }
    let items: MultistatusItem[];
    try {
      items = await this.readMultistatus(res, method, path, { maxBytes: 4 * 1024 * 1024, maxEntries: 100_000 });
    } catch (err) {
      if (err instanceof ShareError && err.reason === 'signin') throw err;
      throw new ShareError('Rejected', `${method} ${path}: the server answered with a multi-status that cannot be read; the change is not taken as done.`, { cause: err });
    }
    const failed = items.find(i => i.status !== undefined && i.status >= 400);
    if (failed?.status) throw classifyStatus(failed.status, method, path);
    return { html: false };
  }
}

export function signInNeeded(method: Method, path: string, status: number): ShareError {
  return new ShareError(
    'Unavailable',
    `${method} ${path}: the server (or a gateway in front of it) answered with a web page instead of WebDAV data (HTTP ${status}): a sign-in is needed`,
    { status, reason: 'signin' },
  );
}

function tooLarge(method: Method, path: string, what: string, max: number): ShareError {
  return new ShareError('Rejected', `${method} ${path}: the answer is too large (${what}; the limit is ${formatLimit(max)}, see the webdavOffline.limits settings).`);
}

function formatLimit(n: number): string {
  return n >= 1024 * 1024 ? `${Math.round(n / (1024 * 1024))} MB` : `${n} bytes`;
}

function contentLength(res: FetchResponse): number | undefined {
  // a compressed body is decoded by fetch: its length is not the announced one
  if (res.headers.get('content-encoding')) return undefined;
  const v = res.headers.get('content-length');
  if (v === null || !/^\s*\d+\s*$/.test(v)) return undefined;
  return Number(v);
}

function isHtml(res: FetchResponse): boolean {
  return /^\s*(text\/html|application\/xhtml\+xml)\b/i.test(res.headers.get('content-type') ?? '');
}

function looksLikeHtml(head: string): boolean {
  return /^\s*(<\?xml[^>]*>\s*)?(<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>])/i.test(head);
}

/** A URL for a message: never with a user name or password. */
export function safeUrl(href: string): string {
  try {
    const u = new URL(href);
    u.username = '';
    u.password = '';
    return u.href;
  } catch {
    return href.replace(/\/\/[^/@]*@/, '//');
  }
}

/** The body's chunks, whatever the platform's fetch gives (a Node stream, a web ReadableStream). */
async function* bodyChunks(res: FetchResponse): AsyncGenerator<Uint8Array> {
  const body = res.body;
  if (!body) return;
  if (typeof (body as ReadableStream<Uint8Array>).getReader === 'function') {
    const reader = (body as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        if (value) yield value;
      }
    } finally {
      reader.releaseLock();
    }
  }
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
    yield typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk;
  }
}

/** The body to send this time (the `webdav` client's type does not name a Node stream, which it sends). */
function bodyOf(data: SendOptions['data']): string | ArrayBuffer | undefined {
  return (typeof data === 'function' ? data() : data) as string | ArrayBuffer | undefined;
}

/** Stops reading an answer we do not want (frees the connection at once). */
export function cancelBody(res: FetchResponse): void {
  const body = res.body as { cancel?: () => Promise<void>; destroy?: () => void; locked?: boolean } | null;
  try {
    if (typeof body?.destroy === 'function') body.destroy();
    else if (typeof body?.cancel === 'function' && !body.locked) void body.cancel().catch(() => undefined);
  } catch {
    // already closed
  }
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  // a plain Uint8Array (node-fetch gives Buffers), so that callers and tests see one type
  if (chunks.length === 1) return new Uint8Array(chunks[0].buffer, chunks[0].byteOffset, chunks[0].byteLength);
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
