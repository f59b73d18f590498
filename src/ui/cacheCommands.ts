// "Keep Available Offline", "Free Up Space", "Show Cache Usage" and the cache-full notice. They act on
// the Explorer's selection, a URI, the active editor, or a share of the WebDAV view (its whole folder).
import * as vscode from 'vscode';
import { isShareScheme } from '../core/shareLocation';
import type { PinProgress, Share } from '../share/share';
import type { ShareRegistry } from '../share/shareRegistry';
import { uriOf } from '../provider/webdavFileSystemProvider';
import { noShareOpen, shareOfArg } from './commandArgs';
import { SECTION } from './settingsReader';
import { describeTree } from './treeCommands';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

export class CacheCommands implements vscode.Disposable {
  private disposables: vscode.Disposable[] = [];

  constructor(private readonly registry: ShareRegistry) {
    const follow = (share: Share) =>
      share.onDidBecomeFull(
        full => {
          const message =
            full.reason === 'storage'
              ? vscode.l10n.t("The WebDAV cache of {0} could not store more: the disk or the browser's storage is full.", share.key)
              : vscode.l10n.t(
                  'The WebDAV cache of {0} is full: {1} are kept offline (pinned or not yet uploaded), more than the limit of {2}. Nothing was removed.',
                  share.key,
                  formatBytes(full.keptBytes),
                  formatBytes(full.limitBytes),
                );
          const openSetting = vscode.l10n.t('Open Setting');
          const freeUp = vscode.l10n.t('Free Up Space');
          void vscode.window.showWarningMessage(message, openSetting, freeUp).then(choice => {
            if (choice === openSetting) void vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.cache.maxSize`);
            if (choice === freeUp) void vscode.commands.executeCommand(`${SECTION}.freeUpSpace`);
          });
        },
        undefined,
        this.disposables,
      );
    registry.all().forEach(follow);
    registry.onDidAddShare(follow, undefined, this.disposables);
  }

  /** The URIs a command acts on: the Explorer selection, the given URI, a view's share, or the active editor. */
  private targets(arg?: unknown, selection?: vscode.Uri[]): vscode.Uri[] {
    const share = arg instanceof vscode.Uri ? undefined : shareOfArg(this.registry, arg);
    const uri = arg instanceof vscode.Uri ? arg : share ? uriOf(share, '/') : undefined;
    const picked = selection?.length ? selection : uri ? [uri] : [];
    if (picked.length) return picked.filter(u => isShareScheme(u.scheme));
    const active = vscode.window.activeTextEditor?.document.uri;
    return active && isShareScheme(active.scheme) ? [active] : [];
  }

  private resolve(uri: vscode.Uri) {
    return this.registry.resolve(uri.scheme as 'dav' | 'davs', uri.authority, uri.path);
  }

  async pin(uri?: unknown, selection?: vscode.Uri[]): Promise<number> {
    let targets = this.targets(uri, selection);
    if (!targets.length) {
      const folder = await this.pickFolder(vscode.l10n.t('Keep which WebDAV folder available offline?'));
      if (!folder) return 0;
      targets = [folder];
    }
    let files = 0;
    for (const target of targets) {
      const { share, path } = this.resolve(target);
      const name = path === '/' ? share.key : path;
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Keeping {0} available offline', name), cancellable: true },
        async (progress, token) => {
          const abort = new AbortController();
          const sub = token.onCancellationRequested(() => abort.abort());
          let last = 0;
          const report = (p: PinProgress) => {
            const done = p.filesTotal ? (p.filesDone / p.filesTotal) * 100 : 0;
            progress.report({
              message: vscode.l10n.t('{0} of {1} files · {2} of {3}', p.filesDone, p.filesTotal, formatBytes(p.bytesDone), formatBytes(p.bytesTotal)),
              increment: done - last,
            });
            last = done;
          };
          try {
            return await share.pin(path, report, abort.signal);
          } finally {
            sub.dispose();
          }
        },
      );
      files += result.filesDone - result.failed.length;
      if (result.cancelled) void vscode.window.showInformationMessage(vscode.l10n.t('Stopped keeping {0} available offline.', name));
      else if (result.failed.length) {
        void vscode.window
          .showWarningMessage(
            vscode.l10n.t('{0} of {1} files of {2} could not be downloaded: {3}', result.failed.length, result.filesTotal, name, result.failed[0].error),
            vscode.l10n.t('Show Log'),
          )
          .then(c => c && vscode.commands.executeCommand(`${SECTION}.showLog`));
      } else {
        void vscode.window.showInformationMessage(vscode.l10n.t('{0} is available offline: {1} files, {2}.', name, result.filesTotal, formatBytes(result.bytesTotal)));
      }
    }
    return files;
  }

  async freeUpSpace(uri?: unknown, selection?: vscode.Uri[]): Promise<number> {
    let targets = this.targets(uri, selection);
    if (!targets.length) {
      const folder = await this.pickFolder(vscode.l10n.t('Free up the space of which WebDAV folder?'));
      if (!folder) return 0;
      targets = [folder];
    }
    let freed = 0;
    for (const target of targets) {
      const { share, path } = this.resolve(target);
      freed += await share.freeUpSpace(path);
    }
    void vscode.window.showInformationMessage(vscode.l10n.t('Freed {0} of cached WebDAV content; it is downloaded again when opened.', formatBytes(freed)));
    return freed;
  }

  /** The usage of every open share, or of the one a view node names. */
  async showUsage(arg?: unknown): Promise<void> {
    const items: vscode.QuickPickItem[] = [];
    const only = shareOfArg(this.registry, arg);
    for (const share of only ? [only] : this.registry.all()) {
      const u = await share.usage();
      const caps = share.knownCapabilities();
      const quota = u?.quota;
      const server = [
        quota?.available !== undefined
          ? quota.used !== undefined
            ? vscode.l10n.t('server: {0} free, {1} used', formatBytes(quota.available), formatBytes(quota.used))
            : vscode.l10n.t('server: {0} free', formatBytes(quota.available))
          : undefined,
        caps
          ? caps.ifMatch && caps.ifNoneMatch
            ? vscode.l10n.t('conflict detection: by the server (If-Match)')
            : vscode.l10n.t('conflict detection: by comparing versions before each write')
          : undefined,
        caps
          ? [caps.etagInListing ? vscode.l10n.t('etags: yes') : vscode.l10n.t('etags: no'), caps.etagPropagation ? vscode.l10n.t('folder etags follow changes below') : '', caps.depthInfinity ? vscode.l10n.t('whole-tree listings') : '']
              .filter(Boolean)
              .join(', ')
          : undefined,
      ].filter(Boolean);
      items.push({
        label: share.key,
        description: u
          ? vscode.l10n.t('{0} of {1} · {2} files cached · {3} pinned ({4} kept)', formatBytes(u.bytes), formatBytes(u.limitBytes), u.files, u.pinnedFiles, formatBytes(u.keptBytes))
          : vscode.l10n.t('live mode: no cache'),
        detail: [u ? (u.tree ? describeTree(u.tree) : vscode.l10n.t('{0} items known', u.entries)) : undefined, ...server].filter(Boolean).join(' · ') || undefined,
      });
    }
    if (!items.length) return noShareOpen();
    await vscode.window.showQuickPick(items, { title: vscode.l10n.t('WebDAV cache usage') });
  }

  private async pickFolder(title: string): Promise<vscode.Uri | undefined> {
    const folders = (vscode.workspace.workspaceFolders ?? []).filter(f => isShareScheme(f.uri.scheme));
    if (!folders.length) noShareOpen();
    if (folders.length <= 1) return folders[0]?.uri;
    return (await vscode.window.showWorkspaceFolderPick({ placeHolder: title }))?.uri;
  }

  dispose(): void {
    this.disposables.forEach(d => d.dispose());
    this.disposables = [];
  }
}
