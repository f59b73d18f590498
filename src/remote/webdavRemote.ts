// RemoteFs over the `webdav` client (v5): it gives us auth (Basic, Digest) and one fetch for Node and
// the browser. Every exchange goes through remote/httpExchange.ts (one encoder, redirects by hand,
// bodies against limits); the client's known traps are worked around here (comments marked "trap").
// How requests are authenticated and sent (credentials, secret headers, the share's own transport)
// is shareClient.ts's.
import { ShareError } from '../core/errors';
import type { Logger } from '../core/log';
import { dirname, normalizePath } from '../core/remotePath';
import { httpBaseUrl, type ShareLocation } from '../core/shareLocation';
import type { Settings } from '../core/settings';
import { normalizeEtag } from './etag';
import { hrefToSharePath } from './hrefs';
import { cancelBody, HttpExchange, type FetchResponse, type SendOptions } from './httpExchange';
import { authSchemes, challengeOf, classifyError, type Method } from './httpErrors';
import { propfindBody, type MultistatusItem } from './multistatus';
import type { Credentials, Preconditions, RemoteContent, RemoteEntry, RemoteFs, RemoteListing, RemoteStream, ResumeFrom, ShareAccess, UploadBody, WriteResult } from './remoteFs';
import { checkedRange, collect, exactly } from './ranges';
import { ShareClient, type HttpPlatform } from './shareClient';

export type { HttpPlatform } from './shareClient';

/** Thrown from inside a whole-tree listing to stop reading it (never leaves listTree). */
const TREE_TOO_LARGE = new ShareError('Rejected', 'the tree has more entries than asked for');

export class WebdavRemote implements RemoteFs {
  private readonly client: ShareClient;
  private readonly baseUrl: string;
  private readonly basePath: string;
  private readonly http: HttpExchange;
  /** Requests sent, by method (for tests and the benchmarks). */
  readonly requestCounts = new Map<Method, number>();
  /**
   * Whether listings ask for the ids and permissions some servers have (multistatus.ts propfindBody):
   * 'ask' until a listing shows whether this server has them; 'absent' once one listed items with none.
   */
  private ids: 'ask' | 'answered' | 'absent' = 'ask';

  constructor(
    location: ShareLocation,
    private readonly settings: () => Settings,
    private readonly log: Logger,
    private readonly platform: HttpPlatform = {},
    credentials?: Credentials,
  ) {
    this.baseUrl = httpBaseUrl(location);
    this.basePath = location.basePath;
    this.client = new ShareClient(location, this.baseUrl, settings, log, platform);
    this.client.setCredentials(credentials);
    this.http = new HttpExchange(
      this.baseUrl,
      () => this.client.get(),
      () => ({ requestMs: this.settings().requestTimeoutMs, transferMs: this.settings().transferTimeoutMs }),
      log,
    );
  }

  setCredentials(credentials: Credentials | undefined): void {
    this.client.setCredentials(credentials);
  }

  setAccess(access: ShareAccess): void {
    this.client.setAccess(access);
  }

  get authScheme(): 'basic' | 'digest' | undefined {
    return this.client.authScheme;
  }

  /** Whether a secret Authorization header (a bearer token) is sent instead of a user name and password. */
  get usesToken(): boolean {
    return this.client.usesToken;
  }

  /** Retires the share's transport (its idle connections close). */
  dispose(): void {
    this.client.dispose();
  }

  // --- metadata

  async stat(path: string): Promise<RemoteEntry> {
    const p = normalizePath(path);
    const entries = await this.propfind(p, '0');
    const self = findSelf(entries, p);
    if (!self) throw new ShareError('Rejected', `PROPFIND ${p}: the server's answer does not describe ${p}; it is not trusted.`);
    return self;
  }

  async list(path: string): Promise<RemoteListing> {
    const p = normalizePath(path);
    const entries = await this.propfind(p, '1');
    const self = findSelf(entries, p);
    if (!self) throw new ShareError('Rejected', `PROPFIND ${p}: the server's answer does not describe the folder itself; it is not trusted.`);
    const seen = new Set<string>([self.path]);
    const children: RemoteEntry[] = [];
    let deeper = 0;
    for (const e of entries) {
      if (seen.has(e.path)) continue;
      // only direct children: a Depth-1 answer that lists deeper items does not make them children
      if (dirname(e.path) !== self.path) {
        deeper++;
        continue;
      }
      seen.add(e.path);
      children.push(e);
    }
    if (deeper) this.log.warn(`[remote] ${p}: ignoring ${deeper} entries that are not direct children`);
    return { self, children };
  }

