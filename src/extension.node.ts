// Entry of the Node extension host (desktop, code-server): each share gets a transport of its own
// (platform/nodeTransport.ts: keep-alive connections, the certificate trusted for it, its CA file and
// client certificate, VS Code's proxy settings), and the cache lives on disk under the extension's
// global storage.
import { join } from 'node:path';
import type * as vscode from 'vscode';
import { activateWith, type WebdavOfflineApi } from './extension';
import { DiskCaches } from './platform/diskCaches';
import { DiskShareStores } from './platform/diskShareStore';
import { streamBody } from './platform/nodeFetch';
import { createNodeTransport } from './platform/nodeTransport';

let api: WebdavOfflineApi | undefined;

const cacheRoot = (context: vscode.ExtensionContext) => join(context.globalStorageUri.fsPath, 'cache');

export function activate(context: vscode.ExtensionContext): WebdavOfflineApi {
  api = activateWith(context, {
    name: 'node',
    transport: options => createNodeTransport(options),
    streamBody,
    shareStores: (ctx, logger) => new DiskShareStores(cacheRoot(ctx), { logger }),
    storedCaches: ctx => new DiskCaches(cacheRoot(ctx)),
  });
  return api;
}

export function deactivate(): Promise<void> | undefined {
  return api?.flush();
}
