// W4 index of 100,000 entries: what activation costs — the time to open a share's cache (the index is
// loaded whole; no blob is read) and the memory it then holds, each measured in a fresh Node process.
// Peer: a cache that keeps one small metadata file per item (the layout of rclone's VFS cache,
// `vfsMeta/…` one JSON per file), which must walk and read every file to know what it holds.
import { spawnSync } from 'node:child_process';
import { mkdirSync, promises as fs, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CacheEntry } from '../src/cache/cacheEntry';
import { nullLogger } from '../src/core/log';
import { DEFAULTS } from '../src/core/settings';
import { DiskShareStores } from '../src/platform/diskShareStore';
import type { RemoteFs } from '../src/remote/remoteFs';
import { openCache } from '../src/cache/openCache';
import { prng } from './datasets';
import { median, tempDir, type BenchContext, type Variant } from './harness';

function entries(n: number): CacheEntry[] {
  const rnd = prng(4);
  const hex = (len: number) => Array.from({ length: len }, () => ((rnd() * 16) | 0).toString(16)).join('');
  const out: CacheEntry[] = [];
  const perFolder = 100;
  const folders = Math.ceil(n / (perFolder + 1));
  const t = Date.parse('2024-01-01T00:00:00Z');
  out.push({ path: '/', type: 'directory', size: 0, mtime: t, ctime: t, children: Array.from({ length: folders }, (_, d) => `d${d}`), lastAccess: t });
  for (let d = 0; d < folders && out.length < n; d++) {
    const names = Array.from({ length: Math.min(perFolder, n - out.length - 1) }, (_, f) => `file-${f}.ts`);
    out.push({ path: `/d${d}`, type: 'directory', size: 0, mtime: t, ctime: t, etag: `"${hex(12)}"`, children: names, lastAccess: t });
    for (const name of names) {
      const size = Math.floor(rnd() * 100_000);
      const etag = `"${hex(5)}-${hex(13)}"`;
      const cached = rnd() < 0.5;
      out.push({
        path: `/d${d}/${name}`,
        type: 'file',
        size,
        mtime: t + d,
        ctime: t,
        etag,
        ...(cached ? { blob: hex(64), blobEtag: etag, blobMtime: t + d, blobSize: size } : {}),
        lastAccess: t + Math.floor(rnd() * 1e6),
      });
    }
  }
  return out.slice(0, n);
}

const unusedRemote = new Proxy({}, { get: () => () => Promise.reject(new Error('W4 makes no requests')) }) as unknown as RemoteFs;

/** In a fresh process (`--child=w4`): opens the cache or reads the per-item files; prints one JSON line. */
export async function w4Child(kind: string, dir: string): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage();
  const t0 = performance.now();
  let count = 0;
  let keep: unknown;
  if (kind === 'ours') {
    const cache = await openCache(await new DiskShareStores(dir).open('share'), unusedRemote, () => DEFAULTS, nullLogger);
    count = cache.tree.size;
    keep = cache;
  } else {
    const map = new Map<string, CacheEntry>();
    for (const sub of await fs.readdir(dir)) {
      for (const name of await fs.readdir(join(dir, sub))) {
        const e = JSON.parse(await fs.readFile(join(dir, sub, name), 'utf8')) as CacheEntry;
        map.set(e.path, e);
      }
    }
    count = map.size;
    keep = map;
  }
  const ms = performance.now() - t0;
  gc?.();
  const after = process.memoryUsage();
  console.log(JSON.stringify({ ms, count, heapMB: (after.heapUsed - before.heapUsed) / 1e6, rssMB: after.rss / 1e6 }));
  void keep;
  process.exit(0);
}

export async function runW4(ctx: BenchContext, n: number): Promise<Variant[]> {
  const list = entries(n);
  ctx.log(`W4: writing an index of ${n} entries, and ${n} per-item files`);
  const ours = tempDir(ctx, 'w4-ours-');
  const store = await new DiskShareStores(ours).open('share');
  for (let i = 0; i < list.length; i += 1000) await store.commit({ put: list.slice(i, i + 1000), delete: [] });
  await store.close();
  const perItem = tempDir(ctx, 'w4-peritem-');
  list.forEach((e, i) => {
    const sub = join(perItem, String(Math.floor(i / 1000)).padStart(3, '0'));
    if (i % 1000 === 0) mkdirSync(sub);
    writeFileSync(join(sub, `${i}.json`), JSON.stringify(e));
  });
  const out: Variant[] = [];
  for (const [name, kind, dir, what] of [
    ['ours', 'ours', ours, `ours: opening the share's cache (index snapshot + log, ${n} entries, no blob read) in a fresh process`],
    ['per-item files', 'peritem', perItem, `a metadata file per item (rclone VFS cache layout: vfsMeta/… one JSON each): walk, read and parse all ${n}`],
  ] as const) {
    const runs: { ms: number; heapMB: number; rssMB: number; count: number }[] = [];
    for (let run = 0; run < ctx.runs; run++) {
      // a fresh process per run; the page cache stays warm, as on a window reload
      const r = spawnSync(process.execPath, ['--expose-gc', process.argv[1], `--child=w4`, `--kind=${kind}`, `--dir=${dir}`], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`W4 child failed: ${r.stderr}`);
      const line = JSON.parse(r.stdout.trim().split('\n').pop()!);
      if (line.count !== n) throw new Error(`W4 ${name}: loaded ${line.count} entries, expected ${n}`);
      runs.push(line);
    }
    const med = median(runs.map(r => r.ms));
    out.push({
      name,
      what,
      runs: runs.map(r => Math.round(r.ms)),
      medianMs: Math.round(med),
      requests: 0,
      byMethod: {},
      bytesUp: 0,
      bytesDown: 0,
      connections: 0,
      parallelism: 1,
      boundMs: 0,
      extra: { entries: n, heapMB: Math.round(median(runs.map(r => r.heapMB)) * 10) / 10, rssMB: Math.round(median(runs.map(r => r.rssMB))) },
    });
  }
  return out;
}
