// Resolving a conflict the replay found: Keep Local, Keep Server, Keep Both (the local version saved as
// a conflict copy next to it on the server), or Mark Resolved after editing the file. Every local
// version a resolution replaces goes to the recovery area first: nothing the user wrote is lost.
import type { CachingRemote } from '../cache/cachingRemote';
import type { LocalChanges } from '../cache/localChanges';
import { statOrGone } from '../remote/settle';
import { ShareError } from '../core/errors';
import type { Logger } from '../core/log';
import { basename, dirname, joinPath } from '../core/remotePath';
import type { Conflict, ConflictList } from '../offline/conflicts';
import type { Journal } from '../offline/journal';
import type { RecoveryArea } from '../offline/recoveryArea';
import type { RemoteEntry, RemoteFs, UploadBody } from '../remote/remoteFs';
import { notLanded, type ProvenWrites, type WriteOutcome } from './provenWrites';
import { STREAM_ABOVE } from './replayOps';

export type Resolution = 'keepLocal' | 'keepServer' | 'keepBoth' | 'markResolved';

export class ConflictResolver {
  constructor(
    private readonly server: RemoteFs,
    /** The cache's reads (its listings follow the server after a resolution). */
    private readonly cache: CachingRemote,
    private readonly local: LocalChanges,
    private readonly journal: Journal,
    private readonly recovery: RecoveryArea,
    private readonly conflicts: ConflictList,
    private readonly writes: ProvenWrites,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  async resolve(conflictId: number, resolution: Resolution): Promise<string | undefined> {
    const c = this.conflicts.all.find(x => x.id === conflictId);
    if (!c) throw new ShareError('NotFound', `There is no open conflict ${conflictId} (resolved already?)`);
    let note: string | undefined;
    switch (resolution) {
      case 'keepLocal':
        await this.keepLocal(c);
        break;
      case 'keepServer':
        await this.keepServer(c);
        break;
      case 'keepBoth':
        note = await this.keepBoth(c);
        break;
      case 'markResolved':
        await this.markResolved(c);
        break;
    }
    this.log.info(`[conflict] ${c.path}: resolved (${resolution})`);
    return note;
  }

  /**
   * The local version as the cache holds it now (the user may have edited it since the conflict); a big
   * one read from the store as it is sent, never held whole.
   */
  private async localContent(c: Conflict): Promise<Uint8Array | UploadBody | undefined> {
    const version = this.local.currentContent(c.path) ?? c.local;
    if (!version?.blob) return undefined;
    if ((version.size ?? 0) > STREAM_ABOVE) {
      const reader = await this.local.openBlob(version.blob);
      if (reader) return reader;
    }
    return this.local.blob(version.blob);
  }

  private current(path: string): Promise<RemoteEntry | undefined> {
    return statOrGone(this.server, path);
  }


  /** The local side wins on the server; the server's version is kept in the recovery area. */
  private async keepLocal(c: Conflict): Promise<void> {
    const server = await this.current(c.path);
    const op = this.journal.pending.find(i => i.id === c.opId)?.op;
    if (op?.kind === 'delete' || c.kind === 'deleted-changed') {
      if (server) landedOrThrow(c.path, await this.writes.delete(c.path, server.type === 'file' ? server : undefined), 'deleted');
      return this.finish(c, () => this.local.delete(c.path), server);
    }
    const data = await this.localContent(c);
    if (!data) throw new ShareError('Other', `${c.path}: there is no local version to keep`);
    if (server && server.type === 'directory') throw new ShareError('Exists', `${c.path} is a folder on the server; use Keep Both`);
    if (!server) await this.ensureParents(c.path);
    const outcome = landedOrThrow(c.path, await this.writes.put(c.path, data, server ?? 'absent'), 'changed');
    const after = await this.current(c.path);
    await this.finish(c, () => this.local.markSynced(c.path, after ?? versionEntry(c.path, outcome)), server);
  }

  /** The server side wins; the local version goes to the recovery area. */
  private async keepServer(c: Conflict): Promise<void> {
    const local = this.local.localVersion(c.path);
    const server = await this.current(c.path);
    await this.finish(c, () => {
      if (local) this.recovery.keep(c.path, local.blob, local.size, 'replaced by the server version');
      this.local.delete(c.path);
      this.cache.invalidate(dirname(c.path));
    });
    if (server) await this.cache.refreshListing(dirname(c.path)).catch(() => undefined);
  }

  /** Both stay: the local version is uploaded as a conflict copy next to the server's. */
  private async keepBoth(c: Conflict): Promise<string> {
    const data = await this.localContent(c);
    if (!data) throw new ShareError('Other', `${c.path}: there is no local version to keep`);
    await this.ensureParents(c.path);
    let copy = conflictCopyName(c.path, this.now());
    for (let i = 2; ; i++) {
      if (!(await this.current(copy))) {
        const outcome = await this.writes.put(copy, data, 'absent');
        if (outcome.kind !== 'conflict') {
          landedOrThrow(copy, outcome, 'created');
          break;
        }
      }
      copy = conflictCopyName(c.path, this.now(), i); // taken meanwhile: the next name
    }
    const local = this.local.localVersion(c.path);
    await this.finish(c, () => {
      if (local) this.recovery.keep(c.path, local.blob, local.size, `uploaded as ${basename(copy)}`);
      this.local.delete(c.path);
      this.cache.invalidate(dirname(c.path));
    });
    await this.cache.refreshListing(dirname(c.path)).catch(() => undefined);
    return copy;
  }

  /** The user merged by hand in the local file: upload it over the server version they compared with. */
  private async markResolved(c: Conflict): Promise<void> {
    const data = await this.localContent(c);
    if (!data) throw new ShareError('Other', `${c.path}: there is no local version to upload`);
    const base = c.server?.etag || c.server?.mtime !== undefined ? { etag: c.server.etag, mtime: c.server.mtime ?? 0, size: c.server.size ?? -1 } : 'absent';
    const outcome = await this.writes.put(c.path, data, base);
    if (outcome.kind === 'conflict') {
      throw new ShareError('Conflict', `${c.path} changed on the server again since you compared it; compare again before marking it resolved`);
    }
    landedOrThrow(c.path, outcome, 'changed');
    const after = await this.current(c.path);
    await this.finish(c, () => this.local.markSynced(c.path, after));
  }

  /** Drops the conflict and its journal operation, applies the cache change, keeps the replaced server version. */
  private async finish(c: Conflict, applyToCache: () => void, replacedServer?: RemoteEntry): Promise<void> {
    const serverBlob = c.server?.blob;
    await this.journal.remove([c.opId], () => {
      this.conflicts.remove(c.id);
      if (replacedServer && serverBlob) this.recovery.keep(c.path, serverBlob, c.server?.size ?? 0, 'the server version replaced by yours');
      applyToCache();
    });
  }

  private async ensureParents(path: string): Promise<void> {
    const missing: string[] = [];
    for (let p = dirname(path); p !== '/' && !(await this.current(p)); p = dirname(p)) missing.unshift(p);
    for (const p of missing) await this.server.mkcol(p);
  }
}

/** `notes (conflicted copy 2026-11-22 101530).md`, as Nextcloud names them. */
export function conflictCopyName(path: string, time: number, n?: number): string {
  const name = basename(path);
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  const d = new Date(time);
  const pad = (x: number) => String(x).padStart(2, '0');
  const stamp = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
  return joinPath(dirname(path), `${stem} (conflicted copy ${stamp}${n ? ` ${n}` : ''})${ext}`);
}


/** A resolution's write must land: a conflict or an unproven answer stops it (nothing is dropped yet). */
function landedOrThrow(path: string, outcome: WriteOutcome, what: string): Extract<WriteOutcome, { kind: 'landed' }> {
  if (outcome.kind === 'landed') return outcome;
  if (outcome.kind === 'conflict') throw new ShareError('Conflict', `${path} changed on the server again meanwhile; compare again before resolving`);
  throw notLanded([path], outcome.html, what);
}

function versionEntry(path: string, outcome: Extract<WriteOutcome, { kind: 'landed' }>): RemoteEntry | undefined {
  const v = outcome.version;
  return v ? { path, type: 'file', size: v.size, mtime: v.mtime, ctime: v.mtime, etag: v.etag } : undefined;
}
