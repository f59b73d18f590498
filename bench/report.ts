// Turns the results into BENCHMARKS.md: ratios first, then every figure.
import type { Variant } from './harness';
import { goalsMarkdown } from './goals';
import type { ProfileSummary } from './profile';

export interface WorkloadResult {
  readonly id: 'W1' | 'W2' | 'W3' | 'W4' | 'W5' | 'W6' | 'W7' | 'W8';
  readonly title: string;
  /** Server name, or `local` for W4. */
  readonly server: string;
  readonly dataset: string;
  readonly variants: Variant[];
  readonly notes?: string[];
  /** The commit measured (`+changes`: with uncommitted changes in src/), and when. */
  readonly commit?: string;
  readonly measuredAt?: string;
}

export interface BenchResults {
  readonly format: 'webdav-offline-bench';
  readonly version: 1;
  readonly mode: 'full' | 'quick';
  readonly startedAt: string;
  readonly wallSeconds: number;
  readonly machine: { cpus: string; cores: number; memGB: number; node: string; os: string; rclone: string; apache: string };
  readonly link: { rttMs: number; mbitPerSecond: number };
  readonly runs: number;
  readonly workloads: WorkloadResult[];
  readonly profile?: { workload: string; command: string; summary: ProfileSummary; slowest: string };
}

