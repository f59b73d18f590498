// Reconnect: finds what changed on the server (directory diff of the cached tree), then replays the
// journal in order with conditional requests: PUT with If-Match (base) or If-None-Match: *, DELETE with
// If-Match, MOVE/COPY with Overwrite: F, MKCOL. A 412 or a changed validator is a conflict, never an
// overwrite. Identical contents resolve silently, non-overlapping text edits merge with the cached base.
// On a server that ignores preconditions, the validator is compared right before each write instead
// (a narrow race, logged, and the user is told once).
//
// Crash and drop safety: an operation is marked "attempted" (durably) before it is sent and removed
// from the journal only after it landed. Sending it again is safe: its preconditions then fail, and the
// server's state (identical content, the target in place) shows it had landed.
import type { CachingRemote } from '../cache/cachingRemote';
import { isShareError, ShareError } from '../core/errors';
import type { Logger } from '../core/log';
import { basename, dirname } from '../core/remotePath';
import type { Settings } from '../core/settings';
import { ConflictList, decide, type Conflict, type ConflictKind, type RemoteSide, type Version } from '../offline/conflicts';
import { describeOp } from '../offline/journal';
import type { JournalItem, JournalOp, KnownFile } from '../offline/journalOps';
import { mergeContent } from '../offline/merge';
import { probeCapabilities, UNKNOWN_CAPABILITIES, type Capabilities } from '../remote/capabilities';
import { weakEtagEquals } from '../cache/cachingRemote';
import type { RemoteEntry, RemoteFs } from '../remote/remoteFs';
import { isWeak, settledStat, statOrGone } from '../remote/settle';
import type { OfflineOps } from './offlineOps';

const CAPABILITIES_KEY = 'capabilities';
const CAPABILITIES_MAX_AGE_MS = 7 * 24 * 3600_000;
/** Apache's etag stays weak for about a second after a write; If-Match compares strongly. */
const WEAK_ETAG_WAIT_MS = 1100;

export interface ReplayReport {
  readonly applied: number;
  /** Resolved automatically: identical on both sides. */
  readonly identical: string[];
  /** Merged automatically (non-overlapping text edits). */
  readonly merged: string[];
  readonly conflicts: Conflict[];
  /** Files forgotten because the server deleted them. */
  readonly remoteDeletions: number;
}

export interface ReplayHooks {
  /** Asked before a reconnect deletes many pinned or cached files; false keeps them. */
  confirmMassDelete(count: number, examples: string[], direction: 'server' | 'local'): Promise<boolean>;
  /** Told once that this server cannot guarantee conflict detection. */
  warnNoPreconditions(): void;
  /** Progress for the status bar. */
  progress(done: number, total: number): void;
}

export interface PreviewItem {
  readonly id: number;
  readonly op: JournalOp;
  readonly action: 'upload' | 'create' | 'delete' | 'move' | 'copy' | 'nothing' | 'conflict';
  readonly detail?: string;
}

type Outcome = { kind: 'done'; identical?: boolean; merged?: boolean } | { kind: 'conflict'; conflict: Omit<Conflict, 'id' | 'opId' | 'time'> };

export class Replayer {
  private capabilities?: Capabilities;
  private warnedNoPreconditions = false;

  constructor(
    private readonly server: RemoteFs,
    private readonly cache: CachingRemote,
    private readonly ops: OfflineOps,
    readonly conflicts: ConflictList,
    private readonly settings: () => Settings,
    private readonly hooks: ReplayHooks,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** The server's probed capabilities (probed once, then cached in the share's store). */
  async serverCapabilities(): Promise<Capabilities> {
    if (this.capabilities) return this.capabilities;
    const stored = this.cache.index.getMeta<Capabilities>(CAPABILITIES_KEY);
    if (stored && this.now() - stored.probedAt < CAPABILITIES_MAX_AGE_MS) return (this.capabilities = stored);
    try {
      this.capabilities = await probeCapabilities(this.server, this.log, this.now());
    } catch (err) {
      if (isShareError(err, 'Unavailable') && err.reason !== 'tls') throw err;
      this.log.warn(`[capabilities] cannot probe the server (${(err as Error).message}); assuming it ignores preconditions`);
      this.capabilities = { ...UNKNOWN_CAPABILITIES, probedAt: this.now() };
    }
    this.cache.index.setMeta(CAPABILITIES_KEY, this.capabilities);
    return this.capabilities;
  }

