// Conflicts and recovered files in the editor: compare (diff server ↔ local), merge (VS Code's 3-way
// merge editor where available, else the diff), Keep Local / Keep Server / Keep Both / Mark Resolved;
// "Show Recovered Files" to open, restore or delete kept versions; the notices after a reconnect.
import * as vscode from 'vscode';
import { formatBytes } from './cacheCommands';
import { basename, dirname, joinPath } from '../core/remotePath';
import { isShareScheme } from '../core/shareLocation';
import { uriOf } from '../provider/webdavFileSystemProvider';
import { VARIANT_SCHEME, variantUri } from '../provider/variantFileSystemProvider';
import { describeConflictKind, type Conflict, type RecoveredFile, type ReplayHooks, type Resolution, type Share } from '../share/share';
import type { ShareRegistry } from '../share/shareRegistry';

export interface ConflictTarget {
  readonly share: Share;
  readonly conflict: Conflict;
}


/** Closes the compare editors of a resolved conflict: their server side is history now. */
async function closeComparisons(local: vscode.Uri): Promise<void> {
  const stale = vscode.window.tabGroups.all.flatMap(g => g.tabs).filter(tab => {
    const input = tab.input;
    if (input instanceof vscode.TabInputTextDiff) return input.original.scheme === VARIANT_SCHEME && input.modified.toString() === local.toString();
    return false;
  });
  if (stale.length) await vscode.window.tabGroups.close(stale);
}

export class ConflictCommands implements vscode.Disposable {
  private disposables: vscode.Disposable[] = [];

  constructor(private readonly registry: ShareRegistry) {
    const follow = (share: Share) =>
      share.onDidReplay(
        report => {
          const where = share.key;
          if (report.merged.length) {
            void vscode.window.showInformationMessage(
              vscode.l10n.t('Merged the changes made here and on the server in {0} ({1}).', report.merged.map(p => basename(p)).join(', '), where),
            );
          }
          if (report.conflicts.length) {
            void vscode.window
              .showWarningMessage(
                report.conflicts.length === 1
                  ? vscode.l10n.t('Resolution required: 1 conflict on {0}. Nothing was overwritten.', where)
                  : vscode.l10n.t('Resolution required: {0} conflicts on {1}. Nothing was overwritten.', report.conflicts.length, where),
                vscode.l10n.t('Show Conflicts'),
              )
              .then(c => c && vscode.commands.executeCommand('webdavOffline.showConflicts', where));
          }
        },
        undefined,
        this.disposables,
      );
    registry.all().forEach(follow);
    registry.onDidAddShare(follow, undefined, this.disposables);
  }

  /** The hooks through which a reconnect asks and tells the user. */
  static hooks(): ReplayHooks {
    const warned = new Set<string>();
    return {
      confirmMassDelete: async (count, examples, direction) => {
        const names = examples.map(p => basename(p)).join(', ');
        const deleteThem = vscode.l10n.t('Delete Them');
        const choice = await vscode.window.showWarningMessage(
          direction === 'server'
            ? vscode.l10n.t('Reconnecting would delete {0} files on the server, e.g. {1}. Continue?', count, names)
            : vscode.l10n.t('Reconnecting would delete {0} files from this computer (the server no longer has them), e.g. {1}. Continue?', count, names),
          { modal: true },
          deleteThem,
        );
        return choice === deleteThem;
      },
      warnNoPreconditions: () => {
        if (warned.size) return;
        warned.add('once');
        void vscode.window.showWarningMessage(
          vscode.l10n.t('This WebDAV server ignores If-Match, so conflicts cannot be detected with certainty: versions are compared right before each upload instead.'),
        );
      },
      progress: () => undefined,
      warnQuota: (needed, available) => {
        void vscode.window.showWarningMessage(
          vscode.l10n.t(
            'The changes waiting to be uploaded need about {0}, but the server says only {1} are free. Uploads that do not fit are kept here and listed as conflicts; free space on the server, then go online again.',
            formatBytes(needed),
            formatBytes(available),
          ),
        );
      },
    };
  }

  /** The conflict a command is about: from the Source Control view, a URI, or the active editor. */
  async target(arg?: unknown): Promise<ConflictTarget | undefined> {
    const t = arg as Partial<ConflictTarget> | undefined;
    if (t?.share && t.conflict) return { share: t.share, conflict: t.conflict };
    const uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
    if (uri && isShareScheme(uri.scheme)) {
      const { share, path } = this.registry.resolve(uri.scheme, uri.authority, uri.path);
      const conflict = (await share.conflicts()).find(c => c.path === path);
      if (conflict) return { share, conflict };
    }
    return this.pick();
  }

