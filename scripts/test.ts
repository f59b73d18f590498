// `npm test`: runs the suites, each as a child process, and sums their `[suite-summary]` lines.
//   npm test [-- --suite=lint|unit|conformance|integration|ui|web ...]     (repeatable; default: all)
// `lint` is two checks: the type check (tsc) and ESLint's type-aware rules (eslint.config.mjs).
// A suite that crashes, times out or prints no summary counts as 1 failed. The very last line of
// output is `N passed, N failed`; the exit code is non-zero when anything failed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { SERVER_APT_PACKAGES, TRANSPORT_APT_PACKAGES } from '../test/support/servers';
import { SERVER_SHARES_APT_PACKAGES } from '../test/support/serverShares';
import { parseSummaries } from '../test/support/summaryReporter';
import { ensureAptPackages } from './lib/apt';
import { repoRoot } from './lib/repoRoot';
import { ensureRuntime } from './lib/runtime';

const SUITES = ['lint', 'unit', 'conformance', 'integration', 'ui', 'web'] as const;
type SuiteName = (typeof SUITES)[number];

interface Row {
  suite: SuiteName;
  passed: number;
  failed: number;
  seconds: number;
  note: string;
}

const root = repoRoot();
let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    interrupted = true; // the running child gets the signal too (or is sent it below); no further suites
  });
}
const log = (msg: string) => console.log(`[test] ${msg}`);

const { values } = parseArgs({ options: { suite: { type: 'string', multiple: true } } });
const wanted = (values.suite ?? []).flatMap(s => s.split(','));
for (const s of wanted) {
  if (!(SUITES as readonly string[]).includes(s)) {
    console.error(`[test] unknown suite "${s}" (known: ${SUITES.join(', ')})`);
    console.log('0 passed, 1 failed');
    process.exit(2);
  }
}
const selected: SuiteName[] = wanted.length ? SUITES.filter(s => wanted.includes(s)) : [...SUITES];

/** Compiled test files of a suite, found from the sources (stale files in out/ are ignored). */
function testFiles(suite: SuiteName): string[] {
  const src = join(root, 'test', suite);
  const found: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.test.ts')) found.push(join(root, 'out', relative(root, p)).replace(/\.ts$/, '.js'));
    }
  };
  if (existsSync(src)) walk(src);
  return found.sort();
}

const TIMEOUT_MIN: Record<SuiteName, number> = { lint: 10, unit: 10, conformance: 15, integration: 20, ui: 25, web: 15 };

/** Runs one suite child; its output is passed through and scanned for the summary line. */
function runChild(suite: SuiteName, args: string[]): Promise<Omit<Row, 'seconds'>> {
  return new Promise(resolve => {
    const child = spawn(process.execPath, ['--enable-source-maps', ...args], {
      cwd: root,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      process.stdout.write(b);
    });
    child.stderr.on('data', (b: Buffer) => process.stderr.write(b));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      log(`${suite}: no end after ${TIMEOUT_MIN[suite]} min, stopping it`);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 20_000).unref();
    }, TIMEOUT_MIN[suite] * 60_000);
    const forward = () => child.kill('SIGTERM');
    process.on('SIGINT', forward).on('SIGTERM', forward);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      process.off('SIGINT', forward).off('SIGTERM', forward);
      const summary = parseSummaries(out).filter(s => s.suite === suite).pop();
      if (timedOut) return resolve({ suite, passed: summary?.passed ?? 0, failed: (summary?.failed ?? 0) + 1, note: 'timed out' });
      if (!summary) return resolve({ suite, passed: 0, failed: 1, note: `no summary (exit ${code ?? signal})` });
      if (code !== 0 && summary.failed === 0) {
        return resolve({ ...summary, suite, failed: 1, note: `exit ${code ?? signal} with no failed test` });
      }
      resolve({ suite, passed: summary.passed, failed: summary.failed, note: '' });
    });
  });
}