  /** Detects remote changes and replays the journal. Network failures propagate (the share stays offline). */
  async replay(): Promise<ReplayReport> {
    const remoteDeletions = await this.detectRemoteChanges();
    const report = { applied: 0, identical: [] as string[], merged: [] as string[], conflicts: [] as Conflict[], remoteDeletions };
    const pending = this.ops.journal.pending.filter(i => !this.conflicts.forOp(i.id));
    if (pending.length === 0) return report;
    const caps = await this.serverCapabilities();
    if (!(caps.ifMatch && caps.ifNoneMatch) && !this.warnedNoPreconditions) {
      this.warnedNoPreconditions = true;
      this.hooks.warnNoPreconditions();
    }
    if (!(await this.confirmServerDeletions(pending))) {
      throw new ShareError('Other', 'The reconnect was paused: you chose not to delete those files on the server. Discard the deletions or go online again to confirm.');
    }
    const produced = new Map<string, string | undefined>();
    let done = 0;
    this.hooks.progress(0, pending.length);
    // new changes made during the replay are recorded in the journal and replayed in the same loop
    for (let item = this.next(); item; item = this.next()) {
      const outcome = await this.replayOne(item, caps, produced);
      if (outcome.kind === 'done') {
        report.applied++;
        if (outcome.identical) report.identical.push(pathOf(item.op));
        if (outcome.merged) report.merged.push(pathOf(item.op));
      } else {
        const conflict = this.conflicts.add({ ...outcome.conflict, opId: item.id, time: this.now() });
        this.cache.markConflict(conflict.path);
        await this.cache.index.flush();
        report.conflicts.push(conflict);
      }
      this.hooks.progress(++done, Math.max(done, pending.length));
    }
    this.log.info(
      `[replay] ${report.applied} changes uploaded (${report.identical.length} identical, ${report.merged.length} merged), ${report.conflicts.length} conflicts`,
    );
    return report;
  }

  /**
   * A dry run (F6.5): what a reconnect would do with each pending change, judged from the server's
   * current state; nothing is written.
   */
  async preview(): Promise<PreviewItem[]> {
    const out: PreviewItem[] = [];
    for (const item of this.ops.journal.pending) {
      const { op } = item;
      if (this.conflicts.forOp(item.id)) {
        out.push({ id: item.id, op, action: 'conflict', detail: 'already in conflict' });
        continue;
      }
      const target = await this.statOrGone(pathOf(op));
      switch (op.kind) {
        case 'write': {
          const isCreate = !op.base;
          const remote: RemoteSide = !target ? 'gone' : isCreate ? 'exists' : sameVersion(target, op.base?.etag, op.base) ? 'same' : 'changed';
          const d = decide(isCreate ? 'created' : 'changed', remote);
          out.push({ id: item.id, op, action: d === 'apply' ? 'upload' : 'conflict', detail: d === 'apply' ? undefined : `${d}${d === 'both-changed' ? ' (may merge)' : ''}` });
          break;
        }
        case 'mkdir':
          out.push({ id: item.id, op, action: !target ? 'create' : target.type === 'directory' ? 'nothing' : 'conflict', detail: target?.type === 'file' ? 'a file has that name' : undefined });
          break;
        case 'delete': {
          const remote: RemoteSide = !target ? 'gone' : op.type === 'directory' || sameVersion(target, op.base?.etag, op.base) ? 'same' : 'changed';
          const d = decide('deleted', remote);
          out.push({ id: item.id, op, action: d === 'apply' ? 'delete' : d === 'done' ? 'nothing' : 'conflict', detail: d === 'deleted-changed' ? 'changed on the server' : undefined });
          break;
        }
        case 'move':
        case 'copy': {
          const source = await this.statOrGone(op.from);
          const action = !source ? 'conflict' : target && !op.overwrite ? 'conflict' : op.kind;
          out.push({ id: item.id, op, action, detail: !source ? 'the source is gone on the server' : target && !op.overwrite ? 'the target exists on the server' : undefined });
          break;
        }
      }
    }
    return out;
  }

