// A scriptable hostile WebDAV server for the conformance suite (test/conformance/hostile.test.ts). The
// product promises that every byte from a server is hostile until checked; reviewers broke that promise
// with small node:http servers, so this is one: honest WebDAV by default (an in-memory tree mounted at
// /share/, PROPFIND Depth 0/1, GET with validators, conditional PUT/DELETE, MKCOL, MOVE/COPY with
// Overwrite, optional Basic auth), and per test any request can be answered with whatever raw answer
// a test wants (a redirect, a sign-in page, a multistatus that lies, a body that never ends, a reset).
//
// It records every request exactly as received, so a test can prove that no request left the share
// (`outsideShare`) and, with the "elsewhere" server, that nothing — no body, no password — went to a
// redirect target. Client and servers share one process: handlers only write pre-built chunks, with
// backpressure, so the event-loop stall sampler (stallSampler.ts) measures the client.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export const MOUNT = '/share';

/** One request as the server received it. */
export interface LoggedRequest {
  readonly method: string;
  /** The request-target exactly as received (not decoded, not normalised). */
  readonly target: string;
  readonly host?: string;
  readonly headers: IncomingHttpHeaders;
  readonly authorization?: string;
  /** Bytes of request body received. */
  bodyLength: number;
  /** A request for another host name than the one the share was opened with (e.g. `localhost`). */
  readonly foreign: boolean;
}

/** What a script handler sees of a request. */
export interface HostileRequest {
  readonly method: string;
  /** The raw request-target. */
  readonly target: string;
  /** The decoded share path (`/` is the share root, no trailing slash), or undefined when not below /share/. */
  readonly path: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface HandlerContext {
  readonly server: HostileServer;
  /** Answers the request honestly (as if no script had matched). */
  honest(): void;
}

/** Writes any answer it wants to `res` (or to `res.socket`, raw). */
export type Handler = (req: HostileRequest, res: ServerResponse, ctx: HandlerContext) => void | Promise<void>;

/** `'PUT /a.txt'` (method and decoded share path), `'* /a.txt'`, `'PROPFIND *'`, or a predicate. */
export type Match = string | ((req: HostileRequest) => boolean);

export interface Script {
  /** How often it answered so far. */
  readonly calls: number;
  remove(): void;
}

interface ScriptEntry {
  match: (req: HostileRequest) => boolean;
  handler: Handler;
  times: number;
  calls: number;
}

interface FileNode {
  type: 'file';
  data: Buffer;
  etag: string;
  mtime: number;
  contentType: string;
  /** Replaces the validator in PROPFIND answers (inserted raw into the XML); null: none. */
  propEtag?: string | null;
  /** Replaces the ETag header of GET answers (written raw onto the socket); null: none. */
  headerEtag?: string | null;
}

interface DirNode {
  type: 'directory';
  etag: string;
  mtime: number;
}

type TreeNode = FileNode | DirNode;

export interface HostileServerOptions {
  /** user → password for Basic auth; none means no authentication. */
  users?: Record<string, string>;
  /** Answer PROPFIND with `Depth: infinity` (default: 403, as most servers do). */
  depthInfinity?: boolean;
  /** Send an ETag with PUT answers (default true, as rclone and lighttpd do). */
  etagOnPut?: boolean;
  /** Longest request header field accepted, bytes (Apache's LimitRequestFieldSize: 8190); longer → 431. */
  maxHeaderField?: number;
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 201: 'Created', 204: 'No Content', 207: 'Multi-Status', 301: 'Moved Permanently', 302: 'Found',
  303: 'See Other', 304: 'Not Modified', 307: 'Temporary Redirect', 308: 'Permanent Redirect', 400: 'Bad Request',
  401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict',
  412: 'Precondition Failed', 415: 'Unsupported Media Type', 423: 'Locked', 431: 'Request Header Fields Too Large',
  502: 'Bad Gateway', 507: 'Insufficient Storage',
};

export class HostileServer {
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly tree = new Map<string, TreeNode>();
  private scripts: ScriptEntry[] = [];
  private etagCounter = 0;
  port = 0;
  /** Every request received, in order (requests for a foreign host name included, marked `foreign`). */
  readonly requests: LoggedRequest[] = [];
  /** Connections whose bytes were not HTTP at all (e.g. a TLS handshake), with the parser's complaint. */
  readonly unparseable: string[] = [];

  constructor(private readonly options: HostileServerOptions = {}) {
    this.tree.set('/', { type: 'directory', etag: this.newEtag(), mtime: now() });
  }

