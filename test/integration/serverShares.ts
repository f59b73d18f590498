// The Apache and lighttpd shares the runner starts next to the nephele workspace folder, and the sign-in
// gateway in front of the Apache one (test/support/serverShares.ts; described in WEBDAV_TEST_SHARES and
// WEBDAV_TEST_SIGNIN_GATEWAY, see serverSharesEnv.ts). They are not workspace folders:
// tests open their files by URI, after declaring `/share` as a share base the way "Open Folder…" does,
// so the extension roots the share there and not at the server's `/`. `writeAsColleague` changes a
// file behind the extension's back, straight on the server's disk, owned by the server's user.
// `setMode` switches the gateway (pass / all / writes) through its control endpoint.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { normalizePath } from '../../src/core/remotePath';
import {
  SERVER_SHARES_ENV,
  SIGNIN_GATEWAY_ENV,
  type GatewayInfo,
  type GatewayMode,
  type GatewayStatus,
  type ServerShareInfo,
  type ServerShareName,
} from '../support/serverSharesEnv';
import { api } from './serverControl';

export interface ServerShare {
  readonly name: ServerShareName | 'gateway';
  /** dav: URI of the share's folder (`dav://127.0.0.1:PORT/share/`). */
  readonly folder: vscode.Uri;
  /** URI of a share-relative path. */
  uri(rel: string): vscode.Uri;
  /** Path on the server's disk of a share-relative path. */
  diskPath(rel: string): string;
  /** Writes `content` to `rel` straight into the served folder, as someone else would. */
  writeAsColleague(rel: string, content: string): void;
}

export function serverShare(name: ServerShareName): ServerShare {
  const raw = process.env[SERVER_SHARES_ENV];
  if (!raw) throw new Error(`${SERVER_SHARES_ENV} is not set: run through the test runner (npm test -- --suite=integration)`);
  const info = (JSON.parse(raw) as Record<string, ServerShareInfo | undefined>)[name];
  if (!info) throw new Error(`the runner started no ${name} share (${SERVER_SHARES_ENV} has ${Object.keys(JSON.parse(raw)).join(', ')})`);
  if ('error' in info) throw new Error(info.error);
  return shareOf(name, info);
}

export interface GatewayShare extends ServerShare {
  /** The server share behind the gateway (its disk is this share's disk). */
  readonly behind: ServerShareName;
  /** Switches the gateway's mode; resolves with its status. */
  setMode(mode: GatewayMode): Promise<GatewayStatus>;
  /** The gateway's mode and what it answered so far. */
  status(): Promise<GatewayStatus>;
}

/** The share behind the sign-in gateway (test/support/signInGateway.ts). */
export function gatewayShare(): GatewayShare {
  const raw = process.env[SIGNIN_GATEWAY_ENV];
  if (!raw) throw new Error(`${SIGNIN_GATEWAY_ENV} is not set: run through the test runner (npm test -- --suite=integration)`);
  const info = JSON.parse(raw) as GatewayInfo;
  if ('error' in info) throw new Error(info.error);
  const ask = async (method: 'GET' | 'POST', route: string, body?: string): Promise<GatewayStatus> => {
    const r = await fetch(`${info.controlUrl}${route}`, { method, body, signal: AbortSignal.timeout(5_000) });
    const answer = (await r.json()) as GatewayStatus & { error?: string };
    assert.equal(r.status, 200, `sign-in gateway ${method} ${route}: ${answer.error ?? r.status}`);
    return answer;
  };
  return {
    ...shareOf('gateway', info),
    behind: info.behind,
    async setMode(mode) {
      const status = await ask('POST', '/gateway/mode', mode);
      assert.equal(status.mode, mode, `the sign-in gateway is in mode ${status.mode}, not ${mode}`);
      return status;
    },
    status: () => ask('GET', '/gateway/status'),
  };
}

function shareOf(name: ServerShare['name'], info: { folderUri: string; diskRoot: string; owner: string | null }): ServerShare {
  const folder = vscode.Uri.parse(info.folderUri);
  api().registry.addBase({ scheme: 'dav', authority: folder.authority.toLowerCase(), basePath: normalizePath(folder.path) });
  const diskPath = (rel: string) => join(info.diskRoot, ...rel.split('/'));
  return {
    name,
    folder,
    uri: rel => vscode.Uri.joinPath(folder, ...rel.split('/')),
    diskPath,
    writeAsColleague(rel, content) {
      writeFileSync(diskPath(rel), content);
      if (info.owner) {
        const r = spawnSync('chown', [info.owner, diskPath(rel)], { encoding: 'utf8' });
        assert.equal(r.status, 0, `chown ${info.owner} ${diskPath(rel)}: ${r.stderr || r.error}`);
      }
    },
  };
}
