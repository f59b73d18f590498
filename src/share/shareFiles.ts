// A share's files with the exact semantics of a VS Code FileSystemProvider (create/overwrite, recursive
// delete, rename/copy with overwrite), online through the cache to the server, offline on the cached tree
// with every change journaled. How a change goes (change()): online it is conditional and proven
// (sync/provenWrites.ts); one that met another version is kept and compared (merge, identical, or a
// listed conflict — never an overwrite); one that the server cannot take (unreachable, a sign-in page, not
// stored) is kept offline. Share (share.ts) is the facade over this.
import { isLocal } from '../cache/cacheEntry';
import type { OpenCache } from '../cache/openCache';
import { isShareError, ShareError } from '../core/errors';
import type { Logger } from '../core/log';
import { basename, dirname, isEqualOrParent, normalizePath } from '../core/remotePath';
import { isNetworkFailure, type Connection } from '../offline/connection';
import type { EntryType, Permissions, RemoteEntry, RemoteFs } from '../remote/remoteFs';
import type { ServerVersion } from '../remote/version';
import type { OfflineOps } from '../sync/offlineOps';
import { notLanded, type ProvenWrites, type WriteBase, type WriteOutcome } from '../sync/provenWrites';

/** What ShareFiles needs of its share (the facade owns the state; some of it appears once the cache opens). */
export interface ShareFilesContext {
  readonly key: string;
  readonly log: Logger;
  /** Resolves once the cache (if any) is open. */
  readonly ready: Promise<void>;
  /** Runs a request with the share's sign-in (a 401 asks once). */
  call<T>(op: () => Promise<T>): Promise<T>;
  /** Reads go through this: the caching remote, or the server in live mode. */
  reads(): RemoteFs;
  /** Online changes: conditional and proven. */
  writes(): ProvenWrites;
  cache(): OpenCache | undefined;
  /** Changes made here (undefined in live mode). */
  offline(): OfflineOps | undefined;
  readonly connection?: Connection;
  isConflicted(path: string): boolean;
  /** An online change met another version: replay it now (merge, identical, or a listed conflict). */
  replayNow(): Promise<void>;
}

export class ShareFiles {
  /** Live mode: the version of each file last read or written (what a save's If-Match names). */
  private readonly seenLive = new Map<string, ServerVersion>();

  constructor(private readonly share: ShareFilesContext) {}

  /**
   * The cache was switched in (another window let go of it): the versions this window's editors were
   * given without it are what their saves name from now on (kept here for files the cache does not know
   * yet), and the cache checks those files again.
   */
  adopt(cache: OpenCache): void {
    for (const path of this.seenLive.keys()) {
      this.carrySeen(path);
      cache.remote.invalidate(path);
    }
  }

  /** Hands the version this window's editor was given without the cache to the cache, once it knows the file. */
  private carrySeen(path: string): void {
    const version = this.seenLive.get(path);
    const cache = this.share.cache();
    const e = cache?.tree.get(path);
    if (!version || !cache || e?.type !== 'file' || isLocal(e)) return;
    cache.tree.update(path, { seen: version });
    this.seenLive.delete(path);
  }

  private get log() {
    return this.share.log;
  }

  stat(path: string): Promise<RemoteEntry> {
    return this.share.call(() => this.share.reads().stat(path));
  }

  async readDirectory(path: string): Promise<[string, EntryType][]> {
    const listing = await this.share.call(() => this.share.reads().list(path));
    if (listing.self.type !== 'directory') throw new ShareError('NotADirectory', `${path}: is a file, not a folder`);
    return listing.children.map(c => [basename(c.path), c.type]);
  }

  async readFile(path: string): Promise<Uint8Array> {
    let content;
    try {
      content = await this.share.call(() => this.share.reads().get(path));
    } catch (err) {
      // Apache answers GET on a folder with 404; lighttpd redirects it to `path/`, which answers 403; rclone 405
      if ((isShareError(err, 'NotFound') || isShareError(err, 'NoPermissions') || isShareError(err, 'Rejected')) && (await this.typeOf(path).catch(() => undefined)) === 'directory') {
        throw isADirectory(path);
      }
      throw err;
    }
    if (content === 'not-modified') throw new ShareError('Other', `GET ${path}: unexpected 304 answer`);
    // nephele answers GET on a folder with an empty 204
    if (content.data.byteLength === 0 && (await this.typeOf(path)) === 'directory') throw isADirectory(path);
    // the editor now holds this version: a save names it in If-Match
    const cache = this.share.cache();
    if (cache) {
      cache.remote.markSeen(path);
      this.seenLive.delete(path);
    } else this.seenLive.set(path, { etag: content.etag, mtime: content.mtime ?? 0, size: content.data.byteLength });
    return content.data;
  }

