// Issue 13, one cache for every window — in the browser: two TABS of one site (Debian's Chromium through
// playwright-core), each running the extension's Share in a dedicated worker (test/web/tabDriver.ts, as the
// web-worker extension host does), on ONE IndexedDB cache, against nephele (CORS). Run by the web suite
// (scripts/testIntegration.ts --host=web), in Node. A trial:
//   1. tab one opens the share (it gets the cache: the Web Lock of the share), reads it online, goes offline
//      by hand and makes offline changes (creates, saves of one file) one after another;
//   2. tab two opens the same share: it says it waits for the cache another tab has open, then works live
//      without it (a live listing) — and never opens the cache while tab one lives;
//   3. tab one ends: its page closed, its renderer crashed (CDP Page.crash, in the middle of its changes),
//      or its share closed first (as a window closed);
//   4. tab two gets the cache — offline by hand, as tab one left it — and reads every change tab one
//      acknowledged (with its change in flight, or without it), makes its own, and goes online once: no
//      conflict, nothing pending, and the server has every change exactly once.
// WEBDAV_TAB_TRIALS sets the number of trials (default 6).
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { repoRoot } from '../../scripts/lib/repoRoot';
import { launchChromium } from '../support/chromium';
import { startNephele, type RunningServer } from '../support/nepheleServer';
import { changeOf } from './tabChanges';

const TRIALS = Number(process.env.WEBDAV_TAB_TRIALS ?? 6);
const ENDS = ['crashed', 'page closed', 'share closed, then the page'] as const;
const WAIT_MS = 20_000;

const PAGE = `<!doctype html><meta charset="utf-8"><title>tab</title><script>
const worker = new Worker('driver.js');
const pending = new Map();
let next = 0;
worker.onmessage = ({ data }) => {
  if (data.event !== undefined) return void window.report(data.event);
  const p = pending.get(data.id);
  pending.delete(data.id);
  if (data.error !== undefined) p.reject(new Error(data.error));
  else p.resolve(data.result);
};
worker.onerror = e => window.report('worker-error ' + e.message);
window.call = (cmd, ...args) => new Promise((resolve, reject) => {
  const id = ++next;
  pending.set(id, { resolve, reject });
  worker.postMessage({ id, cmd, args });
});
</script>`;

class Tab {
  /** The events its worker sent, as they came (kept when the tab is gone). */
  readonly events: string[] = [];

  private constructor(
    readonly name: string,
    readonly page: Page,
  ) {}

  static async open(context: BrowserContext, url: string, name: string): Promise<Tab> {
    const page = await context.newPage();
    const tab = new Tab(name, page);
    await page.exposeFunction('report', (event: string) => void tab.events.push(event));
    page.on('pageerror', err => console.log(`      [${name}] page error: ${err.message}`));
    page.on('console', m => m.type() === 'error' && console.log(`      [${name}] ${m.text()}`));
    await page.goto(url);
    return tab;
  }

  call<T = unknown>(cmd: string, ...args: unknown[]): Promise<T> {
    return this.page.evaluate(([c, a]) => (window as unknown as { call(c: string, ...a: unknown[]): Promise<unknown> }).call(c, ...a), [cmd, args] as const) as Promise<T>;
  }

  /** The first event at index `from` or later that starts with `prefix`, and its index. */
  async waitEvent(prefix: string, from = 0, ms = WAIT_MS): Promise<{ event: string; index: number }> {
    const deadline = Date.now() + ms;
    for (;;) {
      const events = this.events;
      const index = events.findIndex((e, i) => i >= from && e.startsWith(prefix));
      if (index >= 0) return { event: events[index], index };
      if (Date.now() > deadline) throw new Error(`${this.name}: no event "${prefix}" within ${ms} ms (events: ${events.slice(-10).join(' | ')})`);
      await new Promise(r => setTimeout(r, 10));
    }
  }

  /** Kills the tab's renderer process, as a crash does. */
  async crash(): Promise<void> {
    const crashed = new Promise(r => this.page.once('crash', r));
    const cdp = await this.page.context().newCDPSession(this.page);
    void cdp.send('Page.crash').catch(() => undefined); // never answered: the renderer is gone
    await withTimeout(crashed, 10_000, `${this.name}: the renderer did not crash`);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what)), ms)))]).finally(() => clearTimeout(timer));
}

