// The integration suite in real VS Code (code-server + headless Chromium); used by `npm test`.
//   node out/scripts/testIntegration.js [--timeout=<s>] [--verbose] [--host=node|web]
// --host=web: the `web` suite in VS Code for the Web's web-worker extension host (@vscode/test-web).
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
    console.log(summaryLine({ suite: 'web', passed: w.passed, failed: w.failed }));
    return w.failed ? 1 : 0;
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
