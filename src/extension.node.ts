// Entry of the Node extension host (desktop, code-server): keep-alive agents so requests reuse
// connections, and the cache on disk under the extension's global storage.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { join } from 'node:path';
import type * as vscode from 'vscode';
import { activateWith, type WebdavOfflineApi } from './extension';
import { DiskShareStores } from './platform/diskShareStore';

let api: WebdavOfflineApi | undefined;

export function activate(context: vscode.ExtensionContext): WebdavOfflineApi {
  api = activateWith(context, {
    name: 'node',
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 8 }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 8 }),
    shareStores: (ctx, logger) => new DiskShareStores(join(ctx.globalStorageUri.fsPath, 'cache'), { logger }),
  });
  return api;
}

export function deactivate(): Promise<void> | undefined {
  return api?.flush();
}