/** The root folder's files on the server's disk: name → content. */
function rootFiles(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(root)) if (statSync(join(root, name)).isFile()) out[name] = readFileSync(join(root, name), 'utf8');
  return out;
}

/** The root files after changes `ns` of `tab`. */
function applied(files: Record<string, string>, tab: string, ns: readonly number[]): Record<string, string> {
  const out = { ...files };
  for (const n of ns) {
    const c = changeOf(tab, n);
    out[c.path.slice(1)] = c.content;
  }
  return out;
}

const sorted = (files: Record<string, string>) => JSON.stringify(Object.entries(files).sort(([a], [b]) => a.localeCompare(b)));

suite('web: two browser tabs on one IndexedDB cache (Chromium through playwright-core)', function () {
  this.timeout(120_000 + TRIALS * 30_000);
  let browser: Browser;
  let context: BrowserContext;
  let site: Server;
  let url: string;
  let bundleDir: string;
  /** `later`: changes of tab one found in the cache beyond those the test was told of. */
  const figures: { end: string; acked: number; later: number; takeoverMs: number }[] = [];

  suiteSetup(async function () {
    this.timeout(180_000);
    bundleDir = mkdtempSync(join(tmpdir(), 'wdo-tabs-'));
    const esbuildName = 'esbuild'; // loaded at run time: esbuild finds its binary next to itself
    const esbuild = (await import(esbuildName)) as typeof import('esbuild');
    await esbuild.build({
      absWorkingDir: repoRoot(),
      entryPoints: [join(repoRoot(), 'test', 'web', 'tabDriver.ts')],
      outfile: join(bundleDir, 'driver.js'),
      bundle: true,
      platform: 'browser',
      format: 'iife',
      target: 'es2022',
      logLevel: 'warning',
      mainFields: ['browser', 'module', 'main'],
      conditions: ['browser'],
      define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
    });
    const driver = readFileSync(join(bundleDir, 'driver.js'));
    site = createServer((req, res) => {
      if (req.url === '/driver.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(driver);
      else res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    });
    await new Promise<void>(resolve => site.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(site.address() as AddressInfo).port}/`; // a secure context: Web Locks, Web Crypto
    browser = await launchChromium();
    context = await browser.newContext();
  });

  suiteTeardown(async () => {
    await browser?.close().catch(() => undefined);
    if (site) await new Promise(r => site.close(r));
    if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
  });

  test('each tab of the site, and a worker in it, has Web Locks (the page is a secure context)', async () => {
    const tab = await Tab.open(context, url, 'probe');
    try {
      assert.equal(await tab.page.evaluate(() => typeof navigator.locks?.request), 'function');
      assert.equal(await tab.page.evaluate(() => new Promise(r => new Worker(URL.createObjectURL(new Blob(['postMessage(typeof navigator.locks?.request)']))).onmessage = e => r(e.data))), 'function', 'in a worker too');
    } finally {
      await tab.page.close();
    }
  });

  for (let trial = 1; trial <= TRIALS; trial++) {
    const end = ENDS[trial % ENDS.length];
    test(`trial ${trial}: tab one ${end} in the middle of its offline changes; tab two takes the cache over`, async () => {
      const disk = mkdtempSync(join(tmpdir(), 'wdo-tabs-server-'));
      let server: RunningServer | undefined;
      const tabs: Tab[] = [];
      try {
        writeFileSync(join(disk, 'a.txt'), 'server a\n');
        writeFileSync(join(disk, 'notes.md'), 'server notes\n');
        mkdirSync(join(disk, 'docs'));
        writeFileSync(join(disk, 'docs', 'one.md'), 'server one\n');
        const initial = rootFiles(disk);
        server = await startNephele({ root: disk, mount: '/share' });
        const prefix = `tabs-${Date.now().toString(36)}-${trial}`;

        // 1. tab one: the cache, online reads, offline by hand, changes
        const one = await Tab.open(context, url, 'tab one');
        tabs.push(one);
        await one.call('open', server.port, prefix);
        await one.waitEvent('status {"kind":"open"}');
        assert.deepEqual(await one.call('files'), initial);
        await one.call('goOffline');
        const first = trial * 1000;
        void one.call('change', 'one', first, 60).catch(() => undefined); // ends with the tab

        // 2. tab two waits, and works live meanwhile
        const two = await Tab.open(context, url, 'tab two');
        tabs.push(two);
        await two.call('open', server.port, prefix);
        await two.waitEvent('status {"kind":"waiting","holder":"another tab or window of this browser","live":false}');
        await two.waitEvent('status {"kind":"waiting","holder":"another tab or window of this browser","live":true}');
        assert.equal(await two.call('hasCache'), false);
        assert.deepEqual(await two.call('list', '/'), ['a.txt', 'docs', 'notes.md'], 'tab two reads the share live (tab one is offline: the server is as it was)');
        await one.waitEvent(`ack ${first + 1 + (trial % 5)}`);
        assert.ok(!two.events.some(e => e.startsWith('status {"kind":"open"')), 'tab two never has the cache while tab one lives');

        // 3. tab one ends after a few changes
        const ended = Date.now();
        if (end === 'crashed') await one.crash();
        else if (end === 'page closed') await one.page.close();
        else {
          await one.call('stop');
          await one.call('close');
          await one.page.close();
        }
        // its changes go one after another: those it was told of, and maybe the next ones (begun, even done,
        // with the news still on its way when the tab ended)
        const acked = one.events.filter(e => e.startsWith('ack ')).map(e => Number(e.slice(4)));
        const next = Math.max(...acked) + 1;

        // 4. tab two takes the cache over
        const open = await two.waitEvent('status {"kind":"open"}');
        const takeoverMs = Date.now() - ended;
        assert.ok(!two.events.slice(0, open.index).some(e => e.startsWith('status {"kind":"open"')), 'tab two had no cache before');
        assert.deepEqual(await two.call('state'), { cache: { kind: 'open' }, connection: { kind: 'offline', manual: true } }, 'offline by hand, as tab one left it');
        const seen = sorted(await two.call<Record<string, string>>('files'));
        const acknowledged = applied(initial, 'one', acked);
        const candidates = [0, 1, 2, 3].map(k => applied(acknowledged, 'one', Array.from({ length: k }, (_, i) => next + i)));
        const later = candidates.findIndex(c => sorted(c) === seen);
        assert.ok(
          later >= 0,
          `tab two reads tab one's ${acked.length} acknowledged changes (and maybe the next), offline from the cache:\n  read ${seen}\n  want ${sorted(acknowledged)}`,
        );
        await two.call('change', 'two', first + 500, 4);
        const online = await two.call('goOnline');
        assert.deepEqual(online, { ok: true, pending: 0, conflicts: [] }, 'one reconnect replays every change, with no conflict');
        const expected = applied(candidates[later], 'two', [first + 500, first + 501, first + 502, first + 503]);
        assert.equal(sorted(rootFiles(disk)), sorted(expected), 'the server has every change of both tabs, each once');
        figures.push({ end, acked: acked.length, later, takeoverMs });
      } finally {
        for (const t of tabs) await t.page.close().catch(() => undefined);
        await server?.close();
        rmSync(disk, { recursive: true, force: true });
      }
    });
  }

  test('figures', () => {
    const by = (e: string) => figures.filter(f => f.end === e).length;
    console.log(
      `      [figures] ${figures.length} trials: tab one ${ENDS.map(e => `${e} ${by(e)}`).join(', ')}; changes of tab one acknowledged ${figures.reduce((s, f) => s + f.acked, 0)}, ` +
        `more found done in the cache than the test was told of (the news on its way at the end) ${figures.reduce((s, f) => s + f.later, 0)}; ` +
        `tab two had the cache ${Math.min(...figures.map(f => f.takeoverMs))}–${Math.max(...figures.map(f => f.takeoverMs))} ms after tab one was ended`,
    );
    assert.equal(figures.length, TRIALS);
  });
});