  /** The next pending operation that is not blocked by a conflict. */
  private next(): JournalItem | undefined {
    return this.ops.journal.pending.find(i => !this.conflicts.forOp(i.id));
  }

  // --- remote changes (directory diff)

  /**
   * Re-lists every cached folder: the cache records creations, changes and deletions made on the
   * server; clean items follow the server, items changed here stay for the replay to decide.
   */
  private async detectRemoteChanges(): Promise<number> {
    const folders = [...this.cache.index.all()].filter(e => e.type === 'directory' && e.children).map(e => e.path).sort();
    let forgotten = 0;
    const listings: { path: string; names: Set<string> }[] = [];
    for (const folder of folders) {
      try {
        const listing = await this.server.list(folder);
        listings.push({ path: folder, names: new Set(listing.children.map(c => basename(c.path))) });
      } catch (err) {
        if (isShareError(err, 'NotFound')) listings.push({ path: folder, names: new Set() });
        else throw err;
      }
    }
    // the mass-delete guard: count what the server's listings would remove from the cache
    const doomed: string[] = [];
    for (const l of listings) {
      const e = this.cache.index.get(l.path);
      for (const name of e?.children ?? []) {
        if (l.names.has(name)) continue;
        const path = l.path === '/' ? `/${name}` : `${l.path}/${name}`;
        for (const x of this.cache.index.subtree(path)) if (x.type === 'file' && x.blob && !isLocalEntry(x)) doomed.push(x.path);
      }
    }
    if (doomed.length > this.settings().massDeleteThreshold && !(await this.hooks.confirmMassDelete(doomed.length, doomed.slice(0, 5), 'local'))) {
      throw new ShareError('Other', `The reconnect was paused: the server no longer has ${doomed.length} files this computer keeps.`);
    }
    for (const folder of folders) {
      try {
        if (this.cache.index.get(folder)) await this.cache.refreshListing(folder);
      } catch (err) {
        if (!isShareError(err, 'NotFound')) throw err;
      }
    }
    forgotten = doomed.length;
    return forgotten;
  }

  private async confirmServerDeletions(pending: readonly JournalItem[]): Promise<boolean> {
    const paths: string[] = [];
    for (const { op } of pending) {
      if (op.kind !== 'delete') continue;
      if (op.type === 'file') paths.push(op.path);
      else paths.push(...(op.files ?? []).map(f => f.path));
    }
    if (paths.length <= this.settings().massDeleteThreshold) return true;
    return this.hooks.confirmMassDelete(paths.length, paths.slice(0, 5), 'server');
  }

  // --- one operation

  private async replayOne(item: JournalItem, caps: Capabilities, produced: Map<string, string | undefined>): Promise<Outcome> {
    const { op } = item;
    const attempted = this.ops.journal.wasAttempted(item.id);
    await this.ops.journal.markAttempted(item.id);
    let outcome: Outcome;
    try {
      switch (op.kind) {
        case 'write':
          outcome = await this.replayWrite(op, caps, produced);
          break;
        case 'mkdir':
          outcome = await this.replayMkdir(op.path);
          break;
        case 'delete':
          outcome = op.type === 'file' ? await this.replayDeleteFile(op, caps, produced) : await this.replayDeleteFolder(op.path, op.files ?? []);
          break;
        case 'move':
        case 'copy':
          outcome = await this.replayTransfer(op, attempted);
          break;
      }
    } catch (err) {
      if (isShareError(err, 'Unavailable') || isShareError(err, 'Unauthorized')) throw err;
      outcome = { kind: 'conflict', conflict: { path: pathOf(op), kind: 'rejected', detail: (err as Error).message } };
    }
    if (outcome.kind === 'done') await this.synced(item, produced);
    this.log.debug(`[replay] ${describeOp(op)}: ${outcome.kind === 'done' ? 'done' : outcome.conflict.kind}`);
    return outcome;
  }

