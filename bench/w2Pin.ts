// W2 pin: keep a 2,000-file / 100 MB tree available offline — ours (Pinner, adaptive parallelism up to
// the setting's ceiling) vs `rclone copy` (webdav remote, at its defaults --transfers 4 --checkers 8, and
// tuned with --transfers 16, so the comparison is fair to rclone) vs a sequential client download (the
// same HTTP client: PROPFIND each folder, then GET each file one after the other, written to disk).
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { Agent as HttpAgent } from 'node:http';
import { join } from 'node:path';
import { nullLogger } from '../src/core/log';
import { WebdavRemote } from '../src/remote/webdavRemote';
import { planTree, type Tree } from './datasets';
import { benchSettings, fresh, measure, median, openShare, removeDir, tempDir, variant, type BenchContext, type Sample, type Target, type Variant } from './harness';

export function w2Tree(quick: boolean): Tree {
  return planTree({
    name: 'w2',
    folders: quick ? 10 : 20,
    filesPerFolder: quick ? 10 : 100,
    minBytes: 4096,
    maxBytes: 256 * 1024,
    totalBytes: quick ? 5 * 1000 * 1000 : 100 * 1000 * 1000,
    seed: 2,
  });
}

function countFiles(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      const c = countFiles(p);
      files += c.files;
      bytes += c.bytes;
    } else if (e.isFile()) {
      files++;
      bytes += statSync(p).size;
    }
  }
  return { files, bytes };
}

export function rcloneCopy(t: Target, from: string, to: string, extra: string[] = []): Promise<void> {
  return runRclone(t, ['copy', `:webdav:${from}`, to, ...extra]);
}

export function runRclone(t: Target, args: string[], out?: (s: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('rclone', [...args, `--webdav-url=${t.url}`, '--webdav-vendor=other', '--config=/dev/null', '-q'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stdout.on('data', d => out?.(String(d)));
    child.stderr.on('data', d => (stderr += d));
    child.on('error', reject);
    child.on('exit', code => (code === 0 ? resolve() : reject(new Error(`rclone ${args[0]} exited with ${code}: ${stderr.trim().slice(0, 500)}`))));
  });
}

export async function runW2(ctx: BenchContext, t: Target, tree: Tree): Promise<Variant[]> {
  const s: Record<string, Sample[]> = { ours: [], rclone: [], rclone16: [], sequential: [] };
  const root = `/${tree.spec.name}`;
  for (let run = 0; run < ctx.runs; run++) {
    ctx.log(`W2 ${t.name} run ${run + 1}/${ctx.runs}`);
    // ours: "Keep Available Offline" on the folder, empty cache
    const cacheDir = tempDir(ctx, 'w2-cache-');
    await fresh(t);
    s.ours.push(
      await measure(t, async () => {
        const o = await openShare(t, cacheDir);
        try {
          const r = await o.share.pin(root);
          if (r.failed.length || r.filesDone !== tree.files.length) throw new Error(`W2 pin: ${r.filesDone} files, ${r.failed.length} failed (${r.failed[0]?.error})`);
          // where the adaptive limit ended: the requests in flight at the end, for the bound
          return { files: r.filesDone, bytes: r.bytesDone, limit: o.parts?.pinner.limit.limit ?? 0 };
        } finally {
          await o.dispose();
        }
      }),
    );
    removeDir(cacheDir);
    // rclone copy from the same server, through the same link
    const dest = tempDir(ctx, 'w2-rclone-');
    await fresh(t);
    s.rclone.push(
      await measure(t, async () => {
        await rcloneCopy(t, root, dest);
        const c = countFiles(dest);
        if (c.files !== tree.files.length || c.bytes !== tree.bytes) throw new Error(`W2 rclone: ${c.files} files / ${c.bytes} bytes`);
        return c;
      }),
    );
    removeDir(dest);
    // rclone tuned: 16 transfers at once
    const dest16 = tempDir(ctx, 'w2-rclone16-');
    await fresh(t);
    s.rclone16.push(
      await measure(t, async () => {
        await rcloneCopy(t, root, dest16, ['--transfers=16']);
        const c = countFiles(dest16);
        if (c.files !== tree.files.length || c.bytes !== tree.bytes) throw new Error(`W2 rclone --transfers 16: ${c.files} files / ${c.bytes} bytes`);
        return c;
      }),
    );
    removeDir(dest16);
    // sequential: the same client, one GET after the other
    const seqDest = tempDir(ctx, 'w2-seq-');
    await fresh(t);
    s.sequential.push(
      await measure(t, async () => {
        const agent = new HttpAgent({ keepAlive: true, maxSockets: 8 });
        const remote = new WebdavRemote(t.location, () => benchSettings, nullLogger, { httpAgent: agent });
        try {
          let files = 0;
          let bytes = 0;
          const folders = [root];
          while (folders.length) {
            const folder = folders.shift()!;
            mkdirSync(join(seqDest, folder), { recursive: true });
            for (const c of (await remote.list(folder)).children) {
              if (c.type === 'directory') {
                folders.push(c.path);
                continue;
              }
              const got = await remote.get(c.path);
              if (got === 'not-modified') throw new Error('unexpected 304');
              writeFileSync(join(seqDest, c.path), got.data);
              files++;
              bytes += got.data.byteLength;
            }
          }
          if (files !== tree.files.length || bytes !== tree.bytes) throw new Error(`W2 sequential: ${files} files / ${bytes} bytes`);
          return { files, bytes };
        } finally {
          agent.destroy();
        }
      }),
    );
    removeDir(seqDest);
  }
  return [
    variant(
      ctx,
      'ours',
      `ours: Keep Available Offline (folders listed in parallel, then the downloads: from 8 at once, growing while throughput grows, at most ${benchSettings.parallelDownloads} — the setting's ceiling; content hashed and fsynced into the cache; the product's Node transport)`,
      s.ours,
      median(s.ours.map(x => x.extra?.limit ?? 0)) || benchSettings.parallelDownloads,
    ),
    variant(ctx, 'rclone copy', 'rclone copy (Debian rclone, webdav remote, default --transfers 4 --checkers 8) to a local folder', s.rclone, 4),
    variant(ctx, 'rclone copy --transfers 16', 'rclone copy tuned: --transfers 16 (--checkers 8) to a local folder', s.rclone16, 16),
    variant(ctx, 'sequential', 'the same HTTP client: PROPFIND each folder, GET each file one after the other, write it to disk', s.sequential, 1),
  ];
}
