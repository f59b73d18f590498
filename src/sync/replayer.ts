// Reconnect: finds what changed on the server (directory diff of the cached tree), then replays the
// journal in order (replayOps.ts: conditional requests, conflicts, merges). A change that was sent
// counts as uploaded only once the server shows it (offline/landing.ts): the proofs are batched — one
// stat, or one Depth-1 listing per folder, for up to a batch of changes — and a change the server
// answered but does not show stays pending (the share stays offline, "sign-in needed" when the answer
// was a web page), while another version in its place is a conflict, never an overwrite.
//
// Crash and drop safety: an operation is marked "attempted" (durably) before it is sent and removed
// from the journal only after it is proven. Sending it again is safe: its preconditions then fail, and the
// server's state (identical content, the target in place) shows it had landed.
import { isLocal } from '../cache/cacheEntry';
import type { CachedTree } from '../cache/cachedTree';
import type { CachingRemote } from '../cache/cachingRemote';
import type { LocalChanges } from '../cache/localChanges';
import { isShareError, ShareError } from '../core/errors';
import type { Logger } from '../core/log';
import { basename, isEqualOrParent } from '../core/remotePath';
import type { Settings } from '../core/settings';
import { decide, type Conflict, type ConflictList, type RemoteSide } from '../offline/conflicts';
import { describeOp, type Journal } from '../offline/journal';
import { opPaths, type JournalItem, type JournalOp } from '../offline/journalOps';
import type { Verdict } from './landing';
import type { Capabilities } from '../remote/capabilities';
import type { RemoteEntry, RemoteFs, RemoteListing } from '../remote/remoteFs';
import { statOrGone } from '../remote/settle';
import { judge, needsObservation, notLanded, observeServer } from './provenWrites';
import { sameVersion } from '../remote/version';
import { expectedVersion, ReplayOps, type Outcome, type Produced } from './replayOps';
import type { ServerCapabilities } from './serverCapabilities';

/** Changes sent before their landing is proven in one go (one request per touched folder). */
const PROOF_BATCH = 64;

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
  /** Told before a replay whose uploads need more than the server's quota says is free (they go on; a 507 keeps a change). */
  warnQuota?(neededBytes: number, availableBytes: number): void;
}

export interface PreviewItem {
  readonly id: number;
  readonly op: JournalOp;
  readonly action: 'upload' | 'create' | 'delete' | 'move' | 'copy' | 'nothing' | 'conflict';
  readonly detail?: string;
}

/** A change that was sent and waits for its proof. */
interface Sent {
  readonly item: JournalItem;
  readonly outcome: Extract<Outcome, { kind: 'done' }>;
}

export class Replayer {
  private warnedNoPreconditions = false;
  private readonly ops: ReplayOps;

  constructor(
    private readonly server: RemoteFs,
    /** The cache's reads: the directory diff's listings are recorded through it. */
    private readonly cache: CachingRemote,
    private readonly tree: CachedTree,
    private readonly local: LocalChanges,
    private readonly journal: Journal,
    readonly conflicts: ConflictList,
    private readonly capabilities: ServerCapabilities,
    private readonly settings: () => Settings,
    private readonly hooks: ReplayHooks,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.ops = new ReplayOps(
      server,
      {
        getBlob: hash => local.blob(hash),
        putBlob: data => local.storeContent(data),
        writeLocal: async (path, data) => local.write(path, await local.storeContent(data), data.byteLength),
        localVersion: path => local.localVersion(path),
      },
      log,
    );
  }

  /** Detects remote changes and replays the journal. Network failures propagate (the share stays offline). */
  async replay(): Promise<ReplayReport> {
    const remoteDeletions = await this.detectRemoteChanges();
    return this.replayJournal(remoteDeletions, true);
  }

  /**
   * Replays what is pending without looking for remote changes first: an online change that met
   * another version (a 412) goes this way, to be merged, found identical or listed as a conflict.
   */
  replayPending(): Promise<ReplayReport> {
    return this.replayJournal(0, false);
  }

