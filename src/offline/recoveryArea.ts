// Nothing the user wrote is lost: every local version that a discard or a conflict resolution replaces
// is kept here (a per-share "lost+found") until the user deletes it.
import type { Logger } from '../core/log';
import { RecordTable, type RecordStore } from './recordTable';

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

export const RECOVERY_TABLE = 'recovery';

export class RecoveryArea {
  private constructor(
    private readonly table: RecordTable<RecoveredFile>,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  static async open(store: RecordStore, log: Logger, now: () => number = Date.now): Promise<RecoveryArea> {
    return new RecoveryArea(await RecordTable.open<RecoveredFile>(store, RECOVERY_TABLE), log, now);
  }

  get all(): readonly RecoveredFile[] {
    return this.table.all;
  }

  /** Queues a kept version (committed with the caller's next flush). */
  keep(path: string, blob: string, size: number, reason: string): RecoveredFile {
    const file = this.table.add({ path, blob, size, time: this.now(), reason });
    this.log.info(`[recovery] ${path}: kept the local version (${reason})`);
    return file;
  }

  async delete(id: number): Promise<void> {
    this.table.remove(id);
    await this.table.flush();
  }

  *blobs(): Iterable<string> {
    for (const f of this.table.all) yield f.blob;
  }

  get onDidChange() {
    return this.table.onDidChange;
  }
}