  private async pick(key?: string): Promise<ConflictTarget | undefined> {
    const items: (vscode.QuickPickItem & ConflictTarget)[] = [];
    for (const share of this.registry.all()) {
      if (key && share.key !== key) continue;
      for (const conflict of await share.conflicts()) {
        items.push({ label: conflict.path, description: describeConflictKind(conflict), detail: share.key, share, conflict });
      }
    }
    if (!items.length) {
      void vscode.window.showInformationMessage(vscode.l10n.t('There are no WebDAV conflicts.'));
      return undefined;
    }
    return vscode.window.showQuickPick(items, { title: vscode.l10n.t('WebDAV conflicts') });
  }

  async showConflicts(key?: string): Promise<void> {
    const t = await this.pick(key);
    if (!t) return;
    const actions: (vscode.QuickPickItem & { action: 'compare' | 'merge' | Resolution })[] = [
      { label: vscode.l10n.t('Compare'), action: 'compare' },
      { label: vscode.l10n.t('Merge'), action: 'merge' },
      { label: vscode.l10n.t('Keep Local'), action: 'keepLocal' },
      { label: vscode.l10n.t('Keep Server'), action: 'keepServer' },
      { label: vscode.l10n.t('Keep Both'), action: 'keepBoth' },
      { label: vscode.l10n.t('Mark Resolved'), action: 'markResolved' },
    ];
    const picked = (await vscode.window.showQuickPick(actions, { title: `${t.conflict.path}: ${describeConflictKind(t.conflict)}` }))?.action;
    if (picked === 'compare') await this.compare(t);
    else if (picked === 'merge') await this.merge(t);
    else if (picked) await this.resolve(t, picked);
  }

  /** Opens the diff of the server version (read-only) with the local file. */
  async compare({ share, conflict }: ConflictTarget): Promise<void> {
    const local = uriOf(share, conflict.path);
    const server = conflict.server?.blob ? variantUri(share, conflict.path, conflict.server.blob, 'server') : undefined;
    if (!server) {
      void vscode.window.showInformationMessage(vscode.l10n.t('{0}: {1}; there is no server version to compare with.', conflict.path, describeConflictKind(conflict)));
      return void (await vscode.commands.executeCommand('vscode.open', local));
    }
    await vscode.commands.executeCommand('vscode.diff', server, local, vscode.l10n.t('{0} (server ↔ local)', basename(conflict.path)));
  }

  /** Opens the 3-way merge editor (base, server, local → the local file); falls back to the diff. */
  async merge(t: ConflictTarget): Promise<void> {
    const { share, conflict } = t;
    const { server, base, local } = conflict;
    if (!server?.blob || !base?.blob || !local?.blob) return this.compare(t);
    try {
      // VS Code's own (internal) command, as its git extension uses it; no stable API exists
      await vscode.commands.executeCommand('_open.mergeEditor', {
        base: variantUri(share, conflict.path, base.blob, 'base'),
        input1: { uri: variantUri(share, conflict.path, server.blob, 'server'), title: vscode.l10n.t('Server') },
        input2: { uri: variantUri(share, conflict.path, local.blob, 'local'), title: vscode.l10n.t('Local (yours)') },
        output: uriOf(share, conflict.path),
      });
      void vscode.window.showInformationMessage(vscode.l10n.t('Save the merged {0}, then run "WebDAV: Mark Resolved".', basename(conflict.path)));
    } catch {
      await this.compare(t);
    }
  }

  async resolve(t: ConflictTarget | undefined, resolution: Resolution): Promise<string | undefined> {
    if (!t) return undefined;
    const note = await t.share.resolveConflict(t.conflict.id, resolution);
    await closeComparisons(uriOf(t.share, t.conflict.path));
    const name = basename(t.conflict.path);
    const done: Record<Resolution, string> = {
      keepLocal: vscode.l10n.t('{0}: your version is on the server; the server version is kept in the recovered files.', name),
      keepServer: vscode.l10n.t('{0}: the server version is back; your version is kept in the recovered files.', name),
      keepBoth: note ? vscode.l10n.t('{0}: your version was uploaded as {1}.', name, basename(note)) : vscode.l10n.t('{0}: your version was uploaded as a conflict copy.', name),
      markResolved: vscode.l10n.t('{0}: your merged version is on the server.', name),
    };
    void vscode.window.showInformationMessage(done[resolution]);
    return note;
  }

