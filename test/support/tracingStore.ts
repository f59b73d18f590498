// What the crash children (offlineCrashChild.ts, twoWindowsChild.ts) say on stdout: one line per step,
// written synchronously so that a line out means the step before it is done; the disk store wrapped to
// say when content is stored and when batches are committed, and a logger that says when the journal's
// recovery applies or rolls back an intent. (A module of its own: a bundled child runs every module's
// `require.main === module` block, so children share no module that has one.)
import { writeSync } from 'node:fs';
import type { IndexBatch, ShareStore, StoredRecord } from '../../src/cache/shareStore';
import type { Logger } from '../../src/core/log';

/** The journal records of a batch, as the journal writes them. */
type JournalRecordLike = StoredRecord & { readonly state?: string };

/** What a batch does to the journal: records an intent, changes applied records, or nothing. */
export function batchKind(batch: IndexBatch): 'intent' | 'journal' | 'other' {
  const journal = batch.tables?.journal;
  if (!journal) return 'other';
  if ((journal.put ?? []).some(r => (r as JournalRecordLike).state === 'intent')) return 'intent';
  return 'journal';
}

export function say(line: string): void {
  writeSync(1, `${line}\n`);
}

/** The disk store, saying what it does (nothing else changes). */
export class TracingStore implements ShareStore {
  private readonly waiters: { match: (b: IndexBatch) => boolean; resolve: () => void }[] = [];
  constructor(private readonly inner: ShareStore) {}

  /** Resolves once a batch matching `match` is committed. */
  committed(match: (b: IndexBatch) => boolean): Promise<void> {
    return new Promise(resolve => this.waiters.push({ match, resolve }));
  }

  loadIndex() {
    return this.inner.loadIndex();
  }
  loadTable(table: string) {
    return this.inner.loadTable(table);
  }
  loadMeta() {
    return this.inner.loadMeta();
  }
  async commit(batch: IndexBatch): Promise<void> {
    const kind = batchKind(batch);
    say(`commit ${kind}`);
    await this.inner.commit(batch);
    say(`committed ${kind}`);
    for (const w of this.waiters.filter(x => x.match(batch))) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve();
    }
  }
  async putBlob(data: Uint8Array): Promise<string> {
    say('blob');
    const hash = await this.inner.putBlob(data);
    say('blob-done');
    return hash;
  }
  async putBlobStream(chunks: AsyncIterable<Uint8Array>) {
    say('blob');
    const stored = await this.inner.putBlobStream(chunks);
    say('blob-done');
    return stored;
  }
  getBlob(hash: string) {
    return this.inner.getBlob(hash);
  }
  async deleteBlobs(hashes: readonly string[]): Promise<void> {
    say(`gc ${hashes.length}`);
    await this.inner.deleteBlobs(hashes);
    say('gc-done');
  }
  listBlobs() {
    return this.inner.listBlobs();
  }
  clear() {
    return this.inner.clear();
  }
  close() {
    return this.inner.close();
  }
}

export const logger: Logger = {
  trace() {},
  debug() {},
  info(m: string) {
    if (m.startsWith('[journal] recovery')) say(`recovering ${m}`);
  },
  warn(m: string) {
    if (m.startsWith('[journal] recovery')) say(`recovering ${m}`);
    process.stderr.write(`warn ${m}\n`);
  },
  error(m: string | Error) {
    process.stderr.write(`error ${m instanceof Error ? m.message : m}\n`);
  },
};