const fmtMs = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`);
const fmtBytes = (b: number) => (b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : b >= 1e3 ? `${(b / 1e3).toFixed(1)} kB` : `${b} B`);
const x = (a: number, b: number) => (b > 0 ? `${a / b >= 100 ? Math.round(a / b) : (a / b).toFixed(a / b >= 10 ? 1 : 2)}×` : '∞');

function get(w: WorkloadResult, name: string): Variant {
  const v = w.variants.find(v => v.name === name);
  if (!v) throw new Error(`${w.id}: no variant ${name}`);
  return v;
}

/** The headline ratios of one workload result: [label, value]. */
export function ratios(w: WorkloadResult, r: BenchResults): [string, string][] {
  const rtt = r.link.rttMs;
  const bw = r.link.mbitPerSecond * 1e6;
  switch (w.id) {
    case 'W1': {
      const live = get(w, 'live');
      const cold = get(w, 'ours cold');
      const warm = get(w, 'ours warm');
      const off = get(w, 'ours offline');
      const local = get(w, 'local disk');
      return [
        ['live ÷ ours warm (time)', x(live.medianMs, warm.medianMs)],
        ['live ÷ ours cold (time)', x(live.medianMs, cold.medianMs)],
        ['live ÷ ours offline (time)', x(live.medianMs, off.medianMs)],
        ['ours offline ÷ local disk (time)', x(off.medianMs, local.medianMs)],
        ['requests live / cold / warm / offline', `${live.requests} / ${cold.requests} / ${warm.requests} / ${off.requests}`],
      ];
    }
    case 'W2': {
      const ours = get(w, 'ours');
      const rc = get(w, 'rclone copy');
      const seq = get(w, 'sequential');
      const floor = ((ours.extra?.bytes ?? 0) * 8 * 1000) / bw;
      const rc16 = w.variants.find(v => v.name === 'rclone copy --transfers 16'); // (results from before it was measured lack it)
      return [
        ['rclone copy ÷ ours (time)', x(rc.medianMs, ours.medianMs)],
        ...(rc16 ? [['rclone copy --transfers 16 ÷ ours (time)', x(rc16.medianMs, ours.medianMs)] as [string, string]] : []),
        ['sequential ÷ ours (time)', x(seq.medianMs, ours.medianMs)],
        ['ours ÷ bytes-only floor (time)', `${x(ours.medianMs, floor)} (floor ${fmtMs(floor)})`],
        ['requests ours / rclone / sequential', `${ours.requests} / ${rc.requests} / ${seq.requests}`],
      ];
    }
    case 'W3': {
      const rep = get(w, 'ours replay');
      const net = rep.extra?.netChanges ?? 0;
      const ops = rep.extra?.ops ?? 0;
      const min = net * rtt + ((rep.bytesUp + rep.bytesDown) * 8 * 1000) / bw;
      return [
        ['operations → net changes after collapsing', `${ops} → ${net} (${x(ops, net)} fewer)`],
        ['requests per net change', (rep.requests / Math.max(1, net)).toFixed(2)],
        ['replay time per net change', fmtMs(rep.medianMs / Math.max(1, net))],
        ['replay ÷ one-request-per-net-change bound (time)', `${x(rep.medianMs, min)} (bound ${fmtMs(min)})`],
      ];
    }
    case 'W4': {
      const ours = get(w, 'ours');
      const peer = get(w, 'per-item files');
      return [
        ['per-item files ÷ ours (load time)', x(peer.medianMs, ours.medianMs)],
        ['ours: load time, heap held', `${fmtMs(ours.medianMs)}, ${ours.extra?.heapMB} MB (${((ours.extra!.heapMB * 1e6) / ours.extra!.entries).toFixed(0)} B per entry)`],
      ];
    }
    case 'W5': {
      const ours = get(w, 'ours poll');
      const rc = get(w, 'rclone lsf -R');
      const alone = w.variants.find(v => v.name === 'server alone'); // (results from before it was measured lack it)
      return [
        ['requests per no-change poll: ours / rclone lsf -R / bound', `${ours.requests} / ${rc.requests} / 1`],
        ['rclone lsf -R ÷ ours (time)', x(rc.medianMs, ours.medianMs)],
        ['ours ÷ bound of one request (time)', x(ours.medianMs, rtt)],
        ...(alone ? [['rclone lsf -R ÷ the server alone (the most any client could reach)', x(rc.medianMs, alone.medianMs)] as [string, string]] : []),
      ];
    }
    case 'W7': {
      const ours = get(w, 'ours learn');
      const rc = get(w, 'rclone lsf -R');
      return [
        ['ours ÷ rclone lsf -R (time; goal ≤ 1.2×)', x(ours.medianMs, rc.medianMs)],
        [
          'ours: added heap held / peak (goal ≤ 150 MB)',
          `${ours.extra?.heapMB} MB / ${ours.extra?.peakHeapMB} MB for ${ours.extra?.entries} entries (highest of the runs: ${ours.extra?.maxHeapMB ?? '—'} MB / ${ours.extra?.maxPeakHeapMB ?? '—'} MB)`,
        ],
        ['requests ours / rclone lsf -R', `${ours.requests} / ${rc.requests}`],
      ];
    }
    case 'W6': {
      const pin = get(w, 'ours pin');
      const rc = get(w, 'rclone copy');
      const resume = get(w, 'ours resume');
      const up = get(w, 'ours upload');
      const rcUp = get(w, 'rclone upload');
      return [
        ['pin: peak added RSS (goal ≤ 150 MB), ours ÷ rclone copy (time)', `${pin.extra?.peakRssMb} MB, ${x(pin.medianMs, rc.medianMs)}`],
        ['resume after a cut at half: transferred again (goal ≤ 55 %)', `${resume.extra?.bytesAgainPct} % (${fmtBytes(resume.bytesDown)}, ${fmtMs(resume.medianMs)})`],
        ['streamed upload: peak added RSS, ours ÷ rclone upload (time)', `${up.extra?.peakRssMb} MB, ${x(up.medianMs, rcUp.medianMs)}`],
      ];
    }
    case 'W8': {
      // goal: a cached file opens within 1.2× the time of a file on local disk, whatever the RTT
      const row = (what: 'open' | 'expand') => {
        const [local, live, cold, warm, before] = ['local disk', 'live', 'ours cold', 'ours warm', 'ours warm beforeRead'].map(n => get(w, `${what} ${n}`).medianMs);
        return [
          [`${what}: ours warm ÷ local disk (time)`, x(warm, local)],
          [`${what}: ours warm beforeRead ÷ local disk (time)`, x(before, local)],
          [`${what}: live ÷ ours warm (time)`, x(live, warm)],
          [`${what}: local / live / cold / warm / warm beforeRead`, [local, live, cold, warm, before].map(fmtMs).join(' / ')],
        ] as [string, string][];
      };
      return [...row('open'), ...row('expand')];
    }
  }
}

/**
 * Before and after: each headline ratio of `r` beside the same ratio in `before` (an earlier full run kept as
 * `bench/results/round1.json`), where both have it.
 */
function beforeAfter(r: BenchResults, before: BenchResults): string[] {
  const old = new Map<string, string>();
  for (const w of before.workloads) {
    try {
      for (const [k, v] of ratios(w, before)) old.set(`${w.id}|${w.server}|${k}`, v);
    } catch {
      // a variant that run did not have: no figure to compare
    }
  }
  const rows: string[] = [];
  for (const w of r.workloads) {
    for (const [k, v] of ratios(w, r)) {
      const was = old.get(`${w.id}|${w.server}|${k}`);
      if (was !== undefined) rows.push(`| ${w.id} | ${w.server} | ${k} | ${was} | ${v} |`);
    }
  }
  if (!rows.length) return [];
  return [
    `## Before and after (figures of ${before.startedAt.slice(0, 10)} beside these)`,
    '',
    '| workload | server | ratio | before | now |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ];
}

