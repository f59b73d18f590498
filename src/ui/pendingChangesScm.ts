// The pending-changes view: a Source Control provider per share listing the changes recorded offline.
// Clicking one opens a diff of the cached server version with the local one; a change can be discarded.
import * as vscode from 'vscode';
import { basename } from '../core/remotePath';
import { uriOf } from '../provider/webdavFileSystemProvider';
import { variantUri } from '../provider/variantFileSystemProvider';
import { describeConflictKind, type Conflict, type JournalItem, type Share } from '../share/share';
import type { ShareRegistry } from '../share/shareRegistry';

/** One pending change in the Source Control view. */
export interface PendingResource extends vscode.SourceControlResourceState {
  readonly share: Share;
  readonly item: JournalItem;
}

export class PendingChangesScm implements vscode.Disposable {
  private disposables: vscode.Disposable[] = [];
  private readonly views = new Map<
    Share,
    { scm: vscode.SourceControl; group: vscode.SourceControlResourceGroup; conflicts: vscode.SourceControlResourceGroup }
  >();

  constructor(registry: ShareRegistry) {
    const follow = (share: Share) => {
      void share.hasCache().then(cached => {
        if (!cached || this.views.has(share)) return;
        const scm = vscode.scm.createSourceControl('webdavOffline', `WebDAV ${share.key}`, uriOf(share, '/'));
        scm.inputBox.visible = false; // nothing is committed here: changes upload when the share is online
        const conflicts = scm.createResourceGroup('conflicts', vscode.l10n.t('Conflicts (resolution required)'));
        conflicts.hideWhenEmpty = true;
        const group = scm.createResourceGroup('pending', vscode.l10n.t('Pending Changes (not uploaded yet)'));
        group.hideWhenEmpty = false;
        this.views.set(share, { scm, group, conflicts });
        this.disposables.push(scm, group, conflicts);
        share.onDidChangePending(() => void this.update(share), undefined, this.disposables);
        void this.update(share);
      });
    };
    registry.all().forEach(follow);
    registry.onDidAddShare(follow, undefined, this.disposables);
  }

  private async update(share: Share): Promise<void> {
    const view = this.views.get(share);
    if (!view) return;
    const conflicts = await share.conflicts();
    const blocked = new Set(conflicts.map(c => c.opId));
    const items = (await share.pendingChanges()).filter(i => !blocked.has(i.id));
    view.conflicts.resourceStates = conflicts.map(c => this.conflictResource(share, c));
    view.group.resourceStates = items.map(item => this.resource(share, item));
    view.scm.count = items.length + conflicts.length;
  }

  private conflictResource(share: Share, conflict: Conflict): vscode.SourceControlResourceState & { share: Share; conflict: Conflict } {
    return {
      share,
      conflict,
      resourceUri: uriOf(share, conflict.path),
      contextValue: 'conflict',
      decorations: { tooltip: vscode.l10n.t('{0}: {1}. Compare, merge, or keep one side or both.', conflict.path, describeConflictKind(conflict)) },
      command: { title: 'Compare', command: 'webdavOffline.compareConflict', arguments: [{ share, conflict }] },
    };
  }

  private resource(share: Share, item: JournalItem): PendingResource {
    const op = item.op;
    const path = op.kind === 'move' || op.kind === 'copy' ? op.to : op.path;
    const uri = uriOf(share, path);
    const what =
      op.kind === 'write'
        ? op.base
          ? vscode.l10n.t('{0}: changed offline, not uploaded yet', path)
          : vscode.l10n.t('{0}: created offline, not uploaded yet', path)
        : op.kind === 'mkdir'
          ? vscode.l10n.t('{0}: folder created offline, not uploaded yet', path)
          : op.kind === 'delete'
            ? vscode.l10n.t('{0}: deleted offline, not uploaded yet', path)
            : op.kind === 'move'
              ? vscode.l10n.t('{0}: moved offline from {1}, not uploaded yet', path, op.from)
              : vscode.l10n.t('{0}: copied offline from {1}, not uploaded yet', path, op.from);
    return {
      share,
      item,
      resourceUri: uri,
      contextValue: 'pendingChange',
      decorations: {
        strikeThrough: op.kind === 'delete',
        tooltip: what,
        faded: op.kind === 'delete',
      },
      command: { title: vscode.l10n.t('Open Change'), command: 'webdavOffline.openChange', arguments: [{ share, item }] },
    };
  }

  /** Opens what a pending change does: a diff of the cached server version with the local one. */
  static async open(share: Share, item: JournalItem): Promise<void> {
    const op = item.op;
    const path = op.kind === 'move' || op.kind === 'copy' ? op.to : op.path;
    const local = uriOf(share, path);
    if (op.kind === 'write') {
      const title = vscode.l10n.t('{0} (server ↔ local)', basename(path));
      if (op.base?.blob) return void (await vscode.commands.executeCommand('vscode.diff', variantUri(share, path, op.base.blob, 'server version'), local, title));
      if (!op.base) return void (await vscode.commands.executeCommand('vscode.open', local));
      void vscode.window.showInformationMessage(vscode.l10n.t('The server version of {0} was not cached, so there is nothing to compare with; opening the local version.', path));
      return void (await vscode.commands.executeCommand('vscode.open', local));
    }
    if (op.kind === 'delete') return void vscode.window.showInformationMessage(vscode.l10n.t('{0} was deleted offline; it is deleted on the server when the share is online.', op.path));
    if (op.kind === 'mkdir') return void (await vscode.commands.executeCommand('revealInExplorer', local));
    await vscode.commands.executeCommand('vscode.open', local);
  }

  /** Resolves the (share, item) a command was invoked with, from the view or from a test. */
  static target(arg: unknown): { share: Share; item: JournalItem } | undefined {
    const a = arg as Partial<PendingResource> | undefined;
    return a?.share && a.item ? { share: a.share, item: a.item } : undefined;
  }

  dispose(): void {
    this.disposables.forEach(d => d.dispose());
    this.disposables = [];
    this.views.clear();
  }
}
