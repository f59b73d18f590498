// The integration suite in real VS Code (code-server + headless Chromium); used by `npm test`.
//   node out/scripts/testIntegration.js [--timeout=<s>] [--verbose]
import { parseArgs } from 'node:util';
import { exitOnSignals } from './lib/processes';
import { summaryLine } from '../test/support/summaryReporter';
import { runIntegrationInCodeServer } from '../test/support/vscodeRunner';

const { values } = parseArgs({ options: { timeout: { type: 'string', default: '300' }, verbose: { type: 'boolean' } } });

async function main(): Promise<number> {
  exitOnSignals(m => console.log(`[test] ${m}`));
  const r = await runIntegrationInCodeServer({ timeoutMs: Number(values.timeout) * 1000, verbose: values.verbose });
  console.log(`[test] integration: extension host exit ${r.exit} after ${(r.durationMs / 1000).toFixed(1)} s`);
  console.log(summaryLine({ suite: 'integration', passed: r.passed, failed: r.failed }));
  return r.failed ? 1 : 0;
}

main().then(
  code => process.exit(code),
  err => {
    console.error('[test] integration:', err);
    console.log(summaryLine({ suite: 'integration', passed: 0, failed: 1 }));
    process.exit(1);
  },
);
