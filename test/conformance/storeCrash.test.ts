// Crash trials of the disk share store: a child process (test/support/storeCrashChild.ts) stores blobs,
// commits batches, collects garbage and compacts, and is killed with SIGKILL at a random moment; then
// the store is opened here, as the next session would, and checked:
//   - the index loads; it is exactly the acknowledged batches, or those plus the one in flight (atomic
//     batches, nothing acknowledged lost, nothing older than acknowledged);
//   - every entry's blob is there, verifies, and is that entry's path at that entry's version;
//   - no temp file remains.
// SIGKILL tests atomicity against a process crash; the page cache survives it, so power loss is covered
// only by the fsync ordering itself.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CacheEntry } from '../../src/cache/cacheEntry';
import type { IndexBatch } from '../../src/cache/shareStore';
import { DiskCacheStorage } from '../../src/platform/diskShareStore';
import { crashBlobHeader, CRASH_SHARE_ID } from '../support/storeCrashChild';
import { seededRandom, sorted } from '../unit/shareStore.suite';

const ROOT = join(__dirname, '..', '..', '..');
const TRIALS = 60;
const PER_TEST = 10;
const SEED = 0x5eed;

type Phase = 'before the first batch' | 'writing a blob' | 'committing' | 'between batches' | 'collecting garbage';

interface TrialOutcome {
  readonly phase: Phase;
  readonly compacting: boolean;
  readonly acknowledged: number;
}

/** What the child said, up to the kill: the acknowledged state, the batch in flight, the phase. */
function readChildLog(stdout: string): { acked: Map<string, CacheEntry>; inFlight?: IndexBatch; outcome: TrialOutcome } {
  const lines = stdout.split('\n');
  lines.pop(); // a line without its newline was cut by the kill
  const acked = new Map<string, CacheEntry>();
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
      for (const path of inFlight!.delete) acked.delete(path);
      for (const entry of inFlight!.put) acked.set(entry.path, entry);
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

function applied(state: Map<string, CacheEntry>, batch: IndexBatch): Map<string, CacheEntry> {
  const next = new Map(state);
  for (const path of batch.delete) next.delete(path);
  for (const entry of batch.put) next.set(entry.path, entry);
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
      exited.then(() => reject(new Error(`trial ${trial}: the child ended before it was ready\n${stderr}`)));
    });
    await new Promise(r => setTimeout(r, delayMs));
    child.kill('SIGKILL');
    const { code, signal } = await exited; // reaped: its lock is visibly stale now
    await new Promise(r => setImmediate(r)); // the last stdout chunk
    assert.equal(signal, 'SIGKILL', `trial ${trial}: the child died by itself (exit ${code})\n${stderr}`);

    const { acked, inFlight, outcome } = readChildLog(stdout);
    const store = await new DiskCacheStorage(root).open(CRASH_SHARE_ID);
    try {
      const dir = join(root, CRASH_SHARE_ID);
      assert.deepEqual(readdirSync(join(dir, 'tmp')), [], `trial ${trial}: temp blobs were removed`);
      assert.equal(existsSync(join(dir, 'index.snapshot.tmp')), false, `trial ${trial}: the temp snapshot was removed`);
      const loaded = sorted(await store.loadIndex());
      const before = sorted(acked.values());
      const after = inFlight ? sorted(applied(acked, inFlight).values()) : before;
      const context = `trial ${trial} (killed after ${delayMs} ms, ${outcome.acknowledged} batches acknowledged, ${outcome.phase}${outcome.compacting ? ', compacting' : ''})`;
      if (!(isDeepStrictEqual(loaded, before) || isDeepStrictEqual(loaded, after))) {
        assert.deepEqual(loaded, after, `${context}: the index is neither the acknowledged state nor that plus the batch in flight`);
      }
      for (const entry of loaded) {
        const data = await store.getBlob(entry.blob!);
        assert.ok(data, `${context}: the blob of ${entry.path} is there and verifies`);
        const version = Number(/^"v(\d+)"$/.exec(entry.etag!)![1]);
        const header = crashBlobHeader(entry.path, version);
        assert.equal(new TextDecoder().decode(data.subarray(0, header.length)), header, `${context}: the blob of ${entry.path} is its own`);
        assert.equal(data.byteLength, entry.size, `${context}: ${entry.path} has its size`);
      }
      return outcome;
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
  let buildDir: string;
  let childJs: string;
  const outcomes: TrialOutcome[] = [];
  const random = seededRandom(SEED);
  const started = Date.now();

  suiteSetup(async () => {
    // build.mjs bundles only *.test.ts, index.ts and scripts/*.ts: the child is bundled here instead.
    // esbuild is loaded at run time (not bundled into this test) through a require of the project's own.
    const esbuild = createRequire(join(ROOT, 'package.json'))('esbuild') as typeof import('esbuild');
    buildDir = mkdtempSync(join(tmpdir(), 'wdo-crash-child-'));
    childJs = join(buildDir, 'storeCrashChild.js');
    await esbuild.build({
      entryPoints: [join(ROOT, 'test', 'support', 'storeCrashChild.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      outfile: childJs,
      logLevel: 'warning',
    });
  });
  suiteTeardown(() => rmSync(buildDir, { recursive: true, force: true }));

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
        `batches acknowledged per trial ${Math.min(...outcomes.map(o => o.acknowledged))}–${Math.max(...outcomes.map(o => o.acknowledged))}`,
    );
    assert.equal(outcomes.length, TRIALS);
    assert.ok(count(o => o.phase === 'committing') > 0, 'some kills came with a batch in flight');
    assert.ok(count(o => o.phase === 'writing a blob') > 0, 'some kills came while a blob was written');
  });
});
