// Nothing the user wrote is lost: every local version that a discard or a conflict resolution replaces
// is kept here (a per-share "lost+found") until the user deletes it.
import type { Logger } from '../core/log';

export interface RecoveredFile {
  readonly id: number;
  /** Where the file was in the share. */
  readonly path: string;
  /** Content hash of the kept version. */
  readonly blob: string;
  readonly size: number;
  /** When it was kept, ms since the epoch. */
  readonly time: number;
  /** Why, in words: "discarded", "replaced by the server version", … */
  readonly reason: string;
}

export interface RecoveryStore {
  loadTable(table: string): Promise<readonly { id: number }[]>;
  putRecord(table: string, record: RecoveredFile): void;
  deleteRecord(table: string, id: number): void;
  flush(): Promise<void>;
}

export const RECOVERY_TABLE = 'recovery';

export class RecoveryArea {
  private files: RecoveredFile[] = [];
  private nextId = 1;
  private readonly listeners = new Set<() => void>();

  private constructor(
    private readonly store: RecoveryStore,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  static async open(store: RecoveryStore, log: Logger, now: () => number = Date.now): Promise<RecoveryArea> {
    const area = new RecoveryArea(store, log, now);
    area.files = (await store.loadTable(RECOVERY_TABLE)) as RecoveredFile[];
    area.nextId = area.files.reduce((n, f) => Math.max(n, f.id + 1), 1);
    return area;
  }

  get all(): readonly RecoveredFile[] {
    return this.files;
  }

  /** Queues a kept version (committed with the caller's next flush). */
  keep(path: string, blob: string, size: number, reason: string): RecoveredFile {
    const file: RecoveredFile = { id: this.nextId++, path, blob, size, time: this.now(), reason };
    this.files.push(file);
    this.store.putRecord(RECOVERY_TABLE, file);
    this.log.info(`[recovery] ${path}: kept the local version (${reason})`);
    this.fire();
    return file;
  }

  async delete(id: number): Promise<void> {
    this.files = this.files.filter(f => f.id !== id);
    this.store.deleteRecord(RECOVERY_TABLE, id);
    await this.store.flush();
    this.fire();
  }

  *blobs(): Iterable<string> {
    for (const f of this.files) yield f.blob;
  }

  onDidChange(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private fire(): void {
    for (const l of [...this.listeners]) l();
  }
}
