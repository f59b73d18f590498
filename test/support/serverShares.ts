// The Debian servers of the integration suite, next to its nephele workspace share: Apache mod_dav_fs
// and lighttpd mod_webdav, each serving a throw-away copy of sample-share/ at /share without sign-in.
// They are not workspace folders (adding one would restart the extension host); tests open their files
// by URI. The runners (code-server and desktop) start them and describe them to the extension host in
// one environment variable (see serverSharesEnv.ts).
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup } from '../../scripts/lib/processes';
import { repoRoot } from '../../scripts/lib/repoRoot';
import { startApache } from './apacheServer';
import { startLighttpd } from './lighttpdServer';
import type { RunningServer } from './nepheleServer';
import { assertServerInstalled } from './servers';
import { SERVER_SHARE_NAMES, SERVER_SHARES_ENV, type ServerShareInfo, type ServerShareName } from './serverSharesEnv';

/** Their Debian packages (npm test installs them before the integration suite). */
export const SERVER_SHARES_APT_PACKAGES = ['apache2', 'lighttpd', 'lighttpd-mod-webdav'];

export interface ServerShares {
  readonly info: Record<ServerShareName, ServerShareInfo>;
  /** The environment for the extension host: { WEBDAV_TEST_SHARES: JSON }. */
  readonly env: Record<string, string>;
  /** One line per server, for the runner's log. */
  describe(): string[];
  close(): Promise<void>;
}

const STARTERS: Record<ServerShareName, (o: { root: string; mount: string }) => Promise<RunningServer>> = {
  apache: startApache,
  lighttpd: startLighttpd,
};

/**
 * Starts every server share. One that cannot start (not installed, failed) is described by its error;
 * the others still run, so only the tests that need the missing one fail.
 */
export async function startServerShares(): Promise<ServerShares> {
  const info = {} as Record<ServerShareName, ServerShareInfo>;
  const running: { server: RunningServer; root: string }[] = [];
  const owner = process.getuid?.() === 0 ? 'www-data:www-data' : null; // both drop to www-data as root
  for (const name of SERVER_SHARE_NAMES) {
    let root: string | undefined;
    try {
      assertServerInstalled(name);
      root = mkdtempSync(join(tmpdir(), `webdav-share-${name}-`));
      cpSync(join(repoRoot(), 'sample-share'), root, { recursive: true });
      const server = await STARTERS[name]({ root, mount: '/share' }); // hands `root` to its user
      running.push({ server, root });
      info[name] = { folderUri: `dav://127.0.0.1:${server.port}/share/`, diskRoot: root, owner };
    } catch (err) {
      if (root) rmSync(root, { recursive: true, force: true });
      info[name] = { error: `${name} share not started: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
  let closed = false;
  // a runner stopped by a signal stops these child processes too
  const forget = onCleanup(() => shares.close());
  const shares: ServerShares = {
    info,
    env: { [SERVER_SHARES_ENV]: JSON.stringify(info) },
    describe: () => SERVER_SHARE_NAMES.map(n => {
      const i = info[n];
      return 'error' in i ? i.error : `${n} serves ${i.diskRoot} as ${i.folderUri}`;
    }),
    async close() {
      if (closed) return;
      closed = true;
      forget();
      for (const { server, root } of running) {
        await server.close().catch(() => undefined);
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
  return shares;
}