  static async start(options: HostileServerOptions = {}): Promise<HostileServer> {
    const s = new HostileServer(options);
    await s.listen();
    return s;
  }

  private async listen(): Promise<void> {
    const make = () => {
      const server = createServer({ maxHeaderSize: 1024 * 1024 }, (req, res) => void this.handle(req, res));
      server.on('connection', socket => {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
      });
      server.on('clientError', (err: Error & { code?: string }, socket) => {
        this.unparseable.push(`${err.code ?? ''} ${err.message}`);
        if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        else socket.destroy();
      });
      this.servers.push(server);
      return server;
    };
    const v4 = make();
    await new Promise<void>((resolve, reject) => {
      v4.once('error', reject);
      v4.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (v4.address() as { port: number }).port;
    // the same port on ::1, so that `localhost` reaches this server whichever address it resolves to
    const v6 = make();
    await new Promise<void>(resolve => {
      v6.once('error', () => {
        this.servers.splice(this.servers.indexOf(v6), 1);
        resolve();
      });
      v6.listen(this.port, '::1', () => resolve());
    });
  }

  /** `http://127.0.0.1:PORT` — the origin the share is opened with. */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The authority the share is opened with. */
  get authority(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** A URL on this server with `rawPath` exactly as given (not encoded). */
  url(rawPath: string, host = '127.0.0.1'): string {
    return `http://${host}:${this.port}${rawPath}`;
  }

  /** The encoded URL path of a share path, as an honest server writes it in hrefs. */
  href(path: string, directory = false): string {
    const p = path === '/' ? '' : path.split('/').map(encodeURIComponent).join('/');
    return `${MOUNT}${p}${directory ? '/' : ''}`;
  }

  // --- the tree

  /** Creates or replaces files (and the folders above them): `{ '/docs/a.txt': 'alpha' }`. */
  seed(files: Record<string, string | Buffer>): void {
    for (const [path, content] of Object.entries(files)) this.putFile(path, Buffer.from(content));
  }

  mkdir(path: string): void {
    const segments = path.split('/').filter(Boolean);
    for (let i = 1; i <= segments.length; i++) {
      const p = '/' + segments.slice(0, i).join('/');
      const node = this.tree.get(p);
      if (node?.type === 'file') throw new Error(`${p} is a file`);
      if (!node) this.tree.set(p, { type: 'directory', etag: this.newEtag(), mtime: now() });
    }
  }

  /** Writes a file as a client's PUT would (new validator); returns its etag. */
  putFile(path: string, data: Buffer, contentType = 'application/octet-stream'): string {
    this.mkdir(parentOf(path));
    const etag = this.newEtag();
    this.tree.set(path, { type: 'file', data, etag, mtime: now(), contentType });
    return etag;
  }

  /** The bytes of a file, or undefined. */
  file(path: string): Buffer | undefined {
    const n = this.tree.get(path);
    return n?.type === 'file' ? n.data : undefined;
  }

  /** The text of a file, or undefined. */
  text(path: string): string | undefined {
    return this.file(path)?.toString();
  }

  exists(path: string): boolean {
    return this.tree.has(path);
  }

  etagOf(path: string): string | undefined {
    return this.tree.get(path)?.etag;
  }

  /** Every path in the tree, sorted (for "nothing changed" assertions). */
  snapshot(): string[] {
    return [...this.tree.entries()].map(([p, n]) => (n.type === 'file' ? `${p} ${n.etag} ${n.data.length}` : `${p}/`)).sort();
  }

  /**
   * Makes the server describe `path` with other validators than its real one: `prop` goes into
   * PROPFIND answers raw, `header` onto GET's ETag header raw (null: none). Preconditions still compare
   * against the real etag, as a server with a broken etag generator would.
   */
  setValidators(path: string, validators: { prop?: string | null; header?: string | null }): void {
    const n = this.tree.get(path);
    if (n?.type !== 'file') throw new Error(`${path} is not a file`);
    if ('prop' in validators) n.propEtag = validators.prop;
    if ('header' in validators) n.headerEtag = validators.header;
  }

  private newEtag(): string {
    return `"h${(++this.etagCounter).toString(16)}-${Math.random().toString(36).slice(2, 8)}"`;
  }

  // --- scripting

  /** Answers requests that match with `handler` (at most `times` times), before the honest behaviour. */
  on(match: Match, handler: Handler, options: { times?: number } = {}): Script {
    const entry: ScriptEntry = { match: toPredicate(match), handler, times: options.times ?? Infinity, calls: 0 };
    this.scripts.push(entry);
    return {
      get calls() {
        return entry.calls;
      },
      remove: () => {
        this.scripts = this.scripts.filter(s => s !== entry);
      },
    };
  }

  /** Removes every script: the server is honest again. */
  off(): void {
    this.scripts = [];
  }

  // --- the log

  /** Requests that were sent outside the share (see `outsideShare`). */
  requestsOutsideShare(): LoggedRequest[] {
    return this.requests.filter(r => !r.foreign && outsideShare(r.target) !== undefined);
  }

  /** Requests whose Host was not the share's authority (a redirect to `localhost` that was followed). */
  foreignRequests(): LoggedRequest[] {
    return this.requests.filter(r => r.foreign);
  }

  /** Requests for one method (and a decoded share path, if given). */
  requestsFor(method: string, path?: string): LoggedRequest[] {
    return this.requests.filter(r => r.method === method && (path === undefined || sharePathOf(r.target) === path));
  }

  /** A one-line summary per request, for failure messages. */
  describeLog(last = 40): string {
    return this.requests
      .slice(-last)
      .map(r => `${r.foreign ? '(foreign host) ' : ''}${r.method} ${r.target.length > 120 ? r.target.slice(0, 120) + '…' : r.target}`)
      .join('\n');
  }

  // --- serving

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.url ?? '';
    const host = req.headers.host;
    const entry: LoggedRequest = {
      method: req.method ?? '',
      target,
      host,
      headers: req.headers,
      authorization: req.headers.authorization,
      bodyLength: 0,
      foreign: host !== this.authority,
    };
    this.requests.push(entry);
    res.on('error', () => undefined);
    let body: Buffer;
    try {
      body = await readBody(req, n => (entry.bodyLength = n));
    } catch {
      return;
    }
    if (entry.foreign) return answerAsElsewhere(req, res, body);
    const limit = this.options.maxHeaderField ?? 8190;
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (req.rawHeaders[i].length + req.rawHeaders[i + 1].length + 2 > limit) {
        return send(res, 431, { 'Content-Type': 'text/plain' }, `Size of a request header field exceeds server limit (${req.rawHeaders[i]})`);
      }
    }
    if (this.options.users && !this.authorized(req.headers.authorization)) {
      return send(res, 401, { 'WWW-Authenticate': 'Basic realm="hostile", charset="UTF-8"', 'Content-Type': 'text/plain' }, 'Unauthorized');
    }
    const request: HostileRequest = { method: entry.method, target, path: sharePathOf(target), headers: req.headers, body };
    const ctx: HandlerContext = { server: this, honest: () => this.honest(request, res) };
    const script = this.scripts.find(s => s.match(request));
    if (script) {
      script.calls++;
      if (--script.times <= 0) this.scripts = this.scripts.filter(s => s !== script);
      try {
        await script.handler(request, res, ctx);
      } catch (err) {
        if (!res.headersSent) send(res, 500, { 'Content-Type': 'text/plain' }, `script failed: ${(err as Error).message}`);
        else res.destroy();
      }
      return;
    }
    this.honest(request, res);
  }

  private authorized(header: string | undefined): boolean {
    const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
    if (!m) return false;
    const decoded = Buffer.from(m[1], 'base64').toString();
    const i = decoded.indexOf(':');
    const user = decoded.slice(0, i);
    return i > 0 && Object.prototype.hasOwnProperty.call(this.options.users, user) && this.options.users![user] === decoded.slice(i + 1);
  }

  /** The honest WebDAV answer to `req`. */
  honest(req: HostileRequest, res: ServerResponse): void {
    if (req.path === undefined) {
      // outside the mount, or a traversal (`..`, `%2F` in a segment): refused, as honest servers do
      return send(res, req.target.startsWith(MOUNT + '/') ? 400 : 404, { 'Content-Type': 'text/plain' }, 'Not here');
    }
    switch (req.method) {
      case 'OPTIONS':
        return send(res, 200, { DAV: '1, 2', Allow: 'OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, MKCOL, MOVE, COPY, LOCK, UNLOCK' }, '');
      case 'PROPFIND':
        return this.propfind(req, res);
      case 'GET':
      case 'HEAD':
        return this.get(req, res);
      case 'PUT':
        return this.put(req, res);
      case 'DELETE':
        return this.remove(req, res);
      case 'MKCOL':
        return this.mkcol(req, res);
      case 'MOVE':
      case 'COPY':
        return this.transfer(req, res);
      case 'LOCK':
        return send(
          res,
          200,
          { 'Content-Type': 'application/xml; charset=utf-8', 'Lock-Token': '<opaquelocktoken:hostile-1>' },
          '<?xml version="1.0" encoding="utf-8"?><D:prop xmlns:D="DAV:"><D:lockdiscovery><D:activelock><D:locktype><D:write/></D:locktype>' +
            '<D:lockscope><D:exclusive/></D:lockscope><D:locktoken><D:href>opaquelocktoken:hostile-1</D:href></D:locktoken></D:activelock></D:lockdiscovery></D:prop>',
        );
      case 'UNLOCK':
        return send(res, 204, {}, '');
      default:
        return send(res, 405, { 'Content-Type': 'text/plain' }, 'Method not allowed');
    }
  }

  /** The multistatus entry an honest server gives for `path` (undefined when nothing is there). */
  honestEntry(path: string): string | undefined {
    const n = this.tree.get(path);
    if (!n) return undefined;
    if (n.type === 'directory') return entryXml({ href: this.href(path, path !== '/'), dir: true, etag: n.etag, lastModified: httpDate(n.mtime) });
    return entryXml({
      href: this.href(path),
      size: n.data.length,
      etag: n.propEtag === undefined ? n.etag : n.propEtag,
      lastModified: httpDate(n.mtime),
      contentType: n.contentType,
    });
  }

  /** The honest Depth 0 / Depth 1 multistatus for `path`. */
  honestMultistatus(path: string, depth: '0' | '1'): string | undefined {
    const self = this.honestEntry(path);
    if (self === undefined) return undefined;
    const parts = [self];
    if (depth === '1' && this.tree.get(path)?.type === 'directory') {
      for (const child of this.childrenOf(path)) parts.push(this.honestEntry(child)!);
    }
    return multistatusXml(parts);
  }

  private childrenOf(path: string): string[] {
    const prefix = path === '/' ? '/' : path + '/';
    return [...this.tree.keys()].filter(p => p !== path && p.startsWith(prefix) && !p.slice(prefix.length).includes('/')).sort();
  }

  private propfind(req: HostileRequest, res: ServerResponse): void {
    const depth = String(req.headers.depth ?? 'infinity').toLowerCase();
    if (depth !== '0' && depth !== '1' && !this.options.depthInfinity) {
      return send(res, 403, { 'Content-Type': 'application/xml; charset=utf-8' }, '<?xml version="1.0"?><D:error xmlns:D="DAV:"><D:propfind-finite-depth/></D:error>');
    }
    const path = req.path!;
    if (!this.tree.has(path)) return send(res, 404, { 'Content-Type': 'text/plain' }, 'Not found');
    let xml: string;
    if (depth === '0' || depth === '1') xml = this.honestMultistatus(path, depth)!;
    else {
      const prefix = path === '/' ? '/' : path + '/';
      const all = [...this.tree.keys()].filter(p => p === path || p.startsWith(prefix)).sort();
      xml = multistatusXml(all.map(p => this.honestEntry(p)!));
    }
    send(res, 207, { 'Content-Type': 'application/xml; charset=utf-8' }, xml);
  }

  private get(req: HostileRequest, res: ServerResponse): void {
    const n = this.tree.get(req.path!);
    if (!n) return send(res, 404, { 'Content-Type': 'text/plain' }, 'Not found');
    if (n.type === 'directory') return send(res, 404, { 'Content-Type': 'text/plain' }, 'A folder has no content here');
    const inm = req.headers['if-none-match'];
    if (inm !== undefined && etagMatches(String(inm), n.etag)) {
      return send(res, 304, n.headerEtag === undefined ? { ETag: n.etag } : {}, '');
    }
    const head = req.method === 'HEAD';
    if (n.headerEtag !== undefined) {
      // written raw: a header node:http would refuse to send
      const lines = [
        'HTTP/1.1 200 OK',
        `Content-Length: ${n.data.length}`,
        `Content-Type: ${n.contentType}`,
        `Last-Modified: ${httpDate(n.mtime)}`,
        ...(n.headerEtag === null ? [] : [`ETag: ${n.headerEtag}`]),
        'Connection: close',
      ];
      const socket = res.socket!;
      socket.write(Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), head ? Buffer.alloc(0) : n.data]));
      socket.end();
      return;
    }
    res.writeHead(200, {
      'Content-Length': String(n.data.length),
      'Content-Type': n.contentType,
      'Last-Modified': httpDate(n.mtime),
      ETag: n.etag,
    });
    res.end(head ? undefined : n.data);
  }

  private preconditionFails(req: HostileRequest, current: TreeNode | undefined): boolean {
    const ifMatch = req.headers['if-match'];
    if (ifMatch !== undefined && (!current || !etagMatches(String(ifMatch), current.etag))) return true;
    const ifNoneMatch = req.headers['if-none-match'];
    if (ifNoneMatch !== undefined && current && etagMatches(String(ifNoneMatch), current.etag)) return true;
    return false;
  }

  private put(req: HostileRequest, res: ServerResponse): void {
    const path = req.path!;
    const current = this.tree.get(path);
    if (current?.type === 'directory') return send(res, 405, { 'Content-Type': 'text/plain' }, 'A folder is there');
    const parent = this.tree.get(parentOf(path));
    if (path === '/' || parent?.type !== 'directory') return send(res, 409, { 'Content-Type': 'text/plain' }, 'The parent folder does not exist');
    if (this.preconditionFails(req, current)) return send(res, 412, { 'Content-Type': 'text/plain' }, 'Precondition failed');
    const contentType = String(req.headers['content-type'] ?? 'application/octet-stream');
    const etag = this.putFile(path, req.body, contentType);
    send(res, current ? 204 : 201, this.options.etagOnPut === false ? {} : { ETag: etag }, '');
  }

  private remove(req: HostileRequest, res: ServerResponse): void {
    const path = req.path!;
    const current = this.tree.get(path);
    if (!current) return send(res, 404, { 'Content-Type': 'text/plain' }, 'Not found');
    if (path === '/') return send(res, 403, { 'Content-Type': 'text/plain' }, 'Not the share itself');
    if (this.preconditionFails(req, current)) return send(res, 412, { 'Content-Type': 'text/plain' }, 'Precondition failed');
    this.deleteSubtree(path);
    send(res, 204, {}, '');
  }

  private deleteSubtree(path: string): void {
    for (const p of [...this.tree.keys()]) if (p === path || p.startsWith(path + '/')) this.tree.delete(p);
  }

  private mkcol(req: HostileRequest, res: ServerResponse): void {
    const path = req.path!;
    if (req.body.length) return send(res, 415, { 'Content-Type': 'text/plain' }, 'MKCOL with a body');
    if (this.tree.has(path)) return send(res, 405, { 'Content-Type': 'text/plain' }, 'Already exists');
    if (this.tree.get(parentOf(path))?.type !== 'directory') return send(res, 409, { 'Content-Type': 'text/plain' }, 'The parent folder does not exist');
    this.tree.set(path, { type: 'directory', etag: this.newEtag(), mtime: now() });
    send(res, 201, {}, '');
  }

  private transfer(req: HostileRequest, res: ServerResponse): void {
    const from = req.path!;
    const source = this.tree.get(from);
    const destination = String(req.headers.destination ?? '');
    const m = /^https?:\/\/([^/]+)(\/.*)?$/i.exec(destination);
    if (m && m[1] !== this.authority) return send(res, 502, { 'Content-Type': 'text/plain' }, 'The destination is on another server');
    const to = sharePathOf(m ? (m[2] ?? '/') : destination);
    if (!destination || to === undefined) return send(res, 400, { 'Content-Type': 'text/plain' }, 'Bad destination');
    if (!source) return send(res, 404, { 'Content-Type': 'text/plain' }, 'Not found');
    if (to === from || to.startsWith(from + '/') || to === '/') return send(res, 403, { 'Content-Type': 'text/plain' }, 'Not onto itself');
    const existing = this.tree.get(to);
    const overwrite = String(req.headers.overwrite ?? 'T').toUpperCase() !== 'F';
    if (existing && !overwrite) return send(res, 412, { 'Content-Type': 'text/plain' }, 'The destination exists');
    if (this.tree.get(parentOf(to))?.type !== 'directory') return send(res, 409, { 'Content-Type': 'text/plain' }, 'The destination folder does not exist');
    if (existing) this.deleteSubtree(to);
    const moved = [...this.tree.entries()].filter(([p]) => p === from || p.startsWith(from + '/'));
    for (const [p, n] of moved) {
      const q = to + p.slice(from.length);
      this.tree.set(q, req.method === 'MOVE' ? n : { ...n, etag: this.newEtag() });
      if (req.method === 'MOVE') this.tree.delete(p);
    }
    send(res, existing ? 204 : 201, {}, '');
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all(
      this.servers.map(
        s =>
          new Promise<void>(resolve => {
            s.closeAllConnections();
            s.close(() => resolve());
          }),
      ),
    );
  }
}

