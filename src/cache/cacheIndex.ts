// The in-memory index of one share's cache, backed by its ShareStore. Changes apply to memory at once
// and are committed to the store in batches (one atomic commit per flush).
import type { Logger } from '../core/log';
import { isEqualOrParent } from '../core/remotePath';
import type { CacheEntry } from './cacheEntry';
import type { ShareStore, StoredRecord } from './shareStore';

const FLUSH_DELAY_MS = 50;

export class CacheIndex {
  private readonly entries = new Map<string, CacheEntry>();
  private dirtyPuts = new Map<string, CacheEntry>();
  private dirtyDeletes = new Set<string>();
  /** Pending record changes per table: id → record, or null for a delete. */
  private dirtyRecords = new Map<string, Map<number, StoredRecord | null>>();
  private dirtyMeta = new Map<string, unknown>();
  private readonly meta = new Map<string, unknown>();
  /** Other holders of blobs (the journal, the recovery area), consulted by garbage collection. */
  private readonly blobHolders: (() => Iterable<string>)[] = [];
  private flushTimer?: ReturnType<typeof setTimeout>;
  private flushing: Promise<void> = Promise.resolve();
  /** Content writes in progress (a blob stored, its entry not yet set); garbage collection waits for them. */
  private writers = 0;
  private writersIdle?: () => void;
  private collecting?: Promise<number>;

  private constructor(
    readonly store: ShareStore,
    private readonly log: Logger,
  ) {}

  static async load(store: ShareStore, log: Logger): Promise<CacheIndex> {
    const index = new CacheIndex(store, log);
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
    this.dirtyPuts.set(entry.path, entry);
    this.dirtyDeletes.delete(entry.path);
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
    this.dirtyPuts.delete(path);
    this.dirtyDeletes.add(path);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush().catch(err => this.log.error(`[cache] index: commit failed (${(err as Error).message})`));
    }, FLUSH_DELAY_MS);
  }

  // --- records and per-share values, committed in the same batches as the entries

  /** The records of a table as committed (read once, when a component opens). */
  loadTable(table: string): Promise<StoredRecord[]> {
    return this.store.loadTable(table);
  }

  putRecord(table: string, record: StoredRecord): void {
    this.tableChanges(table).set(record.id, record);
    this.scheduleFlush();
  }

  deleteRecord(table: string, id: number): void {
    this.tableChanges(table).set(id, null);
    this.scheduleFlush();
  }

  private tableChanges(table: string): Map<number, StoredRecord | null> {
    let m = this.dirtyRecords.get(table);
    if (!m) this.dirtyRecords.set(table, (m = new Map()));
    return m;
  }

  getMeta<T>(key: string): T | undefined {
    return this.meta.get(key) as T | undefined;
  }

  /** Sets a per-share value; `undefined` removes it. */
  setMeta(key: string, value: unknown): void {
    if (value === undefined) this.meta.delete(key);
    else this.meta.set(key, value);
    this.dirtyMeta.set(key, value === undefined ? null : value);
    this.scheduleFlush();
  }

  /** Registers another holder of blobs, so garbage collection keeps what it references. */
  addBlobHolder(holder: () => Iterable<string>): void {
    this.blobHolders.push(holder);
  }

  /** Commits every change made so far in one atomic batch; resolves once they are durable. */
  flush(): Promise<void> {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    const put = [...this.dirtyPuts.values()];
    const del = [...this.dirtyDeletes];
    const tables: Record<string, { put: StoredRecord[]; delete: number[] }> = {};
    for (const [table, changes] of this.dirtyRecords) {
      const t = (tables[table] = { put: [] as StoredRecord[], delete: [] as number[] });
      for (const [id, r] of changes) r ? t.put.push(r) : t.delete.push(id);
    }
    const meta = Object.fromEntries(this.dirtyMeta);
    this.dirtyPuts = new Map();
    this.dirtyDeletes = new Set();
    this.dirtyRecords = new Map();
    this.dirtyMeta = new Map();
    const empty = !put.length && !del.length && !Object.keys(tables).length && !Object.keys(meta).length;
    // commits run one after the other, in order
    this.flushing = this.flushing.then(async () => {
      if (!empty) {
        await this.store.commit({
          put,
          delete: del,
          ...(Object.keys(tables).length ? { tables } : {}),
          ...(Object.keys(meta).length ? { meta } : {}),
        });
      }
    });
    return this.flushing;
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

  /** Deletes the blobs no entry references (left by culling, replaced content or a crash). */
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
      return orphans.length;
    })().finally(() => (this.collecting = undefined));
    return this.collecting;
  }

  async dispose(): Promise<void> {
    await this.flush();
  }
}
