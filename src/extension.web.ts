// Entry of the web-worker extension host (vscode.dev, VS Code for the Web): the browser's fetch.
import type * as vscode from 'vscode';
import { activateWith, type WebdavOfflineApi } from './extension';

export function activate(context: vscode.ExtensionContext): WebdavOfflineApi {
  return activateWith(context, { name: 'web' });
}

export function deactivate(): void {}
