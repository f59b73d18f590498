// RemoteFs over the `webdav` client (v5): it gives us auth (Basic, Digest), URL encoding and one fetch
// for Node and the browser. Its known traps are worked around here (see the comments marked "trap").
import { createClient, type WebDAVClient } from 'webdav';
import { ShareError } from '../core/errors';
import type { Logger } from '../core/log';
import { encodePath, normalizePath, relativeTo } from '../core/remotePath';
import { httpBaseUrl, type ShareLocation } from '../core/shareLocation';
import type { Settings } from '../core/settings';
import { normalizeEtag } from './etag';
import { classifyError, classifyStatus, type Method } from './httpErrors';
import { parseMultistatus, PROPFIND_BODY, type MultistatusItem } from './multistatus';
import type { Credentials, Preconditions, RemoteContent, RemoteEntry, RemoteFs, RemoteListing, WriteResult } from './remoteFs';

/** Platform parts injected by the Node / browser entry points. */
export interface HttpPlatform {
  /** Node only: keep-alive agents so requests reuse connections. */
  readonly httpAgent?: unknown;
  readonly httpsAgent?: unknown;
}

type FetchResponse = Awaited<ReturnType<WebDAVClient['customRequest']>>;

export class WebdavRemote implements RemoteFs {
  private client: WebDAVClient;
  private readonly baseUrl: string;
  private readonly basePath: string;
  /** Requests sent, by method (for tests and the benchmarks). */
  readonly requestCounts = new Map<Method, number>();

  constructor(
    location: ShareLocation,
    private readonly settings: () => Settings,
    private readonly log: Logger,
    private readonly platform: HttpPlatform = {},
    credentials?: Credentials,
  ) {
    this.baseUrl = httpBaseUrl(location);
    this.basePath = location.basePath;
    this.client = this.makeClient(credentials);
  }

  setCredentials(credentials: Credentials | undefined): void {
    this.client = this.makeClient(credentials);
  }

  private makeClient(credentials: Credentials | undefined): WebDAVClient {
    return createClient(this.baseUrl, {
      username: credentials?.username,
      password: credentials?.password,
      httpAgent: this.platform.httpAgent as any,
      httpsAgent: this.platform.httpsAgent as any,
    });
  }

  // --- metadata

  async stat(path: string): Promise<RemoteEntry> {
    const items = await this.propfind(path, '0');
    const self = items.find(i => i.path === normalizePath(path)) ?? items[0];
    if (!self) throw new ShareError('Other', `PROPFIND ${path}: the server's answer lists nothing`);
    return self;
  }

  async list(path: string): Promise<RemoteListing> {
    const p = normalizePath(path);
    const items = await this.propfind(p, '1');
    const self = items.find(i => i.path === p);
    if (!self) throw new ShareError('Other', `PROPFIND ${p}: the server's answer does not describe the folder itself`);
    const seen = new Set<string>([p]);
    const children: RemoteEntry[] = [];
    for (const item of items) {
      if (seen.has(item.path) || relativeTo(item.path, p) === undefined) continue;
      seen.add(item.path);
      children.push(item);
    }
    return { self, children };
  }

  private async propfind(path: string, depth: '0' | '1'): Promise<RemoteEntry[]> {
    const res = await this.request('PROPFIND', path, {
      headers: { Depth: depth, 'Content-Type': 'application/xml; charset=utf-8' },
      data: PROPFIND_BODY,
    });
    const body = await this.readText(res, 'PROPFIND', path);
    let items: MultistatusItem[];
    try {
      items = parseMultistatus(body);
    } catch (err) {
      throw classifyError(err, 'PROPFIND', path);
    }
    const entries: RemoteEntry[] = [];
    for (const item of items) {
      if (!item.props) continue;
      const rel = relativeTo(item.hrefPath, this.basePath);
      if (rel === undefined) {
        this.log.warn(`[remote] ${path}: ignoring an entry outside the share (${item.hrefPath})`);
        continue;
      }
      const mtime = item.props.mtime ?? 0;
      entries.push({
        path: rel,
        type: item.props.type,
        size: item.props.size,
        mtime,
        ctime: item.props.ctime ?? mtime,
        etag: item.props.etag,
        contentType: item.props.contentType,
      });
    }
    return entries;
  }

