// Changes made while offline: each is recorded in the journal (intent first, durably) and applied to the
// cached tree. Also: discarding a pending change (its local version goes to the recovery area), and the
// recovery after a crash. Connects offline/ (journal, recovery area) with cache/ (the cached tree).
import { hasValidContent, isLocal, type CacheEntry } from '../cache/cacheEntry';
import type { CachedTree } from '../cache/cachedTree';
import type { LocalChanges } from '../cache/localChanges';
import type { OpenCache } from '../cache/openCache';
import { ShareError } from '../core/errors';
import type { Logger } from '../core/log';
import { dirname, isEqualOrParent } from '../core/remotePath';
import { Journal, type ApplyOp, type SettleOps } from '../offline/journal';
import { pathAfter, produces, type BaseVersion, type JournalItem, type JournalOp, type KnownFile } from '../offline/journalOps';
import { RecoveryArea } from '../offline/recoveryArea';
import { weakEtagEquals } from '../remote/etag';
import type { EntryType } from '../remote/remoteFs';

export class OfflineOps {
  private constructor(
    private readonly tree: CachedTree,
    private readonly local: LocalChanges,
    readonly journal: Journal,
    readonly recovery: RecoveryArea,
    private readonly log: Logger,
  ) {}

  static async open(cache: OpenCache, log: Logger): Promise<OfflineOps> {
    const { tree, local } = cache;
    const canRedo = async (op: JournalOp) => op.kind !== 'write' || !!(await local.blob(op.blob));
    const journal = await Journal.open(cache.records, applyTo(local), canRedo, log, Date.now, settleWith(tree, local));
    const recovery = await RecoveryArea.open(cache.records, log);
    cache.addBlobHolder(() => journal.blobs());
    cache.addBlobHolder(() => recovery.blobs());
    // items marked as changed here that no pending change covers (e.g. left by an older version) are clean
    const settled = local.settle([...tree.all()], path => journal.pending.some(i => produces(i.op, path)));
    if (settled) {
      log.info(`[journal] ${settled} items marked as changed here had no pending change; they are clean`);
      await local.flush();
    }
    return new OfflineOps(tree, local, journal, recovery, log);
  }

  get pending(): readonly JournalItem[] {
    return this.journal.pending;
  }

  // --- recording changes

  // `sent` (each method): the change was sent online once and its answer lost; see Journal.record.

  async write(path: string, data: Uint8Array, sent = false): Promise<'created' | 'changed'> {
    const prev = this.tree.get(path);
    await this.local.holdingBlobs(async () => {
      let blob: string;
      try {
        blob = await this.local.storeContent(data);
      } catch (err) {
        throw cacheFull(path, err);
      }
      // a file that exists through earlier local changes (written, moved or copied here) is not a create
      const follows = !!prev && isLocal(prev);
      await this.record({ kind: 'write', path, blob, size: data.byteLength, base: baseOf(prev), ...(follows ? { follows } : {}) }, sent);
    });
    return prev ? 'changed' : 'created';
  }

  mkdir(path: string, sent = false): Promise<void> {
    return this.record({ kind: 'mkdir', path }, sent);
  }

  delete(path: string, type: EntryType, sent = false): Promise<void> {
    if (type === 'file') return this.record({ kind: 'delete', path, type, base: baseOf(this.tree.get(path)) }, sent);
    // the server files known below the folder: the replay refuses to delete anything else
    return this.record({ kind: 'delete', path, type, files: this.serverFilesBelow(path) }, sent);
  }

  move(from: string, to: string, type: EntryType, overwrite: boolean, sent = false): Promise<void> {
    // a folder's server files: a delete of the moved folder becomes one of these where they are (journalOps.ts)
    const files = type === 'directory' ? { files: this.serverFilesBelow(from) } : {};
    return this.record({ kind: 'move', from, to, type, overwrite, base: baseOf(this.tree.get(from)), ...files }, sent);
  }

  /**
   * The server files known below `path`, and those a pending move of a folder brought there (the replay
   * sends that move first: the server has them there then, in the versions the move knew, where it keeps
   * a file's etag when it moves — all servers tested do; one that does not makes the delete a conflict).
   */
  private serverFilesBelow(path: string): KnownFile[] {
    const files = new Map<string, KnownFile>();
    for (const { op } of this.journal.pending) {
      if (op.kind !== 'move' || !op.files) continue;
      for (const f of op.files) {
        const there = pathAfter(op, f.path);
        if (isEqualOrParent(there, path) && this.tree.get(there)?.type === 'file') files.set(there, { ...f, path: there });
      }
    }
    for (const e of this.tree.subtree(path)) {
      if (e.type === 'file' && !isLocal(e)) files.set(e.path, { path: e.path, etag: e.etag, size: e.size, mtime: e.mtime });
    }
    return [...files.values()];
  }

