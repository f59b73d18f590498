// Reconnect: finds what changed on the server (directory diff of the cached tree), then replays the
// journal (replayOps.ts: conditional requests, conflicts, merges) in rounds: a round holds every pending
// change that does not touch (at, above or below any of its paths) an earlier change still waiting — so
// the changes of a round are independent of each other and go out in parallel (bounded), while the order
// per path is the journal's. A change that was sent counts as uploaded only once the server shows it
// (sync/landing.ts): a round's proofs go together — one stat, or one Depth-1 listing per touched folder —
// and a change the server answered but does not show stays pending (the share stays offline, "sign-in
// needed" when the answer was a web page), while another version in its place is a conflict, never an
// overwrite. A change that depends on an unproven one waits for the next round.
//
// Crash and drop safety: an operation is marked "attempted" (durably) before it is sent and removed
// from the journal only after it is proven. Sending it again is safe: its preconditions then fail, and the
// server's state (identical content, the target in place) shows it had landed.
import { isLocal } from '../cache/cacheEntry';
import { walkPool } from '../cache/walkPool';
import type { CachedTree } from '../cache/cachedTree';
import type { CachingRemote } from '../cache/cachingRemote';
import type { LocalChanges } from '../cache/localChanges';
import { isShareError, ShareError } from '../core/errors';
import { inParallel, mapInParallel } from '../core/parallel';
import type { Logger } from '../core/log';
import { basename, isEqualOrParent } from '../core/remotePath';
import type { Settings } from '../core/settings';
import { decide, type Conflict, type ConflictList, type RemoteSide } from '../offline/conflicts';
import { describeOp, type Journal } from '../offline/journal';
import type { JournalItem, JournalOp } from '../offline/journalOps';
import type { Verdict } from './landing';
import type { Capabilities } from '../remote/capabilities';
import type { RemoteEntry, RemoteFs } from '../remote/remoteFs';
import { statOrGone } from '../remote/settle';
import { judge, needsObservation, notLanded, observeServer, PROOF_TREE_ENTRIES } from './provenWrites';
import { sameVersion } from '../remote/version';
import { expectedVersion, forgetReplaced, ReplayOps, STREAM_ABOVE, type Outcome, type Produced } from './replayOps';
import { nextRound, type Round } from './replayRounds';
import type { ServerCapabilities } from './serverCapabilities';