// --- the other server a redirect may point at

/** A server on another port (127.0.0.1 and ::1) that records everything it receives; a test asserts it got nothing. */
export class ElsewhereServer {
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  port = 0;
  /** Connections opened to it (even ones that never sent a complete request, such as a TLS handshake). */
  connections = 0;
  readonly requests: LoggedRequest[] = [];

  static async start(): Promise<ElsewhereServer> {
    const s = new ElsewhereServer();
    const make = () => {
      const server = createServer((req, res) => {
        const entry: LoggedRequest = {
          method: req.method ?? '',
          target: req.url ?? '',
          host: req.headers.host,
          headers: req.headers,
          authorization: req.headers.authorization,
          bodyLength: 0,
          foreign: true,
        };
        s.requests.push(entry);
        res.on('error', () => undefined);
        readBody(req, n => (entry.bodyLength = n)).then(
          body => answerAsElsewhere(req, res, body),
          () => undefined,
        );
      });
      server.on('connection', socket => {
        s.connections++;
        s.sockets.add(socket);
        socket.on('close', () => s.sockets.delete(socket));
      });
      server.on('clientError', (_err, socket) => socket.destroy());
      s.servers.push(server);
      return server;
    };
    const v4 = make();
    await new Promise<void>(r => v4.listen(0, '127.0.0.1', () => r()));
    s.port = (v4.address() as { port: number }).port;
    const v6 = make();
    await new Promise<void>(resolve => {
      v6.once('error', () => {
        s.servers.splice(s.servers.indexOf(v6), 1);
        resolve();
      });
      v6.listen(s.port, '::1', () => resolve());
    });
    return s;
  }