  /** The operation landed: the journal forgets it and the cache records the server's new state. */
  private async synced(item: JournalItem, produced: Map<string, string | undefined>): Promise<void> {
    const { op } = item;
    const targets = op.kind === 'delete' ? [] : [pathOf(op)];
    const stats = new Map<string, RemoteEntry | undefined>();
    for (const path of targets) {
      const s = await this.server.stat(path).catch(err => (isShareError(err, 'NotFound') ? undefined : Promise.reject(err)));
      stats.set(path, s);
      produced.set(path, s?.etag);
    }
    const moved = op.kind === 'move' || op.kind === 'copy' ? this.cache.index.subtree(op.to).map(e => e.path) : [];
    await this.ops.journal.remove([item.id], () => {
      for (const [path, s] of stats) this.cache.markSynced(path, s);
      // below a moved or copied folder, the entries are what the server has now (metadata refreshes later)
      for (const p of moved) if (!stats.has(p)) this.cache.markSynced(p, undefined);
    });
  }

  private async replayWrite(op: Extract<JournalOp, { kind: 'write' }>, caps: Capabilities, produced: Map<string, string | undefined>): Promise<Outcome> {
    const data = await this.cache.index.store.getBlob(op.blob);
    if (!data) throw new ShareError('Other', `the content of ${op.path} is missing from the cache`);
    const known = produced.has(op.path);
    let expected = known ? produced.get(op.path) : op.base?.etag;
    if (op.follows && !known) {
      // it exists through earlier local changes that replayed in an earlier session: their result is the base
      const current = await this.statOrGone(op.path);
      expected = current && isWeak(current.etag) ? (await settledStat(this.server, op.path)).etag : current?.etag;
    }
    const isCreate = !op.base && !known && !(op.follows && expected);
    if (caps.ifMatch && caps.ifNoneMatch && (expected || isCreate)) {
      try {
        await this.server.put(op.path, data, expected ? { ifMatch: expected } : { ifNoneMatch: '*' });
        return { kind: 'done' };
      } catch (err) {
        if (!isShareError(err, 'Conflict') && !isShareError(err, 'NotFound')) throw err;
      }
      return this.writeConflict(op, data, expected);
    }
    // the server ignores preconditions: compare the validator right before writing
    const current = await this.statOrGone(op.path);
    const remote: RemoteSide = !current ? 'gone' : isCreate ? 'exists' : sameVersion(current, expected, known ? undefined : op.base) ? 'same' : 'changed';
    const decision = decide(isCreate ? 'created' : 'changed', remote);
    if (decision === 'apply') {
      this.log.info(`[replay] ${op.path}: written after comparing validators (the server ignores If-Match; a change in the last moment would be lost)`);
      await this.server.put(op.path, data);
      return { kind: 'done' };
    }
    return this.writeConflict(op, data, expected);
  }

