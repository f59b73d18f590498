// A durable list of records in one of the share store's named tables (the conflicts, the recovery
// area): records are added and removed in memory at once and committed with the caller's next flush.
export interface RecordStore {
  loadTable(table: string): Promise<readonly { id: number }[]>;
  putRecord(table: string, record: { id: number }): void;
  deleteRecord(table: string, id: number): void;
  flush(): Promise<void>;
}

export class RecordTable<T extends { readonly id: number }> {
  private items: T[] = [];
  private nextId = 1;
  private readonly listeners = new Set<() => void>();

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
    this.fire();
    return r;
  }

  /** Queues the removal of a record. */
  remove(id: number): void {
    this.items = this.items.filter(r => r.id !== id);
    this.store.deleteRecord(this.table, id);
    this.fire();
  }

  flush(): Promise<void> {
    return this.store.flush();
  }

  onDidChange(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private fire(): void {
    for (const l of [...this.listeners]) l();
  }
}