export function renderMarkdown(r: BenchResults, before?: BenchResults): string {
  const L: string[] = [];
  L.push('# Benchmarks');
  L.push('');
  L.push(
    `Generated by \`npm run bench\`${r.mode === 'quick' ? ' -- --quick (small data sets)' : ''} on ${r.startedAt.slice(0, 10)} — do not edit by hand. ` +
      `Raw figures: \`bench/results/${r.mode}.json\`. Benchmarks never fail a build; they write figures.`,
  );
  L.push('');
  L.push(
    `**Setup.** Every client talks to a real server (Apache ${r.machine.apache} mod_dav_fs, and nephele in a Node process of its own) through a loopback proxy ` +
      `(\`bench/latencyProxy.ts\`) that adds **${r.link.rttMs} ms round-trip time** (plus one round trip per new TCP connection) and a ` +
      `**${r.link.mbitPerSecond} Mbit/s** limit each way, and counts requests and bytes. Times are the **median of ${r.runs} runs**. ` +
      `Data sets are generated from fixed seeds. Machine: ${r.machine.cores} × ${r.machine.cpus}, ${r.machine.memGB} GB, Node ${r.machine.node}, ` +
      `${r.machine.os}, rclone ${r.machine.rclone}. Whole run: ${Math.round(r.wallSeconds / 60)} min. ` +
      `The two servers' runs go side by side in two processes, each with its own proxy (its own link); W8 (real VS Code in Chromium) then runs on each server in turn, and W4 alone at the end. ` +
      `The machine is shared, so CPU-bound figures (offline, local disk, W4) carry some noise; the network-bound ones hardly any.`,
  );
  L.push('');
  L.push(
    '**Bound** = bytes on the wire ÷ bandwidth + requests × RTT ÷ requests in flight: the fastest that request pattern could be on this link. ' +
      'It is a sum, as the issue defines it; parallel transfers overlap bytes and round trips, so a parallel client can come in under it (W2). ' +
      '"live" is the same share with the cache off — what SSH FS or WebDAV Workspace do: a round trip per stat and per read.',
  );
  L.push('');
  L.push('## Ratios');
  L.push('');
  L.push('| workload | server | ratio | value |');
  L.push('|---|---|---|---|');
  for (const w of r.workloads) for (const [k, v] of ratios(w, r)) L.push(`| ${w.id} | ${w.server} | ${k} | ${v} |`);
  L.push('');
  L.push(...goalsMarkdown(r));
  if (before) L.push(...beforeAfter(r, before));
  if (r.profile) {
    L.push('## Slowest part and where its time goes');
    L.push('');
    L.push(r.profile.slowest);
    L.push('');
    L.push(`CPU profile (\`${r.profile.command}\`): ${r.profile.summary.totalMs} ms sampled.`);
    L.push('');
    L.push('| where | self time | share |');
    L.push('|---|---|---|');
    for (const a of r.profile.summary.byArea.slice(0, 10)) L.push(`| ${a.area} | ${fmtMs(a.ms)} | ${a.pct}% |`);
    L.push('');
    L.push('| function | in | self time | share |');
    L.push('|---|---|---|---|');
    for (const f of r.profile.summary.topFunctions.slice(0, 12)) L.push(`| \`${f.fn}\` | ${f.where} | ${fmtMs(f.ms)} | ${f.pct}% |`);
    L.push('');
  }
  L.push('## All figures');
  for (const w of r.workloads) {
    L.push('');
    L.push(`### ${w.id} ${w.title} — ${w.server}`);
    if (w.commit) {
      L.push('');
      L.push(`Measured on commit \`${w.commit}\`, ${w.measuredAt?.slice(0, 16).replace('T', ' ')} UTC.`);
    }
    L.push('');
    L.push(w.dataset);
    L.push('');
    L.push('| variant | median | runs | requests | by method | up | down | conns | in flight | bound | time ÷ bound |');
    L.push('|---|---|---|---|---|---|---|---|---|---|---|');
    for (const v of w.variants) {
      const methods = Object.entries(v.byMethod)
        .sort((a, b) => b[1] - a[1])
        .map(([m, n]) => `${m} ${n}`)
        .join(', ');
      L.push(
        `| ${v.name} | **${fmtMs(v.medianMs)}** | ${v.runs.map(ms => fmtMs(ms)).join(', ')} | ${v.requests} | ${methods || '—'} | ${fmtBytes(v.bytesUp)} | ${fmtBytes(v.bytesDown)} | ${v.connections} | ${v.parallelism} | ${v.boundMs ? fmtMs(v.boundMs) : '—'} | ${v.boundMs ? x(v.medianMs, v.boundMs) : '—'} |`,
      );
    }
    L.push('');
    for (const v of w.variants) {
      const extra = v.extra ? ` (${Object.entries(v.extra).map(([k, n]) => `${k}: ${n}`).join(', ')})` : '';
      L.push(`- **${v.name}**: ${v.what}${extra}.`);
    }
    for (const n of w.notes ?? []) L.push(`- ${n}`);
  }
  L.push('');
  L.push('## Running it');
  L.push('');
  L.push('`npm run bench` (full, this file; about 40 minutes, plus about 4 minutes per run and server for W8: some 40 more at 5 runs) or `npm run bench -- --quick` (small data sets, 3 runs, about 2 minutes; W8 only with `--only=w8`, writes `bench/results/quick.*` only). ');
  L.push('Options: `--rtt=50` (ms), `--mbit=100`, `--runs=5`, `--servers=apache,nephele`, `--serial` (one server after the other instead of side by side), `--only=w1,w3` (workloads w1–w5, w8), `--profile=w3|none` (profile that workload with `node --cpu-prof`), `--render` (rewrite the Markdown from the JSON). ');
  L.push('It needs Debian `apache2` and `rclone`: installed with apt when run as root, otherwise it prints the command.');
  L.push('');
  return L.join('\n');
}
