// The durable journal of changes made while offline (Coda's client modification log). Every change is
// recorded as an INTENT, durably, before the cache is touched; the cache change and the record's
// "applied" state are then committed together in one atomic batch. On start-up, an intent that never
// got applied is applied again (its content was stored before the intent) or, if that is impossible,
// rolled back: the cache and the journal always agree. A change is acknowledged only once its intent is
// durable and it is applied. An intent whose commit fails (a full disk) is refused: taken back, never
// committed later, the caller gets the error. Once the intent is durable the change is acknowledged even
// if committing the applied state fails: that batch stays pending in the index and is retried, and until
// it lands the durable intent makes recovery apply the change again.
import type { Logger } from '../core/log';
import { Emitter } from '../core/events';
import { appendItem, type JournalItem, type JournalOp } from './journalOps';
import type { RecordStore } from './recordTable';

export interface JournalRecord {
  readonly id: number;
  readonly op: JournalOp;
  readonly state: 'intent' | 'applied';
  /** When the change was made, ms since the epoch. */
  readonly time: number;
  /** A replay sent it to the server at least once (it may have landed before a drop). */
  readonly attempted?: boolean;
}

/**
 * Applies an operation to the cache: queues entry changes in memory, which the journal then commits
 * with the record. Synchronous on purpose: nothing can commit in between, so entries and record land
 * together. It must also be idempotent (recovery may apply an intent whose batch was lost).
 */
export type ApplyOp = (op: JournalOp) => void;

/**
 * Runs after collapsing, before the commit, with the new pending list: marks what no pending operation
 * covers any more as clean (a rename undone by renaming back, …). Synchronous, like ApplyOp.
 */
export type SettleOps = (pending: readonly JournalItem[], op: JournalOp) => void;

export const JOURNAL_TABLE = 'journal';

export class Journal {
  private items: JournalItem[] = [];
  private times = new Map<number, number>();
  private readonly attempted = new Set<number>();
  private nextId = 1;
  /** Changes are recorded one at a time, in order. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly _onDidChange = new Emitter<void>();
  /** The pending changes changed (recorded, collapsed, replayed or discarded). */
  readonly onDidChange = this._onDidChange.event;