  url(rawPath: string, host = '127.0.0.1', scheme = 'http'): string {
    return `${scheme}://${host}:${this.port}${rawPath}`;
  }

  async close(): Promise<void> {
    for (const sock of this.sockets) sock.destroy();
    await Promise.all(this.servers.map(s => new Promise<void>(r => (s.closeAllConnections(), s.close(() => r())))));
  }
}

/**
 * What a server that should never have been asked answers: plausible success for everything, so a
 * client that follows a redirect there gets a "result" (and the test sees it).
 */
export const ELSEWHERE_CONTENT = 'FROM ELSEWHERE';

function answerAsElsewhere(req: IncomingMessage, res: ServerResponse, _body: Buffer): void {
  switch (req.method) {
    case 'GET':
      return send(res, 200, { 'Content-Type': 'text/plain', ETag: '"elsewhere"' }, ELSEWHERE_CONTENT);
    case 'PROPFIND': {
      const href = (req.url ?? '/').replace(/^[a-z]+:\/\/[^/]*/i, '');
      const dir = href.endsWith('/') || req.headers.depth === '1';
      return send(res, 207, { 'Content-Type': 'application/xml; charset=utf-8' }, multistatusXml([entryXml({ href, dir, size: ELSEWHERE_CONTENT.length, etag: '"elsewhere"' })]));
    }
    case 'PUT':
    case 'MKCOL':
    case 'COPY':
    case 'MOVE':
      return send(res, 201, { ETag: '"elsewhere"' }, '');
    case 'DELETE':
      return send(res, 204, {}, '');
    default:
      return send(res, 200, { 'Content-Type': 'text/plain' }, ELSEWHERE_CONTENT);
  }
}

