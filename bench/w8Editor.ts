// W8 what a user feels, in real VS Code: code-server in headless Chromium (the UI suite's runtime and
// helpers) opens the share through the latency proxy, and we time two things a person waits for — a file
// opened from the Explorer until its text shows in the editor, and a 2,000-file folder expanded until its
// rows show — for a local folder (file://, local disk), live (the cache off), ours cold (empty cache), ours
// warm after a window reload past the freshness window (revalidation in the background, the default), and
// ours warm with `revalidation: beforeRead` (every read waits for its check: the old behaviour). Times are
// taken inside the page (performance.now() from the mouse press to the DOM change a MutationObserver
// sees), so Playwright's own checks and polling add nothing.
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ensureRuntime, startCodeServer, type CodeServer } from '../scripts/lib/runtime';
import { withTimeout } from '../scripts/lib/processes';
import { repoRoot } from '../scripts/lib/repoRoot';
import { launchChromium } from '../test/support/chromium';
import { artifacts, closeAllEditors, explorerRow, reloadWindow, showExplorer, UI_SETTINGS, waitForWorkbench } from '../test/ui/workbench';
import { DATASET_MTIME } from './datasets';
import { median, variant, type BenchContext, type Sample, type Target, type Variant } from './harness';

export interface W8Spec {
  /** Files in the big folder, expanded in the Explorer. */
  readonly bigFolder: number;
  /** Files opened one after the other in one sample. */
  readonly opens: number;
}

export function w8Spec(quick: boolean): W8Spec {
  return quick ? { bigFolder: 500, opens: 5 } : { bigFolder: 2000, opens: 9 };
}

/** Seconds of the freshness window the bench sets (the default), and what it waits to be past it. */
const FRESHNESS_S = 5;
const PAST_WINDOW_MS = FRESHNESS_S * 1000 + 1500;

const openName = (i: number) => `f${String(i).padStart(2, '0')}.txt`;
/** The first line of an opened file: what the editor must show (no spaces: Monaco renders them as nbsp). */
const marker = (i: number) => `w8-open-${i}-first-line`;
const bigName = (i: number) => `f${String(i).padStart(4, '0')}.txt`;

/** Writes w8/ under the served root: notes.md (the workbench's ready sign), warmup/, open/, big/. */
export function writeW8(root: string, spec: W8Spec): void {
  const top = join(root, 'w8');
  const put = (rel: string, text: string) => {
    const p = join(top, rel);
    writeFileSync(p, text);
    utimesSync(p, DATASET_MTIME, DATASET_MTIME);
  };
  for (const d of ['warmup', 'open', 'big']) mkdirSync(join(top, d), { recursive: true });
  put('notes.md', '# W8\n\nThe editor benchmark.\n');
  for (const n of ['a.txt', 'b.txt']) put(`warmup/${n}`, `warmup-${n}\n`);
  // source-like text files of 4–16 kB
  for (let i = 0; i < spec.opens; i++) {
    const lines = [marker(i)];
    for (let l = 0; l < 100 + 30 * i; l++) lines.push(`  const value${l} = compute(${l}, "${'x'.repeat(l % 60)}"); // line ${l} of file ${i}`);
    put(`open/${openName(i)}`, lines.join('\n') + '\n');
  }
  for (let i = 0; i < spec.bigFolder; i++) put(`big/${bigName(i)}`, `file ${i}\n`);
}

type Kind = 'local' | 'live' | 'background' | 'beforeRead';

interface PhaseResult {
  readonly open: Sample;
  readonly expand: Sample;
}

/**
 * Starts a clock in the page, runs `act`, and resolves with the ms until `done` (evaluated in the page on
 * every DOM change) first holds.
 */
