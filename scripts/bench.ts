// `npm run bench`: benchmarks against peers, side by side in one run, through a latency-shaping proxy.
//   npm run bench [-- --quick] [--rtt=50] [--mbit=100] [--runs=5] [--servers=apache,nephele]
//                 [--only=w1,w2,w3,w4,w5,w6,w7,w8] [--profile=w3|none]   (--quick leaves W8 out unless --only names it)
// w6 (one 1 GB file: pin, rclone, cut and resume, streamed upload) runs only when named in --only.
// Writes bench/results/<full|quick>.json and .md; the full run also writes BENCHMARKS.md. Never fails on
// a figure: only a broken set-up or a workload that cannot complete exits non-zero.
import { spawn, spawnSync } from 'node:child_process';
import { cpus, freemem, release, totalmem } from 'node:os';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultTmpRoot, nepheleChild, startTarget, stopTarget, type BenchContext, type ServerName } from '../bench/harness';
import { writeTree } from '../bench/datasets';
import { summarizeProfile } from '../bench/profile';
import { ratios, renderMarkdown, type BenchResults, type WorkloadResult } from '../bench/report';
import { runW1, w1Tree } from '../bench/w1Reopen';
import { runW2, w2Tree } from '../bench/w2Pin';
import { runW3, w3Spec } from '../bench/w3Replay';
import { runW4, w4Child } from '../bench/w4Index';
import { runW5, w5Spec, writeW5 } from '../bench/w5Poll';
import { runW7, w7Child, w7Files, w7Folders, w7Spec, writeW7 } from '../bench/w7Tree';
import { runW6, w6Spec, writeW6 } from '../bench/w6BigFile';
import { MB } from '../test/support/bigFile';
import { runW8, w8Spec, writeW8 } from '../bench/w8Editor';
import { ensureAptPackages } from './lib/apt';
import { CODE_SERVER_VERSION } from './lib/runtimePaths';
import { repoRoot } from './lib/repoRoot';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rtt: { type: 'string' },
    mbit: { type: 'string' },
    runs: { type: 'string' },
    servers: { type: 'string' },
    only: { type: 'string' },
    profile: { type: 'string' },
    // internal
    child: { type: 'string' },
    kind: { type: 'string' },
    dir: { type: 'string' },
    target: { type: 'string' },
    'no-report': { type: 'boolean', default: false },
    serial: { type: 'boolean', default: false },
    'workloads-out': { type: 'string' },
    render: { type: 'boolean', default: false },
  },
});

const log = (msg: string) => console.log(`[bench] ${msg}`);
/** What a run measures unless told (--only): all but W6; the quick run leaves out W8 too (real VS Code, minutes per server). */
const defaultWorkloads = (quick: boolean) => ['w1', 'w2', 'w3', 'w4', 'w5', 'w7', ...(quick ? [] : ['w8'])];

