// W7 learning a whole tree (issue 13): 100,000 files in 2,000 folders, every name, size and validator
// learnt into an empty cache by the background walk — Depth: infinity below the root where the server
// answers it (nephele), folder by folder 8 at a time where it does not (Apache) — in a fresh Node process
// (--expose-gc) so that the heap it adds is its own: the heap held once the walk is done (after a
// collection) and the highest heap seen while it ran. Peer: `rclone lsf -R` on the same folder, the walk
// a sync tool makes to know every name. Goal (the issue's): within 1.2× of rclone's time, at most 150 MB
// added heap.
import { spawn } from 'node:child_process';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { Agent as HttpAgent } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { openCache } from '../src/cache/openCache';
import { nullLogger } from '../src/core/log';
import type { Settings } from '../src/core/settings';
import { DiskShareStores } from '../src/platform/diskShareStore';
import { WebdavRemote } from '../src/remote/webdavRemote';
import { noAuth } from '../src/share/auth';
import { Share } from '../src/share/share';
import { DATASET_MTIME } from './datasets';
import { benchSettings, chownForServer, fresh, removeDir, tempDir, variant, type BenchContext, type Sample, type Target, type Variant } from './harness';
import { measureRcloneLsf } from './w5Poll';

export interface W7Spec {
  /** Folders at the top of the tree; each holds `subfolders` more (folders in all: top × (1 + subfolders)). */
  readonly top: number;
  readonly subfolders: number;
  readonly filesPerFolder: number;
}

export function w7Spec(quick: boolean): W7Spec {
  return quick ? { top: 10, subfolders: 19, filesPerFolder: 25 } : { top: 50, subfolders: 39, filesPerFolder: 50 };
}

export const w7Folders = (s: W7Spec) => s.top * (1 + s.subfolders);
export const w7Files = (s: W7Spec) => w7Folders(s) * s.filesPerFolder;

/** Writes the tree below `root/w7`: tNN/ and tNN/sNN/, each with filesPerFolder small files. */
export function writeW7(root: string, spec: W7Spec): void {
  const folders: string[] = [];
  for (let t = 0; t < spec.top; t++) {
    const top = join(root, 'w7', `t${String(t).padStart(2, '0')}`);
    folders.push(top);
    for (let s = 0; s < spec.subfolders; s++) folders.push(join(top, `s${String(s).padStart(2, '0')}`));
  }
  for (const folder of folders) {
    mkdirSync(folder, { recursive: true });
    for (let f = 0; f < spec.filesPerFolder; f++) {
      const p = join(folder, `file-${String(f).padStart(3, '0')}.txt`);
      writeFileSync(p, `${f}\n`);
      utimesSync(p, DATASET_MTIME, DATASET_MTIME);
    }
  }
}

interface ChildResult {
  readonly ms: number;
  readonly state: string;
  readonly known: number;
  readonly heapMB: number;
  readonly peakHeapMB: number;
  /** The highest added heap while the walk itself ran (before the cache's commits settled). */
  readonly walkPeakHeapMB: number;
}

/** How long the cache is given to commit (and compact) after the walk before the heap held is measured. */
const SETTLE_MS = 3000;

/** In a fresh process (`--child=w7`): learns the tree of dav://<authority>/share/w7 into `dir`; prints one JSON line. */
export async function w7Child(authority: string, dir: string): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const settings: Settings = { ...benchSettings, maxTreeEntries: 200_000 };
  const location = { scheme: 'dav' as const, authority, basePath: '/share/w7' };
  const agent = new HttpAgent({ keepAlive: true, maxSockets: 8 }); // as the Node extension host's transport
  const remote = new WebdavRemote(location, () => settings, nullLogger, { httpAgent: agent });
  const share = new Share(location, remote, noAuth, nullLogger, async r => openCache(await new DiskShareStores(dir).open('share'), r, () => settings, nullLogger));
  await share.hasCache();
  await share.capabilities(); // the probe is not part of the walk
  // the parent resets its request counts, then says go
  console.log('ready');
  const lines = createInterface({ input: process.stdin });
  await new Promise<void>(resolve => lines.once('line', () => resolve()));
  lines.close();
  gc?.();
  const before = process.memoryUsage().heapUsed;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 20);
  const t0 = performance.now();
  const p = await share.learnTree();
  const ms = performance.now() - t0;
  const walkPeak = Math.max(peak, process.memoryUsage().heapUsed);
  // the cache commits what the walk learnt, and may compact its index, in the background: the heap
  // held is measured once that has settled (the peak goes on being sampled meanwhile)
  await new Promise(r => setTimeout(r, SETTLE_MS));
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  gc?.();
  const held = process.memoryUsage().heapUsed - before;
  const result: ChildResult = { ms, state: p?.state ?? 'none', known: p?.known ?? 0, heapMB: held / 1e6, peakHeapMB: (peak - before) / 1e6, walkPeakHeapMB: (walkPeak - before) / 1e6 };
  console.log(JSON.stringify(result));
  await share.dispose();
  agent.destroy();
}

