// One open share: the facade the VS Code adapters talk to. It gives the remote the exact semantics of
// a VS Code FileSystemProvider (create/overwrite, recursive delete, rename/copy with overwrite) and owns
// the share's authentication state. Later layers (cache, journal) slot in here.
import type { CacheFull, CacheUsage, RemoteChange } from '../cache/cachingRemote';
import type { PinProgress, PinResult } from '../cache/pinner';
import { isShareError, ShareError } from '../core/errors';
import { Emitter, toDisposable, type IDisposable } from '../core/events';
import type { Logger } from '../core/log';
import { basename, dirname, isEqualOrParent, normalizePath } from '../core/remotePath';
import { shareKey, type ShareLocation } from '../core/shareLocation';
import type { Credentials, EntryType, RemoteEntry, RemoteFs } from '../remote/remoteFs';
import type { AuthHandler } from './auth';
import type { OpenShareCache, ShareCache } from './shareCache';

export type { CacheFull, CacheUsage, RemoteChange, RemoteChangeType } from '../cache/cachingRemote';
export type { PinProgress, PinResult } from '../cache/pinner';

const MAX_PROMPTS = 3;

export class Share {
  readonly key: string;
  private readonly ready: Promise<void>;
  /** What operations go through: the caching remote, or the server itself in live mode. */
  private fs: RemoteFs;
  private cache?: ShareCache;
  private readonly disposables: IDisposable[] = [];
  private readonly _onDidChangeRemote = new Emitter<RemoteChange[]>();
  /** Changes others made on the server, found by validation or polling. */
  readonly onDidChangeRemote = this._onDidChangeRemote.event;
  private readonly _onDidChangeCacheState = new Emitter<string[]>();
  /** Paths whose cache state changed (content cached or dropped, pinned or not). */
  readonly onDidChangeCacheState = this._onDidChangeCacheState.event;
  private readonly _onDidBecomeFull = new Emitter<CacheFull>();
  readonly onDidBecomeFull = this._onDidBecomeFull.event;
  private signingIn?: Promise<boolean>;
  /** The user cancelled a prompt: no more prompts until an explicit sign-in (a 401 never loops). */
  private gaveUp = false;
  private username?: string;
  /** Bumped whenever the credentials change, so a 401 answered to old credentials just retries. */
  private generation = 0;

  constructor(
    readonly location: ShareLocation,
    private readonly remote: RemoteFs,
    private readonly auth: AuthHandler,
    private readonly log: Logger,
    openCache?: OpenShareCache,
  ) {
    this.key = shareKey(location);
    this.fs = remote;
    this.ready = Promise.all([this.loadStoredCredentials(), openCache && this.openCache(openCache)]).then(() => undefined);
  }

  private async openCache(open: OpenShareCache): Promise<void> {
    try {
      const cache = await open(this.remote);
      if (!cache) return;
      this.cache = cache;
      this.fs = cache.remote;
      cache.remote.onDidChangeRemote(e => this._onDidChangeRemote.fire(e), undefined, this.disposables);
      cache.remote.onDidChangeCacheState(e => this._onDidChangeCacheState.fire(e), undefined, this.disposables);
      cache.remote.onDidBecomeFull(e => this._onDidBecomeFull.fire(e), undefined, this.disposables);
    } catch (err) {
      // without a cache the share still works, live
      this.log.error(`[cache] ${this.key}: cannot open the cache, working without it (${(err as Error).message})`);
    }
  }

  private async loadStoredCredentials(): Promise<void> {
    try {
      const stored = await this.auth.stored(this.location);
      if (stored) this.useCredentials(stored);
    } catch (err) {
      this.log.warn(`[auth] ${this.key}: could not read stored credentials (${(err as Error).message})`);
    }
  }

  private useCredentials(credentials: Credentials | undefined): void {
    this.username = credentials?.username;
    this.generation++;
    this.remote.setCredentials(credentials);
  }

  // --- authentication

  /**
   * Signs in now (command "Sign In", or credentials typed into an address): tries `given` first, then
   * asks. Resolves true once the server accepts a user name and password.
   */
  async signIn(given?: Credentials): Promise<boolean> {
    await this.ready;
    this.gaveUp = false;
    return this.authenticate('required', given);
  }

  /** Drops the credentials in use (after "Forget Credentials"). */
  forgetCredentials(): void {
    this.useCredentials(undefined);
  }

  private authenticate(reason: 'required' | 'rejected', given?: Credentials): Promise<boolean> {
    // concurrent 401s share one prompt
    this.signingIn ??= this.promptUntilAccepted(reason, given).finally(() => (this.signingIn = undefined));
    return this.signingIn;
  }

