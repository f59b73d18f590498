// The in-memory index of one share's cache, backed by its ShareStore. Changes apply to memory at once
// and are committed to the store in batches (one atomic commit per flush). A commit that fails (a full
// disk, a read-only folder, an exhausted quota) loses nothing: its changes go back into the pending set
// (under any newer change to the same item) and the next commit carries them again, retried in the
// background with backoff until the store can write; `writable` says whether it can right now.
import { Emitter, type Event } from '../core/events';
import type { Logger } from '../core/log';
import { isEqualOrParent } from '../core/remotePath';
import { hasValidContent, type CacheEntry } from './cacheEntry';
import type { IndexBatch, ShareStore, StoredRecord } from './shareStore';

export interface CacheIndexOptions {
  /** Delay between a change and the background commit that carries it (ms). */
  readonly flushDelayMs?: number;
  /** First delay before a failed commit is retried in the background; it doubles up to `retryMaxMs`. */
  readonly retryFirstMs?: number;
  readonly retryMaxMs?: number;
}

const FLUSH_DELAY_MS = 50;
/**
 * While the store fails and nothing is pending (a refused journal intent was taken back), retries commit
 * the removal of this meta key, which is never set: a real write that changes nothing, so that `writable`
 * turns true again once the store can write.
 */
const PROBE_KEY = 'cache.writeProbe';
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 30_000;

export interface PutRecordOptions {
  /**
   * The record counts only if the commit that carries it succeeds: when that commit fails, the record is
   * taken back (what was queued for its id before comes back instead) and never committed by a retry.
   * For a record whose caller is told of the failure, e.g. a journal intent that was refused.
   */
  readonly tentative?: boolean;
}

/** What a queued tentative record replaced: the change queued before it for the same id, or nothing. */
type Replaced = { readonly change: StoredRecord | null } | undefined;

/** The changes not yet committed. */
interface Pending {
  readonly puts: Map<string, CacheEntry>;
  readonly deletes: Set<string>;
  /** Per table: id → record, or null for a delete. */
  readonly records: Map<string, Map<number, StoredRecord | null>>;
  /** Per table: the tentative records among `records`, with what each replaced. */
  readonly tentative: Map<string, Map<number, Replaced>>;
  /** key → value, or null to remove the key. */
  readonly meta: Map<string, unknown>;
}

const changes = (n: number) => (n === 1 ? '1 change' : `${n} changes`);

function emptyPending(): Pending {
  return { puts: new Map(), deletes: new Set(), records: new Map(), tentative: new Map(), meta: new Map() };
}

function isEmpty(p: Pending): boolean {
  return p.puts.size === 0 && p.deletes.size === 0 && p.records.size === 0 && p.meta.size === 0;
}

function toBatch(p: Pending): IndexBatch {
  const tables: Record<string, { put: StoredRecord[]; delete: number[] }> = {};
  for (const [table, changes] of p.records) {
    const t = (tables[table] = { put: [] as StoredRecord[], delete: [] as number[] });
    for (const [id, r] of changes) r ? t.put.push(r) : t.delete.push(id);
  }
  return {
    put: [...p.puts.values()],
    delete: [...p.deletes],
    ...(p.records.size ? { tables } : {}),
    ...(p.meta.size ? { meta: Object.fromEntries(p.meta) } : {}),
  };
}

export class CacheIndex {
  private readonly entries = new Map<string, CacheEntry>();
  private pending: Pending = emptyPending();
  private readonly meta = new Map<string, unknown>();
  /** Other holders of blobs (the journal, the recovery area), consulted by garbage collection. */
  private readonly blobHolders: (() => Iterable<string>)[] = [];
  private flushTimer?: ReturnType<typeof setTimeout>;
  /** The commit in progress. */
  private committing?: Promise<void>;
  /** The commit that starts when the one in progress ends, shared by every flush() called meanwhile. */
  private queued?: Promise<void>;
  /** The error of the last commit, while the store cannot write; undefined after a commit succeeds. */
  private failure?: Error;
  /** Failed commits since the last one that succeeded. */
  private failures = 0;
  private retryDelay = 0;
  private disposed = false;
  private readonly flushDelayMs: number;
  private readonly retryFirstMs: number;
  private readonly retryMaxMs: number;
  private readonly _onDidChangeWritable = new Emitter<boolean>();
  /** Fires when the store stops or starts being writable (a commit failed, or succeeded after failures). */
  readonly onDidChangeWritable: Event<boolean> = this._onDidChangeWritable.event;
  /** Content writes in progress (a blob stored, its entry not yet set); garbage collection waits for them. */
  private writers = 0;
  private writersIdle?: () => void;
  private collecting?: Promise<number>;

