// The share store on disk, for the Node extension host. One folder per share under the root (the
// extension's global storage):
//   <shareId>/index.snapshot  every entry, table record and meta value, as one JSON document
//                             `{"format":"webdav-offline-index","version":2,"entries":[…],
//                               "tables":{"<name>":[records by ascending id]},"meta":{…}}`
//                             (version 1, still read, has only `entries`); only ever replaced whole (temp
//                             file, fsync, rename, fsync of the folder)
//   <shareId>/index.log       the batches committed since the snapshot, one line each:
//                             `{"d":[paths],"p":[entries],"t":{"<name>":{"d":[ids],"p":[records]}},"m":{…}}`
//                             `\t<crc32 of the JSON, 8 hex>\n` (`t` and `m` only when the batch has them),
//                             fsynced before commit() resolves; a torn or damaged tail is cut off when the
//                             store opens
//   <shareId>/blobs/ab/ab…    content, named by its SHA-256; written to tmp/, fsynced, renamed into place
//   <shareId>/tmp/            temp files; emptied when the store opens
//   <shareId>/partials/       downloads that were cut, kept to resume (diskPartials.ts)
//   <shareId>/lock            {pid, boot} of the process that has the store open (diskLock.ts); another
//                             window waits for it (whenFree: the lock is looked at every lockPollMs)
// A crash at any moment reloads correctly: a log line counts only when whole and its checksum matches,
// and replaying batches over a snapshot that already holds them changes nothing (batches carry whole
// entries, records and values and deletions, never increments), so compaction may die between its rename
// and its truncation. A batch's tables and meta are in the same line as its entries: one commit.
// The tables and meta (small: the journal, the recovery area) stay in memory once loaded, so loadTable()
// and loadMeta() after loadIndex() read nothing from disk; the entries are never kept.
// A full disk or a read-only folder fails the operation, never the store: a failed append is cut off
// again (or, if even that fails, before the next append), a failed blob or snapshot leaves only a temp
// file (removed), and once space is back the same open store commits again.
import * as nodeFs from 'node:fs/promises';
import { join } from 'node:path';
import type { CacheEntry } from '../cache/cacheEntry';
import type { BlobReader, ShareStores, IndexBatch, ShareStore, StoredRecord } from '../cache/shareStore';
import { nullLogger, type Logger } from '../core/log';
import { diskError, DiskStoreError, errno, NOT_WRITABLE, readOnlyFolder } from './diskErrors';
import { applyExtras, encodeLogLine, scanLog, type Extras, type LogBatch } from './diskLog';
import { DiskBlobs } from './diskBlobs';
import { DiskPartials, type PartialLimits } from './diskPartials';
import { fsyncDir, heldLocks, takeLock, waitForLock } from './diskLock';
import { byId, checkTableName, normalizeExtras, type NormalizedExtras } from './storeBatch';

export { crc32 } from './diskLog';
export { diskError, DiskStoreError } from './diskErrors';

/** The file system calls the store makes (node:fs/promises); tests pass a wrapper that injects faults. */
export type DiskFs = Pick<typeof nodeFs, 'open' | 'readFile' | 'writeFile' | 'rm' | 'mkdir' | 'stat' | 'rename' | 'readdir' | 'link'>;

export interface DiskStoreOptions {
  /** Compact once the log holds more batches than this. */
  readonly compactAfterBatches?: number;
  /** …or once it is larger than both the snapshot and this many bytes. */
  readonly compactMinBytes?: number;
  readonly logger?: Logger;
  /** Exposed for testing: told when a compaction starts and ends. */
  readonly onCompaction?: (phase: 'start' | 'end') => void;
  /** Exposed for testing: the file system (default node:fs/promises). */
  readonly fs?: DiskFs;
  /** After a failed compaction, the next waits this long (ms), doubling up to 5 minutes. */
  readonly compactRetryMs?: number;
  /** While another window has a store open, whenFree() looks at its lock this often (ms). */
  readonly lockPollMs?: number;
  /** Bounds of the cut downloads kept to resume (defaults in diskPartials.ts). */
  readonly partials?: PartialLimits;
}

