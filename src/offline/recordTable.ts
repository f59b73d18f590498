// A durable list of records in one of the share store's named tables (the conflicts, the recovery
// area): records are added and removed in memory at once and committed with the caller's next flush.
import { Emitter } from '../core/events';

/** Where the tables live (the share's cache index): records are committed with its batches. */
export interface RecordStore {
  loadTable(table: string): Promise<readonly { id: number }[]>;
  /**
   * Queues a record. A `tentative` one is taken back when the commit that carries it fails (what was
   * queued for its id before comes back instead), so no later commit stores it.
   */
  putRecord<R extends { readonly id: number }>(table: string, record: R, options?: { readonly tentative?: boolean }): void;
  deleteRecord(table: string, id: number): void;
  /**
   * Commits everything queued so far (records and cache entries) in one atomic batch; rejects when that
   * commit fails (its changes, but for tentative records, stay queued for the next one).
   */
  flush(): Promise<void>;
}

export class RecordTable<T extends { readonly id: number }> {
  private items: T[] = [];
  private nextId = 1;
  private readonly _onDidChange = new Emitter<void>();
  /** A record was added or removed (in memory; committed with the next flush). */
  readonly onDidChange = this._onDidChange.event;

  private constructor(
    private readonly store: RecordStore,
    private readonly table: string,
  ) {}

  static async open<T extends { readonly id: number }>(store: RecordStore, table: string): Promise<RecordTable<T>> {
    const t = new RecordTable<T>(store, table);
    t.items = (await store.loadTable(table)) as T[];
    t.nextId = t.items.reduce((n, r) => Math.max(n, r.id + 1), 1);
    return t;
  }

  get all(): readonly T[] {
    return this.items;
  }

  /** Queues a new record with the next id. */
  add(record: Omit<T, 'id'>): T {
    const r = { ...record, id: this.nextId++ } as T;
    this.items.push(r);
    this.store.putRecord(this.table, r);
    this._onDidChange.fire();
    return r;
  }

  /** Queues the removal of a record. */
  remove(id: number): void {
    this.items = this.items.filter(r => r.id !== id);
    this.store.deleteRecord(this.table, id);
    this._onDidChange.fire();
  }

  flush(): Promise<void> {
    return this.store.flush();
  }

}