  async writeFile(path: string, data: Uint8Array, options: { create: boolean; overwrite: boolean }): Promise<'created' | 'changed'> {
    const existing = await this.typeOf(path);
    if (existing === 'directory') throw isADirectory(path);
    if (!existing && !options.create) throw new ShareError('NotFound', `${path}: does not exist`);
    if (existing && !options.overwrite) throw new ShareError('Exists', `${path}: already exists`);
    // refused here, at save time — online or offline — not discovered at reconnect
    await this.requireAllowed(existing ? path : dirname(path), 'write', existing ? 'change' : 'create files in');
    this.carrySeen(path);
    return this.change(
      async () => {
        let outcome: WriteOutcome;
        try {
          outcome = await this.share.writes().put(path, data, await this.writeBase(path, existing));
        } catch (err) {
          throw await this.explainParentFailure(path, err);
        }
        // without overwrite, a file created meanwhile by someone else is "exists", as VS Code expects
        if (outcome.kind === 'conflict' && !existing && !options.overwrite) throw new ShareError('Exists', `${path}: was created on the server meanwhile`);
        const landed = this.settle(path, outcome, 'uploaded');
        const version = landed.version ?? { mtime: Date.now(), size: data.byteLength };
        const cache = this.share.cache();
        if (cache) {
          await cache.remote.recordWrite(path, data, version);
          this.seenLive.delete(path);
        } else this.seenLive.set(path, version);
        return existing ? 'changed' : 'created';
      },
      async (ops, sent) => {
        await this.requireParentFolder(path);
        return ops.write(path, data, sent);
      },
      path,
    );
  }

  async createDirectory(path: string): Promise<void> {
    await this.requireAllowed(dirname(path), 'write', 'create folders in');
    return this.change(
      async () => {
        // some servers (rclone) answer MKCOL of an existing folder with success and make missing parents
        // too; VS Code expects "exists" and "not found" (two stats, often answered by the cache)
        if (await this.typeOf(path)) throw new ShareError('Exists', `${path}: already exists`);
        if (dirname(path) !== '/') await this.requireParentFolder(path);
        let outcome: WriteOutcome;
        try {
          outcome = await this.share.writes().mkcol(path);
        } catch (err) {
          throw await this.explainParentFailure(path, err);
        }
        this.settle(path, outcome, 'created');
        this.share.cache()?.remote.recordMkdir(path);
      },
      async (ops, sent) => {
        if (await this.typeOf(path)) throw new ShareError('Exists', `${path}: already exists`);
        await this.requireParentFolder(path);
        await ops.mkdir(path, sent);
      },
    );
  }

  async delete(path: string, options: { recursive: boolean }): Promise<void> {
    if (!options.recursive) {
      // WebDAV DELETE of a folder is always recursive; honour recursive: false ourselves
      const listing = await this.share.call(() => this.share.reads().list(path)).catch(err => {
        if (isShareError(err, 'NotFound')) throw err;
        return undefined;
      });
      if (listing?.self.type === 'directory' && listing.children.length > 0) {
        throw new ShareError('NotEmpty', `${path}: the folder is not empty`);
      }
    }
    await this.requireAllowed(path, 'delete', 'delete');
    this.carrySeen(path);
    return this.change(
      async () => {
        const type = await this.typeOf(path);
        const base = type === 'file' ? await this.writeBase(path, type) : undefined;
        this.settle(path, await this.share.writes().delete(path, base === 'absent' ? undefined : base), 'deleted');
        this.share.cache()?.remote.recordDelete(path);
        this.seenLive.delete(path);
      },
      async (ops, sent) => {
        const type = await this.typeOf(path);
        if (!type) throw new ShareError('NotFound', `${path}: not found`);
        await ops.delete(path, type, sent);
      },
    );
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
    if (kind === 'move') await this.requireAllowed(src, 'rename', 'rename or move');
    this.carrySeen(src);
    await this.requireAllowed(dirname(dst), 'write', kind === 'move' ? 'move items into' : 'copy items into');
    return this.change(
      async () => {
        const type = (await this.typeOf(src)) ?? 'file';
        try {
          const outcome = await this.share.writes().transfer(kind, src, dst, type, overwrite);
          if (outcome.kind === 'conflict') throw new ShareError('Rejected', `${src} → ${dst}: the server answered, but shows something else at ${dst}`);
          this.settle(dst, outcome, kind === 'move' ? 'moved' : 'copied');
          const cache = this.share.cache();
          if (kind === 'move') cache?.remote.recordMove(src, dst);
          else cache?.remote.recordCopy(dst);
        } catch (err) {
          if (err instanceof ShareError && (err.reason === 'signin' || err.reason === 'unstored')) throw err;
          if (isShareError(err, 'Conflict') || (isShareError(err, 'NoPermissions') && !overwrite && (await this.typeOf(dst)))) {
            throw new ShareError('Exists', `${dst}: already exists`, { cause: err });
          }
          // a missing source: 404, or 403 from rclone
          if ((isShareError(err, 'NotFound') || isShareError(err, 'NoPermissions')) && !(await this.typeOf(src))) {
            throw isShareError(err, 'NotFound') ? err : new ShareError('NotFound', `${src}: not found`, { cause: err });
          }
          throw await this.explainParentFailure(dst, err);
        }
      },
      async (ops, sent) => {
        const type = await this.typeOf(src);
        if (!type) throw new ShareError('NotFound', `${src}: not found`);
        const target = await this.typeOf(dst);
        if (target && !overwrite) throw new ShareError('Exists', `${dst}: already exists`);
        await this.requireParentFolder(dst);
        await ops[kind](src, dst, type, overwrite, sent);
      },
    );
  }