const DEFAULT_COMPACT_AFTER_BATCHES = 2000;
const DEFAULT_COMPACT_MIN_BYTES = 1 << 20;
const DEFAULT_COMPACT_RETRY_MS = 1000;
const DEFAULT_LOCK_POLL_MS = 500;
const COMPACT_RETRY_MAX_MS = 5 * 60_000;
const SNAPSHOT_FORMAT = 'webdav-offline-index';
const SNAPSHOT_VERSION = 2;
/** Snapshot versions this code reads: 1 has entries only. */
const READABLE_SNAPSHOT_VERSIONS: readonly unknown[] = [1, 2];

export class DiskShareStores implements ShareStores {
  constructor(
    private readonly root: string,
    private readonly options: DiskStoreOptions = {},
  ) {}

  open(shareId: string): Promise<ShareStore> {
    return this.folder(shareId).then(dir => DiskShareStore.open(dir, this.options));
  }

  async whenFree(shareId: string, signal: AbortSignal): Promise<void> {
    const dir = await this.folder(shareId);
    return waitForLock(this.options.fs ?? nodeFs, join(dir, 'lock'), signal, this.options.lockPollMs ?? DEFAULT_LOCK_POLL_MS);
  }

  private async folder(shareId: string): Promise<string> {
    // The id becomes a folder name: nothing that could climb out of the root.
    if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/.test(shareId)) throw new Error(`cache store: invalid share id ${JSON.stringify(shareId)}`);
    return join(this.root, shareId);
  }
}

// --- the store

interface State extends Extras {
  readonly entries: Map<string, CacheEntry>;
}

class DiskShareStore implements ShareStore {
  private readonly logger: Logger;
  private readonly compactAfterBatches: number;
  private readonly compactMinBytes: number;
  private log: nodeFs.FileHandle | undefined; // index.log, opened for appending
  private logBytes = 0; // intact bytes in index.log
  private logBatches = 0;
  private snapshotBytes = 0;
  private compactionQueued = false;
  private tail: Promise<unknown> = Promise.resolve(); // index operations run one at a time
  /** A failed append could not be cut off: the log holds bytes past logBytes until repairLog() succeeds. */
  private damagedTail: Error | undefined;
  private readonly fs: DiskFs;
  private readonly compactRetryMs: number;
  private compactBackoffMs = 0;
  private compactNotBefore = 0; // after a failed compaction, no other before this time
  private closed = false;
  private extras: Extras | undefined; // the tables and meta, once read (kept up to date by commits)
  private readonly blobs: DiskBlobs;
  /** Cut downloads kept to resume (diskPartials.ts). */
  readonly partials: DiskPartials;

  private constructor(
    private readonly dir: string,
    private readonly options: DiskStoreOptions,
  ) {
    this.logger = options.logger ?? nullLogger;
    this.compactAfterBatches = options.compactAfterBatches ?? DEFAULT_COMPACT_AFTER_BATCHES;
    this.compactMinBytes = options.compactMinBytes ?? DEFAULT_COMPACT_MIN_BYTES;
    this.compactRetryMs = options.compactRetryMs ?? DEFAULT_COMPACT_RETRY_MS;
    this.fs = options.fs ?? nodeFs;
    this.blobs = new DiskBlobs(this.fs, dir, join(dir, 'tmp'), this.logger);
    this.partials = new DiskPartials(this.fs, dir, this.blobs, this.logger, options.partials);
  }

  private get snapshotPath() {
    return join(this.dir, 'index.snapshot');
  }
  private get logPath() {
    return join(this.dir, 'index.log');
  }
  private get tmpDir() {
    return join(this.dir, 'tmp');
  }
  private get lockPath() {
    return join(this.dir, 'lock');
  }

  static async open(dir: string, options: DiskStoreOptions): Promise<DiskShareStore> {
    const store = new DiskShareStore(dir, options);
    const fs = store.fs;
    try {
      await fs.mkdir(dir, { recursive: true });
    } catch (err) {
      // Node's recursive mkdir says ENOENT on a read-only file system; a plain one gives the real reason
      const cause = errno(err) === 'ENOENT' ? await fs.mkdir(dir).then(() => err, (plain: unknown) => plain) : err;
      if (NOT_WRITABLE.has(errno(cause) ?? '')) throw readOnlyFolder(cause, dir);
      throw diskError(err, `creating ${dir}`);
    }
    try {
      await takeLock(fs, store.lockPath);
    } catch (err) {
      if (NOT_WRITABLE.has((err as DiskStoreError).code)) throw readOnlyFolder((err as Error).cause ?? err, dir);
      throw err;
    }
    try {
      await store.prepare();
    } catch (err) {
      await store.log?.close().catch(() => undefined);
      heldLocks.delete(store.lockPath);
      await fs.rm(store.lockPath, { force: true }).catch(() => undefined);
      if (NOT_WRITABLE.has(errno(err) ?? '')) throw readOnlyFolder(err, dir);
      throw diskError(err, `opening ${dir}`);
    }
    return store;
  }