// --- multistatus building blocks (values are inserted raw: tests write hostile XML on purpose)

export interface MsEntry {
  /** Inserted raw. */
  href: string;
  dir?: boolean;
  size?: number;
  /** Inserted raw into getetag; null or undefined: no getetag. */
  etag?: string | null;
  lastModified?: string;
  contentType?: string;
  /** Extra raw XML inside <D:prop>. */
  extraProps?: string;
  /** The propstat's status (default 200). */
  propStatus?: number;
  /** A response-level status instead of a propstat (as in MOVE/COPY/DELETE answers). */
  status?: number;
}

export function entryXml(e: MsEntry): string {
  if (e.status !== undefined) return `<D:response><D:href>${e.href}</D:href><D:status>HTTP/1.1 ${e.status} ${STATUS_TEXT[e.status] ?? 'Status'}</D:status></D:response>`;
  const props =
    (e.dir ? '<D:resourcetype><D:collection/></D:resourcetype>' : '<D:resourcetype/>') +
    (e.dir ? '' : `<D:getcontentlength>${e.size ?? 0}</D:getcontentlength>`) +
    (e.lastModified ? `<D:getlastmodified>${e.lastModified}</D:getlastmodified>` : '') +
    (e.etag ? `<D:getetag>${e.etag}</D:getetag>` : '') +
    (e.contentType ? `<D:getcontenttype>${e.contentType}</D:getcontenttype>` : '') +
    (e.extraProps ?? '');
  const status = e.propStatus ?? 200;
  return `<D:response><D:href>${e.href}</D:href><D:propstat><D:prop>${props}</D:prop><D:status>HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Status'}</D:status></D:propstat></D:response>`;
}

