// `npm start`: a fresh copy of sample-share/ served by nephele, opened as a dav: workspace folder in
// real VS Code with this repository as the extension under development.
//   npm start [-- --auth] [--port=<code-server port>] [--code-server]
// Desktop `code` on PATH → `code --extensionDevelopmentPath=<repo> --folder-uri dav://…`;
// otherwise code-server from .runtime/ (installed on first use) and the URL to open is printed last.
// Ctrl+C stops everything this started.
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEMO_USERS, startShare } from '../test/support/shareFixture';
import { exitOnSignals, onCleanup } from './lib/processes';
import { repoRoot } from './lib/repoRoot';
import { ensureRuntime, runtimePaths, startCodeServer } from './lib/runtime';

const log = (msg: string) => console.log(`[start] ${msg}`);

const { values } = parseArgs({
  options: {
    auth: { type: 'boolean', default: false }, // Basic auth alice/s3cret
    port: { type: 'string' }, // code-server port (default: a free one)
    'code-server': { type: 'boolean', default: false }, // even when a desktop `code` is on PATH
    help: { type: 'boolean', short: 'h' },
  },
});

function onPath(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

async function main(): Promise<void> {
  if (values.help) {
    console.log('npm start [-- --auth] [--port=<n>] [--code-server]');
    return;
  }
  exitOnSignals(log);
  const root = repoRoot();
  if (!existsSync(join(root, 'dist', 'extension.js'))) log('warning: dist/extension.js is missing; the dav: folder will not open');

  // --- the share: a fresh copy, so the template stays untouched
  const parentDir = runtimePaths().dir;
  mkdirSync(parentDir, { recursive: true });
  const share = await startShare({ parentDir, auth: values.auth, keep: true });
  onCleanup(() => share.close());
  log(`WebDAV server: ${share.httpUrl} (nephele) serving the copy ${share.root}`);
  if (values.auth) {
    const [[user, password]] = Object.entries(DEMO_USERS);
    log(`Basic auth is on: user "${user}", password "${password}"`);
  }

  // --- desktop VS Code
  const code = values['code-server'] ? undefined : onPath('code');
  if (code) {
    const args = [`--extensionDevelopmentPath=${root}`, '--folder-uri', share.folderUri, '--new-window'];
    log(`${code} ${args.join(' ')}`);
    const child = spawn(code, args, { stdio: 'inherit' });
    await new Promise<void>(resolve => child.once('exit', () => resolve()).once('error', () => resolve()));
    log(`VS Code opened ${share.folderUri}`);
    log('the WebDAV server keeps running; press Ctrl+C to stop it');
    return; // nephele keeps the process alive until Ctrl+C
  }

  // --- code-server in the browser
  await ensureRuntime();
  const cs = await startCodeServer({
    port: values.port ? Number(values.port) : undefined,
    extensionDevelopmentPath: root,
    folderUri: share.folderUri,
    userDataDir: join(runtimePaths().csData, 'user'), // settings persist between runs
  });
  log(`code-server: ${cs.origin} (log ${cs.logFile})`);
  log('press Ctrl+C to stop code-server and the WebDAV server');
  log('');
  log('Open this URL in your browser (VS Code with the extension under development, the dav: folder open):');
  console.log('');
  console.log(`    ${cs.url}`);
  console.log('');
}

main().catch(async err => {
  console.error(`[start] failed: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
