// The context keys the extension sets, in one place: they decide which commands the palette and the
// menus show (package.json's `when` clauses), so a command appears only where it can act. Recomputed
// (soon, in one go) whenever a share opens, changes state, gains or loses pending changes or conflicts,
// the active editor or the workspace folders change, or stored credentials change; set only
// when a value changed.
//   webdavOffline.davFolderOpen       a dav:/davs: folder is in the workspace
//   webdavOffline.shareOpen           a share is open in this window
//   webdavOffline.cachedShareOpen     …one with a cache (pins, offline, Go to File)
//   webdavOffline.canGoOffline        an open share is online (with a cache)
//   webdavOffline.canGoOnline         an open share is offline (by hand or by itself)
//   webdavOffline.hasPending          an open share has changes not uploaded yet
//   webdavOffline.hasConflicts        an open share has conflicts
//   webdavOffline.activeFileInConflict  the active editor's file is in conflict
//   webdavOffline.activeShareState    the state of the share in use (shareState.ts), '' for none
//   webdavOffline.hasCredentials      credentials are stored for some share
//   webdavOffline.onlineRoots / offlineRoots / pendingRoots / conflictRoots
//                                     root URIs of the Source Control providers of shares in that
//                                     state (`scmProviderRootUri in webdavOffline.onlineRoots`)
import * as vscode from 'vscode';
import { isShareScheme } from '../core/shareLocation';
import { uriOf } from '../provider/webdavFileSystemProvider';
import type { Share } from '../share/share';
import type { ShareRegistry } from '../share/shareRegistry';
import type { CredentialStore } from './credentialStore';
import { canGoOffline, canGoOnline, shareStateOf } from './shareState';

export class ContextKeys implements vscode.Disposable {
  private readonly values = new Map<string, unknown>();
  private readonly disposables: vscode.Disposable[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;

  constructor(
    private readonly registry: ShareRegistry,
    private readonly current: () => Share | undefined,
    private readonly credentials: CredentialStore,
  ) {
    const soon = () => this.soon();
    const follow = (share: Share) => {
      this.disposables.push(share.onDidChangeConnection(soon), share.onDidChangePending(soon));
      soon();
    };
    registry.all().forEach(follow);
    this.disposables.push(
      registry.onDidAddShare(follow),
      vscode.window.onDidChangeActiveTextEditor(soon),
      vscode.workspace.onDidChangeWorkspaceFolders(soon),
      credentials.onDidChangeAccess(soon),
    );
    soon();
  }

  /** Recomputes soon (events come in bursts). */
  soon(): void {
    if (this.timer || this.disposed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.update();
    }, 50);
  }

  /** Recomputes and sets every key now (resolves when set). */
  async update(): Promise<void> {
    const shares = this.registry.all();
    const details = await Promise.all(
      shares.map(async share => {
        const cached = await share.hasCache();
        const conflicts = (await share.conflicts()).length;
        const pending = (await share.pendingChanges()).length;
        return { share, cached, conflicts, pending, state: shareStateOf(share), root: uriOf(share, '/').toString() };
      }),
    );
    const active = vscode.window.activeTextEditor?.document.uri;
    let activeInConflict = false;
    if (active && isShareScheme(active.scheme)) {
      const { share, path } = this.registry.resolve(active.scheme, active.authority, active.path);
      activeInConflict = share.isConflicted(path);
    }
    const current = this.current();
    const roots = (pick: (d: (typeof details)[number]) => boolean) => details.filter(pick).map(d => d.root);
    await Promise.all(
      Object.entries({
        davFolderOpen: (vscode.workspace.workspaceFolders ?? []).some(f => isShareScheme(f.uri.scheme)),
        shareOpen: shares.length > 0,
        cachedShareOpen: details.some(d => d.cached),
        canGoOffline: details.some(d => d.cached && canGoOffline(d.state)),
        canGoOnline: details.some(d => d.cached && canGoOnline(d.state)),
        hasPending: details.some(d => d.pending > 0),
        hasConflicts: details.some(d => d.conflicts > 0),
        activeFileInConflict: activeInConflict,
        activeShareState: current ? shareStateOf(current) : '',
        hasCredentials: this.credentials.keys().length > 0,
        onlineRoots: roots(d => d.cached && canGoOffline(d.state)),
        offlineRoots: roots(d => d.cached && canGoOnline(d.state)),
        pendingRoots: roots(d => d.pending > 0),
        conflictRoots: roots(d => d.conflicts > 0),
      }).map(([name, value]) => this.set(`webdavOffline.${name}`, value)),
    );
  }

  private async set(key: string, value: unknown): Promise<void> {
    if (this.disposed || JSON.stringify(this.values.get(key)) === JSON.stringify(value)) return;
    this.values.set(key, value);
    await vscode.commands.executeCommand('setContext', key, value);
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.disposables.forEach(d => d.dispose());
  }
}
