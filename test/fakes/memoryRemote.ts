// An in-memory RemoteFs with a WebDAV server's exact semantics as the product relies on them (what
// Apache and nephele do: test/conformance checks the same rules against them), a manual clock, and
// scriptable failures. For the unit tier: the replay's decision table, the cache's coherency rules and
// the local changes run against it in milliseconds. The real-server suites stay the second tier.
//
// Semantics: paths are share paths; a PUT needs its parent folder (else NotFound, as a 409), replaces a
// file (not a folder: Rejected), honours If-Match / If-None-Match (412 → Conflict) unless the server is
// told to ignore preconditions (rclone, nginx); MKCOL on an existing item → Exists (405), without a parent
// → NotFound; DELETE is recursive and honours If-Match; MOVE/COPY honour Overwrite (F onto an existing
// target → Conflict), need the target's parent, and move or copy whole subtrees. Every change gives the
// item a new strong etag; folders have etags that change when a direct child is added or removed.
import { ShareError } from '../../src/core/errors';
import { dirname, isEqualOrParent, joinPath, normalizePath, relativeTo } from '../../src/core/remotePath';
import type { Credentials, Preconditions, RemoteContent, RemoteEntry, RemoteFs, RemoteListing, WriteResult } from '../../src/remote/remoteFs';

type Method = 'PROPFIND' | 'GET' | 'PUT' | 'MKCOL' | 'DELETE' | 'MOVE' | 'COPY' | 'LOCK' | 'UNLOCK';

interface Node {
  type: 'file' | 'directory';
  data?: Uint8Array;
  etag: string;
  mtime: number;
  ctime: number;
}

/** What a scripted failure does to one request. */
export type Fault =
  /** the connection drops before the server acts: nothing happens, the client sees a reset */
  | 'drop'
  /** the server acts, then the connection drops before the answer: it landed, the client sees a reset */
  | 'dropAfter'
  /** 412 Precondition Failed, whatever the preconditions */
  | '412'
  /** 503 (a server error) */
  | '503'
  /** 2xx without doing anything (a broken server, a gateway) */
  | 'notStored'
  /** 200 with a web page and nothing done (a gateway's sign-in page) */
  | 'html';

export interface MemoryRemoteOptions {
  /** Like rclone and nginx: If-Match and If-None-Match are ignored (lost updates are possible). */
  readonly ignorePreconditions?: boolean;
  /** Like nginx: no etags at all (mtime + size is all there is). */
  readonly noEtags?: boolean;
  /** Like rclone and lighttpd: a PUT's answer carries the new etag. */
  readonly etagOnPut?: boolean;
}

/** A clock the test moves by hand; server mtimes have 1 s resolution, like every real server. */
export class ManualClock {
  constructor(public ms = Date.UTC(2026, 10, 29, 12, 0, 0)) {}
  now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

export class MemoryRemote implements RemoteFs {
  private readonly nodes = new Map<string, Node>();
  private serial = 0;
  private readonly faults: { method: Method; path?: string; fault: Fault; times: number }[] = [];
  /** Every request, in order: `METHOD /path`. */
  readonly requests: string[] = [];
  credentials?: Credentials;

  constructor(
    readonly clock = new ManualClock(),
    private readonly options: MemoryRemoteOptions = {},
  ) {
    this.nodes.set('/', this.node('directory'));
  }

  // --- the test's side: the server's disk, and faults

  /** Writes a file as someone else would (no preconditions); creates the folders above it. */
  write(path: string, content: string | Uint8Array): void {
    const p = normalizePath(path);
    this.ensureFolders(dirname(p));
    const data = typeof content === 'string' ? new TextEncoder().encode(content) : content;
    const prev = this.nodes.get(p);
    this.nodes.set(p, { ...this.node('file', data), ctime: prev?.ctime ?? this.seconds() });
    this.touchParent(p);
  }

  mkdirp(path: string): void {
    this.ensureFolders(normalizePath(path));
  }

  /** Deletes as someone else would. */
  remove(path: string): void {
    const p = normalizePath(path);
    for (const k of [...this.nodes.keys()]) if (isEqualOrParent(k, p)) this.nodes.delete(k);
    this.touchParent(p);
  }

  /** The text of a file on the server, or undefined. */
  read(path: string): string | undefined {
    const n = this.nodes.get(normalizePath(path));
    return n?.type === 'file' ? new TextDecoder().decode(n.data) : undefined;
  }

  has(path: string): boolean {
    return this.nodes.has(normalizePath(path));
  }

  /** Every path on the server, sorted. */
  paths(): string[] {
    return [...this.nodes.keys()].sort();
  }

  etagOf(path: string): string | undefined {
    return this.nodes.get(normalizePath(path))?.etag;
  }