  private async promptUntilAccepted(reason: 'required' | 'rejected', given?: Credentials): Promise<boolean> {
    for (let attempt = 0; attempt < MAX_PROMPTS && !this.gaveUp; attempt++) {
      const credentials =
        attempt === 0 && given ? given : await this.auth.ask(this.location, { reason, username: this.username });
      if (!credentials) break;
      this.useCredentials(credentials);
      try {
        await this.remote.stat('/'); // the server itself, never the cache
      } catch (err) {
        if (isShareError(err, 'Unauthorized')) {
          this.log.info(`[auth] ${this.key}: the server refused the user name or password of ${credentials.username}`);
          reason = 'rejected';
          continue;
        }
        // any other failure is not about the credentials; keep them and let the operation report it
      }
      await this.auth.save(this.location, credentials);
      this.log.info(`[auth] ${this.key}: signed in as ${credentials.username}`);
      return true;
    }
    this.gaveUp = true;
    return false;
  }

  /** Runs one remote operation; a 401 asks for credentials once and retries once. */
  private async call<T>(op: () => Promise<T>): Promise<T> {
    await this.ready;
    const generation = this.generation;
    try {
      return await op();
    } catch (err) {
      if (!isShareError(err, 'Unauthorized')) throw err;
      if (this.generation !== generation && !this.signingIn) return await op(); // signed in meanwhile
      if (this.gaveUp || !(await this.authenticate(this.username ? 'rejected' : 'required'))) {
        throw new ShareError('Unauthorized', `${err.message}. Run "WebDAV: Sign In" to enter them`, {
          cause: err,
          status: 401,
        });
      }
      return await op();
    }
  }

  // --- provider semantics

  stat(path: string): Promise<RemoteEntry> {
    return this.call(() => this.fs.stat(path));
  }

  async readDirectory(path: string): Promise<[string, EntryType][]> {
    const listing = await this.call(() => this.fs.list(path));
    if (listing.self.type !== 'directory') throw new ShareError('NotADirectory', `${path}: is a file, not a folder`);
    return listing.children.map(c => [basename(c.path), c.type]);
  }

  async readFile(path: string): Promise<Uint8Array> {
    let content;
    try {
      content = await this.call(() => this.fs.get(path));
    } catch (err) {
      // Apache answers GET on a folder with 404
      if (isShareError(err, 'NotFound') && (await this.typeOf(path)) === 'directory') throw isADirectory(path);
      throw err;
    }
    if (content === 'not-modified') throw new ShareError('Other', `GET ${path}: unexpected 304 answer`);
    // nephele answers GET on a folder with an empty 204
    if (content.data.byteLength === 0 && (await this.typeOf(path)) === 'directory') throw isADirectory(path);
    return content.data;
  }

  async writeFile(path: string, data: Uint8Array, options: { create: boolean; overwrite: boolean }): Promise<'created' | 'changed'> {
    const existing = await this.typeOf(path);
    if (existing === 'directory') throw isADirectory(path);
    if (!existing && !options.create) throw new ShareError('NotFound', `${path}: does not exist`);
    if (existing && !options.overwrite) throw new ShareError('Exists', `${path}: already exists`);
    try {
      // without overwrite, If-None-Match: * keeps a file created meanwhile by someone else
      await this.call(() => this.fs.put(path, data, existing || options.overwrite ? {} : { ifNoneMatch: '*' }));
      return existing ? 'changed' : 'created';
    } catch (err) {
      if (isShareError(err, 'Conflict')) throw new ShareError('Exists', `${path}: was created on the server meanwhile`, { cause: err });
      throw await this.explainParentFailure(path, err);
    }
  }

  async createDirectory(path: string): Promise<void> {
    try {
      await this.call(() => this.fs.mkcol(path));
    } catch (err) {
      throw await this.explainParentFailure(path, err);
    }
  }

  async delete(path: string, options: { recursive: boolean }): Promise<void> {
    if (!options.recursive) {
      // WebDAV DELETE of a folder is always recursive; honour recursive: false ourselves
      const listing = await this.call(() => this.fs.list(path)).catch(err => {
        if (isShareError(err, 'NotFound')) throw err;
        return undefined;
      });
      if (listing?.self.type === 'directory' && listing.children.length > 0) {
        throw new ShareError('NotEmpty', `${path}: the folder is not empty`);
      }
    }
    await this.call(() => this.fs.delete(path));
  }

  rename(from: string, to: string, options: { overwrite: boolean }): Promise<void> {
    return this.transfer('move', from, to, options.overwrite);
  }

  copy(from: string, to: string, options: { overwrite: boolean }): Promise<void> {
    return this.transfer('copy', from, to, options.overwrite);
  }