  /**
   * PROPFIND `Depth: infinity`: `path` and everything below it in one answer, parsed as it arrives (the
   * text is never held whole) and checked like any listing. Resolves with every entry, `path` itself
   * included, in the server's order — or 'too-large' as soon as the answer holds more than `maxEntries`
   * (the rest is not read). A server that refuses it (Apache's 403 propfind-finite-depth) fails as for
   * any request. The transfer timeout applies: a whole tree is a long answer.
   */
  async listTree(path: string, maxEntries: number): Promise<RemoteEntry[] | 'too-large'> {
    const p = normalizePath(path);
    const res = await this.request('PROPFIND', p, {
      headers: { Depth: 'infinity', 'Content-Type': 'application/xml; charset=utf-8' },
      data: this.propfindBody(p === '/'),
      transfer: true,
    });
    const s = this.settings();
    const entries: RemoteEntry[] = [];
    const skipped = new Map<string, number>();
    // bytes: what a listing may take, or a few KB per entry for a whole tree (read as it arrives, not held)
    const limits = { maxBytes: Math.max(s.maxListingBytes, maxEntries * 4096), maxEntries: Number.MAX_SAFE_INTEGER };
    try {
      await this.http.readMultistatus(res, 'PROPFIND', p, limits, items => {
        for (const e of this.entriesOf(items, skipped)) entries.push(e);
        if (entries.length > maxEntries) throw TREE_TOO_LARGE;
      });
    } catch (err) {
      if (err === TREE_TOO_LARGE) return 'too-large';
      throw err;
    }
    this.logSkipped(p, skipped);
    return entries;
  }

  private async propfind(path: string, depth: '0' | '1'): Promise<RemoteEntry[]> {
    const res = await this.request('PROPFIND', path, {
      headers: { Depth: depth, 'Content-Type': 'application/xml; charset=utf-8' },
      data: this.propfindBody(path === '/'),
    });
    const s = this.settings();
    const items = await this.http.readMultistatus(res, 'PROPFIND', path, { maxBytes: s.maxListingBytes, maxEntries: s.maxListingEntries });
    const skipped = new Map<string, number>();
    const entries = this.entriesOf(items, skipped);
    this.logSkipped(path, skipped);
    return entries;
  }

  /** The entries of a multistatus answer whose hrefs lie in the share; the others are counted in `skipped` by reason. */
  private entriesOf(items: readonly MultistatusItem[], skipped: Map<string, number>): RemoteEntry[] {
    const entries: RemoteEntry[] = [];
    for (const item of items) {
      if (!item.props) continue;
      const where = hrefToSharePath(item.href, this.http.origin, this.basePath);
      if ('skip' in where) {
        skipped.set(where.skip, (skipped.get(where.skip) ?? 0) + 1);
        continue;
      }
      const mtime = item.props.mtime ?? 0;
      entries.push({
        path: where.path,
        type: item.props.type,
        size: item.props.size,
        mtime,
        ctime: item.props.ctime ?? mtime,
        etag: item.props.etag,
        contentType: item.props.contentType,
        ...(item.props.fileId ? { fileId: item.props.fileId } : {}),
        ...(item.props.permissions ? { permissions: item.props.permissions } : {}),
        ...(item.props.quota ? { quota: item.props.quota } : {}),
      });
      if (item.props.fileId || item.props.permissions) this.ids = 'answered';
    }
    if (this.ids === 'ask' && entries.length) {
      this.ids = 'absent';
      this.log.debug('[remote] the server lists no ids or permissions (oc:fileid, oc:permissions, resource-id, current-user-privilege-set): not asked for again');
    }
    return entries;
  }

  /** The quota only at the share's root (it can be costly to a server elsewhere); the ids while the server may have them. */
  private propfindBody(quota: boolean): string {
    return propfindBody({ quota, ids: this.ids !== 'absent' });
  }

  private logSkipped(path: string, skipped: Map<string, number>): void {
    for (const [why, n] of skipped) this.log.warn(`[remote] ${path}: skipped ${n} ${n === 1 ? 'entry' : 'entries'} of the listing (${why})`);
  }

  /** The href of the signed-in user's principal (RFC 5397), as a share path; undefined when the server gives none. */
  async principal(path: string): Promise<string | undefined> {
    const res = await this.request('PROPFIND', path, {
      headers: { Depth: '0', 'Content-Type': 'application/xml; charset=utf-8' },
      data: '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:current-user-principal/></D:prop></D:propfind>',
    });
    const items = await this.http.readMultistatus(res, 'PROPFIND', path, { maxBytes: 1024 * 1024, maxEntries: 10 });
    const href = items.find(i => i.props?.principal)?.props?.principal;
    if (!href) return undefined;
    const where = hrefToSharePath(href, this.http.origin, this.basePath);
    return 'path' in where ? where.path : undefined;
  }