/** A multistatus document; `prolog` goes between the XML declaration and the root (a DOCTYPE). */
export function multistatusXml(entries: string[], prolog = ''): string {
  return `<?xml version="1.0" encoding="utf-8"?>${prolog}<D:multistatus xmlns:D="DAV:">${entries.join('')}</D:multistatus>`;
}

/** Text for an XML element's content: `&`, `<`, `>` escaped, nothing else touched. */
export function xmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// --- handlers for the usual tricks

/** Any status, headers and body (string, Buffer, or nothing). */
export function respond(status: number, headers: Record<string, string> = {}, body: string | Buffer = ''): Handler {
  return (_req, res) => send(res, status, headers, body);
}

/** A web page (a gateway's sign-in page), 200 by default. */
export function html(status = 200, page = SIGN_IN_PAGE): Handler {
  return respond(status, { 'Content-Type': 'text/html; charset=utf-8' }, page);
}

export const SIGN_IN_PAGE =
  '<!DOCTYPE html><html><head><title>Sign in - Corporate Gateway</title></head><body><form method="post" action="/login">' +
  '<input name="user"><input type="password" name="password"><button>Sign in</button></form></body></html>';

/** A redirect to `location` (a string, or computed from the request). */
export function redirect(status: number, location: string | ((req: HostileRequest) => string)): Handler {
  return (req, res) =>
    send(res, status, { Location: typeof location === 'string' ? location : location(req), 'Content-Type': 'text/html' }, `<html><body>Moved to <a href="#">here</a></body></html>`);
}

