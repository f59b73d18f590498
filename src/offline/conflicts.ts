// Conflicts found when the journal replays: what each case is, the pure decision of what to do, and
// the durable list of open conflicts (with the versions needed to resolve them).
import type { Logger } from '../core/log';

export type ConflictKind =
  /** changed here and on the server */
  | 'both-changed'
  /** changed here, deleted on the server */
  | 'changed-deleted'
  /** deleted here, changed on the server */
  | 'deleted-changed'
  /** created here and on the server (different content) */
  | 'both-created'
  /** the folder was deleted on the server, with changes made here inside it */
  | 'folder-deleted'
  /** the server refused the change for another reason */
  | 'rejected';

/** A version of the file, by content hash in the cache. */
export interface Version {
  readonly blob?: string;
  readonly etag?: string;
  readonly size?: number;
  readonly mtime?: number;
}

export interface Conflict {
  readonly id: number;
  readonly path: string;
  readonly kind: ConflictKind;
  /** The pending journal operation it blocks. */
  readonly opId: number;
  readonly local?: Version;
  readonly server?: Version;
  readonly base?: Version;
  /** Why, in words (for 'rejected'). */
  readonly detail?: string;
  readonly time: number;
}

export type LocalSide = 'changed' | 'created' | 'deleted';
export type RemoteSide = 'same' | 'changed' | 'gone' | 'exists';

/**
 * What a replay does with one local change given what the server has now (rclone's _checkObject,
 * except that we never let one side silently win):
 * - `apply`: send the change; `done`: nothing to send (both sides agree); otherwise the conflict kind.
 */
export function decide(local: LocalSide, remote: RemoteSide): 'apply' | 'done' | ConflictKind {
  switch (local) {
    case 'changed':
      return remote === 'same' ? 'apply' : remote === 'gone' ? 'changed-deleted' : 'both-changed';
    case 'created':
      return remote === 'gone' ? 'apply' : 'both-created';
    case 'deleted':
      return remote === 'same' ? 'apply' : remote === 'gone' ? 'done' : 'deleted-changed';
  }
}

export function describeConflict(c: Pick<Conflict, 'kind' | 'path' | 'detail'>): string {
  switch (c.kind) {
    case 'both-changed':
      return `${c.path} was changed here and on the server`;
    case 'changed-deleted':
      return `${c.path} was changed here but deleted on the server`;
    case 'deleted-changed':
      return `${c.path} was deleted here but changed on the server`;
    case 'both-created':
      return `${c.path} was created here and on the server`;
    case 'folder-deleted':
      return `the folder of ${c.path} was deleted on the server`;
    case 'rejected':
      return `the server refused the change of ${c.path}${c.detail ? `: ${c.detail}` : ''}`;
  }
}

export interface ConflictStore {
  loadTable(table: string): Promise<readonly { id: number }[]>;
  putRecord(table: string, record: Conflict): void;
  deleteRecord(table: string, id: number): void;
  flush(): Promise<void>;
}

export const CONFLICT_TABLE = 'conflicts';

export class ConflictList {
  private items: Conflict[] = [];
  private nextId = 1;
  private readonly listeners = new Set<() => void>();

  private constructor(
    private readonly store: ConflictStore,
    private readonly log: Logger,
  ) {}

  static async open(store: ConflictStore, log: Logger): Promise<ConflictList> {
    const list = new ConflictList(store, log);
    list.items = (await store.loadTable(CONFLICT_TABLE)) as Conflict[];
    list.nextId = list.items.reduce((n, c) => Math.max(n, c.id + 1), 1);
    return list;
  }

  get all(): readonly Conflict[] {
    return this.items;
  }

  forOp(opId: number): Conflict | undefined {
    return this.items.find(c => c.opId === opId);
  }

  /** Queues a new conflict (committed with the caller's next flush). */
  add(conflict: Omit<Conflict, 'id'>): Conflict {
    const c: Conflict = { ...conflict, id: this.nextId++ };
    this.items.push(c);
    this.store.putRecord(CONFLICT_TABLE, c);
    this.log.warn(`[conflict] ${describeConflict(c)}`);
    this.fire();
    return c;
  }

  /** Queues the removal of a resolved conflict. */
  remove(id: number): void {
    this.items = this.items.filter(c => c.id !== id);
    this.store.deleteRecord(CONFLICT_TABLE, id);
    this.fire();
  }

  *blobs(): Iterable<string> {
    for (const c of this.items) for (const v of [c.local, c.server, c.base]) if (v?.blob) yield v.blob;
  }

  onDidChange(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private fire(): void {
    for (const l of [...this.listeners]) l();
  }
}