  copy(from: string, to: string, type: EntryType, overwrite: boolean, sent = false): Promise<void> {
    return this.record({ kind: 'copy', from, to, type, overwrite }, sent);
  }

  private async record(op: JournalOp, sent: boolean): Promise<void> {
    try {
      await this.journal.record(op, applyTo(this.local), settleWith(this.tree, this.local), { sent });
    } catch (err) {
      throw cacheFull(op.kind === 'move' || op.kind === 'copy' ? op.to : op.path, err);
    }
  }

  // --- discarding

  /**
   * Discards a pending change: the cached tree goes back to the server version where it is known, and
   * the local version of a file is kept in the recovery area.
   */
  async discard(id: number): Promise<void> {
    const item = this.journal.pending.find(i => i.id === id);
    if (!item) throw new ShareError('NotFound', `There is no pending change ${id} (it was uploaded or discarded already)`);
    const { op } = item;
    await this.journal.remove([id], () => {
      switch (op.kind) {
        case 'write': {
          this.recovery.keep(op.path, op.blob, op.size, 'discarded');
          this.local.restore(op.path, op.base);
          break;
        }
        case 'mkdir':
          this.local.delete(op.path);
          break;
        case 'delete':
        case 'copy':
          // what was deleted, or replaced by the copy, is not cached any more: the server tells again
          this.local.delete(op.kind === 'copy' ? op.to : op.path);
          this.tree.invalidate(dirname(op.kind === 'copy' ? op.to : op.path));
          break;
        case 'move':
          this.local.move(op.to, op.from);
          for (const e of this.tree.subtree(op.from)) this.local.markSynced(e.path, undefined);
          break;
      }
    });
    this.log.info(`[journal] discarded ${op.kind} ${'path' in op ? op.path : op.from}`);
  }
}

/** The cache operation of each journal operation (used to record, and again by crash recovery). */
export function applyTo(local: LocalChanges): ApplyOp {
  return op => {
    switch (op.kind) {
      case 'write':
        return local.write(op.path, op.blob, op.size);
      case 'mkdir':
        return local.mkdir(op.path);
      case 'delete':
        return local.delete(op.path);
      case 'move':
        return local.move(op.from, op.to);
      case 'copy':
        return local.copy(op.from, op.to);
    }
  };
}

/** After collapsing: what the op touched and no pending change covers any more is clean again. */
function settleWith(tree: CachedTree, local: LocalChanges): SettleOps {
  return (pending, op) => {
    const roots = op.kind === 'move' || op.kind === 'copy' ? [op.from, op.to] : [op.path];
    for (const root of roots) local.settle(tree.subtree(root), path => pending.some(i => produces(i.op, path)));
  };
}

/**
 * The server version a change to `e` starts from: the one the editor was given (it may be older than what
 * the cache learnt since: then the replay finds the newer version and conflicts, never overwrites it);
 * none for an item made here.
 */
function baseOf(e: CacheEntry | undefined): BaseVersion | undefined {
  if (!e || isLocal(e)) return undefined;
  const seen = e.seen ?? { etag: e.etag, mtime: e.mtime, size: e.size };
  const current = seen.etag && e.etag ? weakEtagEquals(seen.etag, e.etag) : seen.mtime === e.mtime && seen.size === e.size;
  return {
    etag: seen.etag,
    mtime: seen.mtime,
    size: seen.size,
    blob: current && hasValidContent(e) ? e.blob : undefined,
  };
}

/** A change the cache could not record, said for the user: nothing of it was kept (the journal refused it). */
function cacheFull(path: string, err: unknown): unknown {
  const code = (err as { code?: string })?.code;
  if (code === 'ENOSPC') {
    return new ShareError(
      'InsufficientStorage',
      `${path}: the local cache is full, so this change cannot be kept offline. Free up space ("WebDAV: Free Up Space") or go online.`,
      { cause: err },
    );
  }
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
    return new ShareError(
      'NoPermissions',
      `${path}: the local cache folder cannot be written (${code}), so this change cannot be kept offline. Make the folder writable, or go online.`,
      { cause: err },
    );
  }
  return err;
}