async function runChild(t: Target, dir: string): Promise<Sample> {
  const child = spawn(process.execPath, ['--expose-gc', process.argv[1], '--child=w7', `--target=${t.location.authority}`, `--dir=${dir}`], { stdio: ['pipe', 'pipe', 'inherit'] });
  const out = createInterface({ input: child.stdout });
  const exited = new Promise<number | null>(r => child.once('exit', code => r(code)));
  let result: ChildResult | undefined;
  for await (const line of out) {
    if (line === 'ready') {
      t.proxy.take();
      child.stdin.write('go\n');
    } else if (line.startsWith('{')) result = JSON.parse(line) as ChildResult;
  }
  const code = await exited;
  const counts = t.proxy.take();
  if (code !== 0 || !result) throw new Error(`W7 child exited with ${code}`);
  if (result.state !== 'complete') throw new Error(`W7: the walk ended ${result.state} with ${result.known} entries`);
  return { ms: result.ms, counts, extra: { entries: result.known, heapMB: Math.round(result.heapMB * 10) / 10, peakHeapMB: Math.round(result.peakHeapMB * 10) / 10, walkPeakHeapMB: Math.round(result.walkPeakHeapMB * 10) / 10 } };
}

export async function runW7(ctx: BenchContext, t: Target, spec: W7Spec): Promise<{ variants: Variant[]; depthInfinity: boolean }> {
  chownForServer(t, join(t.root, 'w7'));
  const ours: Sample[] = [];
  const rclone: Sample[] = [];
  for (let run = 0; run < ctx.runs; run++) {
    ctx.log(`W7 ${t.name} run ${run + 1}/${ctx.runs}`);
    const cacheDir = tempDir(ctx, 'w7-cache-');
    await fresh(t);
    ours.push(await runChild(t, cacheDir));
    removeDir(cacheDir);
    await fresh(t);
    rclone.push(await measureRcloneLsf(t, '/w7'));
  }
  // the whole-tree requests show in the counts: Depth: infinity was used where PROPFINDs are fewer than folders
  const depthInfinity = (ours[0].counts.byMethod.PROPFIND ?? 0) < w7Folders(spec);
  const how = depthInfinity ? 'the root with Depth: 1, then each top folder with Depth: infinity' : 'Depth: 1 per folder';
  const learn = variant(ctx, 'ours learn', `ours: the background walk into an empty cache (${how}, 8 at a time), in a fresh process; heapMB: added heap held after the walk (once the cache's commits settled, after a collection), peakHeapMB: the highest added heap seen meanwhile (garbage included), walkPeakHeapMB: the same while the walk itself ran; their highest over all runs: maxHeapMB, maxPeakHeapMB`, ours, 8);
  const highest = (k: string) => Math.max(...ours.map(s => s.extra?.[k] ?? 0));
  return {
    depthInfinity,
    variants: [
      { ...learn, extra: { ...learn.extra, maxHeapMB: highest('heapMB'), maxPeakHeapMB: highest('peakHeapMB') } },
      variant(ctx, 'rclone lsf -R', 'rclone lsf -R (default --checkers 8): every name of the tree, a Depth-1 PROPFIND per folder', rclone, 8),
    ],
  };
}
