// Stops and restarts the WebDAV server from inside the extension host, to simulate the network going
// away. The runner (test/support/shareFixture.ts) owns nephele and passes the URL of its control
// endpoint in WEBDAV_TEST_SERVER_CONTROL. Also: the extension's API and the share of a URI.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { WebdavOfflineApi } from '../../src/extension';
import type { Share } from '../../src/share/share';
import { eventually, shareUri } from './harness';

function controlUrl(): string {
  const url = process.env.WEBDAV_TEST_SERVER_CONTROL;
  if (!url) throw new Error('WEBDAV_TEST_SERVER_CONTROL is not set: run through the test runner (npm test -- --suite=integration)');
  return url;
}

async function control(action: 'stop' | 'start'): Promise<void> {
  const r = await fetch(`${controlUrl()}/server/${action}`, { method: 'POST' });
  const body = (await r.json()) as { running: boolean; error?: string };
  assert.equal(r.status, 200, `server ${action}: ${body.error ?? r.status}`);
  assert.equal(body.running, action === 'start', `server ${action}: running is ${body.running}`);
}

/** Closes nephele and its connections: the port refuses connections until startServer(). */
export const stopServer = () => control('stop');
/** Serves the same folder on the same port again. */
export const startServer = () => control('start');

export function api(): WebdavOfflineApi {
  const ext = vscode.extensions.getExtension<WebdavOfflineApi>('webdav-offline.webdav-offline');
  assert.ok(ext?.isActive, 'the extension is active');
  return ext.exports;
}

/** The share and share-relative path of a dav: URI. */
export function resolve(uri: vscode.Uri): { share: Share; path: string } {
  return api().registry.resolve(uri.scheme as 'dav', uri.authority, uri.path);
}

/** The share of the workspace folder. */
export const workspaceShare = (): Share => resolve(shareUri()).share;

/** Waits until the share's connection state is `kind` (polled through the API). */
export async function waitForState(share: Share, kind: 'online' | 'offline', ms = 30_000): Promise<void> {
  await eventually(() => assert.equal(share.connectionState?.kind, kind, `connection state of ${share.key}`), ms);
}

/** Back to normal after a test: the server runs and the share is online with nothing pending. */
export async function restoreOnline(): Promise<void> {
  await startServer();
  const share = workspaceShare();
  await eventually(async () => {
    if (share.connectionState?.kind !== 'online') await share.goOnline();
    assert.equal(share.connectionState?.kind, 'online', 'the share is online again');
  }, 30_000);
}