  /** The server's file differs from what the change started from: identical? mergeable? else a conflict. */
  private async writeConflict(op: Extract<JournalOp, { kind: 'write' }>, data: Uint8Array, expected: string | undefined): Promise<Outcome> {
    let current = await this.statOrGone(op.path);
    if (!current) {
      if (!op.base && !expected) {
        // nothing there any more: create it (If-None-Match: * keeps a racing creation safe)
        await this.server.put(op.path, data, { ifNoneMatch: '*' });
        return { kind: 'done' };
      }
      return { kind: 'conflict', conflict: { path: op.path, kind: dirname(op.path) !== '/' && !(await this.statOrGone(dirname(op.path))) ? 'folder-deleted' : 'changed-deleted', local: { blob: op.blob, size: op.size }, base: op.base } };
    }
    // Apache: the etag we hold may be the weak one given within a second of a write; the version is the same
    if (expected && weakEtagEquals(current.etag, expected) && (isWeak(current.etag) || isWeak(expected))) {
      current = await settledStat(this.server, op.path).catch(err => (isShareError(err, 'NotFound') ? undefined : Promise.reject(err)));
      if (current?.etag && !isWeak(current.etag) && weakEtagEquals(current.etag, expected)) {
        try {
          await this.server.put(op.path, data, { ifMatch: current.etag });
          return { kind: 'done' };
        } catch (err) {
          if (!isShareError(err, 'Conflict')) throw err;
          current = await this.statOrGone(op.path);
        }
      }
    }
    if (!current) return this.writeConflict(op, data, expected);
    if (isWeak(current.etag)) current = await settledStat(this.server, op.path); // a usable If-Match below
    const server = await this.server.get(op.path);
    if (server === 'not-modified') throw new ShareError('Other', `GET ${op.path}: unexpected 304`);
    if (equalBytes(server.data, data)) return { kind: 'done', identical: true }; // also: our PUT had landed before a drop
    const serverBlob = await this.cache.index.store.putBlob(server.data);
    const serverVersion: Version = { blob: serverBlob, etag: isWeak(server.etag) ? current.etag : (server.etag ?? current.etag), size: server.data.byteLength, mtime: current.mtime };
    const baseData = op.base?.blob ? await this.cache.index.store.getBlob(op.base.blob) : undefined;
    if (baseData) {
      const merged = mergeContent(baseData, server.data, data);
      if (merged.clean) {
        const bytes = new TextEncoder().encode(merged.text);
        try {
          await this.server.put(op.path, bytes, serverVersion.etag ? { ifMatch: serverVersion.etag } : {});
          // the merged content becomes the local content too
          const blob = await this.cache.storeLocalContent(bytes);
          this.cache.localWrite(op.path, blob, bytes.byteLength);
          this.log.info(`[replay] ${op.path}: merged the changes made here and on the server`);
          return { kind: 'done', merged: true };
        } catch (err) {
          if (!isShareError(err, 'Conflict')) throw err;
        }
      }
    }
    const kind: ConflictKind = op.base ? 'both-changed' : 'both-created';
    return { kind: 'conflict', conflict: { path: op.path, kind, local: { blob: op.blob, size: op.size }, server: serverVersion, base: op.base } };
  }

  private async replayMkdir(path: string): Promise<Outcome> {
    try {
      await this.server.mkcol(path);
      return { kind: 'done' };
    } catch (err) {
      if (isShareError(err, 'Exists')) {
        const current = await this.statOrGone(path);
        if (current?.type === 'directory') return { kind: 'done', identical: true }; // made on both sides: folders merge
        return { kind: 'conflict', conflict: { path, kind: 'both-created' } };
      }
      if (isShareError(err, 'NotFound')) return { kind: 'conflict', conflict: { path, kind: 'folder-deleted' } };
      throw err;
    }
  }

