// The transport servers of the integration suite: Apache (apacheTls.ts) on 127.0.0.2 serving a copy of
// sample-share/, and tinyproxy asking for credentials as the proxy VS Code is configured with
// (`http.proxy`; 127.0.0.1 shares never go through it). Described to the extension host in
// WEBDAV_TEST_TRANSPORT (transportEnv.ts); a failure to start is described there too.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup } from '../../scripts/lib/processes';
import { repoRoot } from '../../scripts/lib/repoRoot';
import { BEARER_TOKEN, startApacheTls, type ApacheTls } from './apacheTls';
import { handToServer, USERS } from './servers';
import { startTinyproxy, type TinyProxy } from './tinyproxy';
import { TRANSPORT_ENV, type TransportInfo } from './transportEnv';

export const PROXY_USER = { user: 'proxyuser', password: 'pr0xy-s3cret' };

export interface TransportServers {
  readonly info: TransportInfo;
  readonly env: Record<string, string>;
  /** User settings for code-server: `http.proxy` (none when the proxy did not start). */
  readonly settings: Record<string, unknown>;
  describe(): string;
  close(): Promise<void>;
}

export async function startTransportServers(): Promise<TransportServers> {
  let root: string | undefined;
  let apache: ApacheTls | undefined;
  let proxy: TinyProxy | undefined;
  let info: TransportInfo;
  try {
    root = mkdtempSync(join(tmpdir(), 'webdav-share-transport-'));
    cpSync(join(repoRoot(), 'sample-share'), root, { recursive: true });
    handToServer('apache', root);
    apache = await startApacheTls({ root, users: USERS });
    proxy = await startTinyproxy({ credentials: PROXY_USER });
    info = { plain: apache.authority('plain'), diskRoot: root, bearerToken: BEARER_TOKEN, proxyUrl: proxy.url, proxyLog: proxy.logFile };
  } catch (err) {
    info = { error: `transport servers not started: ${err instanceof Error ? err.message : String(err)}` };
  }
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    forget();
    await proxy?.close().catch(() => undefined);
    await apache?.close().catch(() => undefined);
    if (root) rmSync(root, { recursive: true, force: true });
  };
  const forget = onCleanup(close);
  return {
    info,
    env: { [TRANSPORT_ENV]: JSON.stringify(info) },
    settings: proxy ? { 'http.proxy': proxy.urlWithCredentials } : {},
    describe: () => ('error' in info ? info.error : `Apache serves ${info.diskRoot} on ${info.plain} (/digest, /bearer, /windows), through the proxy ${info.proxyUrl} (http.proxy, with credentials)`),
    close,
  };
}
