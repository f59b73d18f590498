// Conflicts found when the journal replays: what each case is, the pure decision of what to do, and
// the durable list of open conflicts (with the versions needed to resolve them).
import type { Logger } from '../core/log';
import { RecordTable, type RecordStore } from './recordTable';

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

const KIND_TEXT: Record<ConflictKind, string> = {
  'both-changed': 'changed here and on the server',
  'changed-deleted': 'changed here, deleted on the server',
  'deleted-changed': 'deleted here, changed on the server',
  'both-created': 'created here and on the server',
  'folder-deleted': 'its folder was deleted on the server',
  rejected: 'the server refused the change',
};

/** What happened, in words (for lists and notices): "changed here and on the server (…)". */
export function describeConflictKind(c: Pick<Conflict, 'kind' | 'detail'>): string {
  return KIND_TEXT[c.kind] + (c.detail ? ` (${c.detail})` : '');
}

/** The conflict in one sentence (for the log): "/a.txt: changed here and on the server". */
export function describeConflict(c: Pick<Conflict, 'kind' | 'path' | 'detail'>): string {
  return `${c.path}: ${describeConflictKind(c)}`;
}

export const CONFLICT_TABLE = 'conflicts';

/** The open conflicts of a share, durable. */
export class ConflictList {
  private constructor(
    private readonly table: RecordTable<Conflict>,
    private readonly log: Logger,
  ) {}

  static async open(store: RecordStore, log: Logger): Promise<ConflictList> {
    return new ConflictList(await RecordTable.open<Conflict>(store, CONFLICT_TABLE), log);
  }

  get all(): readonly Conflict[] {
    return this.table.all;
  }

  forOp(opId: number): Conflict | undefined {
    return this.table.all.find(c => c.opId === opId);
  }

  /** Queues a new conflict (committed with the caller's next flush). */
  add(conflict: Omit<Conflict, 'id'>): Conflict {
    const c = this.table.add(conflict);
    this.log.warn(`[conflict] ${describeConflict(c)}`);
    return c;
  }

  /** Queues the removal of a resolved conflict. */
  remove(id: number): void {
    this.table.remove(id);
  }

  *blobs(): Iterable<string> {
    for (const c of this.table.all) for (const v of [c.local, c.server, c.base]) if (v?.blob) yield v.blob;
  }

  get onDidChange() {
    return this.table.onDidChange;
  }
}
