// W1 re-open: what VS Code does when a folder is opened and its files are read — readDirectory of the
// root and of each folder, then stat + readFile of every file, one after the other.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Share } from '../src/share/share';
import { planTree, type Tree } from './datasets';
import { fresh, measure, openShare, removeDir, tempDir, variant, type BenchContext, type Sample, type Target, type Variant } from './harness';

export function w1Tree(quick: boolean): Tree {
  return planTree({ name: 'w1', folders: quick ? 5 : 10, filesPerFolder: quick ? 10 : 100, minBytes: 1024, maxBytes: 256 * 1024, seed: 1 });
}

async function reopen(share: Share, tree: Tree): Promise<Record<string, number>> {
  let bytes = 0;
  let files = 0;
  const root = `/${tree.spec.name}`;
  for (const [folder] of await share.readDirectory(root)) {
    const dir = `${root}/${folder}`;
    for (const [name, type] of await share.readDirectory(dir)) {
      if (type !== 'file') continue;
      await share.stat(`${dir}/${name}`);
      bytes += (await share.readFile(`${dir}/${name}`)).byteLength;
      files++;
    }
  }
  if (files !== tree.files.length || bytes !== tree.bytes) throw new Error(`W1: read ${files} files / ${bytes} bytes, expected ${tree.files.length} / ${tree.bytes}`);
  return { files, bytes };
}

async function reopenLocal(root: string, tree: Tree): Promise<Record<string, number>> {
  let bytes = 0;
  let files = 0;
  const top = join(root, tree.spec.name);
  for (const folder of (await fs.readdir(top, { withFileTypes: true })).filter(d => d.isDirectory())) {
    const dir = join(top, folder.name);
    for (const e of await fs.readdir(dir, { withFileTypes: true })) {
      if (!e.isFile()) continue;
      await fs.stat(join(dir, e.name));
      bytes += (await fs.readFile(join(dir, e.name))).byteLength;
      files++;
    }
  }
  if (bytes !== tree.bytes) throw new Error('W1 local: wrong byte count');
  return { files, bytes };
}

export async function runW1(ctx: BenchContext, t: Target, tree: Tree): Promise<Variant[]> {
  const s: Record<string, Sample[]> = { live: [], cold: [], warm: [], offline: [], local: [] };
  for (let run = 0; run < ctx.runs; run++) {
    ctx.log(`W1 ${t.name} run ${run + 1}/${ctx.runs}`);
    // live: the same share without a cache (SSH FS, WebDAV Workspace: a round trip per stat and read)
    await fresh(t);
    s.live.push(
      await measure(t, async () => {
        const o = await openShare(t, undefined);
        try {
          return await reopen(o.share, tree);
        } finally {
          await o.dispose();
        }
      }),
    );
    const cacheDir = tempDir(ctx, 'w1-cache-');
    // cold: an empty cache; warm: a new window on the filled cache, everything past its freshness window
    for (const kind of ['cold', 'warm', 'offline'] as const) {
      await fresh(t);
      s[kind].push(
        await measure(t, async () => {
          const o = await openShare(t, cacheDir);
          try {
            if (kind === 'offline') await o.share.goOffline();
            return await reopen(o.share, tree);
          } finally {
            await o.dispose();
          }
        }),
      );
    }
    removeDir(cacheDir);
    s.local.push(await measure(undefined, () => reopenLocal(t.root, tree)));
  }
  return [
    variant(ctx, 'live', 'live provider: the share with the cache off (a PROPFIND per stat, a GET per read)', s.live, 1),
    variant(ctx, 'ours cold', 'ours, empty cache (opening the share included)', s.cold, 1),
    variant(ctx, 'ours warm', 'ours, a new window on the filled cache, past the freshness window (revalidation by listings)', s.warm, 1),
    variant(ctx, 'ours offline', 'ours, offline by hand, on the filled cache', s.offline, 1),
    variant(ctx, 'local disk', 'readdir + stat + readFile of the same files on the local disk', s.local, 1),
  ];
}
