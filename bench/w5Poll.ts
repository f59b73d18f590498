// W5 no-change poll of a 10,000-file tree (100 folders × 100 files), opened and watched recursively:
// requests and time of one polling round that finds nothing. Peer: `rclone lsf -R`, the full walk a
// sync tool makes to see what changed. The bound is one request, where a server answers Depth: infinity.
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATASET_MTIME } from './datasets';
import { benchSettings, chownForServer, fresh, measure, openShare, removeDir, tempDir, variant, type BenchContext, type Sample, type Target, type Variant } from './harness';
import { runRclone } from './w2Pin';
import { POLL_PARALLEL } from '../src/cache/changePoller';
import { inParallel } from '../src/core/parallel';
import { nullLogger } from '../src/core/log';
import { createNodeTransport } from '../src/platform/nodeTransport';
import { WebdavRemote } from '../src/remote/webdavRemote';

export interface W5Spec {
  readonly folders: number;
  readonly filesPerFolder: number;
}

export function w5Spec(quick: boolean): W5Spec {
  return quick ? { folders: 10, filesPerFolder: 50 } : { folders: 100, filesPerFolder: 100 };
}

export function writeW5(root: string, spec: W5Spec): void {
  for (let d = 0; d < spec.folders; d++) {
    const dir = join(root, 'w5', `d${String(d).padStart(3, '0')}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < spec.filesPerFolder; f++) {
      const p = join(dir, `f${String(f).padStart(4, '0')}.txt`);
      writeFileSync(p, `file ${d}/${f}\n`);
      utimesSync(p, DATASET_MTIME, DATASET_MTIME);
    }
  }
}

/** `rclone lsf -R` of `folder` (every name below it, a Depth-1 PROPFIND per folder), measured. */
export function measureRcloneLsf(t: Target, folder: string): Promise<Sample> {
  return measure(t, async () => {
    let lines = 0;
    await runRclone(t, ['lsf', '-R', `:webdav:${folder}`], s => (lines += s.split('\n').filter(Boolean).length));
    return { entriesListed: lines };
  });
}

export async function runW5(ctx: BenchContext, t: Target, _spec: W5Spec): Promise<{ variants: Variant[]; depthInfinity: boolean }> {
  chownForServer(t, join(t.root, 'w5'));
  const cacheDir = tempDir(ctx, 'w5-cache-');
  const o = await openShare(t, cacheDir);
  const poll: Sample[] = [];
  const rclone: Sample[] = [];
  const alone: Sample[] = [];
  let direct: WebdavRemote | undefined;
  let depthInfinity = false;
  try {
    // open the tree in the Explorer: every folder listed once (so its listing is cached), then watched
    for (const [folder] of await o.share.readDirectory('/w5')) await o.share.readDirectory(`/w5/${folder}`);
    const watch = o.share.watch('/w5', true);
    depthInfinity = await o.remote.depthInfinity('/w5');
    const remote = (direct = await directRemote(t));
    // what the server honours is probed once per share (and kept for a week): not part of a polling round
    await o.share.capabilities();
    for (let run = 0; run < ctx.runs; run++) {
      ctx.log(`W5 ${t.name} run ${run + 1}/${ctx.runs}`);
      await fresh(t);
      poll.push(
        await measure(t, async () => {
          const listed = await o.parts!.poller.poll();
          return { foldersListed: listed };
        }),
      );
      await fresh(t);
      rclone.push(await measureRcloneLsf(t, '/w5'));
      alone.push(await measure(undefined, () => listAlone(remote, depthInfinity)));
    }
    watch.dispose();
  } finally {
    direct?.dispose();
    await o.dispose();
    removeDir(cacheDir);
  }
  return {
    depthInfinity,
    variants: [
      variant(ctx, 'ours poll', `ours: one polling round of the watched tree (one Depth-infinity PROPFIND where the server answers it, else a Depth-1 PROPFIND per cached folder, ${POLL_PARALLEL} at a time)`, poll, POLL_PARALLEL),
      variant(ctx, 'rclone lsf -R', 'rclone lsf -R (default --checkers 8): the walk a sync tool makes to find changes', rclone, 8),
      variant(
        ctx,
        'server alone',
        `the same listings as ours, sent straight to the server (no link, no proxy): the server's own time to list the tree, which bounds every client`,
        alone,
        POLL_PARALLEL,
      ),
    ],
  };
}

/** A client of the server's own port (no link, no proxy), that has learnt what the server lists (one listing). */
async function directRemote(t: Target): Promise<WebdavRemote> {
  const location = { scheme: 'dav' as const, authority: `127.0.0.1:${t.server.port}`, basePath: '/share' };
  const remote = new WebdavRemote(location, () => benchSettings, nullLogger, { transport: o => createNodeTransport({ ...o, env: {} }) });
  await remote.list('/');
  return remote;
}

/** Lists /w5 as a polling round does (one Depth-infinity request, or every folder POLL_PARALLEL at a time). */
async function listAlone(remote: WebdavRemote, depthInfinity: boolean): Promise<Record<string, number>> {
  if (depthInfinity) {
    const all = await remote.listTree('/w5', 100_000);
    return { entriesListed: all === 'too-large' ? -1 : all.length };
  }
  const folders = (await remote.list('/w5')).children.filter(c => c.type === 'directory').map(c => c.path);
  let entries = 0;
  let lists = 0;
  await inParallel(folders, POLL_PARALLEL, async f => {
    const { children } = await remote.list(f);
    entries += children.length;
    lists++;
  });
  return { entriesListed: entries, lists };
}