  /** Whether the server answers PROPFIND with `Depth: infinity` (most refuse it with 403). */
  async depthInfinity(path: string): Promise<boolean> {
    try {
      const res = await this.request('PROPFIND', path, {
        headers: { Depth: 'infinity', 'Content-Type': 'application/xml; charset=utf-8' },
        data: this.propfindBody(false),
      });
      cancelBody(res);
      return res.status === 207;
    } catch (err) {
      if (err instanceof ShareError && (err.code === 'NoPermissions' || err.code === 'Rejected' || err.status === 412)) return false;
      throw err;
    }
  }

  // --- content

  async get(path: string, options: { ifNoneMatch?: string } = {}): Promise<RemoteContent | 'not-modified'> {
    const headers: Record<string, string> = {};
    if (options.ifNoneMatch) headers['If-None-Match'] = options.ifNoneMatch;
    const res = await this.request('GET', path, { headers, transfer: true });
    if (res.status === 304) {
      cancelBody(res);
      return 'not-modified';
    }
    const data = await this.http.readBytes(res, 'GET', path, this.settings().maxDownloadBytes);
    const lastModified = res.headers.get('last-modified');
    return {
      data,
      etag: normalizeEtag(res.headers.get('etag')),
      mtime: lastModified ? Date.parse(lastModified) || undefined : undefined,
      contentType: res.headers.get('content-type') ?? undefined,
    };
  }

  async getStream(path: string, options: { resume?: ResumeFrom } = {}): Promise<RemoteStream> {
    const resume = options.resume;
    const headers: Record<string, string> = resume ? { Range: `bytes=${resume.from}-`, 'If-Range': resume.ifRange } : {};
    const res = await this.request('GET', path, { headers, transfer: true });
    const max = this.settings().maxDownloadBytes;
    const lastModified = res.headers.get('last-modified') ?? undefined;
    const etag = normalizeEtag(res.headers.get('etag'));
    // a 206 is only taken for exactly the range asked for, of the version asked for (ranges.ts)
    const range = res.status === 206 ? checkedRange(res, 'GET', path, resume, etag, lastModified, max) : undefined;
    const body = this.http.streamBytes(res, 'GET', path, max);
    return {
      etag,
      mtime: lastModified ? Date.parse(lastModified) || undefined : undefined,
      lastModified,
      contentType: res.headers.get('content-type') ?? undefined,
      ...(range ? { range } : {}),
      chunks: range ? exactly(body, range.total - range.from, 'GET', path) : body,
    };
  }

  async put(path: string, data: Uint8Array, pre: Preconditions = {}): Promise<WriteResult> {
    // trap: putFileContents returns false on a 412 for overwrite:false; we send our own preconditions.
    // trap: a Uint8Array that is not a Buffer would be sent as JSON; hand the client an exact ArrayBuffer.
    const body = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
    return this.sendPut(path, body as ArrayBuffer, {}, pre);
  }

  /**
   * PUT with the body read as it is sent: through the host's stream body (the Node host's transport)
   * with its Content-Length; where the host has none (the browser's fetch cannot stream a request body
   * over HTTP/1.1), or the share signs in with Digest, the bytes are gathered first.
   */
  async putStream(path: string, body: UploadBody, pre: Preconditions = {}): Promise<WriteResult> {
    const stream = this.platform.streamBody;
    // Digest: the `webdav` client answers a challenge by sending the same body again, which a stream
    // cannot be (the request would wait for bytes that never come): such shares send the bytes whole.
    if (!stream || this.client.authScheme === 'digest') {
      const data = await collect(body.chunks(), body.size, 'PUT', path);
      return this.sendPut(path, data.buffer as ArrayBuffer, {}, pre);
    }
    // our own retries (a 401 that names the scheme) read the body anew
    return this.sendPut(path, () => stream(exactly(body.chunks(), body.size, 'PUT', path)), { 'Content-Length': String(body.size) }, pre);
  }

  private async sendPut(path: string, data: SendOptions['data'], headers: Record<string, string>, pre: Preconditions): Promise<WriteResult> {
    const res = await this.request('PUT', path, {
      headers: { 'Content-Type': 'application/octet-stream', ...headers, ...preconditionHeaders(pre) },
      data,
      transfer: true,
    });
    const { html } = await this.http.drainChange(res, 'PUT', path);
    // Nextcloud/ownCloud send the new etag as OC-ETag too
    const etag = normalizeEtag(res.headers.get('etag') ?? res.headers.get('oc-etag'));
    return { ...(etag ? { etag } : {}), ...(html ? { html } : {}) };
  }

  // --- namespace

  async mkcol(path: string): Promise<WriteResult> {
    return this.change('MKCOL', path, {});
  }

  async delete(path: string, pre: Preconditions = {}): Promise<WriteResult> {
    return this.change('DELETE', path, { headers: preconditionHeaders(pre) });
  }

  move(from: string, to: string, options: { overwrite: boolean }): Promise<WriteResult> {
    return this.transfer('MOVE', from, to, options.overwrite);
  }