  private constructor(
    readonly store: ShareStore,
    private readonly log: Logger,
    options: CacheIndexOptions,
  ) {
    this.flushDelayMs = options.flushDelayMs ?? FLUSH_DELAY_MS;
    this.retryFirstMs = options.retryFirstMs ?? RETRY_FIRST_MS;
    this.retryMaxMs = options.retryMaxMs ?? RETRY_MAX_MS;
  }

  static async load(store: ShareStore, log: Logger, options: CacheIndexOptions = {}): Promise<CacheIndex> {
    const index = new CacheIndex(store, log, options);
    for (const e of await store.loadIndex()) index.entries.set(e.path, e);
    for (const [k, v] of Object.entries(await store.loadMeta())) index.meta.set(k, v);
    return index;
  }

  get size(): number {
    return this.entries.size;
  }

  get(path: string): CacheEntry | undefined {
    return this.entries.get(path);
  }

  all(): IterableIterator<CacheEntry> {
    return this.entries.values();
  }

  /** Entries at `path` and below it. */
  subtree(path: string): CacheEntry[] {
    const out: CacheEntry[] = [];
    for (const e of this.entries.values()) if (isEqualOrParent(e.path, path)) out.push(e);
    return out;
  }

  /** Whether any entry lies strictly below `path`. */
  hasBelow(path: string): boolean {
    for (const p of this.entries.keys()) if (p !== path && isEqualOrParent(p, path)) return true;
    return false;
  }

  set(entry: CacheEntry): void {
    this.entries.set(entry.path, entry);
    this.pending.puts.set(entry.path, entry);
    this.pending.deletes.delete(entry.path);
    this.scheduleFlush();
  }

  /** Changes some fields of an existing entry; no-op when there is none. */
  update(path: string, change: Partial<Omit<CacheEntry, 'path'>>): CacheEntry | undefined {
    const e = this.entries.get(path);
    if (!e) return undefined;
    const next = { ...e, ...change };
    this.set(next);
    return next;
  }

  delete(path: string): void {
    if (!this.entries.delete(path)) return;
    this.pending.puts.delete(path);
    this.pending.deletes.add(path);
    this.scheduleFlush();
  }

  // --- the store's health

  /**
   * False while the store fails commits (a full disk, a read-only folder, an exhausted quota): changes
   * are kept in memory and retried, but a change that must be durable now (an offline save) is refused.
   * True again once a commit succeeds.
   */
  get writable(): boolean {
    return this.failure === undefined;
  }

  /** Why the last commit failed, while the store is not writable (code ENOSPC, EROFS, …). */
  get lastError(): Error | undefined {
    return this.failure;
  }

  /** Changes waiting for a commit (entries, records, meta values), including a failed batch's. */
  get pendingChanges(): number {
    let n = this.pending.puts.size + this.pending.deletes.size + this.pending.meta.size;
    for (const t of this.pending.records.values()) n += t.size;
    return n;
  }

  // --- records and per-share values, committed in the same batches as the entries

  /** The records of a table as committed (read once, when a component opens). */
  loadTable(table: string): Promise<StoredRecord[]> {
    return this.store.loadTable(table);
  }

  putRecord(table: string, record: StoredRecord, options?: PutRecordOptions): void {
    this.queueRecord(table, record.id, record, options?.tentative ?? false);
  }

