// `npm run test:desktop`: the integration suite in DESKTOP VS Code through @vscode/test-electron
// (downloads VS Code, so it needs internet; on machines without it use `npm test -- --suite=integration`,
// which runs the same tests in code-server).
import { runTests } from '@vscode/test-electron';
import { join } from 'node:path';
import { startServerShares } from '../test/support/serverShares';
import { startShare } from '../test/support/shareFixture';
import { summaryLine } from '../test/support/summaryReporter';
import { exitOnSignals, onCleanup } from './lib/processes';
import { repoRoot } from './lib/repoRoot';

const log = (msg: string) => console.log(`[test] ${msg}`);

async function main(): Promise<number> {
  exitOnSignals(log);
  const root = repoRoot();
  const share = await startShare();
  onCleanup(() => share.close());
  log(`nephele serves ${share.root} as ${share.httpUrl}`);
  const serverShares = await startServerShares();
  for (const line of serverShares.describe()) log(line);
  try {
    const code = await runTests({
      extensionDevelopmentPath: root,
      extensionTestsPath: join(root, 'out', 'test', 'integration', 'index.js'),
      launchArgs: ['--folder-uri', share.folderUri, '--disable-extensions', '--disable-workspace-trust'],
      extensionTestsEnv: {
        WEBDAV_TEST_FOLDER_URI: share.folderUri,
        WEBDAV_TEST_DISK_ROOT: share.root,
        WEBDAV_TEST_SUITE_NAME: 'integration-desktop',
        ...serverShares.env,
      },
    });
    return code;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (/download|ENOTFOUND|ECONNREFUSED|EAI_AGAIN|getaddrinfo|fetch failed|socket|timed? ?out/i.test(msg)) {
      log(`could not download VS Code for @vscode/test-electron: ${msg}`);
      log('this needs internet access to update.code.visualstudio.com; without it run the same tests in');
      log('code-server instead: npm test -- --suite=integration');
    } else {
      log(`desktop VS Code run failed: ${msg}`);
    }
    console.log(summaryLine({ suite: 'integration-desktop', passed: 0, failed: 1 }));
    return 1;
  } finally {
    await serverShares.close();
    await share.close();
  }
}

main().then(
  code => process.exit(code),
  err => {
    console.error('[test] desktop:', err);
    process.exit(1);
  },
);