  /** The next `times` requests of `method` (to `path`, if given) meet `fault`. */
  failNext(method: Method, fault: Fault, options: { path?: string; times?: number } = {}): void {
    this.faults.push({ method, path: options.path, fault, times: options.times ?? 1 });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  count(method?: Method): number {
    return method ? this.requests.filter(r => r.startsWith(`${method} `)).length : this.requests.length;
  }

  // --- RemoteFs

  setCredentials(credentials: Credentials | undefined): void {
    this.credentials = credentials;
  }

  async stat(path: string): Promise<RemoteEntry> {
    const p = this.begin('PROPFIND', path);
    this.readFault('PROPFIND', p);
    return this.entry(p, this.need(p, 'PROPFIND'));
  }

  async list(path: string): Promise<RemoteListing> {
    const p = this.begin('PROPFIND', path);
    this.readFault('PROPFIND', p);
    const self = this.need(p, 'PROPFIND');
    const children: RemoteEntry[] = [];
    if (self.type === 'directory') {
      for (const [k, n] of this.nodes) if (k !== p && dirname(k) === p) children.push(this.entry(k, n));
    }
    children.sort((a, b) => a.path.localeCompare(b.path));
    return { self: this.entry(p, self), children };
  }

  async get(path: string, options: { ifNoneMatch?: string } = {}): Promise<RemoteContent | 'not-modified'> {
    const p = this.begin('GET', path);
    this.readFault('GET', p);
    const n = this.need(p, 'GET');
    if (n.type === 'directory') throw new ShareError('NotFound', `GET ${p}: not found on the server (HTTP 404)`, { status: 404 });
    if (options.ifNoneMatch && !this.options.noEtags && options.ifNoneMatch.replace(/^W\//, '') === n.etag) return 'not-modified';
    return { data: n.data!.slice(), etag: this.options.noEtags ? undefined : n.etag, mtime: n.mtime };
  }

  async put(path: string, data: Uint8Array, pre: Preconditions = {}): Promise<WriteResult> {
    const p = this.begin('PUT', path);
    return this.change('PUT', p, () => {
      const parent = this.nodes.get(dirname(p));
      if (!parent || parent.type !== 'directory') throw new ShareError('NotFound', `PUT ${p}: the parent folder does not exist (HTTP 409)`, { status: 409 });
      const prev = this.nodes.get(p);
      if (prev?.type === 'directory') throw new ShareError('Rejected', `PUT ${p}: is a folder (HTTP 405)`, { status: 405 });
      this.checkPreconditions('PUT', p, prev, pre);
      const node = { ...this.node('file', data.slice()), ctime: prev?.ctime ?? this.seconds() };
      this.nodes.set(p, node);
      if (!prev) this.touchParent(p);
      return this.options.etagOnPut && !this.options.noEtags ? { etag: node.etag } : {};
    });
  }

  async mkcol(path: string): Promise<WriteResult> {
    const p = this.begin('MKCOL', path);
    return this.change('MKCOL', p, () => {
      if (this.nodes.has(p)) throw new ShareError('Exists', `MKCOL ${p}: something with this name already exists (HTTP 405)`, { status: 405 });
      const parent = this.nodes.get(dirname(p));
      if (!parent || parent.type !== 'directory') throw new ShareError('NotFound', `MKCOL ${p}: the parent folder does not exist (HTTP 409)`, { status: 409 });
      this.nodes.set(p, this.node('directory'));
      this.touchParent(p);
      return {};
    });
  }

  async delete(path: string, pre: Preconditions = {}): Promise<WriteResult> {
    const p = this.begin('DELETE', path);
    return this.change('DELETE', p, () => {
      const n = this.need(p, 'DELETE');
      this.checkPreconditions('DELETE', p, n, pre);
      for (const k of [...this.nodes.keys()]) if (isEqualOrParent(k, p)) this.nodes.delete(k);
      this.touchParent(p);
      return {};
    });
  }

  async move(from: string, to: string, options: { overwrite: boolean }): Promise<WriteResult> {
    return this.transfer('MOVE', from, to, options.overwrite);
  }

  async copy(from: string, to: string, options: { overwrite: boolean }): Promise<WriteResult> {
    return this.transfer('COPY', from, to, options.overwrite);
  }

  async depthInfinity(): Promise<boolean> {
    return false;
  }

  async lock(path: string): Promise<string> {
    this.begin('LOCK', path);
    return `opaquelocktoken:${++this.serial}`;
  }

  async unlock(path: string): Promise<void> {
    this.begin('UNLOCK', path);
  }

  // --- internals

  private transfer(method: 'MOVE' | 'COPY', from: string, to: string, overwrite: boolean): Promise<WriteResult> {
    const src = this.begin(method, from);
    const dst = normalizePath(to);
    return this.change(method, src, () => {
      this.need(src, method);
      const parent = this.nodes.get(dirname(dst));
      if (!parent || parent.type !== 'directory') throw new ShareError('NotFound', `${method} ${src}: the parent folder does not exist (HTTP 409)`, { status: 409 });
      if (this.nodes.has(dst)) {
        if (!overwrite) throw new ShareError('Conflict', `${method} ${src}: the item changed on the server or already exists (HTTP 412)`, { status: 412 });
        for (const k of [...this.nodes.keys()]) if (isEqualOrParent(k, dst)) this.nodes.delete(k);
      }
      const moved = [...this.nodes.entries()].filter(([k]) => isEqualOrParent(k, src));
      for (const [k, n] of moved) {
        const target = joinPath(dst, relativeTo(k, src)!);
        this.nodes.set(target, method === 'MOVE' ? n : { ...n, etag: this.etag(), ctime: this.seconds(), mtime: this.seconds() });
        if (method === 'MOVE') this.nodes.delete(k);
      }
      this.touchParent(dst);
      if (method === 'MOVE') this.touchParent(src);
      return {};
    });
  }

  private begin(method: Method, path: string): string {
    const p = normalizePath(path);
    this.requests.push(`${method} ${p}`);
    return p;
  }

  private takeFault(method: Method, path: string): Fault | undefined {
    const i = this.faults.findIndex(f => f.method === method && (f.path === undefined || f.path === path));
    if (i < 0) return undefined;
    const f = this.faults[i];
    if (--f.times <= 0) this.faults.splice(i, 1);
    return f.fault;
  }

  private readFault(method: Method, path: string): void {
    const fault = this.takeFault(method, path);
    if (fault === 'drop' || fault === 'dropAfter') throw reset(method, path);
    if (fault === '503') throw unavailable503(method, path);
    if (fault === 'html') throw new ShareError('Unavailable', `${method} ${path}: a web page instead of WebDAV data: a sign-in is needed`, { reason: 'signin', status: 200 });
  }

  private change(method: Method, path: string, act: () => WriteResult): Promise<WriteResult> {
    const fault = this.takeFault(method, path);
    switch (fault) {
      case 'drop':
        return Promise.reject(reset(method, path));
      case '503':
        return Promise.reject(unavailable503(method, path));
      case '412':
        return Promise.reject(new ShareError('Conflict', `${method} ${path}: the item changed on the server or already exists (HTTP 412)`, { status: 412 }));
      case 'notStored':
        return Promise.resolve({});
      case 'html':
        return Promise.resolve({ html: true });
      case 'dropAfter':
        try {
          act();
        } catch {
          // it failed on the server; the client never learns
        }
        return Promise.reject(reset(method, path));
      default:
        try {
          return Promise.resolve(act());
        } catch (err) {
          return Promise.reject(err);
        }
    }
  }

  private checkPreconditions(method: Method, path: string, current: Node | undefined, pre: Preconditions): void {
    if (this.options.ignorePreconditions) return;
    const fail = () => {
      throw new ShareError('Conflict', `${method} ${path}: the item changed on the server or already exists (HTTP 412)`, { status: 412 });
    };
    if (pre.ifNoneMatch === '*' && current) fail();
    if (pre.ifMatch) {
      // strong comparison, as Apache does: a weak etag never matches
      if (!current || this.options.noEtags || pre.ifMatch.startsWith('W/') || (pre.ifMatch !== '*' && pre.ifMatch !== current.etag)) fail();
    }
  }

  private need(path: string, method: Method): Node {
    const n = this.nodes.get(path);
    if (!n) throw new ShareError('NotFound', `${method} ${path}: not found on the server (HTTP 404)`, { status: 404 });
    return n;
  }

  private entry(path: string, n: Node): RemoteEntry {
    return {
      path,
      type: n.type,
      size: n.type === 'file' ? n.data!.byteLength : 0,
      mtime: n.mtime,
      ctime: n.ctime,
      etag: this.options.noEtags ? undefined : n.etag,
    };
  }

  private node(type: 'file' | 'directory', data?: Uint8Array): Node {
    const t = this.seconds();
    return { type, data: type === 'file' ? (data ?? new Uint8Array()) : undefined, etag: this.etag(), mtime: t, ctime: t };
  }

  private etag(): string {
    return `"m${(++this.serial).toString(36)}"`;
  }

  private seconds(): number {
    return Math.floor(this.clock.now() / 1000) * 1000;
  }

  private ensureFolders(path: string): void {
    const missing: string[] = [];
    for (let p = path; p !== '/' && !this.nodes.has(p); p = dirname(p)) missing.unshift(p);
    for (const p of missing) {
      this.nodes.set(p, this.node('directory'));
      this.touchParent(p);
    }
  }

  /** A folder's etag and mtime change when a direct child is added or removed. */
  private touchParent(path: string): void {
    if (path === '/') return;
    const parent = this.nodes.get(dirname(path));
    if (parent) Object.assign(parent, { etag: this.etag(), mtime: this.seconds() });
  }
}

function reset(method: Method, path: string): ShareError {
  return new ShareError('Unavailable', `${method} ${path}: the connection was dropped`, { reason: 'reset' });
}

function unavailable503(method: Method, path: string): ShareError {
  return new ShareError('Unavailable', `${method} ${path}: the server had an internal error (HTTP 503)`, { reason: 'server', status: 503 });
}