/** A multistatus answer (207 by default). */
export function multistatus(xml: string | ((req: HostileRequest) => string), status = 207): Handler {
  return (req, res) => send(res, status, { 'Content-Type': 'application/xml; charset=utf-8' }, typeof xml === 'string' ? xml : xml(req));
}

/** Answers like a successful write (204 by default, no ETag) and changes nothing. */
export function notStored(status = 204, headers: Record<string, string> = {}): Handler {
  return respond(status, headers, '');
}

export interface StreamedHandler extends Handler {
  /** Body bytes written so far (what the client pulled, plus what socket buffers hold). */
  readonly sent: number;
}

/**
 * A body that trickles: `chunkSize` bytes every `msPerChunk` (default: headers at once, 200 with the
 * Content-Length of the whole body).
 */
export function slow(msPerChunk: number, body: string | Buffer, options: { chunkSize?: number; headers?: Record<string, string>; status?: number } = {}): Handler {
  const data = Buffer.from(body);
  const size = options.chunkSize ?? 1;
  return (_req, res) =>
    new Promise<void>(resolve => {
      res.writeHead(options.status ?? 200, { 'Content-Length': String(data.length), 'Content-Type': 'application/octet-stream', ...options.headers });
      res.flushHeaders();
      let offset = 0;
      const timer = setInterval(() => {
        if (res.destroyed || offset >= data.length) {
          clearInterval(timer);
          if (!res.destroyed) res.end();
          return resolve();
        }
        res.write(data.subarray(offset, offset + size));
        offset += size;
      }, msPerChunk);
      res.on('close', () => {
        clearInterval(timer);
        resolve();
      });
    });
}

/**
 * A body that does not end: `prefix`, then `chunk` over and over with backpressure, up to `capBytes`
 * (so that a client that never stops reading cannot take the machine's memory); then, by `after`,
 * nothing more while the connection stays open (`hang`), a reset, or a normal end. Without
 * `contentLength` the answer is chunked.
 */
