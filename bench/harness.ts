// What every workload uses: a server behind the latency proxy, shares opened the way the Node extension
// host opens them (the product's Node transport, disk cache), runs with medians, and the physical bound.
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nullLogger, type Logger } from '../src/core/log';
import { DEFAULTS, type Settings } from '../src/core/settings';
import type { ShareLocation } from '../src/core/shareLocation';
import { DiskShareStores } from '../src/platform/diskShareStore';
import { streamBody } from '../src/platform/nodeFetch';
import { createNodeTransport } from '../src/platform/nodeTransport';
import { WebdavRemote } from '../src/remote/webdavRemote';
import { noAuth } from '../src/share/auth';
import { Share } from '../src/share/share';
import { openCache, type OpenCache } from '../src/cache/openCache';
import { startApache } from '../test/support/apacheServer';
import { startNephele, type RunningServer } from '../test/support/nepheleServer';
import { LatencyProxy, type LinkOptions, type ProxyCounts } from './latencyProxy';

export type ServerName = 'apache' | 'nephele';

export interface BenchContext {
  readonly quick: boolean;
  readonly runs: number;
  readonly link: LinkOptions;
  readonly log: (msg: string) => void;
  /** Scratch folder of this bench run (removed at the end). */
  readonly tmp: string;
}

export interface Target {
  readonly name: ServerName;
  /** Folder on disk the server serves at /share. */
  readonly root: string;
  readonly server: RunningServer;
  readonly proxy: LatencyProxy;
  /** The share as the extension addresses it, through the proxy. */
  readonly location: ShareLocation;
  /** http://127.0.0.1:<proxy>/share */
  readonly url: string;
}

export async function startTarget(name: ServerName, root: string, link: LinkOptions): Promise<Target> {
  // no authentication: the figures are about caching, not about sign-in
  const server = name === 'apache' ? await startApache({ root, mount: '/share' }) : await startNepheleProcess(root);
  const proxy = await new LatencyProxy(server.port, link).start();
  return {
    name,
    root,
    server,
    proxy,
    location: { scheme: 'dav', authority: `127.0.0.1:${proxy.port}`, basePath: '/share' },
    url: `http://127.0.0.1:${proxy.port}/share`,
  };
}

/**
 * nephele in a Node process of its own, as any real server runs: in the client's process it would share its
 * event loop and its four libuv threads with the client measured (the first round's figures did).
 */
