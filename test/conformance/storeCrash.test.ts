// Crash trials of the disk share store: a child process (test/support/storeCrashChild.ts) stores blobs,
// commits batches (entries with journal-like table records and meta values in the same batch), collects
// garbage and compacts, and is killed with SIGKILL at a random moment; then the store is opened here, as
// the next session would, and checked:
//   - the index, the journal table and the meta values load; together they are exactly the acknowledged
//     batches, or those plus the one in flight (atomic batches, nothing acknowledged lost, nothing older
//     than acknowledged);
//   - the journal and the entries agree: every record's entry is there at the record's version, every
//     entry has exactly one record, of its version; the journal loads in ascending id order; meta `seq` is
//     the last batch in the store and `records` the journal's size;
//   - every entry's blob is there, verifies, and is that entry's path at that entry's version;
//   - no temp file remains.
// SIGKILL tests atomicity against a process crash; the page cache survives it, so power loss is covered
// only by the fsync ordering itself.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CacheEntry } from '../../src/cache/cacheEntry';
import type { IndexBatch } from '../../src/cache/shareStore';
import { DiskShareStores } from '../../src/platform/diskShareStore';
import { crashBlobHeader, CRASH_SHARE_ID, CRASH_TABLE, type CrashRecord } from '../support/storeCrashChild';
import { bundleChild } from '../support/bundleChild';
import { seededRandom, sorted } from '../unit/shareStore.suite';

const TRIALS = 60;
const PER_TEST = 10;
const SEED = 0x5eed;

type Phase = 'before the first batch' | 'writing a blob' | 'committing' | 'between batches' | 'collecting garbage';

interface TrialOutcome {
  readonly phase: Phase;
  readonly compacting: boolean;
  readonly acknowledged: number;
  /** Journal records in the store after the kill. */
  readonly records?: number;
  /** The batch in flight at the kill changed the journal. */
  readonly journalInFlight?: boolean;
}

/** Everything the store holds but blobs: entries, the journal (id → record), the meta values. */
interface Model {
  readonly entries: Map<string, CacheEntry>;
  readonly journal: Map<number, CrashRecord>;
  readonly meta: Map<string, unknown>;
}

/** A model as the store loads it, for comparison. */
interface Loaded {
  readonly entries: CacheEntry[];
  readonly journal: CrashRecord[];
  readonly meta: Record<string, unknown>;
}

function asLoaded(model: Model): Loaded {
  return { entries: sorted(model.entries.values()), journal: [...model.journal.values()].sort((a, b) => a.id - b.id), meta: Object.fromEntries(model.meta) };
}

/** What the child said, up to the kill: the acknowledged state, the batch in flight, the phase. */
function readChildLog(stdout: string): { acked: Model; inFlight?: IndexBatch; outcome: TrialOutcome } {
  const lines = stdout.split('\n');
  lines.pop(); // a line without its newline was cut by the kill
  let acked: Model = { entries: new Map(), journal: new Map(), meta: new Map() };
  let inFlight: IndexBatch | undefined;
  let phase: Phase = 'before the first batch';
  let compacting = false;
  let acknowledged = 0;
  for (const line of lines) {
    const word = line.split(' ', 1)[0];
    if (word === 'blob') phase = 'writing a blob';
    else if (word === 'begin') {
      inFlight = JSON.parse(line.slice(line.indexOf('{'))) as IndexBatch;
      phase = 'committing';
    } else if (word === 'ack') {
      acked = applied(acked, inFlight!);
      inFlight = undefined;
      acknowledged++;
      phase = 'between batches';
    } else if (word === 'gc') phase = 'collecting garbage';
    else if (word === 'gc-end') phase = 'between batches';
    else if (word === 'compact-start') compacting = true;
    else if (word === 'compact-end') compacting = false;
  }
  return { acked, inFlight, outcome: { phase, compacting, acknowledged } };
}

function applied(state: Model, batch: IndexBatch): Model {
  const next: Model = { entries: new Map(state.entries), journal: new Map(state.journal), meta: new Map(state.meta) };
  for (const path of batch.delete) next.entries.delete(path);
  for (const entry of batch.put) next.entries.set(entry.path, entry);
  const journal = batch.tables?.[CRASH_TABLE];
  for (const id of journal?.delete ?? []) next.journal.delete(id);
  for (const record of journal?.put ?? []) next.journal.set(record.id, record as CrashRecord);
  for (const [key, value] of Object.entries(batch.meta ?? {})) {
    if (value === null) next.meta.delete(key);
    else next.meta.set(key, value);
  }
  return next;
}