  // --- how a change goes

  /**
   * Runs a change online, or records it offline. An online change that fails because the server cannot
   * be reached, or that the server answered without storing it, is recorded offline instead of failing
   * (the connection is offline then); one that met another version (a 412, a changed validator) is
   * recorded and replayed at once, to be merged, found identical, or listed as a conflict — never an
   * overwrite, and the user's bytes are kept either way.
   */
  private async change<T>(online: () => Promise<T>, offline: (ops: OfflineOps, sent: boolean) => Promise<T>, path?: string): Promise<T> {
    await this.share.ready;
    const ops = this.share.offline();
    const connection = this.share.connection;
    if (!ops || !connection) return this.share.call(online);
    // while offline, and for an item in conflict (its edits are the local side until it is resolved)
    if (!connection.isOnline || (path !== undefined && this.share.isConflicted(path))) return offline(ops, false);
    try {
      return await this.share.call(online);
    } catch (err) {
      if (err instanceof OnlineConflict) {
        this.log.info(`[share] ${err.path}: another version is on the server; the change is kept and compared`);
        const result = await offline(ops, false);
        await this.share.replayNow();
        return result;
      }
      if (isNetworkFailure(err) && !connection.isOnline) {
        this.log.info(`[share] ${this.share.key}: the change is kept offline (${err.message})`);
        // it may have reached the server before the failure (an answer lost): the replay checks for that
        return offline(ops, true);
      }
      throw err;
    }
  }

  /**
   * What an online change's outcome means: landed → the caller records it; another version → an
   * OnlineConflict (kept and compared by change()); not stored → the share goes offline, the change kept.
   */
  private settle(path: string, outcome: WriteOutcome, what: string): Extract<WriteOutcome, { kind: 'landed' }> {
    if (outcome.kind === 'landed') return outcome;
    if (outcome.kind === 'conflict') {
      if (this.share.offline()) throw new OnlineConflict(path);
      throw new ShareError(
        'Conflict',
        `${path} was changed on the server by someone else since you opened it; your version was not saved over theirs. Copy your changes, reopen the file and apply them again.`,
      );
    }
    const err = notLanded([path], outcome.html, what);
    this.share.connection?.reportFailure(err);
    throw err;
  }

  /** The version a save of `path` starts from: the one the editor was given. */
  private async writeBase(path: string, existing: EntryType | undefined): Promise<WriteBase> {
    if (!existing) return 'absent';
    // what this window was given without a cache (the cache came later: another window had it), else the cache's
    const base = this.seenLive.get(path) ?? this.share.cache()?.remote.writeBase(path);
    if (base) return base;
    const current = await this.share.reads().stat(path);
    return { etag: current.etag, mtime: current.mtime, size: current.size };
  }

  // --- helpers

  /** The type of what is at `path`, or undefined when nothing is. */
  async typeOf(path: string): Promise<EntryType | undefined> {
    try {
      return (await this.stat(path)).type;
    } catch (err) {
      if (isShareError(err, 'NotFound')) return undefined;
      // Apache answers PROPFIND below a file with 400, lighttpd with 403
      if ((isShareError(err, 'Rejected') || isShareError(err, 'NoPermissions')) && path !== '/') throw await this.explainParentFailure(path, err);
      throw err;
    }
  }

  /**
   * Refuses a change the server says the user may not make (Nextcloud's permissions, WebDAV ACLs), with a
   * message that says so — before anything is sent or journaled.
   */
  private async requireAllowed(path: string, what: keyof Permissions, doing: string): Promise<void> {
    let e: RemoteEntry | undefined;
    try {
      e = await this.stat(path);
    } catch {
      return; // not known: the change itself says what is wrong
    }
    if (e.permissions && !e.permissions[what]) {
      const item = e.type === 'directory' ? `the folder ${path}` : path;
      throw new ShareError('NoPermissions', `You may not ${doing} ${item}: the server shares it with you read-only. Save your changes elsewhere (for example under another folder you may change).`);
    }
  }

  private async requireParentFolder(path: string): Promise<void> {
    const parent = dirname(path);
    const type = await this.typeOf(parent);
    if (type === 'file') throw new ShareError('NotADirectory', `${parent}: is a file, not a folder`);
    if (!type) throw new ShareError('NotFound', `${parent}: the parent folder does not exist`);
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

/** An online change met another version on the server: change() keeps it and compares (replay). */
class OnlineConflict extends Error {
  constructor(readonly path: string) {
    super(`${path}: another version is on the server`);
    this.name = 'OnlineConflict';
  }
}

function isADirectory(path: string): ShareError {
  return new ShareError('IsADirectory', `${path}: is a folder, not a file`);
}