async function main(): Promise<number> {
  if (values.child === 'w4') {
    await w4Child(values.kind!, values.dir!);
    return 0;
  }
  if (values.child === 'nephele') {
    await nepheleChild(values.dir!);
    return 0;
  }
  if (values.child === 'w7') {
    await w7Child(values.target!, values.dir!);
    return 0;
  }
  const t0 = Date.now();
  const quick = values.quick;
  const mode = quick ? 'quick' : 'full';
  if (values.render) {
    // rewrite the Markdown from the JSON of the last run (after a change to the report's layout)
    let r = JSON.parse(readFileSync(join(repoRoot(), 'bench', 'results', `${mode}.json`), 'utf8')) as BenchResults;
    if (r.profile) r = { ...r, profile: { ...r.profile, slowest: slowestSentence(r, r.profile.workload, r.profile.summary) } };
    const md = renderMarkdown(r, r.mode === 'full' ? baseline() : undefined);
    writeFileSync(join(repoRoot(), 'bench', 'results', `${mode}.md`), md);
    if (mode === 'full') writeFileSync(join(repoRoot(), 'BENCHMARKS.md'), md);
    log(`rewrote the Markdown of bench/results/${mode}.json`);
    return 0;
  }
  const runs = Number(values.runs ?? (quick ? 3 : 5));
  const link = { rttMs: Number(values.rtt ?? 50), bitsPerSecond: Number(values.mbit ?? 100) * 1e6 };
  const servers = (values.servers ?? 'apache,nephele').split(',').filter(Boolean) as ServerName[];
  const defaults = defaultWorkloads(quick);
  const only = new Set((values.only ?? defaults.join(',')).toLowerCase().split(','));
  const profileTarget = values.profile ?? (quick || values['no-report'] || only.size < defaults.length || servers.length < 2 ? 'none' : 'w3');

  // system packages: the Apache server and the rclone peer
  const pkgs = [...(servers.includes('apache') ? ['apache2'] : []), ...(only.has('w2') || only.has('w5') || only.has('w6') || only.has('w7') ? ['rclone'] : [])];
  try {
    ensureAptPackages(pkgs, log);
  } catch (err) {
    console.error(`[bench] ${(err as Error).message}`);
    return 1;
  }

  const tmp = defaultTmpRoot();
  const ctx: BenchContext = { quick, runs, link, log, tmp };
  log(`${mode}: ${runs} runs, RTT ${link.rttMs} ms, ${link.bitsPerSecond / 1e6} Mbit/s, servers ${servers.join(', ')}, workloads ${[...only].join(', ')} (scratch: ${tmp})`);
  const workloads: WorkloadResult[] = [];
  const link$ = `${link.rttMs} ms RTT, ${link.bitsPerSecond / 1e6} Mbit/s`;
  try {
    const t1 = w1Tree(quick);
    const t2 = w2Tree(quick);
    const s3 = w3Spec(quick);
    const s5 = w5Spec(quick);
    const s7 = w7Spec(quick);
    const s6 = w6Spec(quick);
    const s8 = w8Spec(quick);
    // W4 runs alone, and so does W8 (real VS Code and Chromium would take the CPU from the other track)
    const tracked = [...only].filter(w => w !== 'w4' && w !== 'w8');
    const tracks = servers.length > 1 && !values.serial && tracked.length > 0;
    if (tracks) {
      // one child process per server, side by side (each with its own proxy, i.e. its own link)
      log(`running the servers side by side: ${servers.join(', ')} (--serial runs them one after the other)`);
      const children = servers.map(name => {
        const out = join(tmp, `${name}.json`);
        const args = [process.argv[1], `--servers=${name}`, `--only=${tracked.join(',')}`, `--runs=${runs}`, `--rtt=${link.rttMs}`, `--mbit=${link.bitsPerSecond / 1e6}`, '--no-report', `--workloads-out=${out}`, ...(quick ? ['--quick'] : [])];
        const child = spawn(process.execPath, ['--enable-source-maps', ...args], { stdio: 'inherit' });
        return new Promise<WorkloadResult[]>((resolve, reject) =>
          child.on('exit', code => (code === 0 ? resolve(JSON.parse(readFileSync(out, 'utf8'))) : reject(new Error(`the ${name} track exited with ${code}`)))),
        );
      });
      for (const ws of await Promise.all(children)) workloads.push(...ws);
    }
    // what runs here, one server after the other: everything, or (after the tracks) only W8
    const here = tracks ? new Set([...only].filter(w => w === 'w8')) : only;
    for (const name of ['w1', 'w2', 'w3', 'w5', 'w6', 'w7', 'w8'].some(w => here.has(w)) ? servers : []) {
      const root = join(tmp, `${name}-data`);
      mkdirSync(root);
      log(`${name}: generating the data sets`);
      if (here.has('w1')) writeTree(root, t1);
      if (here.has('w2')) writeTree(root, t2);
      if (here.has('w5')) writeW5(root, s5);
      if (here.has('w8')) writeW8(root, s8);
      if (here.has('w7')) writeW7(root, s7);
      if (here.has('w6')) writeW6(root, s6);
      const target = await startTarget(name, root, link);
      log(`${name}: server on ${target.server.port}, proxy on ${target.proxy.port}`);
      try {
        if (here.has('w1')) {
          workloads.push({
            id: 'W1',
            title: 're-open (list and read a tree)',
            server: name,
            dataset: `${t1.files.length} files in ${t1.folders.length} folders, ${(t1.bytes / 1e6).toFixed(1)} MB, sizes log-uniform 1 kB–256 kB; ${link$}. Model of VS Code opening the folder: readDirectory of each folder, then stat + readFile of each file, one after the other.`,
            variants: await runW1(ctx, target, t1),
          });
        }
        if (here.has('w2')) {
          workloads.push({
            id: 'W2',
            title: `pin ${t2.files.length} files / ${Math.round(t2.bytes / 1e6)} MB`,
            server: name,
            dataset: `${t2.files.length} files in ${t2.folders.length} folders, ${(t2.bytes / 1e6).toFixed(1)} MB; ${link$}.`,
            variants: await runW2(ctx, target, t2),
          });
        }
        if (here.has('w3')) {
          workloads.push({
            id: 'W3',
            title: `reconnect replay of ${s3.ops} journaled operations over ${s3.files} files`,
            server: name,
            dataset: `${s3.files} cached (pinned) files of 0.5–16 kB in 4 folders, a fresh copy per run; ${s3.ops} operations from a fixed seed: 70 % saves of an existing file, 12 % new files, 8 % deletions, 8 % renames, 2 % new folders; ${link$}.`,
            variants: await runW3(ctx, target, s3),
            notes: ['The replay lists every cached folder first (the directory diff that finds remote deletions), then sends the collapsed journal in rounds of independent changes, several at once (order kept per path); a round\'s landings are proven by one Depth-1 listing per folder it touched, where the answers to the changes carry no ETag (Apache and nephele send none with PUT or MOVE).'],
          });
        }
        if (here.has('w5')) {
          const r = await runW5(ctx, target, s5);
          workloads.push({
            id: 'W5',
            title: `no-change poll of a ${s5.folders * s5.filesPerFolder}-file tree`,
            server: name,
            dataset: `${s5.folders} folders × ${s5.filesPerFolder} files, all folders opened (listings cached) and the tree watched recursively; ${link$}.`,
            variants: r.variants,
            notes: [`This server ${r.depthInfinity ? 'answers' : 'refuses'} PROPFIND Depth: infinity (the one-request bound needs it, or directory etags that change with their contents).`],
          });
        }
        if (here.has('w7')) {
          const r = await runW7(ctx, target, s7);
          workloads.push({
            id: 'W7',
            title: `learn a ${w7Files(s7).toLocaleString('en-US')}-file / ${w7Folders(s7).toLocaleString('en-US')}-folder tree (every name known offline)`,
            server: name,
            dataset: `${s7.top} folders × (1 + ${s7.subfolders} subfolders), ${s7.filesPerFolder} small files in each: ${w7Files(s7)} files, ${w7Folders(s7)} folders; the names, sizes and validators learnt into an empty cache, no content; ${link$}.`,
            variants: r.variants,
            notes: [
              `This server ${r.depthInfinity ? 'answers PROPFIND Depth: infinity: the walk lists the root, then each top folder in one request' : 'refuses PROPFIND Depth: infinity: the walk lists folder by folder, like rclone'}.`,
              "Goal (issue 13): ours within 1.2× of rclone lsf -R's time, at most 150 MB of added heap.",
            ],
          });
        }
        if (here.has('w6')) {
          workloads.push({
            id: 'W6',
            title: `one ${Math.round(s6.bytes / MB)} MB file: pin, resume, streamed upload`,
            server: name,
            dataset: `one file of ${Math.round(s6.bytes / MB)} MB of varied bytes; ${link$}. Peak added RSS of the process in extra.peakRssMb; bytes transferred again after a cut at half in extra.bytesAgainPct.`,
            variants: await runW6(ctx, target, s6),
            notes: ['The cut drops the link\'s connections once half the file has passed; the share goes offline, then online again, and the pin resumes the download.'],
          });
        }
        if (here.has('w8')) {
          workloads.push({
            id: 'W8',
            title: 'what a user feels in VS Code: open a file, expand a big folder',
            server: name,
            dataset: `code-server ${CODE_SERVER_VERSION} in headless Chromium on a folder of the share (or the same files on local disk): ${s8.opens} files of 4–16 kB opened from the Explorer one after the other, and a ${s8.bigFolder}-file folder expanded; each variant in a fresh code-server profile, the UI warmed up first; ${link$}. Times in the page, from the mouse press to the DOM change.`,
            variants: await runW8(ctx, target, s8),
            notes: [
              'Warm = a window reload after a first pass, then the folder listed and every item left past the freshness window (5 s) before the timed open, as when a file is opened a while after its folder was. Polling is off, so nothing freshens it meanwhile.',
              'Requests are those sent during the timed span, background checks included (they do not hold the editor up).',
            ],
          });
        }
      } finally {
        await stopTarget(target);
        rmSync(root, { recursive: true, force: true });
      }
    }
    if (only.has('w4')) {
      const n = quick ? 10_000 : 100_000;
      workloads.push({
        id: 'W4',
        title: `index of ${n} entries: activation`,
        server: 'local',
        dataset: `${n} entries (folders of 100 files, half with cached content), written as the disk store writes them; each run in a fresh Node process (--expose-gc), warm page cache as after a window reload.`,
        variants: await runW4(ctx, n),
      });
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  const ver = (cmd: string, args: string[], re: RegExp) => re.exec(spawnSync(cmd, args, { encoding: 'utf8' }).stdout ?? '')?.[1] ?? 'unknown';
  const results: BenchResults = {
    format: 'webdav-offline-bench',
    version: 1,
    mode,
    startedAt: new Date(t0).toISOString(),
    wallSeconds: 0,
    machine: {
      cpus: cpus()[0]?.model.trim() ?? 'unknown',
      cores: cpus().length,
      memGB: Math.round(totalmem() / 1e9),
      node: process.version,
      os: `${process.platform} ${release()}`,
      rclone: ver('rclone', ['version'], /rclone (v\S+)/),
      apache: ver('/usr/sbin/apache2', ['-v'], /Apache\/(\S+)/),
    },
    link: { rttMs: link.rttMs, mbitPerSecond: link.bitsPerSecond / 1e6 },
    runs,
    workloads,
  };
  void freemem;

  const commit = gitCommit();
  for (let i = 0; i < workloads.length; i++) workloads[i] = { commit, measuredAt: new Date().toISOString(), ...workloads[i] };
  if (values['workloads-out']) {
    writeFileSync(values['workloads-out'], JSON.stringify(workloads));
    return 0;
  }
  let profile: BenchResults['profile'];
  if (profileTarget !== 'none') profile = runProfile(profileTarget, link, results);

  let final: BenchResults = { ...results, wallSeconds: Math.round((Date.now() - t0) / 1000), profile };
  // a partial run (--only, --servers) refreshes its workloads in the last results and keeps the others
  const partial = only.size < defaults.length || servers.length < 2;
  const previousFile = join(repoRoot(), 'bench', 'results', `${mode}.json`);
  if (partial && existsSync(previousFile)) {
    const prev = JSON.parse(readFileSync(previousFile, 'utf8')) as BenchResults;
    const key = (w: WorkloadResult) => `${w.id}|${w.server}`;
    const fresh = new Set(workloads.map(key));
    const order = (w: WorkloadResult) => `${w.server === 'local' ? 'z' : w.server}|${w.id}`;
    const merged = [...prev.workloads.filter(w => !fresh.has(key(w))), ...workloads].sort((a, b) => order(a).localeCompare(order(b)));
    final = { ...prev, workloads: merged, profile: profile ?? prev.profile };
    log(`partial run: refreshed ${[...fresh].join(', ')} in bench/results/${mode}.json`);
  }
  if (final.profile) final = { ...final, profile: { ...final.profile, slowest: slowestSentence(final, final.profile.workload, final.profile.summary) } };
  for (const w of workloads) {
    console.log(`\n${w.id} ${w.title} — ${w.server}`);
    for (const v of w.variants) {
      const methods = Object.entries(v.byMethod).map(([m, n]) => `${m} ${n}`).join(', ');
      console.log(`  ${v.name.padEnd(16)} ${String(v.medianMs).padStart(10)} ms  ${String(v.requests).padStart(6)} req  bound ${v.boundMs} ms${methods ? `  (${methods})` : ''}`);
    }
    for (const [k, v] of ratios(w, final)) console.log(`  ${k}: ${v}`);
  }
  if (values['no-report']) return 0;
  const dir = join(repoRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${mode}.json`), JSON.stringify(final, null, 2) + '\n');
  const md = renderMarkdown(final, mode === 'full' ? baseline() : undefined);
  writeFileSync(join(dir, `${mode}.md`), md);
  if (mode === 'full') writeFileSync(join(repoRoot(), 'BENCHMARKS.md'), md);
  log(`done in ${final.wallSeconds} s: bench/results/${mode}.json${mode === 'full' ? ', BENCHMARKS.md' : `, bench/results/${mode}.md`}`);
  return 0;
}

/** The figures of the previous round (bench/results/round1.json), for the before/after table. */
function baseline(): BenchResults | undefined {
  const file = join(repoRoot(), 'bench', 'results', 'round1.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as BenchResults) : undefined;
}

/** Runs one workload again (apache, 1 run) under `node --cpu-prof` and summarizes where its time goes. */
function runProfile(workload: string, link: { rttMs: number; bitsPerSecond: number }, results: BenchResults): BenchResults['profile'] {
  const dir = join(defaultTmpRoot(), 'prof');
  mkdirSync(dir);
  const args = [
    '--enable-source-maps',
    '--cpu-prof',
    `--cpu-prof-dir=${dir}`,
    process.argv[1],
    `--only=${workload}`,
    '--servers=apache',
    '--runs=1',
    '--no-report',
    `--rtt=${link.rttMs}`,
    `--mbit=${link.bitsPerSecond / 1e6}`,
    ...(values.quick ? ['--quick'] : []),
  ];
  log(`profiling ${workload}: node ${args.slice(0, 3).join(' ')} out/scripts/bench.js ${args.slice(4).join(' ')}`);
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  try {
    if (r.status !== 0) throw new Error(`the profiled run exited with ${r.status}`);
    // the main process's profile is the largest (W4 children write their own)
    const files = readdirSync(dir).filter(f => f.endsWith('.cpuprofile'));
    const sized = files.map(f => ({ f, n: spawnSync('stat', ['-c%s', join(dir, f)], { encoding: 'utf8' }).stdout.trim() })).sort((a, b) => Number(b.n) - Number(a.n));
    const summary = summarizeProfile(join(dir, sized[0].f));
    return { workload, command: `node --cpu-prof out/scripts/bench.js --only=${workload} --servers=apache --runs=1`, summary, slowest: slowestSentence(results, workload, summary) };
  } catch (err) {
    log(`profile failed: ${(err as Error).message}`);
    return undefined;
  } finally {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
}

/** Names the slowest part of ours (the profiled workload) and what its time is made of. */
function slowestSentence(results: BenchResults, workload: string, summary: ReturnType<typeof summarizeProfile>): string {
  const parts: string[] = [];
  const w = results.workloads.find(x => x.id.toLowerCase() === workload && x.server === 'apache') ?? results.workloads.find(x => x.id.toLowerCase() === workload);
  const v = w?.variants.find(x => x.name.startsWith('ours'));
  if (w && v) {
    const methods = Object.entries(v.byMethod).sort((a, b) => b[1] - a[1]).map(([m, n]) => `${m} ${n}`).join(', ');
    const net = v.extra?.netChanges;
    parts.push(
      `Slowest relative to the least it must send: **${w.id} ${v.name}** (${w.server}): ${(v.medianMs / 1000).toFixed(1)} s for ${v.requests} requests (${methods})` +
        (net ? ` where ${net} net changes need ${net}; a request per change plus a PROPFIND after each to learn the new validator, one after the other, so ${((v.requests * results.link.rttMs) / v.medianMs * 100).toFixed(0)}% of the time is round trips.` : '.'),
    );
  }
  const cold = results.workloads.find(x => x.id === 'W1')?.variants.find(x => x.name === 'ours cold');
  if (cold) {
    const files = cold.extra?.files ?? 0;
    parts.push(
      `Longest in wall time: W1 ours cold (${(cold.medianMs / 1000).toFixed(1)} s): one GET per file read in sequence, plus ${(cold.byMethod.PROPFIND ?? 0) - 11} PROPFINDs beyond the 11 listings — stats of files listed more than the 5 s freshness window earlier, since reading a 100-file folder over this link takes longer than the window (${files} files).`,
    );
  }
  const idle = summary.byArea.find(a => a.area.startsWith('idle'));
  parts.push(`The CPU profile of ${workload.toUpperCase()} (one run on Apache) is ${idle ? `${idle.pct}%` : 'mostly'} idle — waiting for answers and for fsync — so CPU is not where the time goes:`);
  return parts.join(' ');
}

/** The commit measured, `+changes` when src/ differs from it. */
function gitCommit(): string {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot(), encoding: 'utf8' }).stdout?.trim() || 'unknown';
  const dirty = spawnSync('git', ['status', '--porcelain', 'src'], { cwd: repoRoot(), encoding: 'utf8' }).stdout?.trim();
  return dirty ? `${head}+changes` : head;
}

main().then(
  code => process.exit(code),
  err => {
    console.error(`[bench] failed: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