  /** Removes what a crash left behind, cuts a torn log tail, and opens the log for appending. */
  private async prepare(): Promise<void> {
    const fs = this.fs;
    // emptied, not removed and made again: on a full disk a new folder may not fit
    await fs.mkdir(this.tmpDir, { recursive: true });
    for (const name of await fs.readdir(this.tmpDir)) await fs.rm(join(this.tmpDir, name), { recursive: true, force: true });
    await fs.rm(`${this.snapshotPath}.tmp`, { force: true });
    await fs.mkdir(join(this.dir, 'blobs'), { recursive: true });
    this.log = await fs.open(this.logPath, 'a+');
    const content = await this.log.readFile();
    const scan = scanLog(content);
    if (scan.validBytes < content.length) {
      this.logger.warn(`[cache] ${this.logPath}: cut ${content.length - scan.validBytes} bytes after ${scan.count} intact batches (torn or damaged tail)`);
      await this.log.truncate(scan.validBytes);
      await this.log.datasync();
    }
    this.logBytes = scan.validBytes;
    this.logBatches = scan.count;
    this.snapshotBytes = await fs.stat(this.snapshotPath).then(s => s.size, err => (errno(err) === 'ENOENT' ? 0 : Promise.reject(err)));
    await fsyncDir(fs, this.dir);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private assertOpen(): void {
    if (this.closed) throw new DiskStoreError(`cache store: ${this.dir} is closed`, 'ECLOSED');
  }

  // --- index

  async loadIndex(): Promise<CacheEntry[]> {
    this.assertOpen();
    return this.serial(async () => [...(await this.readState()).entries.values()]);
  }

  async loadTable(table: string): Promise<StoredRecord[]> {
    this.assertOpen();
    try {
      checkTableName(table);
    } catch (err) {
      throw new DiskStoreError((err as Error).message, 'EINVAL');
    }
    return this.serial(async () => {
      const extras = this.extras ?? (await this.readState());
      return structuredClone([...(extras.tables.get(table)?.values() ?? [])].sort(byId));
    });
  }

  async loadMeta(): Promise<Record<string, unknown>> {
    this.assertOpen();
    return this.serial(async () => {
      const extras = this.extras ?? (await this.readState());
      return structuredClone(Object.fromEntries(extras.meta));
    });
  }

  /** The snapshot with the log replayed over it; refreshes the tables and meta kept in memory. Call inside serial(). */
  private async readState(): Promise<State> {
    const state: State = { entries: new Map(), tables: new Map(), meta: new Map() };
    let text = '';
    try {
      text = await this.fs.readFile(this.snapshotPath, 'utf8');
    } catch (err) {
      if (errno(err) !== 'ENOENT') throw diskError(err, `reading ${this.snapshotPath}`);
    }
    if (text) {
      let snapshot: { format?: unknown; version?: unknown; entries?: unknown; tables?: unknown; meta?: unknown };
      try {
        snapshot = JSON.parse(text);
      } catch (err) {
        throw new DiskStoreError(`cache store: ${this.snapshotPath} is damaged (${(err as Error).message})`, 'EBADINDEX', err);
      }
      const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
      if (
        snapshot.format !== SNAPSHOT_FORMAT ||
        !READABLE_SNAPSHOT_VERSIONS.includes(snapshot.version) ||
        !Array.isArray(snapshot.entries) ||
        (snapshot.version !== 1 && !(isObject(snapshot.tables) && Object.values(snapshot.tables).every(Array.isArray) && isObject(snapshot.meta)))
      ) {
        throw new DiskStoreError(`cache store: ${this.snapshotPath} has an unknown format (version ${JSON.stringify(snapshot.version)})`, 'EBADINDEX');
      }
      for (const entry of snapshot.entries as CacheEntry[]) state.entries.set(entry.path, entry);
      // Version 1 has no tables and no meta.
      for (const [name, records] of Object.entries((snapshot.tables ?? {}) as Record<string, StoredRecord[]>)) {
        state.tables.set(name, new Map(records.map(r => [r.id, r])));
      }
      for (const [key, value] of Object.entries((snapshot.meta ?? {}) as Record<string, unknown>)) state.meta.set(key, value);
    }
    const log = Buffer.alloc(this.logBytes);
    try {
      for (let got = 0; got < this.logBytes; ) {
        const { bytesRead } = await this.log!.read(log, got, this.logBytes - got, got);
        if (bytesRead === 0) throw new Error(`ends at ${got} of ${this.logBytes} bytes`);
        got += bytesRead;
      }
    } catch (err) {
      throw diskError(err, `reading ${this.logPath}`);
    }
    scanLog(log, json => {
      const batch = JSON.parse(json) as LogBatch;
      for (const path of batch.d) state.entries.delete(path);
      for (const entry of batch.p) state.entries.set(entry.path, entry);
      if (batch.t || batch.m) applyExtras(state, batch.t, batch.m);
    });
    this.extras = { tables: state.tables, meta: state.meta };
    return state;
  }

  async commit(batch: IndexBatch): Promise<void> {
    this.assertOpen();
    let line: Buffer;
    let extras: NormalizedExtras;
    try {
      extras = normalizeExtras(batch);
      if (batch.put.length === 0 && batch.delete.length === 0 && extras.changes === 0) return;
      line = encodeLogLine(batch, extras);
    } catch (err) {
      throw new DiskStoreError(`cache store: the batch cannot be stored (${(err as Error).message})`, 'EINVAL', err);
    }
    return this.serial(async () => {
      await this.repairLog();
      try {
        for (let written = 0; written < line.length; ) {
          const { bytesWritten } = await this.log!.write(line, written);
          if (bytesWritten <= 0) throw Object.assign(new Error('the write stored nothing'), { code: 'EIO' });
          written += bytesWritten;
        }
        await this.log!.datasync();
      } catch (err) {
        const failure = diskError(err, `committing ${batch.put.length + batch.delete.length + extras.changes} index changes`);
        // Take back a partial line, or every later line would be read as part of it and dropped (and a
        // whole line whose sync failed, or it would count after a restart although the caller was told no).
        await this.cutLog().catch(cutErr => {
          this.damagedTail = failure;
          this.logger.warn(`[cache] ${this.logPath}: a failed append could not be cut off yet (${(cutErr as Error).message}); it will be before the next commit`);
        });
        throw failure;
      }
      this.logBytes += line.length;
      this.logBatches++;
      if (this.extras && extras.changes > 0) {
        applyExtras(
          this.extras,
          Object.fromEntries(Object.entries(extras.tables).map(([name, change]) => [name, { d: change.delete, p: change.put }])),
          extras.meta,
        );
      }
      this.maybeCompact();
    });
  }

  /** Cuts the log back to its intact bytes. Call inside serial(). */
  private async cutLog(): Promise<void> {
    await this.log!.truncate(this.logBytes);
    await this.log!.datasync();
  }

  /** Before an append: cuts off a failed append that could not be cut off when it failed. Call inside serial(). */
  private async repairLog(): Promise<void> {
    if (!this.damagedTail) return;
    try {
      await this.cutLog();
    } catch (err) {
      throw diskError(err, `repairing ${this.logPath} after a failed commit`);
    }
    this.logger.info(`[cache] ${this.logPath}: the failed append is cut off; commits go on`);
    this.damagedTail = undefined;
  }

  // call inside serial()
  private maybeCompact(): void {
    const due = this.logBatches > this.compactAfterBatches || (this.logBytes > this.snapshotBytes && this.logBytes > this.compactMinBytes);
    if (!due || this.compactionQueued || Date.now() < this.compactNotBefore) return;
    this.compactionQueued = true;
    // Not awaited by the commit that triggered it; later index operations queue behind it.
    this.serial(() => this.compact()).then(
      () => {
        this.compactionQueued = false;
        this.compactBackoffMs = 0;
        this.compactNotBefore = 0;
      },
      err => {
        this.compactionQueued = false;
        // a full disk: do not rewrite the whole index after every commit until it works again
        this.compactBackoffMs = this.compactBackoffMs ? Math.min(this.compactBackoffMs * 2, COMPACT_RETRY_MAX_MS) : this.compactRetryMs;
        this.compactNotBefore = Date.now() + this.compactBackoffMs;
        const wait = this.compactBackoffMs < 1000 ? `${this.compactBackoffMs} ms` : `${Math.round(this.compactBackoffMs / 1000)} s`;
        this.logger.warn(`[cache] ${this.dir}: compaction failed, the log keeps growing; next attempt in ${wait} (${(err as Error).message})`);
      },
    );
  }

  // call inside serial()
  private async compact(): Promise<void> {
    if (this.closed) return;
    const fs = this.fs;
    await this.repairLog();
    this.options.onCompaction?.('start');
    const started = Date.now();
    const batches = this.logBatches;
    const state = await this.readState();
    const tables = Object.fromEntries([...state.tables].map(([name, records]) => [name, [...records.values()].sort(byId)]));
    const json = JSON.stringify({ format: SNAPSHOT_FORMAT, version: SNAPSHOT_VERSION, entries: [...state.entries.values()], tables, meta: Object.fromEntries(state.meta) });
    const temp = `${this.snapshotPath}.tmp`;
    try {
      const fh = await fs.open(temp, 'w');
      try {
        await fh.writeFile(json, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fs.rename(temp, this.snapshotPath);
      await fsyncDir(fs, this.dir);
    } catch (err) {
      await fs.rm(temp, { force: true }).catch(() => undefined);
      throw diskError(err, `writing ${this.snapshotPath}`);
    }
    // The snapshot holds every logged batch now; a crash before this truncation only replays them again.
    this.snapshotBytes = Buffer.byteLength(json);
    try {
      await this.log!.truncate(0);
      this.logBytes = 0; // what the file holds now, even if the sync below fails
      this.logBatches = 0;
      await this.log!.datasync();
    } catch (err) {
      throw diskError(err, `truncating ${this.logPath}`);
    }
    this.logger.debug(`[cache] ${this.dir}: compacted ${batches} batches into ${state.entries.size} entries, ${state.tables.size} tables (${Date.now() - started} ms)`);
    this.options.onCompaction?.('end');
  }

  // --- blobs (diskBlobs.ts)

  putBlob(data: Uint8Array): Promise<string> {
    this.assertOpen();
    return this.blobs.put(data);
  }

  putBlobStream(chunks: AsyncIterable<Uint8Array>): Promise<{ hash: string; size: number }> {
    this.assertOpen();
    return this.blobs.putStream(chunks);
  }

  getBlob(hash: string): Promise<Uint8Array | undefined> {
    this.assertOpen();
    return this.blobs.get(hash);
  }

  openBlob(hash: string): Promise<BlobReader | undefined> {
    this.assertOpen();
    return this.blobs.open(hash);
  }

  deleteBlobs(hashes: readonly string[]): Promise<void> {
    this.assertOpen();
    return this.blobs.delete(hashes);
  }

  listBlobs(): Promise<string[]> {
    this.assertOpen();
    return this.blobs.list();
  }

  // --- lifecycle

  async clear(): Promise<void> {
    this.assertOpen();
    return this.serial(async () => {
      this.extras = undefined; // read again from disk if the clearing fails half-way
      try {
        await this.log!.truncate(0);
        this.logBytes = 0;
        this.logBatches = 0;
        this.damagedTail = undefined;
        await this.log!.datasync();
        await this.fs.rm(this.snapshotPath, { force: true });
        this.snapshotBytes = 0;
        this.extras = { tables: new Map(), meta: new Map() };
        await this.fs.rm(join(this.dir, 'blobs'), { recursive: true, force: true });
        await this.fs.rm(this.tmpDir, { recursive: true, force: true });
        await this.fs.rm(join(this.dir, 'partials'), { recursive: true, force: true });
        await this.fs.mkdir(join(this.dir, 'blobs'), { recursive: true });
        await this.fs.mkdir(this.tmpDir, { recursive: true });
        await fsyncDir(this.fs, this.dir);
      } catch (err) {
        throw diskError(err, `clearing ${this.dir}`);
      }
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return this.serial(async () => {
      try {
        // a failed append not yet cut off would count as committed when the store opens next
        if (this.damagedTail) await this.cutLog().catch(err => this.logger.warn(`[cache] ${this.logPath}: a failed append could not be cut off before closing (${(err as Error).message})`));
        await this.log?.close();
      } finally {
        this.log = undefined;
        heldLocks.delete(this.lockPath);
        await this.fs.rm(this.lockPath, { force: true });
      }
    });
  }
}
