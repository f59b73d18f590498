// The status-bar item: the connection state of the share in use (the active editor's, else the first
// one), its pending changes; one click toggles online/offline. A window that works without the share's
// cache (another window has it open, or it could not be opened) says so here, for as long as it does.
// Also the offline / back-online notices, and one when the cache cannot be opened.
import * as vscode from 'vscode';
import { httpBaseUrl, isShareScheme } from '../core/shareLocation';
import type { CacheStatus, ConnectionState, Share } from '../share/share';
import type { ShareRegistry } from '../share/shareRegistry';

interface View {
  readonly share?: Share;
  readonly state?: ConnectionState;
  readonly cache?: CacheStatus;
  readonly pending: number;
  readonly conflicts: number;
  /** Replay progress while reconnecting. */
  readonly syncing?: { done: number; total: number };
}

export class ConnectionStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('webdavOffline.connection', vscode.StatusBarAlignment.Left, 10);
  private disposables: vscode.Disposable[] = [this.item];
  private view: View = { pending: 0, conflicts: 0 };
  /** Shares whose going offline was announced and not yet followed by "back online". */
  private readonly announced = new Set<string>();

  constructor(private readonly registry: ShareRegistry) {
    this.item.name = vscode.l10n.t('WebDAV Connection');
    const follow = (share: Share) => {
      share.onDidChangeConnection(change => {
        this.notify(share, change.previous, change.current);
        void this.refresh();
      }, undefined, this.disposables);
      share.onDidChangePending(() => void this.refresh(), undefined, this.disposables);
      share.onDidChangeCacheStatus(status => {
        if (status.kind === 'failed') {
          void vscode.window.showWarningMessage(
            vscode.l10n.t(
              '{0}: the cache could not be opened ({1}). This window works without it: reads and saves go straight to the server, and nothing is available offline. Reload the window to try again.',
              share.key,
              status.reason,
            ),
          );
        }
        void this.refresh();
      }, undefined, this.disposables);
      share.onDidReplayProgress(p => {
        if (share === this.view.share) {
          this.view = { ...this.view, syncing: p.done < p.total ? p : undefined };
          this.render();
        }
      }, undefined, this.disposables);
      void this.refresh();
    };
    registry.all().forEach(follow);
    registry.onDidAddShare(follow, undefined, this.disposables);
    this.disposables.push(vscode.window.onDidChangeActiveTextEditor(() => void this.refresh()));
    void this.refresh();
  }

  /** The share the user is working in. */
  current(): Share | undefined {
    const active = vscode.window.activeTextEditor?.document.uri;
    if (active && isShareScheme(active.scheme)) return this.registry.resolve(active.scheme, active.authority, active.path).share;
    const folder = vscode.workspace.workspaceFolders?.find(f => isShareScheme(f.uri.scheme));
    if (folder) return this.registry.resolve(folder.uri.scheme as 'dav', folder.uri.authority, folder.uri.path).share;
    return this.registry.all()[0];
  }

  private async refresh(): Promise<void> {
    const share = this.current();
    // only an open cache has pending changes (and asking before waits for the share to be ready)
    const open = share?.cacheStatus.kind === 'open';
    const conflicts = share && open ? (await share.conflicts()).length : 0;
    const pending = share && open ? (await share.pendingChanges()).length - conflicts : 0;
    this.view = { share, state: share?.connectionState, cache: share?.cacheStatus, pending, conflicts, syncing: share?.connectionState?.kind === 'reconnecting' ? this.view.syncing : undefined };
    this.render();
  }

  private render(): void {
    const { share, state, cache, pending, conflicts, syncing } = this.view;
    if (!share) return this.item.hide();
    const more =
      (pending ? ` · ${vscode.l10n.t('{0} pending', pending)}` : '') +
      (conflicts ? ` · $(warning) ${conflicts === 1 ? vscode.l10n.t('1 conflict') : vscode.l10n.t('{0} conflicts', conflicts)}` : '');
    let text: string;
    let tooltip: string;
    let warning = false;
    const withoutCache = withoutCacheText(share.key, cache);
    if (withoutCache) {
      [text, tooltip] = withoutCache;
      warning = true;
    } else switch (state?.kind) {
      case undefined:
        text = `$(cloud) ${vscode.l10n.t('WebDAV (live)')}`;
        tooltip = vscode.l10n.t('{0}: live mode, no cache; every read goes to the server', share.key);
        break;
      case 'online':
        text = `$(cloud) WebDAV${more}`;
        tooltip = vscode.l10n.t('{0}: online. Click to work offline.', share.key);
        warning = conflicts > 0;
        break;
      case 'reconnecting':
        text = syncing ? `$(sync~spin) ${vscode.l10n.t('WebDAV: Syncing {0}/{1}', syncing.done, syncing.total)}` : `$(sync~spin) ${vscode.l10n.t('WebDAV: Reconnecting')}${more}`;
        tooltip = syncing ? vscode.l10n.t('{0}: uploading the changes made offline…', share.key) : vscode.l10n.t('{0}: reconnecting…', share.key);
        break;
      case 'offline':
        warning = true;
        if (state.manual) {
          text = `$(debug-disconnect) ${vscode.l10n.t('WebDAV: Offline')}${more}`;
          tooltip = vscode.l10n.t('{0}: offline (by hand). Click to go online.', share.key);
        } else if (state.cause === 'signin') {
          text = `$(key) ${vscode.l10n.t('WebDAV: Sign-in needed')}${more}`;
          tooltip = vscode.l10n.t(
            '{0}: the server, or a gateway in front of it, answers with a web page instead of WebDAV: a sign-in is needed. Your changes are kept. Retrying by itself; click to retry now.',
            share.key,
          );
        } else if (state.cause === 'unstored') {
          text = `$(warning) ${vscode.l10n.t('WebDAV: Changes not stored')}${more}`;
          tooltip = vscode.l10n.t('{0}: {1}. Your changes are kept. Retrying by itself; click to retry now.', share.key, state.reason);
        } else if (state.cause === 'other') {
          text = `$(warning) ${vscode.l10n.t('WebDAV: Offline (reconnect failed)')}${more}`;
          tooltip = vscode.l10n.t('{0}: the reconnect failed: {1}. Your changes are kept. Retrying by itself; click to retry now.', share.key, state.reason);
        } else {
          text = `$(warning) ${vscode.l10n.t('WebDAV: Offline (unreachable)')}${more}`;
          tooltip = vscode.l10n.t('{0}: offline, the server cannot be reached ({1}). Retrying by itself; click to retry now.', share.key, state.reason);
        }
        break;
    }
    if (pending) tooltip += `\n${pending === 1 ? vscode.l10n.t('1 change waiting to be uploaded.') : vscode.l10n.t('{0} changes waiting to be uploaded.', pending)}`;
    if (conflicts) {
      tooltip += `\n${conflicts === 1 ? vscode.l10n.t('1 conflict: resolution required (Source Control view).') : vscode.l10n.t('{0} conflicts: resolution required (Source Control view).', conflicts)}`;
    }
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.backgroundColor = warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.command = state && !withoutCache ? { title: vscode.l10n.t('Toggle Online/Offline'), command: 'webdavOffline.toggleOnline', arguments: [share.key] } : undefined;
    this.item.accessibilityInformation = { label: tooltip };
    this.item.show();
  }

  private notify(share: Share, previous: ConnectionState, current: ConnectionState): void {
    if (current.kind === 'offline' && !current.manual && current.cause === 'signin' && !this.announced.has(`${share.key}#signin`)) {
      // one notice per streak: not again until the share was back online
      this.announced.add(`${share.key}#signin`);
      this.announced.add(share.key);
      const signIn = vscode.l10n.t('Sign In');
      const openInBrowser = vscode.l10n.t('Open in Browser');
      const retryNow = vscode.l10n.t('Retry Now');
      void vscode.window
        .showWarningMessage(
          vscode.l10n.t(
            '{0}: the server, or a gateway in front of it, asks for a sign-in (it answered with a web page instead of WebDAV). Cached files stay available and your changes are kept; they are uploaded once it lets them through.',
            share.key,
          ),
          signIn,
          openInBrowser,
          retryNow,
        )
        .then(async choice => {
          if (choice === signIn && (await share.signIn())) await share.goOnline();
          if (choice === openInBrowser) await vscode.env.openExternal(vscode.Uri.parse(httpBaseUrl(share.location) + '/'));
          if (choice === retryNow) await share.goOnline();
        });
    } else if (current.kind === 'offline' && !current.manual && !this.announced.has(share.key)) {
      this.announced.add(share.key);
      void vscode.window
        .showWarningMessage(
          current.cause === 'unstored'
            ? vscode.l10n.t('{0}: {1}. The share works offline until the server stores changes again; cached files stay available.', share.key, current.reason)
            : vscode.l10n.t('{0} is offline: {1}. Cached files stay available and your changes are kept; they are uploaded when the server is back.', share.key, current.reason),
          vscode.l10n.t('Retry Now'),
        )
        .then(async choice => {
          if (choice) await share.goOnline();
        });
    }
    if (current.kind === 'online' && previous.kind !== 'online') {
      this.announced.delete(`${share.key}#signin`);
      if (this.announced.delete(share.key) || previous.kind === 'reconnecting') {
        void vscode.window.showInformationMessage(vscode.l10n.t('{0} is back online.', share.key));
      }
    }
  }

  dispose(): void {
    this.disposables.forEach(d => d.dispose());
    this.disposables = [];
  }
}

/** The status of a window without the share's cache: [text, tooltip]; undefined when it has it (or it is off). */
function withoutCacheText(key: string, cache: CacheStatus | undefined): [string, string] | undefined {
  const live = vscode.l10n.t('Reads and saves go straight to the server (saves still never overwrite a newer version); nothing is available offline in this window.');
  switch (cache?.kind) {
    case 'waiting':
      return cache.live
        ? [
            vscode.l10n.t('$(warning) WebDAV: Without cache (open in another window)'),
            vscode.l10n.t('{0}: running without the cache, which {1} has open. {2} This window switches to the cache by itself as soon as that window is closed.', key, cache.holder, live),
          ]
        : [vscode.l10n.t('$(sync~spin) WebDAV: Waiting for the cache'), vscode.l10n.t('{0}: waiting for the cache, which {1} has open (closing, perhaps)…', key, cache.holder)];
    case 'failed':
      return [
        vscode.l10n.t('$(warning) WebDAV: Without cache'),
        vscode.l10n.t('{0}: running without the cache, which could not be opened: {1}. {2} Reload the window to try again.', key, cache.reason, live),
      ];
    default:
      return undefined;
  }
}
