// The commands of the WebDAV view that are about the list itself: open a share (this window, a new
// window, added to the workspace), save it, edit its saved options, remove it (asking whether its
// cache goes too), delete a cache, unpin. A cache is deleted only when no window has it open, and
// never silently with changes in it that are not uploaded yet.
import * as vscode from 'vscode';
import type { Logger } from '../core/log';
import type { StoredCaches } from '../share/share';
import { formatBytes } from './cacheCommands';
import type { OpenFolderCommand, OpenMode } from './openFolderCommand';
import { addressOf, type SavedShares } from './savedShares';
import type { CacheNode, PinNode, ShareNode, SharesView } from './sharesView';

/** What a cache holds that is not on the server (read from the store; it is closed again at once). */
export type CacheContents = (id: string) => Promise<{ readonly pending: number; readonly conflicts: number }>;

export class ShareViewCommands {
  constructor(
    private readonly view: SharesView,
    private readonly saved: SavedShares,
    private readonly caches: StoredCaches,
    private readonly contents: CacheContents,
    private readonly openFolder: OpenFolderCommand,
    private readonly log: Logger,
  ) {}

  /** A share node from a command argument (a node, or a key). */
  private shareNode(arg: unknown): ShareNode | undefined {
    if (typeof arg === 'string') return this.view.node(arg);
    const n = arg as Partial<ShareNode> | undefined;
    return n?.kind === 'share' ? (n as ShareNode) : undefined;
  }

  private required(arg: unknown, what: string): ShareNode {
    const node = this.shareNode(arg);
    if (!node) throw new Error(vscode.l10n.t('{0} acts on a share of the WebDAV view: choose it there (right-click).', what));
    return node;
  }

  async open(arg: unknown, mode: OpenMode): Promise<vscode.Uri | undefined> {
    const node = this.required(arg, vscode.l10n.t('Open'));
    return this.openFolder.run(node.saved?.address ?? addressOf(node.location), mode);
  }

  /** Saves a listed share (one click: its address; a name and more can be added with Edit). */
  async save(arg: unknown): Promise<void> {
    const node = this.required(arg, vscode.l10n.t('Save Share'));
    if (node.saved) return void vscode.window.showInformationMessage(vscode.l10n.t('{0} is saved already.', node.saved.name ?? node.key));
    await this.saved.save({ address: addressOf(node.location) });
    this.log.info(`[view] ${node.key}: saved`);
  }

  async edit(arg: unknown): Promise<void> {
    const node = this.required(arg, vscode.l10n.t('Edit Share'));
    if (!node.saved) await this.saved.save({ address: addressOf(node.location) });
    const current = this.saved.savedFor(node.key) ?? { address: addressOf(node.location) };
    const none = vscode.l10n.t('(not set)');
    type Field = 'name' | 'username' | 'live' | 'freshness' | 'parallelDownloads' | 'json';
    const items: (vscode.QuickPickItem & { field: Field })[] = [
      { field: 'name', label: vscode.l10n.t('Name'), description: current.name ?? none },
      { field: 'username', label: vscode.l10n.t('User Name'), description: current.username ?? none },
      { field: 'live', label: vscode.l10n.t('Live Mode (no cache)'), description: current.live ? vscode.l10n.t('on') : vscode.l10n.t('off') },
      { field: 'freshness', label: vscode.l10n.t('Freshness (seconds)'), description: current.freshness === undefined ? none : String(current.freshness) },
      { field: 'parallelDownloads', label: vscode.l10n.t('Parallel Downloads'), description: current.parallelDownloads === undefined ? none : String(current.parallelDownloads) },
      { field: 'json', label: vscode.l10n.t('Edit in settings.json…'), description: vscode.l10n.t('CA file, client certificate, headers') },
    ];
    const pick = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Edit {0}', current.name ?? node.key) });
    if (!pick) return;
    if (pick.field === 'json') return void (await vscode.commands.executeCommand('workbench.action.openSettingsJson'));
    if (pick.field === 'live') {
      await this.saved.update(node.key, { live: current.live ? undefined : true });
      if (node.share) void vscode.window.showInformationMessage(vscode.l10n.t('Live mode applies when {0} is opened next (reload the window).', node.key));
      return;
    }
    const numeric = pick.field === 'freshness' || pick.field === 'parallelDownloads';
    const value = await vscode.window.showInputBox({
      title: pick.label,
      prompt: numeric ? vscode.l10n.t('A number; empty: the general setting') : vscode.l10n.t('Empty: not set'),
      value: String(current[pick.field] ?? ''),
      validateInput: v => (numeric && v.trim() && !(Number(v) >= (pick.field === 'freshness' ? 0 : 1)) ? vscode.l10n.t('Enter a number (or nothing).') : undefined),
    });
    if (value === undefined) return;
    const text = value.trim();
    await this.saved.update(node.key, { [pick.field]: text ? (numeric ? Number(text) : text) : undefined });
  }