/** The lint suite: tsc and ESLint, each one check; their output is shown when they fail. */
function runLint(): Omit<Row, 'seconds'> {
  const checks: [string, string[]][] = [
    ['types (tsc --noEmit)', [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', root]],
    ['eslint', [join(root, 'node_modules', 'eslint', 'bin', 'eslint.js'), root]],
  ];
  let passed = 0;
  const failedNames: string[] = [];
  for (const [name, args] of checks) {
    const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
    if (r.status === 0) {
      passed++;
      log(`lint: ${name}: clean`);
    } else {
      failedNames.push(name);
      process.stdout.write(r.stdout ?? '');
      process.stderr.write(r.stderr ?? '');
      log(`lint: ${name}: FAILED`);
    }
  }
  return { suite: 'lint', passed, failed: failedNames.length, note: failedNames.join(', ') };
}

async function runSuite(suite: SuiteName): Promise<Row | undefined> {
  const t0 = Date.now();
  const row = (r: Omit<Row, 'seconds'>): Row => ({ ...r, seconds: (Date.now() - t0) / 1000 });
  if (suite === 'lint') return row(runLint());
  const files = testFiles(suite);
  if (files.length === 0) {
    log(`${suite}: no test files in test/${suite}/ yet — nothing to run`);
    return undefined;
  }
  const missing = files.filter(f => !existsSync(f));
  if (missing.length) return row({ suite, passed: 0, failed: 1, note: `not built: ${missing.map(f => relative(root, f)).join(', ')}` });
  log(`=== ${suite}: ${files.length} test files`);
  try {
    if (suite === 'conformance') ensureAptPackages(SERVER_APT_PACKAGES, m => log(m)); // the suite starts Apache, lighttpd, rclone and tinyproxy itself
    if (suite === 'ui') ensureAptPackages(TRANSPORT_APT_PACKAGES, m => log(m)); // a self-signed Apache behind tinyproxy
    if (suite === 'integration') ensureAptPackages(SERVER_SHARES_APT_PACKAGES, m => log(m)); // Apache and lighttpd shares next to nephele's
    if (suite === 'integration' || suite === 'ui') await ensureRuntime();
  } catch (err) {
    log(`${suite}: prerequisites failed: ${err instanceof Error ? err.message : err}`);
    return row({ suite, passed: 0, failed: 1, note: 'prerequisites failed' });
  }
  const mocha = (timeoutMs: number) => [join(root, 'out', 'scripts', 'mochaSuite.js'), `--suite=${suite}`, `--timeout=${timeoutMs}`, ...files];
  switch (suite) {
    case 'unit':
      return row(await runChild(suite, mocha(10_000)));
    case 'conformance':
      return row(await runChild(suite, mocha(30_000)));
    case 'integration':
      return row(await runChild(suite, [join(root, 'out', 'scripts', 'testIntegration.js')]));
    case 'ui':
      return row(await runChild(suite, mocha(180_000)));
    case 'web':
      return row(await runChild(suite, [join(root, 'out', 'scripts', 'testIntegration.js'), '--host=web', '--timeout=600']));
  }
}

async function main(): Promise<number> {
  const rows: Row[] = [];
  const skipped: SuiteName[] = [];
  for (const suite of selected) {
    if (interrupted) break;
    const r = await runSuite(suite);
    if (r) rows.push(r);
    else skipped.push(suite);
  }
  console.log('');
  log('suite         passed  failed    time  note');
  for (const r of rows) {
    log(`${r.suite.padEnd(12)} ${String(r.passed).padStart(7)} ${String(r.failed).padStart(7)} ${r.seconds.toFixed(1).padStart(6)}s  ${r.note}`);
  }
  for (const s of skipped) log(`${s.padEnd(12)} ${'-'.padStart(7)} ${'-'.padStart(7)} ${''.padStart(7)}  no test files yet`);
  const passed = rows.reduce((n, r) => n + r.passed, 0);
  const failed = rows.reduce((n, r) => n + r.failed, 0);
  if (interrupted) {
    console.log(`${passed} passed, ${failed + 1} failed`);
    return 130;
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

main().then(
  code => process.exit(code),
  err => {
    console.error('[test] orchestrator crashed:', err);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