async function startNepheleProcess(root: string): Promise<RunningServer> {
  const child = spawn(process.execPath, [process.argv[1], '--child=nephele', `--dir=${root}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', line => resolve((JSON.parse(line) as { port: number }).port));
    child.once('exit', code => reject(new Error(`nephele's process exited with ${code} before it listened`)));
  });
  return {
    name: 'nephele',
    origin: `http://127.0.0.1:${port}`,
    port,
    requests: new Map(),
    close: () =>
      new Promise<void>(resolve => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** `--child=nephele`: serves `root` at /share until killed; the first line on stdout is `{"port":N}`. */
export async function nepheleChild(root: string): Promise<void> {
  const server = await startNephele({ root, mount: '/share' });
  process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
  await new Promise<void>(resolve => process.once('SIGTERM', () => resolve()));
  await server.close();
}

export async function stopTarget(t: Target): Promise<void> {
  await t.proxy.stop();
  await t.server.close();
}

/** Apache runs as www-data when started by root: what the bench writes on disk must be its own. */
export function chownForServer(t: Target, path: string): void {
  if (t.name === 'apache' && process.getuid?.() === 0) spawnSync('chown', ['-R', 'www-data:www-data', path]);
}

export const benchSettings: Settings = { ...DEFAULTS, pollIntervalMs: 0 };

export function tempDir(ctx: BenchContext, prefix: string): string {
  return mkdtempSync(join(ctx.tmp, prefix));
}

export function removeDir(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

export interface OpenedShare {
  readonly share: Share;
  readonly remote: WebdavRemote;
  /** The cache parts (undefined in live mode). */
  readonly parts?: OpenCache;
  dispose(): Promise<void>;
}

/** `WDO_BENCH_LOG=debug` prints the shares' log to stderr (what a workload sends, and why). */
const benchLogger: Logger = process.env.WDO_BENCH_LOG === 'debug'
  ? { trace() {}, debug: m => console.error(`[debug] ${m}`), info: m => console.error(`[info] ${m}`), warn: m => console.error(`[warn] ${m}`), error: m => console.error(`[error] ${String(m)}`) }
  : nullLogger;

/**
 * Opens a share as the Node extension host does: the product's transport (its own keep-alive
 * connections, sized to the pin's ceiling; new connections for each opening, as after a window reload;
 * no proxy from the environment), the disk cache in `cacheDir` (none: live mode).
 */
export async function openShare(t: Target, cacheDir: string | undefined, settings: Settings = benchSettings, log: Logger = benchLogger): Promise<OpenedShare> {
  // the product's Node transport (its own keep-alive pool, sized to the pin's ceiling); streamBody as the Node
  // host gives it: big uploads are sent as streams (w6)
  const remote = new WebdavRemote(t.location, () => settings, log, { transport: o => createNodeTransport({ ...o, env: {} }), streamBody });
  let parts: OpenCache | undefined;
  const share = new Share(
    t.location,
    remote,
    noAuth,
    log,
    cacheDir
      ? async r => (parts = await openCache(await new DiskShareStores(cacheDir).open('share'), r, () => settings, log))
      : undefined,
  );
  await share.hasCache();
  return {
    share,
    remote,
    parts,
    async dispose() {
      await share.dispose();
    },
  };
}

// --- measuring

export interface Sample {
  readonly ms: number;
  readonly counts: ProxyCounts;
  /** Anything else the workload wants to keep (bytes read, net changes, …). */
  readonly extra?: Record<string, number>;
}

export interface Variant {
  readonly name: string;
  /** What it is, for the report. */
  readonly what: string;
  readonly runs: number[];
  readonly medianMs: number;
  readonly requests: number;
  readonly byMethod: Record<string, number>;
  readonly bytesUp: number;
  readonly bytesDown: number;
  readonly connections: number;
  /** Requests in flight at once (1: one after the other). */
  readonly parallelism: number;
  /** bytes / bandwidth + requests × RTT / parallelism, ms (0 requests: 0). */
  readonly boundMs: number;
  readonly extra?: Record<string, number>;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function boundMs(link: LinkOptions, bytes: number, requests: number, parallelism: number): number {
  const bw = link.bitsPerSecond > 0 && Number.isFinite(link.bitsPerSecond) ? (bytes * 8 * 1000) / link.bitsPerSecond : 0;
  return bw + (requests * link.rttMs) / Math.max(1, parallelism);
}

/** Summarizes samples: the median time, and the counts of the run whose time is the median (or nearest). */
export function variant(ctx: BenchContext, name: string, what: string, samples: Sample[], parallelism: number): Variant {
  const runs = samples.map(s => Math.round(s.ms * 10) / 10);
  const med = median(runs);
  const rep = [...samples].sort((a, b) => Math.abs(a.ms - med) - Math.abs(b.ms - med))[0];
  const c = rep.counts;
  return {
    name,
    what,
    runs,
    medianMs: Math.round(med * 10) / 10,
    requests: c.requests,
    byMethod: c.byMethod,
    bytesUp: c.bytesUp,
    bytesDown: c.bytesDown,
    connections: c.connections,
    parallelism,
    boundMs: Math.round(boundMs(ctx.link, c.bytesUp + c.bytesDown, c.requests, parallelism)),
    extra: rep.extra,
  };
}

/** Times `fn` and takes the proxy's counts for exactly that span. */
export async function measure(t: Target | undefined, fn: () => Promise<Record<string, number> | void>): Promise<Sample> {
  t?.proxy.take();
  const t0 = performance.now();
  const extra = (await fn()) ?? undefined;
  const ms = performance.now() - t0;
  const counts = t ? t.proxy.take() : { connections: 0, requests: 0, byMethod: {}, bytesUp: 0, bytesDown: 0 };
  return { ms, counts, extra };
}

/** Drops the proxy's connections and lets clients see the closes before the next measurement. */
export async function fresh(t: Target): Promise<void> {
  t.proxy.dropAll();
  await new Promise(r => setTimeout(r, 100));
  t.proxy.take();
}

export function defaultTmpRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wdo-bench-'));
  chmodSync(dir, 0o755); // Apache runs as www-data when started by root: it must reach the data below
  return dir;
}
