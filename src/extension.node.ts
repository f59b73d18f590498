// Entry of the Node extension host (desktop, code-server): keep-alive agents so requests reuse connections.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type * as vscode from 'vscode';
import { activateWith, type WebdavOfflineApi } from './extension';

export function activate(context: vscode.ExtensionContext): WebdavOfflineApi {
  return activateWith(context, {
    name: 'node',
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 8 }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 8 }),
  });
}

export function deactivate(): void {}