  deleteRecord(table: string, id: number): void {
    this.queueRecord(table, id, null, false);
  }

  private queueRecord(table: string, id: number, change: StoredRecord | null, tentative: boolean): void {
    let records = this.pending.records.get(table);
    if (!records) this.pending.records.set(table, (records = new Map()));
    let marks = this.pending.tentative.get(table);
    if (tentative) {
      if (!marks) this.pending.tentative.set(table, (marks = new Map()));
      // what an earlier tentative record of this id replaced is what comes back
      if (!marks.has(id)) marks.set(id, records.has(id) ? { change: records.get(id)! } : undefined);
    } else if (marks?.delete(id) && marks.size === 0) {
      this.pending.tentative.delete(table);
    }
    records.set(id, change);
    this.scheduleFlush();
  }

  getMeta<T>(key: string): T | undefined {
    return this.meta.get(key) as T | undefined;
  }

  /** Sets a per-share value; `undefined` removes it. */
  setMeta(key: string, value: unknown): void {
    if (value === undefined) this.meta.delete(key);
    else this.meta.set(key, value);
    this.pending.meta.set(key, value === undefined ? null : value);
    this.scheduleFlush();
  }

  /** Registers another holder of blobs, so garbage collection keeps what it references. */
  addBlobHolder(holder: () => Iterable<string>): void {
    this.blobHolders.push(holder);
  }

  // --- committing

  /**
   * Commits every change made so far, together with any earlier batch whose commit failed, in one atomic
   * batch; resolves once they are durable. Rejects with the store's error when that commit fails: the
   * changes stay pending and are retried in the background (or by the next flush).
   */
  flush(): Promise<void> {
    this.cancelTimer();
    if (this.queued) return this.queued;
    if (!this.committing) return this.commitPending();
    const after = () => {
      this.queued = undefined;
      return this.commitPending();
    };
    // the commit in progress may fail: its changes come back into the pending set before this one starts
    this.queued = this.committing.then(after, after);
    return this.queued;
  }

  /** Takes the pending changes and commits them; with nothing pending, only probes a failing store. */
  private commitPending(): Promise<void> {
    if (isEmpty(this.pending)) {
      if (!this.failure) return Promise.resolve();
      this.pending.meta.set(PROBE_KEY, null);
    }
    const taken = this.pending;
    this.pending = emptyPending();
    const run = Promise.resolve()
      .then(() => this.store.commit(toBatch(taken)))
      .then(
        () => this.succeeded(),
        (err: unknown) => {
          this.giveBack(taken);
          this.failed(err instanceof Error ? err : new Error(String(err)), taken);
          throw err;
        },
      );
    this.committing = run;
    const done = () => {
      if (this.committing === run) this.committing = undefined;
    };
    run.then(done, done);
    return run;
  }

  /**
   * Puts a failed batch back into the pending set, under the changes made since it was taken (the newer
   * change to a path, record or key wins). Tentative records are taken back instead.
   */
  private giveBack(failed: Pending): void {
    const now = this.pending;
    for (const [path, entry] of failed.puts) {
      if (!now.puts.has(path) && !now.deletes.has(path)) now.puts.set(path, entry);
    }
    for (const path of failed.deletes) {
      if (!now.puts.has(path) && !now.deletes.has(path)) now.deletes.add(path);
    }
    for (const [table, changes] of failed.records) {
      const marks = failed.tentative.get(table);
      let records = now.records.get(table);
      for (const [id, change] of changes) {
        if (records?.has(id)) continue;
        let back: StoredRecord | null = change;
        if (marks?.has(id)) {
          const replaced = marks.get(id);
          if (!replaced) continue;
          back = replaced.change;
        }
        if (!records) now.records.set(table, (records = new Map()));
        records.set(id, back);
      }
    }
    for (const [key, value] of failed.meta) {
      if (!now.meta.has(key) && key !== PROBE_KEY) now.meta.set(key, value);
    }
  }