  /** Removes a share from the list; asks whether its cache on this computer goes too. */
  async remove(arg: unknown): Promise<void> {
    const node = this.required(arg, vscode.l10n.t('Remove'));
    const label = node.saved?.name ?? node.key;
    const cache = node.cache;
    const removeAndDelete = vscode.l10n.t('Remove and Delete Cache');
    const removeOnly = cache ? vscode.l10n.t('Remove, Keep Cache') : vscode.l10n.t('Remove');
    const detail = !cache
      ? vscode.l10n.t('Its password and other secrets stay in the secret storage until you forget them.')
      : node.share
        ? vscode.l10n.t('It is open in this window, so its cache ({0}) is kept; once the folder is closed, delete it under Other Caches.', formatBytes(cache.bytes))
        : vscode.l10n.t('Its cache on this computer takes {0}. Delete it too? Files kept available offline are then downloaded again when opened.', formatBytes(cache.bytes));
    const buttons = cache && !node.share ? [removeAndDelete, removeOnly] : [removeOnly];
    const choice = await vscode.window.showWarningMessage(vscode.l10n.t('Remove {0} from the WebDAV view?', label), { modal: true, detail }, ...buttons);
    if (!choice) return;
    if (choice === removeAndDelete && cache && !(await this.deleteCacheOf(cache.id, label, false))) return;
    await this.saved.remove(node.key);
    this.log.info(`[view] ${node.key}: removed from the list${choice === removeAndDelete ? ' with its cache' : ''}`);
  }

  /** Deletes the cache of a share that is not open (a share or an "Other Caches" node). */
  async deleteCache(arg: unknown): Promise<void> {
    const n = arg as Partial<ShareNode | CacheNode> | undefined;
    const node = n?.kind === 'cache' ? (n as CacheNode) : this.shareNode(arg);
    const cache = node?.cache;
    if (!node || !cache) throw new Error(vscode.l10n.t('Delete Cache acts on a cache listed in the WebDAV view.'));
    if (node.kind === 'share' && node.share) {
      throw new Error(vscode.l10n.t('{0} is open in this window: its cache cannot be deleted while it is in use. Use "Free Up Space" instead, or close the folder first.', node.key));
    }
    const label = node.kind === 'share' ? (node.saved?.name ?? node.key) : (node.key ?? cache.id);
    const ok = await vscode.window.showWarningMessage(
      vscode.l10n.t('Delete the cache of {0}?', label),
      { modal: true, detail: vscode.l10n.t('It takes {0} on this computer. What was kept available offline is downloaded again when the share is opened.', formatBytes(cache.bytes)) },
      vscode.l10n.t('Delete Cache'),
    );
    if (ok) await this.deleteCacheOf(cache.id, label, true);
  }

  /** Resolves false when the user kept it after all (changes not uploaded). */
  private async deleteCacheOf(id: string, label: string, tell: boolean): Promise<boolean> {
    let held: { pending: number; conflicts: number };
    try {
      held = await this.contents(id);
    } catch (err) {
      throw new Error(busy(err) ? vscode.l10n.t('The cache of {0} is in use by another window: close the folder there first.', label) : (err as Error).message);
    }
    if (held.pending || held.conflicts) {
      const anyway = vscode.l10n.t('Delete Anyway');
      const choice = await vscode.window.showWarningMessage(
        vscode.l10n.t('The cache of {0} holds {1} changes that are not on the server yet ({2} in conflict). Deleting it loses them.', label, held.pending, held.conflicts),
        { modal: true, detail: vscode.l10n.t('Open the share and go online to upload them first.') },
        anyway,
      );
      if (choice !== anyway) return false;
    }
    try {
      await this.caches.remove(id);
    } catch (err) {
      throw new Error(busy(err) ? vscode.l10n.t('The cache of {0} is in use by another window: close the folder there first.', label) : (err as Error).message);
    }
    await this.saved.forgetCache(id);
    this.log.info(`[view] deleted the cache ${id} (${label})`);
    if (tell) void vscode.window.showInformationMessage(vscode.l10n.t('Deleted the cache of {0}.', label));
    this.view.refresh();
    return true;
  }

  async unpin(arg: unknown): Promise<void> {
    const node = arg as Partial<PinNode> | undefined;
    if (node?.kind !== 'pin' || !node.share || !node.path) throw new Error(vscode.l10n.t('Unpin acts on a pinned folder or file in the WebDAV view.'));
    await node.share.unpin(node.path);
    this.view.refresh();
  }
}

function busy(err: unknown): boolean {
  return (err as { code?: string } | undefined)?.code === 'EBUSY';
}
