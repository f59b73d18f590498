// The process that test/conformance/storeCrash.test.ts kills at a random moment. It works a DiskShareStores
// as the cache layer will (each blob stored before the entry that refers to it, batches of puts, touches and
// deletes, garbage collection, frequent compactions), with an offline-journal-like table committed in the
// same batches as the entries it describes (table `journal`: one record {id, path, version} per entry,
// replaced by a record with a new id when the entry gets a new version, deleted with the entry) and meta
// values (`seq`: the batch's number, `records`: the journal's size, `lastDelete`: set and removed), and
// says on stdout what it is doing, one line each, written synchronously so that a line out means the step
// before it is done:
//   ready | blob <seq> | begin <seq> <batch json> | ack <seq> | compact-start | compact-end | gc <seq> | gc-end <seq>
//   node storeCrashChild.js <root> <seed>
import { writeSync } from 'node:fs';
import type { CacheEntry } from '../../src/cache/cacheEntry';
import type { IndexBatch, StoredRecord } from '../../src/cache/shareStore';
import { DiskShareStores } from '../../src/platform/diskShareStore';
import { seededRandom } from '../unit/shareStore.suite';

export const CRASH_SHARE_ID = 'crash';
export const CRASH_COMPACT_AFTER_BATCHES = 6;
export const CRASH_TABLE = 'journal';

/** A record of the crash trials' journal: the entry of `path` is at `version`. */
export interface CrashRecord extends StoredRecord {
  readonly path: string;
  readonly version: number;
}

/** What a blob of `path` at `version` starts with; the parent checks that an entry's blob starts with its own. */
export function crashBlobHeader(path: string, version: number): string {
  return `path=${path}\nversion=${version}\n`;
}

function say(line: string): void {
  writeSync(1, `${line}\n`);
}

async function main(root: string, seed: number): Promise<void> {
  const random = seededRandom(seed);
  const storage = new DiskShareStores(root, {
    compactAfterBatches: CRASH_COMPACT_AFTER_BATCHES,
    onCompaction: phase => say(`compact-${phase}`),
  });
  const store = await storage.open(CRASH_SHARE_ID);
  say('ready');
  const paths = Array.from({ length: 40 }, (_, i) => `/dir${i % 4}/file ${i}.txt`);
  const versions = new Map<string, number>();
  const committed = new Map<string, CacheEntry>();
  const journalIds = new Map<string, number>(); // committed: path → id of its record
  let nextId = 1;
  const encoder = new TextEncoder();
  for (let seq = 1; ; seq++) {
    const put: CacheEntry[] = [];
    const del: string[] = [];
    const records: CrashRecord[] = [];
    const dropped: number[] = [];
    const touched = new Set<string>();
    const size = 1 + Math.floor(random() * 5);
    // Half the batches only record reads (lastAccess), as the cache layer's LRU bookkeeping will.
    const touchOnly = committed.size > 0 && random() < 0.5;
    for (let i = 0; i < size; i++) {
      const path = paths[Math.floor(random() * paths.length)];
      if (touched.has(path)) continue;
      touched.add(path);
      const existing = committed.get(path);
      if (touchOnly) {
        if (existing) put.push({ ...existing, lastAccess: seq });
        continue;
      }
      if (existing && random() < 0.25) {
        del.push(path);
        dropped.push(journalIds.get(path)!);
        continue;
      }
      const version = (versions.get(path) ?? 0) + 1;
      versions.set(path, version);
      const content = encoder.encode(crashBlobHeader(path, version) + 'x'.repeat(Math.floor(random() ** 4 * 128 * 1024)));
      say(`blob ${seq}`);
      const blob = await store.putBlob(content);
      put.push({ path, type: 'file', size: content.byteLength, mtime: version, ctime: 0, etag: `"v${version}"`, blob, lastAccess: seq });
      if (journalIds.has(path)) dropped.push(journalIds.get(path)!);
      records.push({ id: nextId++, path, version });
    }
    const recordCount = journalIds.size - dropped.length + records.length;
    const batch: IndexBatch = {
      put,
      delete: del,
      tables: records.length + dropped.length > 0 ? { [CRASH_TABLE]: { put: records, delete: dropped } } : undefined,
      meta: { seq, records: recordCount, ...(del.length > 0 ? { lastDelete: del[0] } : seq % 3 === 0 ? { lastDelete: null } : {}) },
    };
    say(`begin ${seq} ${JSON.stringify(batch)}`);
    await store.commit(batch);
    say(`ack ${seq}`);
    for (const path of del) {
      committed.delete(path);
      journalIds.delete(path);
    }
    for (const entry of put) committed.set(entry.path, entry);
    for (const record of records) journalIds.set(record.path, record.id);
    if (seq % 7 === 0) {
      // Garbage collection as the cache layer will do it: blobs no committed entry refers to.
      say(`gc ${seq}`);
      const referenced = new Set([...committed.values()].map(e => e.blob));
      await store.deleteBlobs((await store.listBlobs()).filter(h => !referenced.has(h)));
      say(`gc-end ${seq}`);
    }
  }
}

if (require.main === module) {
  const [root, seed] = process.argv.slice(2);
  main(root, Number(seed)).catch(err => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
