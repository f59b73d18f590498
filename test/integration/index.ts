// Mocha entry loaded INSIDE the VS Code extension host (extensionTestsPath): runs every *.test.js
// compiled next to it and ends with `[suite-summary] {"suite":"integration",...}`.
// Console output of the extension host reaches the runner (code-server: codeAutomationLog; desktop: stdout).
import Mocha from 'mocha';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { SummaryReporter } from '../support/summaryReporter';

export function run(): Promise<void> {
  Mocha.reporters.Base.useColors = false;
  const mocha = new Mocha({
    ui: 'tdd',
    reporter: SummaryReporter,
    reporterOptions: { suite: process.env.WEBDAV_TEST_SUITE_NAME || 'integration' },
    timeout: 30_000,
    color: false,
    // a developer's filter while working on a few cases (never set by npm test)
    ...(process.env.WEBDAV_TEST_GREP ? { grep: process.env.WEBDAV_TEST_GREP } : {}),
  });
  const files = readdirSync(__dirname).filter(f => f.endsWith('.test.js')).sort();
  for (const f of files) mocha.addFile(join(__dirname, f));
  console.log(`[test] integration: ${files.length} test files in the extension host (VS Code ${vscode.version})`);
  return new Promise((resolve, reject) => {
    try {
      mocha.run(failures => (failures ? reject(new Error(`${failures} integration tests failed`)) : resolve()));
    } catch (err) {
      reject(err);
    }
  });
}
