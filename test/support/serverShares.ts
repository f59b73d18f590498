// The Debian servers of the integration suite, next to its nephele workspace share: Apache mod_dav_fs
// and lighttpd mod_webdav, each serving a throw-away copy of sample-share/ at /share without sign-in,
// and a sign-in gateway (signInGateway.ts) in front of the Apache one: the same folder, reached through
// a proxy whose mode the tests switch. They are not workspace folders (adding one would restart the
// extension host); tests open their files by URI. The runners (code-server and desktop) start them and
// describe them to the extension host in environment variables (see serverSharesEnv.ts).
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup } from '../../scripts/lib/processes';
import { repoRoot } from '../../scripts/lib/repoRoot';
import { startApache } from './apacheServer';
import { startLighttpd } from './lighttpdServer';
import type { RunningServer } from './nepheleServer';
import { assertServerInstalled } from './servers';
import {
  SERVER_SHARE_NAMES,
  SERVER_SHARES_ENV,
  SIGNIN_GATEWAY_ENV,
  type GatewayInfo,
  type ServerShareInfo,
  type ServerShareName,
} from './serverSharesEnv';
import { startSignInGateway, type SignInGateway } from './signInGateway';

/** The server share the sign-in gateway stands in front of. */
const GATEWAY_BEHIND: ServerShareName = 'apache';

/** Their Debian packages (npm test installs them before the integration suite). */
export const SERVER_SHARES_APT_PACKAGES = ['apache2', 'lighttpd', 'lighttpd-mod-webdav'];

export interface ServerShares {
  readonly info: Record<ServerShareName, ServerShareInfo>;
  readonly gateway: GatewayInfo;
  /** The environment for the extension host: { WEBDAV_TEST_SHARES: JSON, WEBDAV_TEST_SIGNIN_GATEWAY: JSON }. */
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
  const origins = new Map<ServerShareName, string>();
  const owner = process.getuid?.() === 0 ? 'www-data:www-data' : null; // both drop to www-data as root
  for (const name of SERVER_SHARE_NAMES) {
    let root: string | undefined;
    try {
      assertServerInstalled(name);
      root = mkdtempSync(join(tmpdir(), `webdav-share-${name}-`));
      cpSync(join(repoRoot(), 'sample-share'), root, { recursive: true });
      const server = await STARTERS[name]({ root, mount: '/share' }); // hands `root` to its user
      running.push({ server, root });
      origins.set(name, server.origin);
      info[name] = { folderUri: `dav://127.0.0.1:${server.port}/share/`, diskRoot: root, owner };
    } catch (err) {
      if (root) rmSync(root, { recursive: true, force: true });
      info[name] = { error: `${name} share not started: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
  let gatewayInfo: GatewayInfo;
  let signInGateway: SignInGateway | undefined;
  const behind = info[GATEWAY_BEHIND];
  const behindOrigin = origins.get(GATEWAY_BEHIND);
  if ('error' in behind || !behindOrigin) {
    gatewayInfo = { error: `sign-in gateway not started: it stands in front of the ${GATEWAY_BEHIND} share (${'error' in behind ? behind.error : 'not running'})` };
  } else {
    try {
      signInGateway = await startSignInGateway({ target: behindOrigin });
      gatewayInfo = {
        folderUri: `dav://127.0.0.1:${signInGateway.port}/share/`,
        diskRoot: behind.diskRoot,
        owner: behind.owner,
        behind: GATEWAY_BEHIND,
        controlUrl: signInGateway.controlUrl,
      };
    } catch (err) {
      gatewayInfo = { error: `sign-in gateway not started: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
  let closed = false;
  // a runner stopped by a signal stops these child processes too
  const forget = onCleanup(() => shares.close());
  const shares: ServerShares = {
    info,
    gateway: gatewayInfo,
    env: { [SERVER_SHARES_ENV]: JSON.stringify(info), [SIGNIN_GATEWAY_ENV]: JSON.stringify(gatewayInfo) },
    describe: () => [
      ...SERVER_SHARE_NAMES.map(n => {
        const i = info[n];
        return 'error' in i ? i.error : `${n} serves ${i.diskRoot} as ${i.folderUri}`;
      }),
      'error' in gatewayInfo
        ? gatewayInfo.error
        : `a sign-in gateway in front of ${gatewayInfo.behind} serves it as ${gatewayInfo.folderUri} (mode control: ${gatewayInfo.controlUrl})`,
    ],
    async close() {
      if (closed) return;
      closed = true;
      forget();
      await signInGateway?.close();
      for (const { server, root } of running) {
        await server.close().catch(() => undefined);
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
  return shares;
}
