// The commands about a share as a whole: sign in, forget credentials, go offline / online / toggle, and
// the pending changes' open and discard. Which share a command means: the one named (a key from the
// status bar, a node of the WebDAV view, a Source Control provider — see commandArgs.ts), else the one
// the user is working in, else a pick. A command that finds nothing to act on says so.
import * as vscode from 'vscode';
import type { Logger } from '../core/log';
import type { Share } from '../share/share';
import type { ShareRegistry } from '../share/shareRegistry';
import { noShareOpen, shareKeyOfArg } from './commandArgs';
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

  /** The share an argument names, else the one in use, else the user's pick; says so when there is none. */
  async shareByKey(arg?: unknown): Promise<Share | undefined> {
    const key = shareKeyOfArg(this.registry, arg);
    if (key !== undefined) {
      const named = this.registry.all().find(s => s.key === key);
      if (!named) void vscode.window.showInformationMessage(vscode.l10n.t('{0} is not open in this window.', key));
      return named;
    }
    const share = this.statusBar.current() ?? (await this.pickShare(vscode.l10n.t('Which WebDAV share?')));
    if (!share && !this.registry.all().length) noShareOpen();
    return share;
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

  async signIn(arg?: unknown): Promise<void> {
    const share = shareKeyOfArg(this.registry, arg) !== undefined ? await this.shareByKey(arg) : await this.pickShare(vscode.l10n.t('Sign in to which WebDAV share?'));
    if (!share) return noShareOpen();
    if (await share.signIn()) void vscode.window.showInformationMessage(vscode.l10n.t('Signed in to {0}.', share.key));
  }

  async forgetCredentials(arg?: unknown): Promise<void> {
    const keys = this.credentials.keys();
    const named = shareKeyOfArg(this.registry, arg);
    if (named !== undefined && !keys.includes(named)) return void vscode.window.showInformationMessage(vscode.l10n.t('No credentials are stored for {0}.', named));
    if (keys.length === 0) return void vscode.window.showInformationMessage(vscode.l10n.t('No WebDAV credentials are stored.'));
    const key = named ?? (keys.length === 1 ? keys[0] : await vscode.window.showQuickPick(keys, { title: vscode.l10n.t('Forget the credentials of which share?') }));
    if (!key) return;
    await this.credentials.forget(key);
    this.registry.all().find(s => s.key === key)?.forgetCredentials();
    this.log.info(`[auth] ${key}: credentials forgotten`);
    void vscode.window.showInformationMessage(vscode.l10n.t('Forgot the credentials of {0}.', key));
  }

  async goOffline(arg?: unknown): Promise<void> {
    const share = await this.shareByKey(arg);
    if (!share) return;
    if (share.connectionState?.kind === 'offline' && share.connectionState.manual) {
      return void vscode.window.showInformationMessage(vscode.l10n.t('{0} is offline already.', share.key));
    }
    await share.goOffline();
  }

  /** Resolves whether the share is online afterwards. */
  async goOnline(arg?: unknown): Promise<boolean> {
    const share = await this.shareByKey(arg);
    if (!share) return false;
    if (!share.connectionState) {
      void vscode.window.showInformationMessage(vscode.l10n.t('{0} runs live (no cache): it is always online.', share.key));
      return true;
    }
    if (!(await share.goOnline())) {
      const s = share.connectionState;
      const why = s?.kind === 'offline' && !s.manual ? s.reason : undefined;
      void vscode.window.showWarningMessage(
        why ? vscode.l10n.t('{0} is still offline: {1}. Retrying by itself.', share.key, why) : vscode.l10n.t('{0} is still offline. Retrying by itself.', share.key),
      );
    }
    return share.connectionState?.kind === 'online';
  }

  async toggleOnline(arg?: unknown): Promise<void> {
    const share = await this.shareByKey(arg);
    if (!share) return;
    if (share.connectionState?.kind === 'online') await share.goOffline();
    else await this.goOnline(share.key);
  }

  async openChange(arg?: unknown): Promise<void> {
    const t = PendingChangesScm.target(arg);
    if (!t) return void vscode.window.showInformationMessage(vscode.l10n.t('Open a pending change from the Source Control view.'));
    await PendingChangesScm.open(t.share, t.item);
  }

  /** Discards pending changes (after asking); each local version of a file goes to the recovered files. */
  async discardChanges(...args: unknown[]): Promise<void> {
    const targets = args.flat().map(a => PendingChangesScm.target(a)).filter(t => !!t);
    if (!targets.length) return void vscode.window.showInformationMessage(vscode.l10n.t('Discard a pending change from the Source Control view.'));
    const what = targets.length === 1 ? vscode.l10n.t('Discard this change?') : vscode.l10n.t('Discard these {0} changes?', targets.length);
    const discard = vscode.l10n.t('Discard');
    const ok = await vscode.window.showWarningMessage(what, { modal: true, detail: vscode.l10n.t('The local version of a file is kept in the recovered files.') }, discard);
    if (ok !== discard) return;
    for (const t of targets) await t.share.discardChange(t.item.id);
  }
}
