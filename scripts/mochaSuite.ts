// Runs compiled mocha test files in plain Node with the summary reporter (used by `npm test`).
//   node out/scripts/mochaSuite.js --suite=<name> [--timeout=<ms>] [--grep=<text>] <file.test.js>…
// Ends with `[suite-summary] {...}`; exit code 1 when a test failed.
import Mocha from 'mocha';
import { parseArgs } from 'node:util';
import { SummaryReporter } from '../test/support/summaryReporter';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { suite: { type: 'string', default: 'mocha' }, timeout: { type: 'string', default: '10000' }, grep: { type: 'string' } },
});

const mocha = new Mocha({
  ui: 'tdd',
  reporter: SummaryReporter,
  reporterOptions: { suite: values.suite },
  timeout: Number(values.timeout),
  color: process.stdout.isTTY ?? false,
  ...(values.grep ? { grep: values.grep } : {}),
});
for (const f of positionals) mocha.addFile(f);

mocha.run(failures => {
  process.exitCode = failures ? 1 : 0;
  // Tests must close what they open; do not let a forgotten handle hang the whole run.
  setTimeout(() => {
    console.error(`[test] ${values.suite}: handles still open 10 s after the run, exiting anyway`);
    process.exit(process.exitCode);
  }, 10_000).unref();
});
