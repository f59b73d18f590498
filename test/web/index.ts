// Mocha entry for the WEB-WORKER extension host (VS Code for the Web through @vscode/test-web): bundled
// for the browser by test/web/runner.ts (esbuild; Node's assert and crypto replaced by shims/), loaded as
// extensionTestsPath. Console output reaches the runner through codeAutomationLog; the last line is
// `[suite-summary] {"suite":"web",...}`.
import 'mocha/mocha'; // mocha's browser build: defines globalThis.mocha

declare const mocha: BrowserMocha;
interface BrowserMocha {
  setup(o: { ui: string; reporter: unknown; timeout: number; color?: boolean }): void;
  run(done: (failures: number) => void): unknown;
}
interface RunnerLike {
  on(event: string, fn: (...args: any[]) => void): void;
}
interface TestLike {
  title: string;
  duration?: number;
  fullTitle(): string;
  parent?: { title: string };
}

const SUMMARY_PREFIX = '[suite-summary] ';

/** Spec-like output as plain console lines, then the summary line. */
function ConsoleReporter(this: unknown, runner: RunnerLike): void {
  let passed = 0;
  let failed = 0;
  let pending = 0;
  const failures: { test: TestLike; err: Error }[] = [];
  runner.on('suite', (s: { title: string; root?: boolean }) => {
    if (s.title) console.log(`  ${s.title}`);
  });
  runner.on('pass', (t: TestLike) => {
    passed++;
    console.log(`    ✔ ${t.title}${t.duration && t.duration > 100 ? ` (${t.duration}ms)` : ''}`);
  });
  runner.on('pending', (t: TestLike) => {
    pending++;
    console.log(`    - ${t.title} (pending)`);
  });
  runner.on('fail', (t: TestLike, err: Error) => {
    failed++;
    failures.push({ test: t, err });
    console.log(`    ✖ ${failed}) ${t.title}`);
  });
  runner.on('end', () => {
    console.log(`  ${passed} passing, ${failed} failing${pending ? `, ${pending} pending` : ''}`);
    failures.forEach(({ test, err }, i) => console.log(`  ${i + 1}) ${test.fullTitle()}:\n${err?.stack ?? err}`));
    console.log(SUMMARY_PREFIX + JSON.stringify({ suite: 'web', passed, failed }));
  });
}

export function run(): Promise<void> {
  mocha.setup({ ui: 'tdd', reporter: ConsoleReporter, timeout: 60_000, color: false });
  // after setup: the test files use the globals suite/test/setup/teardown
  require('./smoke.test');
  require('./shareStore.test');
  require('./storedCaches.test');
  require('./cacheLock.test');
  return new Promise((resolve, reject) => {
    try {
      mocha.run(failures => (failures ? reject(new Error(`${failures} web tests failed`)) : resolve()));
    } catch (err) {
      reject(err);
    }
  });
}
