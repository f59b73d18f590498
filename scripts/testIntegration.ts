// The integration suite in real VS Code (code-server + headless Chromium); used by `npm test`.
//   node out/scripts/testIntegration.js [--timeout=<s>] [--verbose] [--host=node|web]
// --host=web: the `web` suite in VS Code for the Web's web-worker extension host (@vscode/test-web).
import Mocha from 'mocha';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { exitOnSignals } from './lib/processes';
import { summaryLine } from '../test/support/summaryReporter';
import { runIntegrationInCodeServer } from '../test/support/vscodeRunner';
import { runWebTests } from '../test/web/runner';

const { values } = parseArgs({ options: { timeout: { type: 'string', default: '300' }, verbose: { type: 'boolean' }, host: { type: 'string', default: 'node' } } });

async function main(): Promise<number> {
  exitOnSignals(m => console.log(`[test] ${m}`));
  if (values.host === 'web') {
    const w = await runWebTests({ timeoutMs: Number(values.timeout) * 1000, verbose: values.verbose });
    console.log(`[test] web: ${w.exit} after ${(w.durationMs / 1000).toFixed(1)} s`);
    const tabs = await runNodeMocha(join(__dirname, '..', 'test', 'web', 'twoTabs.test.js')); // browser tabs, driven from Node
    const failed = w.failed + tabs.failed;
    console.log(summaryLine({ suite: 'web', passed: w.passed + tabs.passed, failed }));
    return failed ? 1 : 0;
  }
  const r = await runIntegrationInCodeServer({ timeoutMs: Number(values.timeout) * 1000, verbose: values.verbose });
  console.log(`[test] integration: extension host exit ${r.exit} after ${(r.durationMs / 1000).toFixed(1)} s`);
  console.log(summaryLine({ suite: 'integration', passed: r.passed, failed: r.failed }));
  return r.failed ? 1 : 0;
}

main().then(
  code => process.exit(code),
  err => {
    console.error(`[test] ${values.host === 'web' ? 'web' : 'integration'}:`, err);
    console.log(summaryLine({ suite: values.host === 'web' ? 'web' : 'integration', passed: 0, failed: 1 }));
    process.exit(1);
  },
);

/** Runs a compiled mocha file in this process (spec output); resolves with its counts. */
function runNodeMocha(file: string): Promise<{ passed: number; failed: number }> {
  const mocha = new Mocha({ ui: 'tdd', timeout: 60_000, color: false });
  mocha.addFile(file);
  return new Promise(resolve => {
    const runner = mocha.run(() => resolve({ passed: runner.stats?.passes ?? 0, failed: runner.stats?.failures ?? 1 }));
  });
}
