// Explorer badges: provisional (changed offline, not uploaded), pinned ("kept available offline"),
// cached (available offline), and what is only online — a file known by name whose content is not on
// this computer, a folder whose names were never listed here — so what works offline shows at a glance.
import * as vscode from 'vscode';
import { isShareScheme } from '../core/shareLocation';
import { uriOf } from '../provider/webdavFileSystemProvider';
import type { Share } from '../share/share';
import type { ShareRegistry } from '../share/shareRegistry';

const PINNED: vscode.FileDecoration = {
  badge: '●',
  tooltip: 'Kept available offline (pinned)',
  color: new vscode.ThemeColor('charts.green'),
};
const CACHED: vscode.FileDecoration = { badge: '○', tooltip: 'Available offline (cached)' };
const NOT_DOWNLOADED: vscode.FileDecoration = { badge: '☁', tooltip: 'Not downloaded — available online' };
const NOT_LISTED: vscode.FileDecoration = { badge: '☁', tooltip: 'Not listed on this computer — its contents are available online only' };
const CONFLICT: vscode.FileDecoration = {
  badge: '!',
  tooltip: 'In conflict: changed here and on the server. Resolve it in the Source Control view.',
  color: new vscode.ThemeColor('gitDecoration.conflictingResourceForeground'),
};
const PROVISIONAL: vscode.FileDecoration = {
  badge: '✎',
  tooltip: 'Changed offline, not uploaded yet (provisional)',
  color: new vscode.ThemeColor('gitDecoration.modifiedResourceForeground'),
};

export class CacheDecorations implements vscode.FileDecorationProvider, vscode.Disposable {
  private readonly _onDidChangeFileDecorations = new vscode.EventEmitter<vscode.Uri[]>();
  readonly onDidChangeFileDecorations = this._onDidChangeFileDecorations.event;
  private disposables: vscode.Disposable[] = [this._onDidChangeFileDecorations];

  constructor(private readonly registry: ShareRegistry) {
    this.disposables.push(vscode.window.registerFileDecorationProvider(this));
    const follow = (share: Share) =>
      share.onDidChangeCacheState(
        paths => this._onDidChangeFileDecorations.fire(paths.map(p => uriOf(share, p))),
        undefined,
        this.disposables,
      );
    registry.all().forEach(follow);
    registry.onDidAddShare(follow, undefined, this.disposables);
  }

  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    if (!isShareScheme(uri.scheme)) return undefined;
    const { share, path } = this.registry.resolve(uri.scheme, uri.authority, uri.path);
    if (share.isConflicted(path)) return CONFLICT;
    if (share.isProvisional(path)) return PROVISIONAL;
    const state = share.cacheState(path);
    if (!state) return undefined;
    if (state.pinned) return PINNED;
    if (state.type === 'directory') return state.listed ? undefined : NOT_LISTED;
    return state.cached ? CACHED : NOT_DOWNLOADED;
  }

  dispose(): void {
    this.disposables.forEach(d => d.dispose());
    this.disposables = [];
  }
}