  /** "WebDAV: Preview Reconnect": what going online would upload, delete, and where it would conflict. */
  async previewReconnect(share: Share | undefined): Promise<void> {
    if (!share) return;
    const items = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Checking {0} (nothing is written)…', share.key) },
      () => share.previewReconnect(),
    );
    if (!items.length) return void vscode.window.showInformationMessage(vscode.l10n.t('{0}: nothing is waiting to be uploaded.', share.key));
    const icon = { upload: '$(cloud-upload)', create: '$(new-folder)', delete: '$(trash)', move: '$(arrow-right)', copy: '$(copy)', nothing: '$(check)', conflict: '$(warning)' };
    const said = {
      upload: vscode.l10n.t('upload'),
      create: vscode.l10n.t('create'),
      delete: vscode.l10n.t('delete'),
      move: vscode.l10n.t('move'),
      copy: vscode.l10n.t('copy'),
      nothing: vscode.l10n.t('nothing'),
      conflict: vscode.l10n.t('conflict'),
    };
    await vscode.window.showQuickPick(
      items.map(i => {
        const op = i.op;
        const what = op.kind === 'move' || op.kind === 'copy' ? `${op.from} → ${op.to}` : op.path;
        return { label: `${icon[i.action]} ${said[i.action]}`, description: what, detail: i.detail };
      }),
      { title: vscode.l10n.t('Preview of the reconnect of {0}: {1} conflicts', share.key, items.filter(i => i.action === 'conflict').length) },
    );
  }

  // --- recovered files

  async showRecovered(): Promise<void> {
    const items: (vscode.QuickPickItem & { share: Share; file: RecoveredFile })[] = [];
    for (const share of this.registry.all()) {
      for (const file of await share.recoveredFiles()) {
        items.push({ label: file.path, description: `${file.reason} · ${new Date(file.time).toLocaleString(vscode.env.language)}`, detail: share.key, share, file });
      }
    }
    if (!items.length) return void vscode.window.showInformationMessage(vscode.l10n.t('No recovered files: nothing was replaced or discarded.'));
    const pick = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('WebDAV: recovered files (kept until you delete them)') });
    if (!pick) return;
    const open = vscode.l10n.t('Open');
    const restore = vscode.l10n.t('Restore');
    const del = vscode.l10n.t('Delete');
    const action = await vscode.window.showQuickPick([open, restore, del], { title: pick.file.path });
    if (action === open) await vscode.commands.executeCommand('vscode.open', variantUri(pick.share, pick.file.path, pick.file.blob, 'recovered'));
    if (action === restore) await this.restore(pick.share, pick.file);
    if (action === del) {
      const ok = await vscode.window.showWarningMessage(vscode.l10n.t('Delete the recovered version of {0} for good?', pick.file.path), { modal: true }, del);
      if (ok) await pick.share.deleteRecovered(pick.file.id);
    }
  }

  /** Writes a recovered version back: under its name if free, else as "name (recovered …)". */
  async restore(share: Share, file: RecoveredFile): Promise<vscode.Uri> {
    const data = await share.blob(file.blob);
    if (!data) throw new Error(vscode.l10n.t('The recovered version of {0} is no longer in the cache', file.path));
    let path = file.path;
    const exists = async (p: string) => share.stat(p).then(() => true, () => false);
    if (await exists(path)) {
      const name = basename(path);
      const dot = name.lastIndexOf('.');
      const stamp = new Date(file.time).toISOString().slice(0, 19).replace('T', ' ').replace(/:/g, '');
      path = joinPath(dirname(path), dot > 0 ? `${name.slice(0, dot)} (recovered ${stamp})${name.slice(dot)}` : `${name} (recovered ${stamp})`);
    }
    const uri = uriOf(share, path);
    await vscode.workspace.fs.writeFile(uri, data);
    await share.deleteRecovered(file.id);
    await vscode.commands.executeCommand('vscode.open', uri);
    return uri;
  }

  dispose(): void {
    this.disposables.forEach(d => d.dispose());
    this.disposables = [];
  }
}