  private constructor(
    private readonly store: RecordStore,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  /**
   * Loads the journal and recovers from a crash: intents that were never applied are applied now with
   * `apply` (or rolled back when `canRedo` says their content is gone).
   */
  static async open(
    store: RecordStore,
    apply: ApplyOp,
    canRedo: (op: JournalOp) => Promise<boolean>,
    log: Logger,
    now: () => number = Date.now,
    settle?: SettleOps,
  ): Promise<Journal> {
    const journal = new Journal(store, log, now);
    const records = (await store.loadTable(JOURNAL_TABLE)) as JournalRecord[];
    for (const r of records) {
      journal.nextId = Math.max(journal.nextId, r.id + 1);
      if (r.state === 'applied') {
        journal.items.push({ id: r.id, op: r.op });
        journal.times.set(r.id, r.time);
        if (r.attempted) journal.attempted.add(r.id);
      }
    }
    for (const r of records.filter(x => x.state === 'intent')) {
      if (await canRedo(r.op)) {
        log.info(`[journal] recovery: applying the interrupted ${describeOp(r.op)}`);
        await journal.commitApplied(r, apply, settle);
      } else {
        log.warn(`[journal] recovery: rolling back the interrupted ${describeOp(r.op)} (its content is gone)`);
        store.deleteRecord(JOURNAL_TABLE, r.id);
        // should this commit fail, the deletion stays queued and is retried; the next recovery would repeat it
        await store.flush().catch(err => log.warn(`[journal] recovery: storing the rollback failed and is retried (${(err as Error).message})`));
      }
    }
    return journal;
  }

  /** The pending operations, collapsed, in replay order. */
  get pending(): readonly JournalItem[] {
    return this.items;
  }

  /** Whether a replay already sent this operation (so an answer like 404 may mean it landed). */
  wasAttempted(id: number): boolean {
    return this.attempted.has(id);
  }

  /** Persists that a replay is about to send these operations (one durable commit for all of them). */
  async markAttempted(ids: number | readonly number[]): Promise<void> {
    const fresh = (typeof ids === 'number' ? [ids] : ids).filter(id => !this.attempted.has(id));
    if (!fresh.length) return;
    const run = this.queue.then(async () => {
      const marked: number[] = [];
      for (const id of fresh) {
        const item = this.items.find(i => i.id === id);
        if (!item) continue;
        // tentative: a replay must not send what is not durably marked, and a refused mark is not kept
        this.store.putRecord(JOURNAL_TABLE, { id, op: item.op, state: 'applied', time: this.times.get(id) ?? this.now(), attempted: true }, { tentative: true });
        marked.push(id);
      }
      await this.store.flush();
      for (const id of marked) this.attempted.add(id);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Records `op` (intent first, durably), applies it to the cache, commits both; resolves when durable.
   * Rejects, changing nothing, when the intent cannot be committed.
   */
  /**
   * `sent`: the change was already sent to the server once (an online change whose answer was lost): the
   * replay then reads a 404 or 412 as "it may have landed" and checks, instead of calling it a conflict.
   */
  record(op: JournalOp, apply: ApplyOp, settle?: SettleOps, options: { sent?: boolean } = {}): Promise<void> {
    const run = this.queue.then(async () => {
      const intent: JournalRecord = { id: this.nextId++, op, state: 'intent', time: this.now(), ...(options.sent ? { attempted: true } : {}) };
      // tentative: if this commit fails the intent is taken back, so no retry stores a refused change
      this.store.putRecord(JOURNAL_TABLE, intent, { tentative: true });
      await this.store.flush();
      await this.commitApplied(intent, apply, settle);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async commitApplied(intent: JournalRecord, apply: ApplyOp, settle?: SettleOps): Promise<void> {
    apply(intent.op);
    const before = new Map(this.items.map(i => [i.id, i.op]));
    const next = appendItem(this.items, { id: intent.id, op: intent.op }, () => this.nextId++);
    const kept = new Set(next.map(i => i.id));
    for (const id of before.keys()) {
      if (!kept.has(id)) {
        this.store.deleteRecord(JOURNAL_TABLE, id);
        this.times.delete(id);
      }
    }
    for (const item of next) {
      if (before.get(item.id) !== item.op) {
        // an operation that now carries a change already sent once may have landed
        if (intent.attempted) this.attempted.add(item.id);
        else this.attempted.delete(item.id);
        const time = item.id === intent.id ? intent.time : (this.times.get(item.id) ?? intent.time);
        this.store.putRecord(JOURNAL_TABLE, { id: item.id, op: item.op, state: 'applied', time, ...(intent.attempted ? { attempted: true } : {}) });
        this.times.set(item.id, time);
      }
    }
    if (!kept.has(intent.id)) this.store.deleteRecord(JOURNAL_TABLE, intent.id); // cancelled or merged
    this.items = next;
    settle?.(next, intent.op);
    try {
      await this.store.flush();
      this.log.debug(`[journal] recorded ${describeOp(intent.op)} (${this.items.length} pending)`);
    } catch (err) {
      // The intent is durable, so the change is kept: this batch stays queued in the store's index and is
      // retried; should the window close first, recovery applies the intent again.
      this.log.warn(`[journal] recorded ${describeOp(intent.op)}; storing its applied state failed and is retried (${(err as Error).message})`);
    }
    this._onDidChange.fire();
  }

  /** Removes pending operations (replayed, or discarded by the user) and commits. */
  async remove(ids: readonly number[], alsoCommit?: () => void): Promise<void> {
    const run = this.queue.then(async () => {
      const gone = new Set(ids);
      for (const id of gone) {
        this.store.deleteRecord(JOURNAL_TABLE, id);
        this.times.delete(id);
        this.attempted.delete(id);
      }
      this.items = this.items.filter(i => !gone.has(i.id));
      alsoCommit?.();
      await this.store.flush();
      this._onDidChange.fire();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Blobs the pending operations need (local content and the base versions they started from). */
  *blobs(): Iterable<string> {
    for (const { op } of this.items) {
      if (op.kind === 'write') yield op.blob;
      if ('base' in op && op.base?.blob) yield op.base.blob;
    }
  }

}

export function describeOp(op: JournalOp): string {
  switch (op.kind) {
    case 'write':
      return `${op.base ? 'change of' : 'creation of'} ${op.path}`;
    case 'mkdir':
      return `new folder ${op.path}`;
    case 'delete':
      return `deletion of ${op.path}`;
    case 'move':
      return `move of ${op.from} to ${op.to}`;
    case 'copy':
      return `copy of ${op.from} to ${op.to}`;
  }
}
