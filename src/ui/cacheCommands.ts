// "Keep Available Offline", "Free Up Space", "Show Cache Usage" and the cache-full notice.
import * as vscode from 'vscode';
import { isShareScheme } from '../core/shareLocation';
import type { PinProgress, Share } from '../share/share';
import type { ShareRegistry } from '../share/shareRegistry';
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
              ? `The WebDAV cache of ${share.key} could not store more: the disk or the browser's storage is full.`
              : `The WebDAV cache of ${share.key} is full: ${formatBytes(full.keptBytes)} are kept offline (pinned or not yet uploaded), more than the limit of ${formatBytes(full.limitBytes)}. Nothing was removed.`;
          void vscode.window.showWarningMessage(message, 'Open Setting', 'Free Up Space').then(choice => {
            if (choice === 'Open Setting') void vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.cache.maxSize`);
            if (choice === 'Free Up Space') void vscode.commands.executeCommand(`${SECTION}.freeUpSpace`);
          });
        },
        undefined,
        this.disposables,
      );
    registry.all().forEach(follow);
    registry.onDidAddShare(follow, undefined, this.disposables);
  }

  /** The URIs a command acts on: the Explorer selection, the given URI, or the active editor. */
  private targets(uri?: vscode.Uri, selection?: vscode.Uri[]): vscode.Uri[] {
    const picked = selection?.length ? selection : uri ? [uri] : [];
    if (picked.length) return picked.filter(u => isShareScheme(u.scheme));
    const active = vscode.window.activeTextEditor?.document.uri;
    return active && isShareScheme(active.scheme) ? [active] : [];
  }

  private resolve(uri: vscode.Uri) {
    return this.registry.resolve(uri.scheme as 'dav' | 'davs', uri.authority, uri.path);
  }

  async pin(uri?: vscode.Uri, selection?: vscode.Uri[]): Promise<number> {
    let targets = this.targets(uri, selection);
    if (!targets.length) {
      const folder = await this.pickFolder('Keep which WebDAV folder available offline?');
      if (!folder) return 0;
      targets = [folder];
    }
    let files = 0;
    for (const target of targets) {
      const { share, path } = this.resolve(target);
      const name = path === '/' ? share.key : path;
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Keeping ${name} available offline`, cancellable: true },
        async (progress, token) => {
          const abort = new AbortController();
          const sub = token.onCancellationRequested(() => abort.abort());
          let last = 0;
          const report = (p: PinProgress) => {
            const done = p.filesTotal ? (p.filesDone / p.filesTotal) * 100 : 0;
            progress.report({
              message: `${p.filesDone} of ${p.filesTotal} files · ${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`,
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
      if (result.cancelled) void vscode.window.showInformationMessage(`Stopped keeping ${name} available offline.`);
      else if (result.failed.length) {
        void vscode.window.showWarningMessage(
          `${result.failed.length} of ${result.filesTotal} files of ${name} could not be downloaded: ${result.failed[0].error}`,
          'Show Log',
        ).then(c => c && vscode.commands.executeCommand(`${SECTION}.showLog`));
      } else {
        void vscode.window.showInformationMessage(`${name} is available offline: ${result.filesTotal} files, ${formatBytes(result.bytesTotal)}.`);
      }
    }
    return files;
  }

  async freeUpSpace(uri?: vscode.Uri, selection?: vscode.Uri[]): Promise<number> {
    let targets = this.targets(uri, selection);
    if (!targets.length) {
      const folder = await this.pickFolder('Free up the space of which WebDAV folder?');
      if (!folder) return 0;
      targets = [folder];
    }
    let freed = 0;
    for (const target of targets) {
      const { share, path } = this.resolve(target);
      freed += await share.freeUpSpace(path);
    }
    void vscode.window.showInformationMessage(`Freed ${formatBytes(freed)} of cached WebDAV content; it is downloaded again when opened.`);
    return freed;
  }

  async showUsage(): Promise<void> {
    const items: vscode.QuickPickItem[] = [];
    for (const share of this.registry.all()) {
      const u = await share.usage();
      const caps = share.knownCapabilities();
      const server = [
        u?.quota?.available !== undefined ? `server: ${formatBytes(u.quota.available)} free${u.quota.used !== undefined ? `, ${formatBytes(u.quota.used)} used` : ''}` : undefined,
        caps ? `conflict detection: ${caps.ifMatch && caps.ifNoneMatch ? 'by the server (If-Match)' : 'by comparing versions before each write'}` : undefined,
        caps ? `etags: ${caps.etagInListing ? 'yes' : 'no'}${caps.etagPropagation ? ', folder etags follow changes below' : ''}${caps.depthInfinity ? ', whole-tree listings' : ''}` : undefined,
      ].filter(Boolean);
      items.push({
        label: share.key,
        description: u
          ? `${formatBytes(u.bytes)} of ${formatBytes(u.limitBytes)} · ${u.files} files cached · ${u.pinnedFiles} pinned (${formatBytes(u.keptBytes)} kept)`
          : 'live mode: no cache',
        detail: [u ? (u.tree ? describeTree(u.tree) : `${u.entries} items known`) : undefined, ...server].filter(Boolean).join(' · ') || undefined,
      });
    }
    if (!items.length) return void vscode.window.showInformationMessage('No WebDAV share is open.');
    await vscode.window.showQuickPick(items, { title: 'WebDAV cache usage' });
  }

  private async pickFolder(title: string): Promise<vscode.Uri | undefined> {
    const folders = (vscode.workspace.workspaceFolders ?? []).filter(f => isShareScheme(f.uri.scheme));
    if (folders.length <= 1) return folders[0]?.uri;
    return (await vscode.window.showWorkspaceFolderPick({ placeHolder: title }))?.uri;
  }

  dispose(): void {
    this.disposables.forEach(d => d.dispose());
    this.disposables = [];
  }
}
