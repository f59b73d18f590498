// Offline, a folder whose names were never listed on this computer (beyond the limit of the whole-tree
// walk, or not reached before the connection was lost) cannot be shown; VS Code's Explorer would show it
// as an empty folder and say nothing, which reads as "my files are gone". This says so, once per folder
// a minute, and offers to go online.
import * as vscode from 'vscode';
import type { WebdavFileSystemProvider } from '../provider/webdavFileSystemProvider';
import { SECTION } from './settingsReader';

/** The same folder is not announced again within this time, ms. */
const PER_FOLDER_MS = 60_000;
/** Folders read together (a reload restores the expanded ones): one notice for all of them, ms. */
const TOGETHER_MS = 3_000;

export class OfflineFolderNotice implements vscode.Disposable {
  private readonly shown = new Map<string, number>();
  private last = 0;
  private readonly subscription: vscode.Disposable;

  constructor(provider: WebdavFileSystemProvider) {
    this.subscription = provider.onDidMissFolderOffline(e => this.show(e.uri, e.shareKey, e.message));
  }

  private show(uri: vscode.Uri, shareKey: string, message: string): void {
    const key = uri.toString();
    const now = Date.now();
    if (now - (this.shown.get(key) ?? -Infinity) < PER_FOLDER_MS || now - this.last < TOGETHER_MS) return;
    this.shown.set(key, now);
    this.last = now;
    const goOnline = vscode.l10n.t('Go Online');
    void vscode.window.showWarningMessage(message, goOnline).then(choice => {
      if (choice === goOnline) void vscode.commands.executeCommand(`${SECTION}.goOnline`, shareKey);
    });
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