  private async replayDeleteFile(op: Extract<JournalOp, { kind: 'delete' }>, caps: Capabilities, produced: Map<string, string | undefined>): Promise<Outcome> {
    let base = op.base;
    if (!base) {
      // no base: the file exists through earlier local changes; the version they produced is the one to delete
      const current = produced.has(op.path) ? undefined : await this.statOrGone(op.path);
      const etag = produced.has(op.path) ? produced.get(op.path) : current?.etag;
      if (!produced.has(op.path) && !current) return { kind: 'done', identical: true };
      base = { etag, mtime: current?.mtime ?? 0, size: current?.size ?? 0 };
      if (!etag && current) base = { mtime: current.mtime, size: current.size };
    }
    if (caps.ifMatch && base?.etag) {
      try {
        await this.server.delete(op.path, { ifMatch: base.etag });
        return { kind: 'done' };
      } catch (err) {
        if (isShareError(err, 'NotFound')) return { kind: 'done', identical: true }; // deleted on both sides
        if (!isShareError(err, 'Conflict')) throw err;
      }
    }
    let current = await this.statOrGone(op.path);
    if (current && isWeak(current.etag)) current = await settledStat(this.server, op.path).catch(() => current);
    const remote: RemoteSide = !current ? 'gone' : sameVersion(current, base?.etag, base) ? 'same' : 'changed';
    const decision = decide('deleted', remote);
    if (decision === 'done') return { kind: 'done', identical: true };
    if (decision === 'apply') {
      // same version (a weak etag, or a server without If-Match): delete it now
      await this.server.delete(op.path, current?.etag && !/^W\//.test(current.etag) && caps.ifMatch ? { ifMatch: current.etag } : {});
      return { kind: 'done' };
    }
    return { kind: 'conflict', conflict: { path: op.path, kind: 'deleted-changed', base, server: { etag: current?.etag, size: current?.size, mtime: current?.mtime } } };
  }

  /** Deletes a folder only if the server has nothing below it that the cache did not know as it was. */
  private async replayDeleteFolder(path: string, files: readonly KnownFile[]): Promise<Outcome> {
    const known = new Map(files.map(f => [f.path, f]));
    const unknown: string[] = [];
    const walk = async (folder: string): Promise<boolean> => {
      let listing;
      try {
        listing = await this.server.list(folder);
      } catch (err) {
        if (isShareError(err, 'NotFound')) return false;
        throw err;
      }
      for (const c of listing.children) {
        if (c.type === 'directory') await walk(c.path);
        else {
          const k = known.get(c.path);
          if (!k || !sameVersion(c, k.etag, k)) unknown.push(c.path);
        }
      }
      return true;
    };
    if (!(await walk(path))) return { kind: 'done', identical: true }; // gone on the server already
    if (unknown.length) {
      return { kind: 'conflict', conflict: { path, kind: 'deleted-changed', detail: `the server has new or changed files inside: ${unknown.slice(0, 3).join(', ')}` } };
    }
    try {
      await this.server.delete(path);
    } catch (err) {
      if (!isShareError(err, 'NotFound')) throw err;
    }
    return { kind: 'done' };
  }

  private async replayTransfer(op: Extract<JournalOp, { kind: 'move' | 'copy' }>, attempted: boolean): Promise<Outcome> {
    try {
      await this.server[op.kind](op.from, op.to, { overwrite: op.overwrite });
      return { kind: 'done' };
    } catch (err) {
      if (isShareError(err, 'Conflict') || isShareError(err, 'Exists')) {
        // the target exists: if a previous attempt landed, it is our own result
        if (attempted && (await this.landed(op))) return { kind: 'done' };
        return { kind: 'conflict', conflict: { path: op.to, kind: 'both-created' } };
      }
      if (isShareError(err, 'NotFound')) {
        if (attempted && (await this.landed(op))) return { kind: 'done' };
        const parentGone = !(await this.statOrGone(dirname(op.to)));
        const local = this.cache.index.get(op.to);
        return {
          kind: 'conflict',
          conflict: { path: op.to, kind: parentGone ? 'folder-deleted' : 'changed-deleted', local: local?.blob ? { blob: local.blob, size: local.size } : undefined, base: op.kind === 'move' ? op.base : undefined },
        };
      }
      throw err;
    }
  }

  /** After a drop: did the earlier MOVE/COPY land? (the target is there; a moved source is gone) */
  private async landed(op: Extract<JournalOp, { kind: 'move' | 'copy' }>): Promise<boolean> {
    const target = await this.statOrGone(op.to);
    if (!target) return false;
    if (op.kind === 'move' && (await this.statOrGone(op.from))) return false;
    const base = op.kind === 'move' ? op.base : undefined;
    return base && op.type === 'file' ? target.size === base.size : true;
  }

  private statOrGone(path: string): Promise<RemoteEntry | undefined> {
    return statOrGone(this.server, path);
  }

}

function pathOf(op: JournalOp): string {
  return op.kind === 'move' || op.kind === 'copy' ? op.to : op.path;
}

function isLocalEntry(e: { state?: string }): boolean {
  return (e.state ?? 'clean') !== 'clean';
}

/** Whether the server's current version is the one we knew: etags (weakly), else mtime + size. */
function sameVersion(current: RemoteEntry, etag: string | undefined, base?: { mtime: number; size: number }): boolean {
  if (etag && current.etag) return weakEtagEquals(etag, current.etag);
  return !!base && current.mtime === base.mtime && current.size === base.size;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
