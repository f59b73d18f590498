// Runs the integration suite inside REAL VS Code: nephele serves a temp copy of sample-share (the
// workspace folder), Apache and lighttpd serve copies of their own (test/support/serverShares.ts),
// code-server starts with the repo as the extension under development and out/test/integration/index.js
// as the tests, headless Chromium opens the dav: folder; the extension host's console comes back through
// window.codeAutomationLog and its exit code through window.codeAutomationExit.
// A crash, a timeout or a missing summary is a failure, never a pass.
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'node:util';
import type { Browser } from 'playwright-core';
import { repoRoot } from '../../scripts/lib/repoRoot';
import { ensureRuntime, startCodeServer, type CodeServer } from '../../scripts/lib/runtime';
import { launchChromium } from './chromium';
import { startServerShares, type ServerShares } from './serverShares';
import { startTransportServers, type TransportServers } from './transportServers';
import { SERVER_CONTROL_ENV, startShare, type ShareFixture } from './shareFixture';
import { parseSummaries, SUMMARY_PREFIX } from './summaryReporter';

// Workbench chatter forwarded with the test output (still written to the full log in artifacts/).
const NOISE = [
  /^\[(AgentHost|ChatModelSelection|AccountPolicyGate|Service Worker|reconnection-grace-time)/,
  /^(Creating a socket|Resolving connection token|Resolved connection token|Updating additional builtin)/,
  /getaddrinfo ENOTFOUND/,
];

export interface VscodeRunResult {
  passed: number;
  failed: number;
  /** Extension host exit code, 'timeout', or an error message. */
  exit: number | string;
  durationMs: number;
}

export interface VscodeRunOptions {
  /** Whole run (after the runtime is installed). */
  timeoutMs?: number;
  log?: (line: string) => void;
  /** Forward workbench stack-frame noise too. */
  verbose?: boolean;
  /** Extension under development; default the repository (env WEBDAV_TEST_EXTENSION_PATH overrides, for debugging the harness). */
  extensionDevelopmentPath?: string;
}

export async function runIntegrationInCodeServer(o: VscodeRunOptions = {}): Promise<VscodeRunResult> {
  const log = o.log ?? ((l: string) => console.log(l));
  const root = repoRoot();
  const testsPath = join(root, 'out', 'test', 'integration', 'index.js');
  const extensionDevelopmentPath = o.extensionDevelopmentPath ?? process.env.WEBDAV_TEST_EXTENSION_PATH ?? root;
  const t0 = Date.now();
  const needed = [testsPath, ...(extensionDevelopmentPath === root ? [join(root, 'dist', 'extension.js')] : [])];
  for (const f of needed) {
    if (!existsSync(f)) return failure(`missing ${f}: build first (node scripts/build.mjs)`, t0, log);
  }
  await ensureRuntime();

  let share: ShareFixture | undefined;
  let serverShares: ServerShares | undefined;
  let transport: TransportServers | undefined;
  let cs: CodeServer | undefined;
  let browser: Browser | undefined;
  const extHostLines: string[] = [];
  mkdirSync(join(root, 'artifacts'), { recursive: true });
  const fullLog = join(root, 'artifacts', 'integration-console.log');
  writeFileSync(fullLog, '');
  try {
    share = await startShare({ control: true });
    log(`[test] nephele serves ${share.root} as ${share.httpUrl} (server control: ${share.controlUrl})`);
    serverShares = await startServerShares();
    for (const line of serverShares.describe()) log(`[test] ${line}`);
    transport = await startTransportServers();
    log(`[test] ${transport.describe()}`);
    cs = await startCodeServer({
      extensionDevelopmentPath,
      extensionTestsPath: testsPath,
      folderUri: share.folderUri,
      env: {
        WEBDAV_TEST_FOLDER_URI: share.folderUri,
        WEBDAV_TEST_DISK_ROOT: share.root,
        [SERVER_CONTROL_ENV]: share.controlUrl!,
        ...serverShares.env,
        ...transport.env,
      },
      settings: transport.settings,
    });
    log(`[test] code-server on ${cs.origin} (log ${cs.logFile}; whole workbench console: ${fullLog})`);
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });

    let settle!: (v: number | string) => void;
    const exited = new Promise<number | string>(r => (settle = r));
    await page.exposeFunction('codeAutomationLog', (_type: unknown, msgs: unknown) => {
      let textOut = format(...(Array.isArray(msgs) ? msgs : [msgs]));
      if (!o.verbose) textOut = textOut.split('\n').filter(l => !/^\s+at .*(workbench\.js|\/static\/out\/)/.test(l)).join('\n');
      appendFileSync(fullLog, textOut + '\n');
      for (const line of textOut.split('\n')) {
        extHostLines.push(line);
        if (!line.trim() || (!o.verbose && NOISE.some(re => re.test(line)))) continue;
        // not at line start: the runner prints the one authoritative summary line itself
        log(line.startsWith(SUMMARY_PREFIX) ? `[ext host] ${line}` : line);
      }
    });
    await page.exposeFunction('codeAutomationExit', (code: number) => settle(code));
    page.on('crash', () => settle('browser page crashed'));
    browser.on('disconnected', () => settle('browser disconnected'));
    await page.goto(cs.url, { timeout: 60_000 });
    const timer = setTimeout(() => settle('timeout'), o.timeoutMs ?? 10 * 60_000);
    const exit = await exited;
    clearTimeout(timer);
    if (exit !== 0) {
      await page.screenshot({ path: join(root, 'artifacts', 'integration-end.png') }).catch(() => undefined);
    }

    const summary = parseSummaries(extHostLines.join('\n')).pop();
    const passed = summary?.passed ?? 0;
    let failed = summary?.failed ?? 0;
    if (!summary) {
      log(`[test] integration: no summary from the extension host (exit ${exit}); counted as 1 failure`);
      failed += 1;
    } else if (exit !== 0 && failed === 0) {
      log(`[test] integration: extension host exit ${exit} with no failed test; counted as 1 failure`);
      failed = 1;
    }
    return { passed, failed, exit, durationMs: Date.now() - t0 };
  } catch (err) {
    return failure(err instanceof Error ? err.stack ?? err.message : String(err), t0, log);
  } finally {
    await browser?.close().catch(() => undefined);
    await cs?.stop();
    await serverShares?.close();
    await transport?.close();
    await share?.close();
  }
}

function failure(msg: string, t0: number, log: (l: string) => void): VscodeRunResult {
  log(`[test] integration run failed: ${msg}`);
  return { passed: 0, failed: 1, exit: msg, durationMs: Date.now() - t0 };
}
