// W3 reconnect replay: 1,000 operations made offline over 200 cached files (saves, creations,
// deletions, renames, new folders), then "Go Online". Measured: requests sent and wall time of the
// reconnect, against the number of net changes left after collapsing (the least a replay must send).
import type { Share } from '../src/share/share';
import { bytes, planTree, prng, writeTree, type Tree } from './datasets';
import { REPLAY_PARALLEL, type ReplayReport } from '../src/sync/replayer';
import { chownForServer, fresh, measure, openShare, removeDir, tempDir, variant, type BenchContext, type Sample, type Target, type Variant } from './harness';

export interface W3Spec {
  readonly files: number;
  readonly ops: number;
}

export function w3Spec(quick: boolean): W3Spec {
  return quick ? { files: 20, ops: 100 } : { files: 200, ops: 1000 };
}

function w3Tree(spec: W3Spec, run: number): Tree {
  return planTree({ name: `w3/r${run}`, folders: 4, filesPerFolder: spec.files / 4, minBytes: 512, maxBytes: 16 * 1024, seed: 300 + run });
}

/** Plays `spec.ops` deterministic offline operations on `share`; returns how many of each kind. */
async function playOps(share: Share, tree: Tree, spec: W3Spec, seed: number): Promise<Record<string, number>> {
  const rnd = prng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  const files = tree.files.map(f => f.path);
  const folders = [...tree.folders];
  const kinds: Record<string, number> = { save: 0, create: 0, delete: 0, rename: 0, mkdir: 0 };
  let serial = 0;
  for (let i = 0; i < spec.ops; i++) {
    const r = rnd();
    const content = () => bytes(seed * 7919 + i, 256 + Math.floor(rnd() * 4096));
    if (r < 0.7 && files.length) {
      // the common case: saving a file again (editors save often)
      await share.writeFile(pick(files), content(), { create: true, overwrite: true });
      kinds.save++;
    } else if (r < 0.82) {
      const path = `${pick(folders)}/new${serial++}.txt`;
      await share.writeFile(path, content(), { create: true, overwrite: false });
      files.push(path);
      kinds.create++;
    } else if (r < 0.9 && files.length > 10) {
      const k = Math.floor(rnd() * files.length);
      await share.delete(files[k], { recursive: false });
      files.splice(k, 1);
      kinds.delete++;
    } else if (r < 0.98 && files.length) {
      const k = Math.floor(rnd() * files.length);
      const to = `${pick(folders)}/renamed${serial++}.bin`;
      await share.rename(files[k], to, { overwrite: false });
      files[k] = to;
      kinds.rename++;
    } else {
      const path = `/${tree.spec.name}/folder${serial++}`;
      await share.createDirectory(path);
      folders.push(path);
      kinds.mkdir++;
    }
  }
  return kinds;
}

export async function runW3(ctx: BenchContext, t: Target, spec: W3Spec): Promise<Variant[]> {
  const replay: Sample[] = [];
  const record: Sample[] = [];
  for (let run = 0; run < ctx.runs; run++) {
    ctx.log(`W3 ${t.name} run ${run + 1}/${ctx.runs}`);
    const tree = w3Tree(spec, run);
    writeTree(t.root, tree);
    chownForServer(t, t.root);
    const cacheDir = tempDir(ctx, 'w3-cache-');
    const lines: string[] = [];
    const echo = process.env.WDO_BENCH_LOG === 'debug';
    const keep = (level: string) => (m: unknown) => {
      const line = `${level} ${m instanceof Error ? m.message : String(m)}`;
      lines.push(line);
      if (echo) console.error(`${(performance.now() / 1000).toFixed(3)} ${line}`);
    };
    const log = { trace() {}, debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') };
    const o = await openShare(t, cacheDir, undefined, log);
    try {
      const pinned = await o.share.pin(`/${tree.spec.name}`);
      if (pinned.failed.length) throw new Error(`W3: pin failed (${pinned.failed[0].error})`);
      await o.share.goOffline();
      // recording offline: no requests; each change is durable (fsynced) before it returns
      let kinds: Record<string, number> = {};
      record.push(await measure(t, async () => (kinds = await playOps(o.share, tree, spec, 3000 + run))));
      const net = (await o.share.pendingChanges()).length;
      let report: ReplayReport | undefined;
      o.share.onDidReplay(r => (report = r));
      await fresh(t);
      const sample = await measure(t, async () => {
        if (!(await o.share.goOnline())) throw new Error(`W3: the share did not go online:\n${lines.filter(l => !l.startsWith('debug [journal]')).slice(-15).join('\n')}`);
        return undefined;
      });
      const left = (await o.share.pendingChanges()).length;
      if (!report) throw new Error('W3: no replay report');
      if (report.conflicts.length || left) {
        // a benchmark reports, it does not judge: the conflicts are kept as a figure and printed
        const detail = report.conflicts.map(c => `${c.kind} ${c.path}${c.detail ? ` (${c.detail})` : ''}`).join('; ');
        ctx.log(`W3 ${t.name}: the replay of a change set nobody else touched reported ${report.conflicts.length} conflicts, ${left} left pending: ${detail}`);
      }
      // the replay's rounds (its debug log says each): a round's landings are proven together
      const rounds = lines.filter(l => l.startsWith('debug [replay] a round of')).length;
      replay.push({ ...sample, extra: { ops: spec.ops, netChanges: net, applied: report.applied, conflicts: report.conflicts.length, rounds, ...kinds } });
    } finally {
      await o.dispose();
      removeDir(cacheDir);
    }
  }
  return [
    variant(
      ctx,
      'ours replay',
      `ours: Go Online after ${spec.ops} offline operations over ${spec.files} files (directory diff of the cached folders, then the collapsed journal in rounds of independent changes, each write conditional, ${REPLAY_PARALLEL} at once)`,
      replay,
      1,
    ),
    variant(ctx, 'ours recording', `ours: recording the ${spec.ops} operations offline (journal intent + cache + commit, fsynced, per operation)`, record, 1),
  ];
}