async function runTrial(childJs: string, trial: number, delayMs: number): Promise<TrialOutcome> {
  const root = mkdtempSync(join(tmpdir(), 'wdo-crash-'));
  try {
    const child = spawn(process.execPath, [childJs, root, String(SEED + trial)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', d => (stderr += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(resolve => child.on('exit', (code, signal) => resolve({ code, signal })));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', d => {
        stdout += d;
        if (stdout.startsWith('ready\n')) resolve();
      });
      void exited.then(() => reject(new Error(`trial ${trial}: the child ended before it was ready\n${stderr}`)));
    });
    await new Promise(r => setTimeout(r, delayMs));
    child.kill('SIGKILL');
    const { code, signal } = await exited; // reaped: its lock is visibly stale now
    await new Promise(r => setImmediate(r)); // the last stdout chunk
    assert.equal(signal, 'SIGKILL', `trial ${trial}: the child died by itself (exit ${code})\n${stderr}`);

    const { acked, inFlight, outcome } = readChildLog(stdout);
    const store = await new DiskShareStores(root).open(CRASH_SHARE_ID);
    try {
      const dir = join(root, CRASH_SHARE_ID);
      assert.deepEqual(readdirSync(join(dir, 'tmp')), [], `trial ${trial}: temp blobs were removed`);
      assert.equal(existsSync(join(dir, 'index.snapshot.tmp')), false, `trial ${trial}: the temp snapshot was removed`);
      const journal = (await store.loadTable(CRASH_TABLE)) as CrashRecord[];
      const loaded: Loaded = { entries: sorted(await store.loadIndex()), journal, meta: await store.loadMeta() };
      const before = asLoaded(acked);
      const after = inFlight ? asLoaded(applied(acked, inFlight)) : before;
      const context = `trial ${trial} (killed after ${delayMs} ms, ${outcome.acknowledged} batches acknowledged, ${outcome.phase}${outcome.compacting ? ', compacting' : ''})`;
      if (!(isDeepStrictEqual(loaded, before) || isDeepStrictEqual(loaded, after))) {
        assert.deepEqual(loaded, after, `${context}: the index, journal and meta are neither the acknowledged state nor that plus the batch in flight`);
      }
      // The journal and the entries agree with each other, whatever the model says.
      assert.deepEqual(journal.map(r => r.id), [...journal.map(r => r.id)].sort((a, b) => a - b), `${context}: the journal loads in ascending id order`);
      const versionOf = (entry: CacheEntry) => Number(/^"v(\d+)"$/.exec(entry.etag!)![1]);
      const byPath = new Map(loaded.entries.map(e => [e.path, e]));
      for (const record of journal) {
        const entry = byPath.get(record.path);
        assert.ok(entry, `${context}: journal record ${record.id} (${record.path}) has its entry`);
        assert.equal(versionOf(entry), record.version, `${context}: journal record ${record.id} has its entry's version`);
      }
      const recordPaths = journal.map(r => r.path);
      assert.equal(new Set(recordPaths).size, recordPaths.length, `${context}: one record per path`);
      assert.deepEqual([...recordPaths].sort(), loaded.entries.map(e => e.path), `${context}: every entry has its journal record`);
      const inStore = inFlight && isDeepStrictEqual(loaded, after) ? outcome.acknowledged + 1 : outcome.acknowledged;
      assert.equal(loaded.meta.seq, inStore === 0 ? undefined : inStore, `${context}: meta 'seq' is the last batch in the store`);
      assert.equal(loaded.meta.records ?? 0, journal.length, `${context}: meta 'records' is the journal's size`);
      for (const entry of loaded.entries) {
        const data = await store.getBlob(entry.blob!);
        assert.ok(data, `${context}: the blob of ${entry.path} is there and verifies`);
        const version = versionOf(entry);
        const header = crashBlobHeader(entry.path, version);
        assert.equal(new TextDecoder().decode(data.subarray(0, header.length)), header, `${context}: the blob of ${entry.path} is its own`);
        assert.equal(data.byteLength, entry.size, `${context}: ${entry.path} has its size`);
      }
      return { ...outcome, records: journal.length, journalInFlight: inFlight?.tables?.[CRASH_TABLE] !== undefined };
    } finally {
      await store.close();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function isDeepStrictEqual(a: unknown, b: unknown): boolean {
  try {
    assert.deepStrictEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

suite('disk share store: crash trials (SIGKILL at a random moment)', function () {
  this.timeout(60_000);
  let child: Awaited<ReturnType<typeof bundleChild>>;
  let childJs: string;
  const outcomes: TrialOutcome[] = [];
  const random = seededRandom(SEED);
  const started = Date.now();

  suiteSetup(async () => {
    child = await bundleChild('storeCrashChild');
    childJs = child.js;
  });
  suiteTeardown(() => child?.dispose());

  for (let first = 0; first < TRIALS; first += PER_TEST) {
    test(`trials ${first + 1}–${first + PER_TEST}`, async () => {
      for (let trial = first; trial < first + PER_TEST; trial++) {
        outcomes.push(await runTrial(childJs, trial, 5 + Math.floor(random() * 296)));
      }
    });
  }

  test('the kills landed in every phase, batches in flight included', () => {
    const count = (f: (o: TrialOutcome) => boolean) => outcomes.filter(f).length;
    const byPhase = new Map<string, number>();
    for (const o of outcomes) byPhase.set(o.phase, (byPhase.get(o.phase) ?? 0) + 1);
    console.log(
      `      [figures] ${outcomes.length} trials in ${((Date.now() - started) / 1000).toFixed(1)} s; killed: ` +
        `${[...byPhase].map(([p, n]) => `${p} ${n}`).join(', ')}; during a compaction ${count(o => o.compacting)}; ` +
        `batches acknowledged per trial ${Math.min(...outcomes.map(o => o.acknowledged))}–${Math.max(...outcomes.map(o => o.acknowledged))}; ` +
        `journal records after the kill ${Math.min(...outcomes.map(o => o.records!))}–${Math.max(...outcomes.map(o => o.records!))}; ` +
        `killed committing a batch with journal changes ${count(o => o.phase === 'committing' && o.journalInFlight!)}`,
    );
    assert.equal(outcomes.length, TRIALS);
    assert.ok(count(o => o.phase === 'committing') > 0, 'some kills came with a batch in flight');
    assert.ok(count(o => o.phase === 'writing a blob') > 0, 'some kills came while a blob was written');
    assert.ok(count(o => o.records! > 0) > TRIALS / 2, 'most trials had journal records to check');
    assert.ok(count(o => o.phase === 'committing' && o.journalInFlight!) > 0, 'some kills came with journal changes in flight');
  });
});