  private succeeded(): void {
    const recovered = this.failure;
    if (recovered) {
      this.log.info(`[cache] index: the cache store can write again after ${this.failures} failed commits; the changes kept meanwhile are stored`);
      this.failure = undefined;
      this.failures = 0;
      this.retryDelay = 0;
      // a retry timer may be armed: what is pending now goes at the ordinary pace
      this.cancelTimer();
      if (!isEmpty(this.pending)) this.scheduleFlush();
      this._onDidChangeWritable.fire(true);
    }
  }

  private failed(err: Error, batch: Pending): void {
    const first = this.failure === undefined;
    this.failure = err;
    this.failures++;
    if (first) {
      const n = batch.puts.size + batch.deletes.size + batch.meta.size + [...batch.records.values()].reduce((sum, t) => sum + t.size, 0);
      this.log.error(
        `[cache] index: could not store ${changes(n)} (${err.message}); they are kept in memory and retried in the background until the cache store can write again`,
      );
    }
    // a closed store never works again: nothing to retry (its owner closed it without disposing the index)
    if (this.disposed || (err as { code?: unknown }).code === 'ECLOSED') return;
    this.retryDelay = this.retryDelay ? Math.min(this.retryDelay * 2, this.retryMaxMs) : this.retryFirstMs;
    this.cancelTimer();
    this.armTimer(this.retryDelay); // with nothing pending, a probe
    if (first) this._onDidChangeWritable.fire(false);
  }

  private scheduleFlush(): void {
    // while the store fails, the retry timer (with its backoff) is armed and carries new changes too
    if (this.flushTimer || this.disposed) return;
    this.armTimer(this.failure ? this.retryDelay : this.flushDelayMs);
  }

  private armTimer(delay: number): void {
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      // a failure is logged once per streak by failed(), and retried from there
      this.flush().catch(() => undefined);
    }, delay);
  }

  private cancelTimer(): void {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
  }

  /**
   * Runs `write`, which stores a blob and then sets the entry that references it. Garbage collection
   * never runs in between, so it cannot take a blob whose entry is about to be set.
   */
  async writeContent<T>(write: () => Promise<T>): Promise<T> {
    while (this.collecting) await this.collecting.catch(() => undefined);
    this.writers++;
    try {
      return await write();
    } finally {
      if (--this.writers === 0) this.writersIdle?.();
    }
  }

  /** Deletes the blobs no entry references (left by culling, replaced content or a crash), and stale partial downloads. */
  collectGarbage(): Promise<number> {
    this.collecting ??= (async () => {
      while (this.writers > 0) await new Promise<void>(r => (this.writersIdle = r));
      const stored = await this.store.listBlobs();
      const referenced = new Set<string>();
      for (const e of this.entries.values()) if (e.blob) referenced.add(e.blob);
      for (const holder of this.blobHolders) for (const h of holder()) referenced.add(h);
      await this.flush();
      const orphans = stored.filter(h => !referenced.has(h));
      if (orphans.length) await this.store.deleteBlobs(orphans);
      // cut downloads of files gone from the cache, or whose content is cached by now, are not resumed
      await this.store.partials?.retain(path => {
        const e = this.entries.get(path);
        return e?.type === 'file' && !hasValidContent(e);
      });
      return orphans.length;
    })().finally(() => (this.collecting = undefined));
    return this.collecting;
  }

  /**
   * Commits what is pending (one last attempt) and stops: no timer, no retry. Never rejects, so that the
   * store can be closed after it; changes that could not be stored are logged (the journal's durable
   * intents are applied again when the share opens next).
   */
  async dispose(): Promise<void> {
    this.disposed = true;
    this.cancelTimer();
    await (this.queued ?? this.committing)?.catch(() => undefined); // a failure gives its changes back
    if (this.pendingChanges > 0) {
      try {
        await this.flush();
      } catch (err) {
        this.log.error(`[cache] index: ${changes(this.pendingChanges)} could not be stored before closing (${(err as Error).message})`);
      }
    }
    this.cancelTimer();
    this._onDidChangeWritable.dispose();
  }
}
