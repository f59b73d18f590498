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
              `Merged the changes made here and on the server in ${report.merged.map(p => basename(p)).join(', ')} (${where}).`,
            );
          }
          if (report.conflicts.length) {
            void vscode.window
              .showWarningMessage(
                `Resolution required: ${report.conflicts.length} conflict${report.conflicts.length === 1 ? '' : 's'} on ${where}. Nothing was overwritten.`,
                'Show Conflicts',
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
        const where = direction === 'server' ? 'on the server' : 'from this computer (the server no longer has them)';
        const choice = await vscode.window.showWarningMessage(
          `Reconnecting would delete ${count} files ${where}, e.g. ${examples.map(p => basename(p)).join(', ')}. Continue?`,
          { modal: true },
          'Delete Them',
        );
        return choice === 'Delete Them';
      },
      warnNoPreconditions: () => {
        if (warned.size) return;
        warned.add('once');
        void vscode.window.showWarningMessage(
          'This WebDAV server ignores If-Match, so conflicts cannot be detected with certainty: versions are compared right before each upload instead.',
        );
      },
      progress: () => undefined,
      warnQuota: (needed, available) => {
        void vscode.window.showWarningMessage(
          `The changes waiting to be uploaded need about ${formatBytes(needed)}, but the server says only ${formatBytes(available)} are free. Uploads that do not fit are kept here and listed as conflicts; free space on the server, then go online again.`,
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
      void vscode.window.showInformationMessage('There are no WebDAV conflicts.');
      return undefined;
    }
    return vscode.window.showQuickPick(items, { title: 'WebDAV conflicts' });
  }

  async showConflicts(key?: string): Promise<void> {
    const t = await this.pick(key);
    if (!t) return;
    const actions = ['Compare', 'Merge', 'Keep Local', 'Keep Server', 'Keep Both', 'Mark Resolved'];
    const action = await vscode.window.showQuickPick(actions, { title: `${t.conflict.path}: ${describeConflictKind(t.conflict)}` });
    if (action === 'Compare') await this.compare(t);
    else if (action === 'Merge') await this.merge(t);
    else if (action) await this.resolve(t, ({ 'Keep Local': 'keepLocal', 'Keep Server': 'keepServer', 'Keep Both': 'keepBoth', 'Mark Resolved': 'markResolved' } as const)[action as 'Keep Local']);
  }

  /** Opens the diff of the server version (read-only) with the local file. */
  async compare({ share, conflict }: ConflictTarget): Promise<void> {
    const local = uriOf(share, conflict.path);
    const server = conflict.server?.blob ? variantUri(share, conflict.path, conflict.server.blob, 'server') : undefined;
    if (!server) {
      void vscode.window.showInformationMessage(`${conflict.path}: ${describeConflictKind(conflict)}; there is no server version to compare with.`);
      return void (await vscode.commands.executeCommand('vscode.open', local));
    }
    await vscode.commands.executeCommand('vscode.diff', server, local, `${basename(conflict.path)} (server ↔ local)`);
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
        input1: { uri: variantUri(share, conflict.path, server.blob, 'server'), title: 'Server' },
        input2: { uri: variantUri(share, conflict.path, local.blob, 'local'), title: 'Local (yours)' },
        output: uriOf(share, conflict.path),
      });
      void vscode.window.showInformationMessage(`Save the merged ${basename(conflict.path)}, then run "WebDAV: Mark Resolved".`);
    } catch {
      await this.compare(t);
    }
  }

  async resolve(t: ConflictTarget | undefined, resolution: Resolution): Promise<string | undefined> {
    if (!t) return undefined;
    const note = await t.share.resolveConflict(t.conflict.id, resolution);
    await closeComparisons(uriOf(t.share, t.conflict.path));
    const done: Record<Resolution, string> = {
      keepLocal: 'your version is on the server; the server version is kept in the recovered files',
      keepServer: 'the server version is back; your version is kept in the recovered files',
      keepBoth: `your version was uploaded as ${note ? basename(note) : 'a conflict copy'}`,
      markResolved: 'your merged version is on the server',
    };
    void vscode.window.showInformationMessage(`${basename(t.conflict.path)}: ${done[resolution]}.`);
    return note;
  }

  /** "WebDAV: Preview Reconnect": what going online would upload, delete, and where it would conflict. */
  async previewReconnect(share: Share | undefined): Promise<void> {
    if (!share) return;
    const items = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Checking ${share.key} (nothing is written)…` },
      () => share.previewReconnect(),
    );
    if (!items.length) return void vscode.window.showInformationMessage(`${share.key}: nothing is waiting to be uploaded.`);
    const icon = { upload: '$(cloud-upload)', create: '$(new-folder)', delete: '$(trash)', move: '$(arrow-right)', copy: '$(copy)', nothing: '$(check)', conflict: '$(warning)' };
    await vscode.window.showQuickPick(
      items.map(i => {
        const op = i.op;
        const what = op.kind === 'move' || op.kind === 'copy' ? `${op.from} → ${op.to}` : op.path;
        return { label: `${icon[i.action]} ${i.action}`, description: what, detail: i.detail };
      }),
      { title: `Preview of the reconnect of ${share.key}: ${items.filter(i => i.action === 'conflict').length} conflicts` },
    );
  }

  // --- recovered files

  async showRecovered(): Promise<void> {
    const items: (vscode.QuickPickItem & { share: Share; file: RecoveredFile })[] = [];
    for (const share of this.registry.all()) {
      for (const file of await share.recoveredFiles()) {
        items.push({ label: file.path, description: `${file.reason} · ${new Date(file.time).toLocaleString()}`, detail: share.key, share, file });
      }
    }
    if (!items.length) return void vscode.window.showInformationMessage('No recovered files: nothing was replaced or discarded.');
    const pick = await vscode.window.showQuickPick(items, { title: 'WebDAV: recovered files (kept until you delete them)' });
    if (!pick) return;
    const action = await vscode.window.showQuickPick(['Open', 'Restore', 'Delete'], { title: pick.file.path });
    if (action === 'Open') await vscode.commands.executeCommand('vscode.open', variantUri(pick.share, pick.file.path, pick.file.blob, 'recovered'));
    if (action === 'Restore') await this.restore(pick.share, pick.file);
    if (action === 'Delete') {
      const ok = await vscode.window.showWarningMessage(`Delete the recovered version of ${pick.file.path} for good?`, { modal: true }, 'Delete');
      if (ok) await pick.share.deleteRecovered(pick.file.id);
    }
  }

  /** Writes a recovered version back: under its name if free, else as "name (recovered …)". */
  async restore(share: Share, file: RecoveredFile): Promise<vscode.Uri> {
    const data = await share.blob(file.blob);
    if (!data) throw new Error(`The recovered version of ${file.path} is no longer in the cache`);
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