  private async replayJournal(remoteDeletions: number, confirmDeletions: boolean): Promise<ReplayReport> {
    const report = { applied: 0, identical: [] as string[], merged: [] as string[], conflicts: [] as Conflict[], remoteDeletions };
    const pending = this.journal.pending.filter(i => !this.conflicts.forOp(i.id));
    if (pending.length === 0) return report;
    const caps = await this.capabilities.get();
    if (!(caps.ifMatch && caps.ifNoneMatch) && !this.warnedNoPreconditions) {
      this.warnedNoPreconditions = true;
      this.hooks.warnNoPreconditions();
    }
    this.checkQuota(pending);
    if (confirmDeletions && !(await this.confirmServerDeletions(pending))) {
      throw new ShareError('Other', 'The reconnect was paused: you chose not to delete those files on the server. Discard the deletions or go online again to confirm.');
    }
    const produced: Produced = new Map();
    const sent: Sent[] = [];
    const tried = new Set<number>();
    let done = 0;
    this.hooks.progress(0, pending.length);
    const count = (item: JournalItem, outcome: Extract<Outcome, { kind: 'done' }>) => {
      report.applied++;
      if (outcome.identical) report.identical.push(pathOf(item.op));
      if (outcome.merged) report.merged.push(pathOf(item.op));
      this.hooks.progress(++done, Math.max(done, pending.length));
    };
    const addConflict = async (item: JournalItem, c: Extract<Outcome, { kind: 'conflict' }>['conflict']) => {
      const conflict = this.conflicts.add({ ...c, opId: item.id, time: this.now() });
      this.local.markConflict(conflict.path);
      await this.local.flush();
      report.conflicts.push(conflict);
      this.hooks.progress(++done, Math.max(done, pending.length));
    };
    const prove = async () => {
      const batch = sent.splice(0);
      if (!batch.length) return;
      const results = await this.prove(batch, produced);
      for (const r of results) {
        if (r.kind === 'landed') count(r.sent.item, r.sent.outcome);
        else if (r.kind === 'conflict') await addConflict(r.sent.item, r.conflict);
      }
      const unstored = results.filter(r => r.kind === 'unstored');
      if (unstored.length) throw notLanded(unstored.map(r => pathOf(r.sent.item.op)), unstored.some(r => r.kind === 'unstored' && r.html), 'sent');
    };
    // new changes made during the replay are recorded in the journal and replayed in the same loop
    for (let item = this.next(tried); item; item = this.next(tried)) {
      tried.add(item.id);
      // a change that reads or replaces what an unproven one wrote waits for that proof
      const paths = opPaths(item.op);
      if (sent.some(s => touches(s.item.op, paths))) await prove();
      const outcome = await this.replayOne(item, caps, produced);
      if (outcome.kind === 'conflict') await addConflict(item, outcome.conflict);
      else if (outcome.checks.length === 0) {
        await this.landed(item, produced, new Map(), outcome.etag);
        count(item, outcome);
      } else {
        sent.push({ item, outcome });
        if (sent.length >= PROOF_BATCH) await prove();
      }
    }
    await prove();
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
    for (const item of this.journal.pending) {
      const { op } = item;
      if (this.conflicts.forOp(item.id)) {
        out.push({ id: item.id, op, action: 'conflict', detail: 'already in conflict' });
        continue;
      }
      const target = await this.statOrGone(pathOf(op));
      switch (op.kind) {
        case 'write': {
          const isCreate = !op.base;
          const remote: RemoteSide = !target ? 'gone' : isCreate ? 'exists' : sameVersion(target, expectedVersion(op.base?.etag, op.base)) ? 'same' : 'changed';
          const d = decide(isCreate ? 'created' : 'changed', remote);
          out.push({ id: item.id, op, action: d === 'apply' ? 'upload' : 'conflict', detail: d === 'apply' ? undefined : `${d}${d === 'both-changed' ? ' (may merge)' : ''}` });
          break;
        }
        case 'mkdir':
          out.push({ id: item.id, op, action: !target ? 'create' : target.type === 'directory' ? 'nothing' : 'conflict', detail: target?.type === 'file' ? 'a file has that name' : undefined });
          break;
        case 'delete': {
          const remote: RemoteSide = !target ? 'gone' : op.type === 'directory' || sameVersion(target, expectedVersion(op.base?.etag, op.base)) ? 'same' : 'changed';
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

  /** The next pending operation not tried in this run and not blocked by a conflict. */
  private next(tried: ReadonlySet<number>): JournalItem | undefined {
    return this.journal.pending.find(i => !tried.has(i.id) && !this.conflicts.forOp(i.id));
  }

  // --- remote changes (directory diff)

  /**
   * Re-lists every cached folder: the cache records creations, changes and deletions made on the
   * server; clean items follow the server, items changed here stay for the replay to decide.
   */
  private async detectRemoteChanges(): Promise<number> {
    const folders = this.tree.cachedFolders();
    let forgotten = 0;
    const listings: { path: string; names: Set<string>; listing?: RemoteListing }[] = [];
    for (const folder of folders) {
      try {
        const listing = await this.server.list(folder);
        listings.push({ path: folder, names: new Set(listing.children.map(c => basename(c.path))), listing });
      } catch (err) {
        if (isShareError(err, 'NotFound')) listings.push({ path: folder, names: new Set() });
        else throw err;
      }
    }
    // the mass-delete guard: count what the server's listings would remove from the cache
    const doomed: string[] = [];
    for (const l of listings) {
      const e = this.tree.get(l.path);
      for (const name of e?.children ?? []) {
        if (l.names.has(name)) continue;
        const path = l.path === '/' ? `/${name}` : `${l.path}/${name}`;
        for (const x of this.tree.subtree(path)) if (x.type === 'file' && x.blob && !isLocal(x)) doomed.push(x.path);
      }
    }
    if (doomed.length > this.settings().massDeleteThreshold && !(await this.hooks.confirmMassDelete(doomed.length, doomed.slice(0, 5), 'local'))) {
      throw new ShareError('Other', `The reconnect was paused: the server no longer has ${doomed.length} files this computer keeps.`);
    }
    // the same listings, recorded (parents first): clean items follow the server
    for (const l of listings) {
      if (!this.tree.get(l.path)) continue; // forgotten with a folder above it
      if (l.listing) this.cache.recordListing(l.listing);
      else this.cache.recordGone(l.path);
    }
    forgotten = doomed.length;
    return forgotten;
  }

  /** Warns when the pending uploads need more than the server's quota has free (as its root last said). */
  private checkQuota(pending: readonly JournalItem[]): void {
    const available = this.tree.get('/')?.quota?.available;
    if (available === undefined) return;
    let needed = 0;
    for (const { op } of pending) if (op.kind === 'write') needed += Math.max(0, op.size - (op.base?.size ?? 0));
    if (needed > available) {
      this.log.warn(`[replay] the pending uploads need ${needed} bytes; the server says ${available} are free`);
      this.hooks.warnQuota?.(needed, available);
    }
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

  private async replayOne(item: JournalItem, caps: Capabilities, produced: Produced): Promise<Outcome> {
    const { op } = item;
    const attempted = this.journal.wasAttempted(item.id);
    await this.journal.markAttempted(item.id);
    let outcome: Outcome;
    try {
      switch (op.kind) {
        case 'write':
          outcome = await this.ops.write(op, caps, produced);
          break;
        case 'mkdir':
          outcome = await this.ops.mkdir(op.path);
          break;
        case 'delete':
          outcome = op.type === 'file' ? await this.ops.deleteFile(op, caps, produced) : await this.ops.deleteFolder(op.path, op.files ?? [], produced);
          break;
        case 'move':
        case 'copy':
          outcome = await this.ops.transfer(op, attempted);
          break;
      }
    } catch (err) {
      if (isShareError(err, 'Unavailable') || isShareError(err, 'Unauthorized')) throw err;
      outcome = { kind: 'conflict', conflict: { path: pathOf(op), kind: 'rejected', detail: (err as Error).message } };
    }
    this.log.debug(`[replay] ${describeOp(op)}: ${outcome.kind === 'done' ? (outcome.checks.length ? 'sent' : 'done') : outcome.conflict.kind}`);
    return outcome;
  }

  /**
   * Proves a batch of sent changes: one request per touched folder (a stat, or a Depth-1 listing where
   * several of its items are to be checked). Landed changes leave the journal here.
   */
  private async prove(batch: readonly Sent[], produced: Produced) {
    type Result =
      | { kind: 'landed'; sent: Sent }
      | { kind: 'conflict'; sent: Sent; conflict: Extract<Outcome, { kind: 'conflict' }>['conflict'] }
      | { kind: 'unstored'; sent: Sent; html: boolean };
    const toObserve = batch.flatMap(s => s.outcome.checks.filter(needsObservation).map(c => c.path));
    const after = await observeServer(this.server, toObserve);
    const results: Result[] = [];
    for (const s of batch) {
      const verdicts: Verdict[] = [];
      let etag: string | undefined;
      for (const c of s.outcome.checks) {
        let v = judge(c, after.get(c.path));
        if (v.kind === 'ambiguous' && c.kind === 'write' && s.item.op.kind === 'write') v = await this.readBack(c.path, s.item.op.blob);
        if (c.kind === 'write' && v.kind === 'landed') etag = v.etag;
        verdicts.push(v);
      }
      const { op } = s.item;
      if (verdicts.every(v => v.kind === 'landed')) {
        await this.landed(s.item, produced, after, etag);
        results.push({ kind: 'landed', sent: s });
      } else if (verdicts.some(v => v.kind === 'other-version')) {
        this.log.warn(`[replay] ${describeOp(op)}: the server answered, but now holds another version`);
        const conflict = op.kind === 'write'
          ? await this.writeConflictAfter(op)
          : { path: pathOf(op), kind: 'rejected' as const, detail: 'the server answered, but shows something else in its place' };
        if (conflict) results.push({ kind: 'conflict', sent: s, conflict });
        else {
          await this.landed(s.item, produced, after, undefined);
          results.push({ kind: 'landed', sent: s });
        }
      } else {
        const html = !!s.outcome.html || s.outcome.checks.some(c => c.kind === 'write' && !!c.answer.html);
        this.log.warn(`[replay] ${describeOp(op)}: the server answered${html ? ' with a web page' : ''}, but does not show the change; it stays pending`);
        results.push({ kind: 'unstored', sent: s, html });
      }
    }
    return results;
  }

  /** Another version is where our write went: identical after all (nothing to do), else the conflict. */
  private async writeConflictAfter(op: Extract<JournalOp, { kind: 'write' }>) {
    const data = await this.local.blob(op.blob);
    if (!data) return { path: op.path, kind: 'rejected' as const, detail: 'the local content is missing from the cache' };
    const outcome = await this.ops.writeConflict(op, data, op.base?.etag);
    if (outcome.kind === 'conflict') return outcome.conflict;
    return undefined;
  }

  private async readBack(path: string, blob: string): Promise<Verdict> {
    const [got, data] = await Promise.all([this.server.get(path), this.local.blob(blob)]);
    if (got === 'not-modified' || !data || !equalBytes(got.data, data)) return { kind: 'unstored' };
    return { kind: 'landed', etag: got.etag };
  }

  /** The operation landed: the journal forgets it and the cache records the server's new state. */
  private async landed(item: JournalItem, produced: Produced, after: ReadonlyMap<string, RemoteEntry | undefined>, etag: string | undefined): Promise<void> {
    const { op } = item;
    const target = op.kind === 'delete' ? undefined : pathOf(op);
    // what the replay's earlier changes produced where this one removed or replaced things is gone: later
    // changes there go by their own base or by the server (else a delete after a folder moved away and back
    // names an older version and is a false conflict)
    const forget = (root: string) => [...produced.keys()].filter(p => isEqualOrParent(p, root)).forEach(p => produced.delete(p));
    if (op.kind === 'delete') forget(op.path);
    if (op.kind === 'move') forget(op.from);
    if (op.kind === 'move' || op.kind === 'copy') forget(op.to);
    let server: RemoteEntry | undefined;
    if (target) {
      server = after.get(target);
      const local = this.tree.get(target);
      if (!server && etag && local) server = { path: target, type: local.type, size: local.blobSize ?? local.size, mtime: local.mtime, ctime: local.ctime, etag };
      else if (server && etag && !server.etag) server = { ...server, etag };
      produced.set(target, server ? { etag: server.etag ?? etag, mtime: server.mtime, size: server.size } : etag ? { etag, mtime: Number.NaN, size: Number.NaN } : undefined);
    }
    const moved = op.kind === 'move' || op.kind === 'copy' ? this.tree.subtree(op.to).map(e => e.path) : [];
    await this.journal.remove([item.id], () => {
      if (target) this.local.markSynced(target, server);
      // below a moved or copied folder, the entries are what the server has now (metadata refreshes later)
      for (const p of moved) if (p !== target) this.local.markSynced(p, undefined);
    });
  }

  private statOrGone(path: string): Promise<RemoteEntry | undefined> {
    return statOrGone(this.server, path);
  }
}

function pathOf(op: JournalOp): string {
  return op.kind === 'move' || op.kind === 'copy' ? op.to : op.path;
}

/** Whether `op` touches any of `paths`, above, at or below. */
function touches(op: JournalOp, paths: readonly string[]): boolean {
  return opPaths(op).some(p => paths.some(q => isEqualOrParent(p, q) || isEqualOrParent(q, p)));
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