export function endless(options: {
  chunk: string | Buffer;
  prefix?: string | Buffer;
  status?: number;
  headers?: Record<string, string>;
  contentLength?: number;
  capBytes?: number;
  after?: 'hang' | 'reset' | 'end';
}): StreamedHandler {
  const chunk = Buffer.from(options.chunk);
  const cap = options.capBytes ?? 256 * 1024 * 1024;
  // write in blocks of ~64 KiB: few calls, no big allocation
  const block = Buffer.concat(Array(Math.max(1, Math.floor(65536 / chunk.length))).fill(chunk));
  let sent = 0;
  const handler = ((_req: HostileRequest, res: ServerResponse) =>
    new Promise<void>(resolve => {
      res.writeHead(options.status ?? 200, {
        'Content-Type': 'application/octet-stream',
        ...(options.contentLength !== undefined ? { 'Content-Length': String(options.contentLength) } : {}),
        ...options.headers,
      });
      const finish = () => {
        res.off('drain', pump);
        resolve();
      };
      res.on('close', finish);
      const pump = () => {
        while (!res.destroyed) {
          if (sent >= cap) {
            if (options.after === 'reset') (res.socket)?.resetAndDestroy();
            else if (options.after === 'end') res.end();
            return; // hang: the socket stays open until the client or close() drops it
          }
          const piece = sent === 0 && options.prefix ? Buffer.from(options.prefix) : block;
          sent += piece.length;
          if (!res.write(piece)) return; // continue on 'drain'
        }
      };
      res.on('drain', pump);
      pump();
    })) as Handler;
  Object.defineProperty(handler, 'sent', { get: () => sent });
  return handler as StreamedHandler;
}

/** Drops the connection without an answer (a TCP reset). */
export function reset(): Handler {
  return (_req, res) => void (res.socket)?.resetAndDestroy();
}

/** Never answers: no status line, no headers (until the client gives up or the server closes). */
export function hang(): Handler {
  return () => new Promise<void>(() => undefined);
}

/** Writes `bytes` onto the socket as they are (a whole raw HTTP answer); `close` ends the connection after. */
export function raw(bytes: string | Buffer, options: { close?: boolean } = {}): Handler {
  return (_req, res) => {
    const socket = res.socket as Socket;
    socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
    if (options.close) socket.end();
  };
}

// --- paths

/**
 * Why a raw request-target is outside the share, or undefined when it resolves below /share/. The
 * target is read as a server might: a literal `\` is a separator (IIS and many proxies treat it so),
 * percent-decoding is applied (`%2e%2e` is `..`, `%2F` is `/`), and `.`/`..` segments are resolved.
 * An encoded backslash (`%5C`) stays part of a name: that is how a name with a backslash is sent.
 */
export function outsideShare(target: string): string | undefined {
  let path = target.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '');
  const q = path.indexOf('?');
  if (q >= 0) path = path.slice(0, q);
  if (!path.startsWith('/')) return 'not an absolute path';
  const out: string[] = [];
  for (const rawSegment of path.replace(/\\/g, '/').split('/')) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(rawSegment);
    } catch {
      decoded = rawSegment;
    }
    for (const s of decoded.split('/')) {
      if (s === '' || s === '.') continue;
      if (s === '..') {
        if (out.length === 0) return 'climbs above the server root';
        out.pop();
      } else out.push(s);
    }
  }
  const resolved = '/' + out.join('/');
  return resolved === MOUNT || resolved.startsWith(MOUNT + '/') ? undefined : `resolves to ${resolved}`;
}

/** The decoded share path of a raw target (`/share/a%20b` → `/a b`), or undefined when it is not a plain path below /share/. */
export function sharePathOf(target: string): string | undefined {
  let p = target.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '');
  const q = p.indexOf('?');
  if (q >= 0) p = p.slice(0, q);
  if (p === MOUNT || p === MOUNT + '/') return '/';
  if (!p.startsWith(MOUNT + '/')) return undefined;
  const out: string[] = [];
  for (const s of p.slice(MOUNT.length + 1).split('/')) {
    if (s === '') continue;
    let d: string;
    try {
      d = decodeURIComponent(s);
    } catch {
      return undefined;
    }
    if (d === '.' || d === '..' || d.includes('/')) return undefined;
    out.push(d);
  }
  return '/' + out.join('/');
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

function toPredicate(match: Match): (req: HostileRequest) => boolean {
  if (typeof match === 'function') return match;
  const space = match.indexOf(' ');
  const method = space < 0 ? match : match.slice(0, space);
  const path = space < 0 ? '*' : match.slice(space + 1);
  return req => (method === '*' || req.method === method) && (path === '*' || req.path === path);
}

function etagMatches(header: string, etag: string): boolean {
  return header.trim() === '*' || header.split(',').some(t => t.trim() === etag);
}

function now(): number {
  return Math.floor(Date.now() / 1000) * 1000;
}

function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer): void {
  if (res.destroyed) return;
  const data = typeof body === 'string' ? Buffer.from(body) : body;
  const empty = status === 204 || status === 304;
  res.writeHead(status, STATUS_TEXT[status] ?? 'Status', empty ? headers : { ...headers, 'Content-Length': String(data.length) });
  res.end(empty ? undefined : data);
}

function readBody(req: IncomingMessage, progress: (n: number) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      progress(n);
      if (n <= 64 * 1024 * 1024) chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
