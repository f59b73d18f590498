// Entry of the web-worker extension host (vscode.dev, VS Code for the Web): the browser's fetch, and
// the cache in IndexedDB. Certificates and proxies are the browser's business here: a self-signed
// certificate looks like a network failure to the extension, so such a failure says how to trust it.
import * as vscode from 'vscode';
import { activateWith, type WebdavOfflineApi } from './extension';
import { IdbCaches } from './platform/idbCaches';
import { IdbShareStores } from './platform/idbShareStore';

let api: WebdavOfflineApi | undefined;

/** Said after a network failure of an https: share in the browser (made at activation, in the display language). */
const httpsFailureHint = () =>
  vscode.l10n.t(
    'In the browser, the browser decides which certificates to trust: if the server uses a self-signed certificate, open its address in a browser tab and accept the certificate there (or install it, or the certificate authority that issued it, in your system or browser), then run "WebDAV: Go Online". The browser also chooses the proxy and any client certificate',
  );

export function activate(context: vscode.ExtensionContext): WebdavOfflineApi {
  api = activateWith(context, {
    name: 'web',
    httpsFailureHint: httpsFailureHint(),
    shareStores: (_ctx, logger) => new IdbShareStores({ logger }),
    storedCaches: () => new IdbCaches(),
  });
  return api;
}

export function deactivate(): Promise<void> | undefined {
  return api?.flush();
}