  copy(from: string, to: string, options: { overwrite: boolean }): Promise<WriteResult> {
    return this.transfer('COPY', from, to, options.overwrite);
  }

  private transfer(method: 'MOVE' | 'COPY', from: string, to: string, overwrite: boolean): Promise<WriteResult> {
    // trap: the client treats 207 as success; nephele answers a failed `Overwrite: F` with 207 + inner 412.
    return this.change(method, from, {
      headers: {
        Destination: this.http.url(to),
        Overwrite: overwrite ? 'T' : 'F',
        ...(method === 'COPY' ? { Depth: 'infinity' } : {}),
      },
    });
  }

  private async change(method: Method, path: string, options: SendOptions): Promise<WriteResult> {
    const { html } = await this.http.drainChange(await this.request(method, path, options), method, path);
    return html ? { html } : {};
  }

  // --- locks

  async lock(path: string, options: { timeoutSeconds?: number } = {}): Promise<string> {
    // trap: the client's lock() sends text/plain (nephele: 415), pretty-printed XML (lighttpd: 422) and
    // `Timeout: Infinite, Second-4100000000` (hangs lighttpd). Send a compact body and a finite timeout.
    const body =
      '<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>' +
      '<D:locktype><D:write/></D:locktype><D:owner>WebDAV Offline</D:owner></D:lockinfo>';
    const res = await this.request('LOCK', path, {
      headers: { 'Content-Type': 'application/xml; charset=utf-8', Timeout: `Second-${options.timeoutSeconds ?? 3600}` },
      data: body,
    });
    const header = res.headers.get('lock-token');
    const text = await this.http.readText(res, 'LOCK', path);
    const token = header?.replace(/^<|>$/g, '').trim() || /<(?:\w+:)?href>\s*([^<\s]+)\s*</i.exec(text.slice(text.search(/locktoken/i)))?.[1];
    if (!token) throw new ShareError('Other', `LOCK ${path}: the server granted no lock token`);
    return token;
  }

  async unlock(path: string, token: string): Promise<void> {
    // trap: the client's unlock() sends the token without the angle brackets RFC 4918 requires.
    const bare = token.replace(/^<|>$/g, '');
    await this.change('UNLOCK', path, { headers: { 'Lock-Token': `<${bare}>` } });
  }

  // --- plumbing

  private async request(method: Method, path: string, options: SendOptions, retried = 0, schemeRetried = false): Promise<FetchResponse> {
    this.requestCounts.set(method, (this.requestCounts.get(method) ?? 0) + 1);
    const t0 = Date.now();
    try {
      const res = await this.http.send(method, normalizePath(path), options);
      this.log.trace(`[remote] ${method} ${path}: ${res.status} in ${Date.now() - t0} ms`);
      return res;
    } catch (err) {
      let e = classifyError(err, method, path);
      // A 401 says how the server wants credentials; one sent as Basic to a server that wants Digest is
      // sent again (a refused request did nothing, whatever its method).
      if (e.status === 401 && this.client.learnSchemes(authSchemes(challengeOf(e))) && !schemeRetried) {
        return this.request(method, path, options, retried, true);
      }
      // A kept-alive connection the server has closed meanwhile fails at once with a reset; a request
      // that changes nothing is sent once more on a new connection.
      // Several pooled connections can be dead at once (after an outage): a few more tries, with a pause
      // that lets the pool drop the closed ones.
      if (e.reason === 'reset' && retried < 3 && (method === 'PROPFIND' || method === 'GET')) {
        this.log.debug(`[remote] ${method} ${path}: connection reset, retrying on another connection`);
        await new Promise(r => setTimeout(r, 25));
        return this.request(method, path, options, retried + 1);
      }
      const hint = e.code === 'Unavailable' && e.reason === 'network' ? this.client.failureHint() : undefined;
      if (hint) e = new ShareError(e.code, `${e.message}. ${hint}`, { cause: e, reason: e.reason });
      (e.code === 'NotFound' ? this.log.trace : this.log.debug).call(this.log, `[remote] ${e.message}`);
      throw e;
    }
  }
}

/** The entry that describes `path` itself: exactly, else the one whose name differs only in Unicode normalization. */
function findSelf(entries: readonly RemoteEntry[], path: string): RemoteEntry | undefined {
  const exact = entries.find(e => e.path === path);
  if (exact) return exact;
  const nfc = path.normalize('NFC');
  const twins = entries.filter(e => e.path.normalize('NFC') === nfc);
  return twins.length === 1 ? { ...twins[0], path } : undefined;
}

function preconditionHeaders(pre: Preconditions): Record<string, string> {
  const h: Record<string, string> = {};
  if (pre.ifMatch) h['If-Match'] = pre.ifMatch;
  if (pre.ifNoneMatch) h['If-None-Match'] = pre.ifNoneMatch;
  return h;
}