async function timeInPage(page: Page, probe: { row: string } | { editor: string }, act: () => Promise<void>, timeoutMs = 60_000): Promise<number> {
  await page.evaluate(
    ({ probe, timeoutMs }) => {
      const w = window as unknown as { __w8?: Promise<number>; __w8t0?: number };
      const holds = (): boolean => {
        if ('row' in probe) {
          return Array.from(document.querySelectorAll('.explorer-folders-view .monaco-list-row .label-name')).some(el => el.textContent?.trim() === probe.row);
        }
        const lines = document.querySelector('.editor-group-container.active .editor-instance .monaco-editor .view-lines');
        return !!lines?.textContent?.includes(probe.editor);
      };
      if (holds()) throw new Error(`already shown before the action: ${JSON.stringify(probe)}`);
      w.__w8 = new Promise<number>((resolve, reject) => {
        const obs = new MutationObserver(() => {
          if (!holds()) return;
          const t = performance.now();
          obs.disconnect();
          clearTimeout(timer);
          resolve(t);
        });
        const timer = setTimeout(() => {
          obs.disconnect();
          reject(new Error(`not shown within ${timeoutMs} ms: ${JSON.stringify(probe)}`));
        }, timeoutMs);
        obs.observe(document.body, { childList: true, subtree: true, characterData: true });
      });
      // the clock starts when the press reaches the page (Playwright's actionability checks before it
      // are not what a person waits for)
      w.__w8t0 = performance.now();
      document.addEventListener('mousedown', () => (w.__w8t0 = performance.now()), { capture: true, once: true });
    },
    { probe, timeoutMs },
  );
  await act();
  return page.evaluate(async () => {
    const w = window as unknown as { __w8: Promise<number>; __w8t0: number };
    return (await w.__w8) - w.__w8t0;
  });
}

async function clickRow(page: Page, name: string): Promise<void> {
  await explorerRow(page, name).click({ timeout: 30_000 });
}

async function setExpanded(page: Page, name: string, expanded: boolean, firstChild: string): Promise<void> {
  const row = explorerRow(page, name);
  await row.waitFor({ timeout: 30_000 });
  if (((await row.getAttribute('aria-expanded')) === 'true') !== expanded) await row.click();
  await explorerRow(page, firstChild).waitFor({ state: expanded ? 'visible' : 'hidden', timeout: 60_000 });
}

/**
 * One pass of what a person does: warm the UI's own code up (expand a small folder, open a file), then
 * time expanding big/ and, once open/'s items are past the freshness window, opening its files.
 */
async function phase(page: Page, t: Target | undefined, spec: W8Spec): Promise<PhaseResult> {
  await showExplorer(page);
  await setExpanded(page, 'warmup', true, 'a.txt');
  await timeInPage(page, { editor: 'warmup-a.txt' }, () => clickRow(page, 'a.txt'));
  await closeAllEditors(page);
  await setExpanded(page, 'warmup', false, 'a.txt');

  const counted = async (fn: () => Promise<number>): Promise<Sample> => {
    t?.proxy.take();
    const ms = await fn();
    return { ms, counts: t ? t.proxy.take() : { connections: 0, requests: 0, byMethod: {}, bytesUp: 0, bytesDown: 0 } };
  };
  const expand = await counted(() => timeInPage(page, { row: bigName(0) }, () => clickRow(page, 'big')));
  await setExpanded(page, 'big', false, bigName(0));

  await setExpanded(page, 'open', true, openName(0));
  await page.waitForTimeout(PAST_WINDOW_MS); // what the listing checked is past the window again
  const times: number[] = [];
  const opened = await counted(async () => {
    for (let i = 0; i < spec.opens; i++) times.push(await timeInPage(page, { editor: marker(i) }, () => clickRow(page, openName(i))));
    // the median file: one open that lost the CPU to another process does not move it
    return median(times);
  });
  const round = (n: number) => Math.round(n);
  const open: Sample = { ...opened, extra: { fastestMs: round(Math.min(...times)), meanMs: round(times.reduce((a, b) => a + b, 0) / times.length), slowestMs: round(Math.max(...times)) } };
  await closeAllEditors(page);
  await setExpanded(page, 'open', false, openName(0));
  return { open, expand };
}

const SETTINGS: Record<Kind, Record<string, unknown>> = {
  local: {},
  live: { 'webdavOffline.cache.enabled': false },
  background: { 'webdavOffline.cache.revalidation': 'background' },
  beforeRead: { 'webdavOffline.cache.revalidation': 'beforeRead' },
};

/**
 * A fresh code-server (a fresh user-data folder: an empty cache) on the folder, a page, pass A, a window
 * reload, pass B. Always stops what it started.
 */
