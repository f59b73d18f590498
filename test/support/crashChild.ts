// What the crash children (offlineCrashChild.ts, twoWindowsChild.ts) share: what they say on stdout, one
// line per step, written synchronously so that a line out means the step before it is done; the disk store
// wrapped to say when content is stored and when batches are committed; a logger that says when the
// journal's recovery applies or rolls back an intent; the share they open and the steps they take on it.
// (A module of its own: a bundled child runs every module's `require.main === module` block, so children
// share no module that has one.)
import { writeSync } from 'node:fs';
import type { IndexBatch, ShareStore, StoredRecord } from '../../src/cache/shareStore';
import type { Logger } from '../../src/core/log';
import { DEFAULTS, type Settings } from '../../src/core/settings';
import type { ShareLocation } from '../../src/core/shareLocation';
import type { Share } from '../../src/share/share';
import { Chooser, runOp, walk, type ChildOp } from './offlineCrashModel';

export interface ChildConfig {
  /** Root of the cache storage (DiskShareStores). */
  readonly cacheRoot: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly seed: number;
  /** The counter of the first save (every child has its own range: contents name their child). */
  readonly counter: number;
  /** A fresh cache: read everything online first, then go offline by hand. */
  readonly warm: boolean;
}

export function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/** Where a child's share is (the parent's nephele, /share), its settings, and its sign-in. */
export function childShare(config: ChildConfig) {
  const settings: Settings = { ...DEFAULTS, pollIntervalMs: 0 };
  const location: ShareLocation = { scheme: 'dav', authority: `127.0.0.1:${config.port}`, basePath: '/share' };
  const credentials = { username: config.user, password: config.password };
  const auth = { stored: async () => credentials, ask: async () => undefined, save: async () => undefined };
  return { settings, location, auth };
}

/**
 * On a fresh cache (`warm`): reads every folder and file online, goes offline by hand, waits until that is
 * committed; else checks the share came up offline by hand. Then reads the whole tree (from the cache),
 * prints it, and resolves with a chooser of changes for it.
 */
export async function offlineTree(share: Share, store: TracingStore, config: ChildConfig, random: () => number, folderDeletes = true): Promise<Chooser> {
  if (config.warm) {
    await walk(share); // online: every folder listed, every file read, so all of it is cached
    const durable = store.committed(b => b.meta?.offlineByHand === true);
    await share.goOffline();
    await durable;
    say('offline');
  } else {
    const state = share.connectionState;
    if (state?.kind !== 'offline' || !state.manual) fail(`a cache left offline by hand opened ${JSON.stringify(state)}`);
  }
  const seen = await walk(share);
  say(`tree ${JSON.stringify(Object.fromEntries([...seen].map(([p, n]) => [p, n.sha1 ?? 'dir'])))}`);
  return new Chooser(new Map([...seen].map(([p, n]) => [p, n.type])), random, folderDeletes);
}

/** Makes change `c` (chosen for the tree), saying `begin` before and `ack` once it resolved. */
export async function change(share: Share, chooser: Chooser, c: number): Promise<void> {
  const op: ChildOp = chooser.next(c);
  const line = JSON.stringify(op);
  say(`begin ${line}`);
  try {
    await runOp(share, op);
  } catch (err) {
    fail(`${line} failed: ${err instanceof Error ? err.stack : String(err)}`);
  }
  chooser.done(op);
  say(`ack ${line}`);
}

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