  private async transfer(kind: 'move' | 'copy', from: string, to: string, overwrite: boolean): Promise<void> {
    const src = normalizePath(from);
    const dst = normalizePath(to);
    if (src === dst) {
      if (kind === 'copy' && !overwrite) throw new ShareError('Exists', `${dst}: already exists`);
      await this.stat(src); // a no-op for an existing item, NotFound otherwise
      return;
    }
    if (isEqualOrParent(dst, src)) {
      throw new ShareError('NoPermissions', `Cannot ${kind} ${src} into itself (${dst})`);
    }
    try {
      await this.call(() => this.fs[kind](src, dst, { overwrite }));
    } catch (err) {
      if (isShareError(err, 'Conflict') || (isShareError(err, 'NoPermissions') && !overwrite && (await this.typeOf(dst)))) {
        throw new ShareError('Exists', `${dst}: already exists`, { cause: err });
      }
      if (isShareError(err, 'NotFound') && !(await this.typeOf(src))) throw err;
      throw await this.explainParentFailure(dst, err);
    }
  }

  // --- cache

  /** Whether this share has a cache (false in live mode). */
  async hasCache(): Promise<boolean> {
    await this.ready;
    return !!this.cache;
  }

  private async requireCache(what: string): Promise<ShareCache> {
    await this.ready;
    if (!this.cache) throw new ShareError('NoPermissions', `${this.key}: ${what} needs the cache, which is off for this share (live mode)`);
    return this.cache;
  }

  /** "Keep Available Offline": pins `path` and downloads everything below it. */
  async pin(path: string, onProgress?: (p: PinProgress) => void, signal?: AbortSignal): Promise<PinResult> {
    const cache = await this.requireCache('keeping files available offline');
    return this.call(() => cache.pinner.pin(path, onProgress, signal));
  }

  /** "Free Up Space": unpins `path` and drops the cached content below it; resolves with the bytes freed. */
  async freeUpSpace(path: string): Promise<number> {
    return (await this.requireCache('freeing up space')).pinner.freeUpSpace(path);
  }

  async usage(): Promise<CacheUsage | undefined> {
    await this.ready;
    return this.cache?.remote.usage();
  }

  /** Cache state of one path, for decorations: undefined in live mode or when nothing is known. */
  cacheState(path: string): { pinned: boolean; cached: boolean } | undefined {
    const c = this.cache?.remote;
    if (!c || !c.index.get(path)) return undefined;
    return { pinned: c.isPinned(path), cached: c.hasContent(path) };
  }

  /** Polls `path` for changes made by others (FileSystemProvider.watch). */
  watch(path: string, recursive: boolean): IDisposable {
    let watch: IDisposable | undefined;
    let disposed = false;
    void this.ready.then(() => {
      if (!disposed && this.cache) watch = this.cache.poller.watch(path, recursive);
    });
    return toDisposable(() => {
      disposed = true;
      watch?.dispose();
    });
  }

  async dispose(): Promise<void> {
    await this.ready;
    this.disposables.forEach(d => d.dispose());
    this._onDidChangeRemote.dispose();
    this._onDidChangeCacheState.dispose();
    this._onDidBecomeFull.dispose();
    await this.cache?.dispose();
  }

  // --- helpers

  /** The type of what is at `path`, or undefined when nothing is. */
  private async typeOf(path: string): Promise<EntryType | undefined> {
    try {
      return (await this.stat(path)).type;
    } catch (err) {
      if (isShareError(err, 'NotFound')) return undefined;
      // Apache answers PROPFIND below a file with 400
      if (isShareError(err, 'Rejected') && path !== '/') throw await this.explainParentFailure(path, err);
      throw err;
    }
  }

  /** After a failed create at `path`, says precisely what is wrong with its parent, if anything. */
  private async explainParentFailure(path: string, err: unknown): Promise<unknown> {
    // servers disagree on how to say it: 409 (most), 400 (Apache below a file), 403 (nephele), 500 (Apache MOVE)
    const vague = ['NotFound', 'Rejected', 'NoPermissions', 'Other'].includes((err as ShareError)?.code) || (err as ShareError)?.status === 500;
    if (!isShareError(err) || !vague) return err;
    const parent = dirname(path);
    let parentType: EntryType | undefined;
    try {
      parentType = await this.typeOf(parent);
    } catch {
      return err;
    }
    if (parentType === 'file') return new ShareError('NotADirectory', `${parent}: is a file, not a folder`, { cause: err });
    if (!parentType) return new ShareError('NotFound', `${parent}: the parent folder does not exist`, { cause: err });
    return err;
  }
}

function isADirectory(path: string): ShareError {
  return new ShareError('IsADirectory', `${path}: is a folder, not a file`);
}
