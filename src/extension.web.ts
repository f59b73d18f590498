// Entry of the web-worker extension host (vscode.dev, VS Code for the Web): the browser's fetch, and
// the cache in IndexedDB.
import type * as vscode from 'vscode';
import { activateWith, type WebdavOfflineApi } from './extension';
import { IdbCacheStorage } from './platform/idbShareStore';

let api: WebdavOfflineApi | undefined;

export function activate(context: vscode.ExtensionContext): WebdavOfflineApi {
  api = activateWith(context, { name: 'web', cacheStorage: (_ctx, logger) => new IdbCacheStorage({ logger }) });
  return api;
}

export function deactivate(): Promise<void> | undefined {
  return api?.flush();
}
