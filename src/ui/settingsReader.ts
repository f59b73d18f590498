// The only reader of VS Code's configuration: a frozen Settings, re-read when the section changes.
import * as vscode from 'vscode';
import { DEFAULTS, type Settings } from '../core/settings';

export const SECTION = 'webdavOffline';

export class SettingsReader implements vscode.Disposable {
  private current: Settings = read();
  private readonly subscription = vscode.workspace.onDidChangeConfiguration(e => {
    if (e.affectsConfiguration(SECTION)) this.current = read();
  });

  get settings(): Settings {
    return this.current;
  }

  dispose(): void {
    this.subscription.dispose();
  }
}

function read(): Settings {
  const c = vscode.workspace.getConfiguration(SECTION);
  const seconds = (key: string, fallbackMs: number) => Math.max(1, c.get<number>(key, fallbackMs / 1000)) * 1000;
  return Object.freeze({
    requestTimeoutMs: seconds('requestTimeout', DEFAULTS.requestTimeoutMs),
    transferTimeoutMs: seconds('transferTimeout', DEFAULTS.transferTimeoutMs),
  });
}
