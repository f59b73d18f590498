// Sign-in methods and the proxy in real VS Code's extension host: Apache on 127.0.0.2 (its plain
// listener, test/support/apacheTls.ts), reached through the proxy VS Code is configured with
// (`http.proxy`, a tinyproxy that asks for credentials — VS Code patches Node's https.request, so this
// proves the shares' own transport honours the setting). Digest with the credentials of the address,
// a bearer token set with "WebDAV: Set Access Token…", and a server that only offers Windows sign-in
// (a prompt there would never be answered: the test would hang instead of failing with the message).
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { proxyRequests, TRANSPORT_ENV, type TransportInfo } from '../support/transportEnv';
import { text } from './harness';
import { api } from './serverControl';

function transport(): Extract<TransportInfo, { plain: string }> {
  const raw = process.env[TRANSPORT_ENV];
  if (!raw) throw new Error(`${TRANSPORT_ENV} is not set: run through the test runner (npm test -- --suite=integration)`);
  const info = JSON.parse(raw) as TransportInfo;
  if ('error' in info) throw new Error(info.error);
  return info;
}

/** Declares `basePath` as a share (as "Open Folder…" does), so each test's share has options of its own. */
function shareAt(basePath: string): void {
  api().registry.addBase({ scheme: 'dav', authority: transport().plain, basePath });
}

const carried = () => proxyRequests(readFileSync(transport().proxyLog, 'utf8'));

suite('integration: sign-in methods through the configured proxy', function () {
  this.timeout(60_000);

  test('Digest, with the credentials of the address: the file is read, through the proxy', async () => {
    const t = transport();
    shareAt('/digest');
    const uri = vscode.Uri.parse(`dav://alice:s3cret@${t.plain}/digest/notes.md`);
    assert.equal(text(await vscode.workspace.fs.readFile(uri)), readFileSync(join(t.diskRoot, 'notes.md'), 'utf8'));
    assert.ok(
      carried().some(r => r === `GET http://${t.plain}/digest/notes.md`),
      `the proxy carried the request: ${carried().slice(-5).join(', ')}`,
    );
  });

  test('a bearer token set with "WebDAV: Set Access Token…": refused before (no password prompt), read after', async () => {
    const t = transport();
    shareAt('/bearer');
    const uri = vscode.Uri.parse(`dav://${t.plain}/bearer/notes.md`);
    await assert.rejects(Promise.resolve(vscode.workspace.fs.readFile(uri)), (err: unknown) => {
      assert.ok(err instanceof vscode.FileSystemError, String(err));
      assert.match(err.message, /asks for a bearer token.*Set Access Token/);
      return true;
    });
    await vscode.commands.executeCommand('webdavOffline.setAccessToken', `dav://${t.plain}/bearer/`, t.bearerToken);
    await new Promise(r => setTimeout(r, 100));
    assert.equal(text(await vscode.workspace.fs.readFile(uri)), readFileSync(join(t.diskRoot, 'notes.md'), 'utf8'));
  });

  test('a server that only offers Windows sign-in: a clear message at once, no password prompt', async () => {
    const t = transport();
    shareAt('/windows');
    const uri = vscode.Uri.parse(`dav://${t.plain}/windows/notes.md`);
    await assert.rejects(Promise.resolve(vscode.workspace.fs.readFile(uri)), (err: unknown) => {
      assert.ok(err instanceof vscode.FileSystemError, String(err));
      assert.match(err.message, /asks for Windows sign-in \(Negotiate\/NTLM\).*app password/);
      return true;
    });
  });
});