/** Changes in one round at most: sent before their landing is proven in one go (one request per touched folder). */
const ROUND_LIMIT = 1024;
/** Requests in flight during a replay, at most (the pin's setting, `cache.parallelDownloads`, when lower). */
export const REPLAY_PARALLEL = 8;

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
        openBlob: hash => local.openBlob(hash),
        putBlobStream: chunks => local.storeStream(chunks),
        writeLocal: async (path, data) => local.write(path, await local.storeContent(data), data.byteLength),
        localVersion: path => local.localVersion(path),
      },
      log,
    );
  }

  /** Detects remote changes and replays the journal. Network failures propagate (the share stays offline). */
  async replay(): Promise<ReplayReport> {
    // the capability probe (first time only) goes alongside the directory diff
    const probe = this.capabilities.get();
    probe.catch(() => undefined);
    const remoteDeletions = await this.detectRemoteChanges();
    await probe;
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
    const parallel = this.parallel();
    // new changes made during the replay are recorded in the journal and replayed in a later round
    for (let next = this.nextRound(tried); next.items.length; next = this.nextRound(tried)) {
      const { items: round, after } = next;
      for (const item of round) tried.add(item.id);
      const resent = new Set(round.filter(i => this.journal.wasAttempted(i.id)).map(i => i.id));
      await this.journal.markAttempted(round.map(i => i.id));
      this.log.debug(`[replay] a round of ${round.length} independent changes`);
      const sent: Sent[] = [];
      const provenNow: Sent[] = [];
      const finished = new Map<number, Promise<Outcome | undefined>>();
      await inParallel(round, parallel, async item => {
        let settle!: (o: Outcome | undefined) => void;
        finished.set(item.id, new Promise(resolve => (settle = resolve)));
        try {
          // a change inside a folder made in this round: sent once the folder was made, else next round
          const folders = await Promise.all((after.get(item.id) ?? []).map(a => finished.get(a.id) ?? Promise.resolve(undefined)));
          if (folders.some(o => o?.kind !== 'done')) {
            tried.delete(item.id);
            return settle(undefined);
          }
          const outcome = await this.replayOne(item, caps, produced, resent.has(item.id));
          settle(outcome);
          if (outcome.kind === 'conflict' && after.has(item.id)) {
            this.log.debug(`[replay] ${describeOp(item.op)}: not done before its folder's proof (${outcome.conflict.detail ?? ''}); tried again next round`);
            tried.delete(item.id);
            return;
          }
          if (outcome.kind === 'conflict') await addConflict(item, outcome.conflict);
          else if (outcome.checks.length === 0) provenNow.push({ item, outcome });
          else sent.push({ item, outcome });
        } catch (err) {
          settle(undefined);
          throw err;
        }
      });
      // in journal order, so that what a later change produced wins
      const order = new Map(round.map((item, i) => [item.id, i]));
      const byOrder = (a: Sent, b: Sent) => order.get(a.item.id)! - order.get(b.item.id)!;
      if (provenNow.length) {
        provenNow.sort(byOrder);
        await this.landed(provenNow.map(s => ({ item: s.item, etag: s.outcome.etag })), produced, new Map());
        for (const s of provenNow) count(s.item, s.outcome);
      }
      if (!sent.length) continue;
      sent.sort(byOrder);
      const results = await this.prove(sent, produced, caps);
      for (const r of results) {
        if (r.kind === 'landed') count(r.sent.item, r.sent.outcome);
        else if (r.kind === 'conflict') await addConflict(r.sent.item, r.conflict);
      }
      const unstored = results.filter(r => r.kind === 'unstored');
      if (unstored.length) throw notLanded(unstored.map(r => pathOf(r.sent.item.op)), unstored.some(r => r.kind === 'unstored' && r.html), 'sent');
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
    for (const item of this.journal.pending) {
      const { op } = item;
      if (this.conflicts.forOp(item.id)) {
        out.push({ id: item.id, op, action: 'conflict', detail: 'already in conflict' });
        continue;
      }
      const target = await statOrGone(this.server, pathOf(op));
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
          const source = await statOrGone(this.server, op.from);
          const action = !source ? 'conflict' : target && !op.overwrite ? 'conflict' : op.kind;
          out.push({ id: item.id, op, action, detail: !source ? 'the source is gone on the server' : target && !op.overwrite ? 'the target exists on the server' : undefined });
          break;
        }
      }
    }
    return out;
  }

  private nextRound(tried: ReadonlySet<number>): Round {
    return nextRound(this.journal.pending.filter(i => !tried.has(i.id) && !this.conflicts.forOp(i.id)), ROUND_LIMIT);
  }

  /** Requests in flight at most: REPLAY_PARALLEL, or the pin's setting when lower. */
  private parallel(): number {
    return Math.max(1, Math.min(REPLAY_PARALLEL, this.settings().parallelDownloads));
  }

  // --- remote changes (directory diff)

  /**
   * Re-lists every cached folder: the cache records creations, changes and deletions made on the
   * server; clean items follow the server, items changed here stay for the replay to decide.
   */
  private async detectRemoteChanges(): Promise<number> {
    const folders = this.tree.cachedFolders();
    let forgotten = 0;
    const listings = await mapInParallel(folders, this.parallel(), async folder => {
      try {
        const listing = await this.server.list(folder);
        return { path: folder, names: new Set(listing.children.map(c => basename(c.path))), listing };
      } catch (err) {
        if (isShareError(err, 'NotFound')) return { path: folder, names: new Set<string>(), listing: undefined };
        throw err;
      }
    });
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

  /** Sends one operation (already marked attempted); `attempted`: it was sent before, in an earlier replay. */
  private async replayOne(item: JournalItem, caps: Capabilities, produced: Produced, attempted: boolean): Promise<Outcome> {
    const { op } = item;
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
  private async prove(batch: readonly Sent[], produced: Produced, caps: Capabilities) {
    type Result =
      | { kind: 'landed'; sent: Sent }
      | { kind: 'conflict'; sent: Sent; conflict: Extract<Outcome, { kind: 'conflict' }>['conflict'] }
      | { kind: 'unstored'; sent: Sent; html: boolean };
    const toObserve = batch.flatMap(s => s.outcome.checks.filter(needsObservation).map(c => c.path));
    const after = await observeServer(this.server, toObserve, this.parallel(), caps.depthInfinity ? root => this.knownSmall(root) : undefined);
    const results: Result[] = [];
    const landed: { item: JournalItem; etag: string | undefined }[] = [];
    for (const s of batch) {
      const verdicts: Verdict[] = [];
      let etag: string | undefined;
      for (const c of s.outcome.checks) {
        let v = judge(c, after.get(c.path));
        if (v.kind === 'ambiguous' && c.kind === 'write' && s.item.op.kind === 'write') v = await this.readBack(c.path, s.item.op.blob, c.size);
        if (c.kind === 'write' && v.kind === 'landed') etag = v.etag;
        verdicts.push(v);
      }
      const { op } = s.item;
      if (verdicts.every(v => v.kind === 'landed')) {
        landed.push({ item: s.item, etag });
        results.push({ kind: 'landed', sent: s });
      } else if (verdicts.some(v => v.kind === 'other-version')) {
        this.log.warn(`[replay] ${describeOp(op)}: the server answered, but now holds another version`);
        const conflict = op.kind === 'write'
          ? await this.writeConflictAfter(op)
          : { path: pathOf(op), kind: 'rejected' as const, detail: 'the server answered, but shows something else in its place' };
        if (conflict) results.push({ kind: 'conflict', sent: s, conflict });
        else {
          landed.push({ item: s.item, etag: undefined });
          results.push({ kind: 'landed', sent: s });
        }
      } else {
        const html = !!s.outcome.html || s.outcome.checks.some(c => c.kind === 'write' && !!c.answer.html);
        this.log.warn(`[replay] ${describeOp(op)}: the server answered${html ? ' with a web page' : ''}, but does not show the change; it stays pending`);
        results.push({ kind: 'unstored', sent: s, html });
      }
    }
    try {
      await this.landed(landed, produced, after);
    } catch (err) {
      // a change the server did not store says more than a cache that cannot note what landed (a full
      // disk): the landed ones stay in the journal, and are found landed by the next replay
      if (!results.some(r => r.kind === 'unstored')) throw err;
      this.log.warn(`[replay] could not note what landed (${(err as Error).message})`);
      return results.filter(r => r.kind === 'unstored');
    }
    return results;
  }

  /** Whether a pending folder delete lies at, above or below `path`. */
  private deletedLater(path: string): boolean {
    return this.journal.pending.some(({ op }) => op.kind === 'delete' && op.type === 'directory' && (isEqualOrParent(op.path, path) || isEqualOrParent(path, op.path)));
  }

  /** Whether every folder at and below `root` was listed here and they hold few entries (one Depth: infinity answer is cheap). */
  private knownSmall(root: string): boolean {
    const below = this.tree.subtree(root);
    return below.length <= PROOF_TREE_ENTRIES / 2 && below.every(e => e.type !== 'directory' || !!e.children);
  }

  /** Another version is where our write went: identical after all (nothing to do), else the conflict. */
  private async writeConflictAfter(op: Extract<JournalOp, { kind: 'write' }>) {
    const data = await this.ops.contentOf(op);
    if (!data) return { path: op.path, kind: 'rejected' as const, detail: 'the local content is missing from the cache' };
    const outcome = await this.ops.writeConflict(op, data, op.base?.etag);
    if (outcome.kind === 'conflict') return outcome.conflict;
    return undefined;
  }

  /** The server's bytes compared with ours by their hash (a big file streamed into the store, never held whole). */
  private async readBack(path: string, blob: string, size: number): Promise<Verdict> {
    const got = await this.ops.serverContent(path, size > STREAM_ABOVE);
    return got.blob === blob ? { kind: 'landed', etag: got.etag } : { kind: 'unstored' };
  }

  /** The operations landed: the journal forgets them and the cache records the server's new state (one commit). */
  private async landed(items: readonly { item: JournalItem; etag: string | undefined }[], produced: Produced, after: ReadonlyMap<string, RemoteEntry | undefined>): Promise<void> {
    if (!items.length) return;
    const commits: (() => void)[] = [];
    for (const { item: { op }, etag } of items) {
      const target = op.kind === 'delete' ? undefined : pathOf(op);
      forgetReplaced(produced, op);
      let server: RemoteEntry | undefined;
      if (target) {
        server = after.get(target);
        const local = this.tree.get(target);
        if (!server && etag && local) server = { path: target, type: local.type, size: local.blobSize ?? local.size, mtime: local.mtime, ctime: local.ctime, etag };
        else if (server && etag && !server.etag) server = { ...server, etag };
        produced.set(target, server ? { etag: server.etag ?? etag, mtime: server.mtime, size: server.size } : etag ? { etag, mtime: NaN, size: NaN } : undefined);
      }
      if ((op.kind === 'move' || op.kind === 'copy') && op.type === 'directory' && this.deletedLater(op.to)) {
        // a folder delete to come meets what this one moved or copied: the versions the server gave them
        for (const f of await filesBelow(this.server, op.to, this.parallel())) produced.set(f.path, { etag: f.etag, mtime: f.mtime, size: f.size });
      }
      const moved = op.kind === 'move' || op.kind === 'copy' ? this.tree.subtree(op.to).map(e => e.path) : [];
      commits.push(() => {
        if (target) this.local.markSynced(target, server);
        // below a moved or copied folder, the entries are what the server has now (metadata refreshes later)
        for (const p of moved) if (p !== target) this.local.markSynced(p, undefined);
      });
    }
    await this.journal.remove(items.map(i => i.item.id), () => commits.forEach(c => c()));
  }
}

/** The files at and below `root` on the server (walked `parallel` folders at a time, up to PROOF_TREE_ENTRIES files; gone: none). */
async function filesBelow(server: RemoteFs, root: string, parallel: number): Promise<RemoteEntry[]> {
  const files: RemoteEntry[] = [];
  await walkPool([root], parallel, async folder => {
    const listing = await server.list(folder).catch(err => (isShareError(err, 'NotFound') ? undefined : Promise.reject(err)));
    const children = listing?.children ?? [];
    files.push(...children.filter(c => c.type !== 'directory'));
    return children.filter(c => c.type === 'directory').map(c => c.path);
  }, () => files.length >= PROOF_TREE_ENTRIES);
  return files;
}

function pathOf(op: JournalOp): string {
  return op.kind === 'move' || op.kind === 'copy' ? op.to : op.path;
}
