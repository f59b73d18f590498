// Summarizes a V8 .cpuprofile (node --cpu-prof): self time by function and by where the code lives.
import { readFileSync } from 'node:fs';

interface CpuNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: CpuNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  readonly totalMs: number;
  /** Self time by area: idle, GC, src/<folder>, a package, Node internals. */
  readonly byArea: { area: string; ms: number; pct: number }[];
  readonly topFunctions: { fn: string; where: string; ms: number; pct: number }[];
}

function area(url: string, fn: string): string {
  if (fn === '(idle)') return 'idle (waiting for the network or the disk)';
  if (fn === '(garbage collector)') return 'garbage collector';
  if (fn === '(program)') return 'V8/native (program)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return `package ${nm[1]}`;
  const src = /\/(src|bench|test)\/([^/]+)\//.exec(url);
  if (src) return `${src[1]}/${src[2]}/`;
  if (url.startsWith('node:') || !url) return 'Node internals (streams, http, fs, crypto)';
  return url.replace(/^.*\//, '');
}

/**
 * esbuild bundles everything into one file; source maps are inline, but the profile only knows the
 * bundle. Function names stay meaningful; the area comes from the nearest `// src/…` marker esbuild
 * writes above each module, found by line number.
 */
function bundleAreas(url: string): ((line: number) => string) | undefined {
  if (!url.startsWith('file://')) return undefined;
  let text: string;
  try {
    text = readFileSync(new URL(url), 'utf8');
  } catch {
    return undefined;
  }
  const marks: { line: number; path: string }[] = [];
  text.split('\n').forEach((l, i) => {
    const m = /^\/\/ ((?:src|bench|test|node_modules|scripts)\/[^\s]+)$/.exec(l);
    if (m) marks.push({ line: i, path: m[1] });
  });
  return line => {
    let lo = 0;
    let hi = marks.length - 1;
    let best = '';
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (marks[mid].line <= line) {
        best = marks[mid].path;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best;
  };
}

export function summarizeProfile(file: string, top = 15): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map(n => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  const resolvers = new Map<string, ((line: number) => string) | undefined>();
  const areas = new Map<string, number>();
  const fns = new Map<string, { fn: string; where: string; ms: number }>();
  let total = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id)!;
    const { functionName, url, lineNumber } = n.callFrame;
    if (!resolvers.has(url)) resolvers.set(url, bundleAreas(url));
    const inBundle = resolvers.get(url)?.(lineNumber);
    const where = inBundle || url.replace(/^.*\/(node_modules\/)/, '$1').replace(/^file:\/\/.*\//, '');
    const a = inBundle ? area(`/${inBundle}`, functionName) : area(url, functionName);
    total += ms;
    areas.set(a, (areas.get(a) ?? 0) + ms);
    const key = `${functionName || '(anonymous)'}|${where}`;
    const f = fns.get(key) ?? { fn: functionName || '(anonymous)', where, ms: 0 };
    f.ms += ms;
    fns.set(key, f);
  }
  const pct = (ms: number) => Math.round((ms / total) * 1000) / 10;
  return {
    totalMs: Math.round(total),
    byArea: [...areas].map(([a, ms]) => ({ area: a, ms: Math.round(ms), pct: pct(ms) })).sort((x, y) => y.ms - x.ms),
    topFunctions: [...fns.values()]
      .sort((x, y) => y.ms - x.ms)
      .slice(0, top)
      .map(f => ({ fn: f.fn, where: f.where, ms: Math.round(f.ms), pct: pct(f.ms) })),
  };
}