async function session(ctx: BenchContext, browser: Browser, t: Target, kind: Kind, spec: W8Spec): Promise<{ a: PhaseResult; b: PhaseResult }> {
  const folderUri = kind === 'local' ? join(t.root, 'w8') : `dav://${t.location.authority}${t.location.basePath}/w8/`;
  const settings = {
    ...UI_SETTINGS,
    'webdavOffline.watch.pollInterval': 0, // no poll freshens what the bench wants past the window
    'webdavOffline.cache.freshness': FRESHNESS_S,
    'files.hotExit': 'off',
    ...SETTINGS[kind],
  };
  let cs: CodeServer | undefined;
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  try {
    cs = await startCodeServer({ extensionDevelopmentPath: repoRoot(), folderUri, settings });
    await page.goto(cs.url, { timeout: 60_000 });
    await waitForWorkbench(page);
    const scope = kind === 'local' ? undefined : t;
    const a = await phase(page, scope, spec);
    await page.waitForTimeout(PAST_WINDOW_MS);
    await reloadWindow(page);
    const b = await phase(page, scope, spec);
    ctx.log(`W8 ${t.name} ${kind}: open ${a.open.ms.toFixed(0)} → ${b.open.ms.toFixed(0)} ms (fastest ${a.open.extra?.fastestMs} → ${b.open.extra?.fastestMs}), expand ${a.expand.ms.toFixed(0)} → ${b.expand.ms.toFixed(0)} ms (first pass → after reload)`);
    return { a, b };
  } catch (err) {
    mkdirSync(artifacts, { recursive: true });
    const shot = join(artifacts, `bench-w8-${t.name}-${kind}-FAILED.png`);
    await page.screenshot({ path: shot }).then(() => ctx.log(`W8 ${t.name} ${kind} failed; screenshot: ${shot}`), () => undefined);
    throw err;
  } finally {
    await page.close().catch(() => undefined);
    await cs?.stop();
  }
}

export async function runW8(ctx: BenchContext, t: Target, spec: W8Spec): Promise<Variant[]> {
  try {
    await ensureRuntime(ctx.log);
  } catch (err) {
    throw new Error(`W8 needs code-server and Chromium (the UI suite's runtime, .runtime/): ${(err as Error).message}. Run \`npm test -- --suite=ui\` once to see the set-up, or leave W8 out with --only.`);
  }
  let browser: Browser;
  try {
    browser = await launchChromium();
  } catch (err) {
    throw new Error(`W8: headless Chromium did not start (${(err as Error).message}); it needs Debian's chromium (apt-get install chromium) or CHROMIUM_PATH.`);
  }
  const s = { open: {} as Record<string, Sample[]>, expand: {} as Record<string, Sample[]> };
  const add = (name: string, r: PhaseResult) => {
    (s.open[name] ??= []).push(r.open);
    (s.expand[name] ??= []).push(r.expand);
  };
  // a bound on the whole workload: a workbench that hangs must not hang the bench
  const budgetMs = ctx.runs * 10 * 60_000;
  try {
    await withTimeout(
      (async () => {
        for (let run = 0; run < ctx.runs; run++) {
          ctx.log(`W8 ${t.name} run ${run + 1}/${ctx.runs}`);
          add('local disk', (await session(ctx, browser, t, 'local', spec)).b);
          add('live', (await session(ctx, browser, t, 'live', spec)).b);
          const bg = await session(ctx, browser, t, 'background', spec);
          add('ours cold', bg.a);
          add('ours warm', bg.b);
          add('ours warm beforeRead', (await session(ctx, browser, t, 'beforeRead', spec)).b);
        }
      })(),
      budgetMs,
      `W8 on ${t.name} (${ctx.runs} runs)`,
    );
  } finally {
    await browser.close().catch(() => undefined);
  }
  const what: Record<string, string> = {
    'local disk': 'the same files in a local folder (file://), after a window reload',
    live: 'the share with the cache off, after a window reload',
    'ours cold': 'ours, an empty cache (a fresh profile), the first pass',
    'ours warm': `ours after a window reload, everything past the ${FRESHNESS_S} s freshness window; revalidation: background (the default)`,
    'ours warm beforeRead': 'as ours warm, with revalidation: beforeRead (every read waits for its check: the old behaviour)',
  };
  const names = Object.keys(what);
  return [
    ...names.map(n => variant(ctx, `open ${n}`, `open a file from the Explorer until its first line shows, the median of ${spec.opens} files opened one after the other; ${what[n]}`, s.open[n], 1)),
    ...names.map(n => variant(ctx, `expand ${n}`, `expand a ${spec.bigFolder}-file folder until its first row shows; ${what[n]}`, s.expand[n], 1)),
  ];
}
