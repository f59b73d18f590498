// Explorer badges: provisional (changed offline, not uploaded), pinned ("kept available offline"),
// cached (available offline), and what is only online — a file known by name whose content is not on
// this computer, a folder whose names were never listed here — so what works offline shows at a glance.
import * as vscode from 'vscode';
import { isShareScheme } from '../core/shareLocation';
import { uriOf } from '../provider/webdavFileSystemProvider';
import type { Share } from '../share/share';
import type { ShareRegistry } from '../share/shareRegistry';

/** The badges, made on first use: after activation, when the strings of the display language are loaded. */
let badges: Record<'pinned' | 'cached' | 'notDownloaded' | 'notListed' | 'conflict' | 'provisional', vscode.FileDecoration> | undefined;
const badge = () =>
  (badges ??= {
    pinned: { badge: '●', tooltip: vscode.l10n.t('Kept available offline (pinned)'), color: new vscode.ThemeColor('charts.green') },
    cached: { badge: '○', tooltip: vscode.l10n.t('Available offline (cached)') },
    notDownloaded: { badge: '☁', tooltip: vscode.l10n.t('Not downloaded — available online') },
    notListed: { badge: '☁', tooltip: vscode.l10n.t('Not listed on this computer — its contents are available online only') },
    conflict: {
      badge: '!',
      tooltip: vscode.l10n.t('In conflict: changed here and on the server. Resolve it in the Source Control view.'),
      color: new vscode.ThemeColor('gitDecoration.conflictingResourceForeground'),
    },
    provisional: {
      badge: '✎',
      tooltip: vscode.l10n.t('Changed offline, not uploaded yet (provisional)'),
      color: new vscode.ThemeColor('gitDecoration.modifiedResourceForeground'),
    },
  });

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
    if (share.isConflicted(path)) return badge().conflict;
    if (share.isProvisional(path)) return badge().provisional;
    const state = share.cacheState(path);
    if (!state) return undefined;
    if (state.pinned) return badge().pinned;
    if (state.type === 'directory') return state.listed ? undefined : badge().notListed;
    return state.cached ? badge().cached : badge().notDownloaded;
  }

  dispose(): void {
    this.disposables.forEach(d => d.dispose());
    this.disposables = [];
  }
}
