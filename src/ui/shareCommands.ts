// The commands about a share as a whole: sign in, forget credentials, go offline / online / toggle, and
// the pending changes' open and discard. Which share a command means: the one named (the status bar
// passes its key), else the one the user is working in, else a pick.
import * as vscode from 'vscode';
import type { Logger } from '../core/log';
import type { Share } from '../share/share';
import type { ShareRegistry } from '../share/shareRegistry';
import type { ConnectionStatusBar } from './connectionStatusBar';
import type { CredentialStore } from './credentialStore';
import { PendingChangesScm } from './pendingChangesScm';

export class ShareCommands {
  constructor(
    private readonly registry: ShareRegistry,
    private readonly credentials: CredentialStore,
    private readonly statusBar: ConnectionStatusBar,
    private readonly log: Logger,
  ) {}

  /** A share by its key, else the one in use, else the user's pick. */
  async shareByKey(key?: string): Promise<Share | undefined> {
    return (key ? this.registry.all().find(s => s.key === key) : this.statusBar.current()) ?? (await this.pickShare('Which WebDAV share?'));
  }

  async pickShare(title: string): Promise<Share | undefined> {
    const shares = this.registry.all();
    if (shares.length <= 1) return shares[0];
    const pick = await vscode.window.showQuickPick(
      shares.map(s => ({ label: s.key, share: s })),
      { title },
    );
    return pick?.share;
  }

  async signIn(): Promise<void> {
    const share = await this.pickShare('Sign in to which WebDAV share?');
    if (!share) return void vscode.window.showInformationMessage('No WebDAV share is open.');
    if (await share.signIn()) void vscode.window.showInformationMessage(`Signed in to ${share.key}.`);
  }

  async forgetCredentials(): Promise<void> {
    const keys = this.credentials.keys();
    if (keys.length === 0) return void vscode.window.showInformationMessage('No WebDAV credentials are stored.');
    const key = keys.length === 1 ? keys[0] : await vscode.window.showQuickPick(keys, { title: 'Forget the credentials of which share?' });
    if (!key) return;
    await this.credentials.forget(key);
    this.registry.all().find(s => s.key === key)?.forgetCredentials();
    this.log.info(`[auth] ${key}: credentials forgotten`);
    void vscode.window.showInformationMessage(`Forgot the credentials of ${key}.`);
  }

  async goOffline(key?: string): Promise<void> {
    const share = await this.shareByKey(key);
    if (share) await share.goOffline();
  }

  /** Resolves whether the share is online afterwards. */
  async goOnline(key?: string): Promise<boolean> {
    const share = await this.shareByKey(key);
    if (share && !(await share.goOnline())) {
      const s = share.connectionState;
      void vscode.window.showWarningMessage(`${share.key} is still offline${s?.kind === 'offline' && !s.manual ? `: ${s.reason}` : ''}. Retrying by itself.`);
    }
    return share?.connectionState?.kind === 'online';
  }

  async toggleOnline(key?: string): Promise<void> {
    const share = await this.shareByKey(key);
    if (!share) return;
    if (share.connectionState?.kind === 'online') await share.goOffline();
    else await this.goOnline(share.key);
  }

  async openChange(arg?: unknown): Promise<void> {
    const t = PendingChangesScm.target(arg);
    if (t) await PendingChangesScm.open(t.share, t.item);
  }

  /** Discards pending changes (after asking); each local version of a file goes to the recovered files. */
  async discardChanges(...args: unknown[]): Promise<void> {
    const targets = args.flat().map(a => PendingChangesScm.target(a)).filter(t => !!t);
    if (!targets.length) return;
    const what = targets.length === 1 ? 'this change' : `these ${targets.length} changes`;
    const ok = await vscode.window.showWarningMessage(`Discard ${what}? The local version of a file is kept in the recovered files.`, { modal: true }, 'Discard');
    if (ok !== 'Discard') return;
    for (const t of targets) await t.share.discardChange(t.item.id);
  }
}