  /** Whether the server answers PROPFIND with `Depth: infinity` (most refuse it with 403). */
  async depthInfinity(path: string): Promise<boolean> {
    try {
      const res = await this.request('PROPFIND', path, {
        headers: { Depth: 'infinity', 'Content-Type': 'application/xml; charset=utf-8' },
        data: PROPFIND_BODY,
      });
      await this.readText(res, 'PROPFIND', path);
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
    const res = await this.request('GET', path, { headers }, true);
    if (res.status === 304) return 'not-modified';
    let data: Uint8Array;
    try {
      data = new Uint8Array(await res.arrayBuffer());
    } catch (err) {
      throw classifyError(err, 'GET', path);
    }
    const lastModified = res.headers.get('last-modified');
    return {
      data,
      etag: normalizeEtag(res.headers.get('etag')),
      mtime: lastModified ? Date.parse(lastModified) || undefined : undefined,
    };
  }

  async put(path: string, data: Uint8Array, pre: Preconditions = {}): Promise<WriteResult> {
    // trap: putFileContents returns false on a 412 for overwrite:false; we send our own preconditions.
    // trap: a Uint8Array that is not a Buffer would be sent as JSON; hand the client an exact ArrayBuffer.
    const body = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
    const res = await this.request(
      'PUT',
      path,
      { headers: { 'Content-Type': 'application/octet-stream', ...preconditionHeaders(pre) }, data: body as ArrayBuffer },
      true,
    );
    await res.arrayBuffer().catch(() => undefined);
    return { etag: normalizeEtag(res.headers.get('etag')) };
  }

  // --- namespace

  async mkcol(path: string): Promise<void> {
    await this.drain(await this.request('MKCOL', path, {}), 'MKCOL', path);
  }

  async delete(path: string, pre: Preconditions = {}): Promise<void> {
    await this.drain(await this.request('DELETE', path, { headers: preconditionHeaders(pre) }), 'DELETE', path);
  }

  move(from: string, to: string, options: { overwrite: boolean }): Promise<void> {
    return this.transfer('MOVE', from, to, options.overwrite);
  }

  copy(from: string, to: string, options: { overwrite: boolean }): Promise<void> {
    return this.transfer('COPY', from, to, options.overwrite);
  }

  private async transfer(method: 'MOVE' | 'COPY', from: string, to: string, overwrite: boolean): Promise<void> {
    const res = await this.request(method, from, {
      headers: {
        Destination: this.baseUrl + encodePath(to),
        Overwrite: overwrite ? 'T' : 'F',
        ...(method === 'COPY' ? { Depth: 'infinity' } : {}),
      },
    });
    // trap: the client treats 207 as success; nephele answers a failed `Overwrite: F` with 207 + inner 412.
    await this.drain(res, method, from);
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
    const text = await this.readText(res, 'LOCK', path);
    const token = header?.replace(/^<|>$/g, '').trim() || /<(?:\w+:)?href>\s*([^<\s]+)\s*</i.exec(text.slice(text.search(/locktoken/i)))?.[1];
    if (!token) throw new ShareError('Other', `LOCK ${path}: the server granted no lock token`);
    return token;
  }

  async unlock(path: string, token: string): Promise<void> {
    // trap: the client's unlock() sends the token without the angle brackets RFC 4918 requires.
    const bare = token.replace(/^<|>$/g, '');
    await this.drain(await this.request('UNLOCK', path, { headers: { 'Lock-Token': `<${bare}>` } }), 'UNLOCK', path);
  }

  // --- plumbing

  private async request(
    method: Method,
    path: string,
    options: { headers?: Record<string, string>; data?: string | ArrayBuffer },
    transfer = false,
    retried = 0,
  ): Promise<FetchResponse> {
    const s = this.settings();
    const signal = AbortSignal.timeout(transfer ? s.transferTimeoutMs : s.requestTimeoutMs);
    this.requestCounts.set(method, (this.requestCounts.get(method) ?? 0) + 1);
    const t0 = Date.now();
    try {
      // the client percent-encodes each segment of the decoded path itself
      const res = await this.client.customRequest(normalizePath(path), {
        method,
        headers: options.headers,
        data: options.data,
        signal,
      });
      this.log.trace(`[remote] ${method} ${path}: ${res.status} in ${Date.now() - t0} ms`);
      return res;
    } catch (err) {
      const e = classifyError(err, method, path);
      // A kept-alive connection the server has closed meanwhile fails at once with a reset; a request
      // that changes nothing is sent once more on a new connection.
      // Several pooled connections can be dead at once (after an outage): a few more tries, with a pause
      // that lets the pool drop the closed ones.
      if (e.reason === 'reset' && retried < 3 && (method === 'PROPFIND' || method === 'GET')) {
        this.log.debug(`[remote] ${method} ${path}: connection reset, retrying on another connection`);
        await new Promise(r => setTimeout(r, 25));
        return this.request(method, path, options, transfer, retried + 1);
      }
      (e.code === 'NotFound' ? this.log.trace : this.log.debug).call(this.log, `[remote] ${e.message}`);
      throw e;
    }
  }

  /** Reads a body that must be there; a failure while reading is a network failure of this request. */
  private async readText(res: FetchResponse, method: Method, path: string): Promise<string> {
    try {
      return await res.text();
    } catch (err) {
      throw classifyError(err, method, path);
    }
  }

  /** Consumes the body; a 207 Multi-Status answer fails when any inner status is an error. */
  private async drain(res: FetchResponse, method: Method, path: string): Promise<void> {
    const body = await this.readText(res, method, path);
    if (res.status !== 207) return;
    let items: MultistatusItem[] = [];
    try {
      items = parseMultistatus(body);
    } catch {
      // a 207 we cannot read: assume success only if the server said nothing else
      return;
    }
    const failed = items.find(i => i.status !== undefined && i.status >= 400);
    if (failed?.status) throw classifyStatus(failed.status, method, path);
  }
}

function preconditionHeaders(pre: Preconditions): Record<string, string> {
  const h: Record<string, string> = {};
  if (pre.ifMatch) h['If-Match'] = pre.ifMatch;
  if (pre.ifNoneMatch) h['If-None-Match'] = pre.ifNoneMatch;
  return h;
}
