// Entry of the web-worker extension host (vscode.dev, VS Code for the Web): the browser's fetch, and
// the cache in IndexedDB.
import type * as vscode from 'vscode';
import { activateWith, type WebdavOfflineApi } from './extension';
import { IdbShareStores } from './platform/idbShareStore';

let api: WebdavOfflineApi | undefined;

export function activate(context: vscode.ExtensionContext): WebdavOfflineApi {
  api = activateWith(context, { name: 'web', shareStores: (_ctx, logger) => new IdbShareStores({ logger }) });
  return api;
}

export function deactivate(): Promise<void> | undefined {
  return api?.flush();
}
