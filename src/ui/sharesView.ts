// The WebDAV view (its own container in the Activity Bar): every share this computer knows — saved,
// open in this window, recently opened — with its state (online, offline by hand, unreachable, sign-in
// needed, syncing), pending changes and conflicts, cache size and pins; below an open share its pinned
// folders and files and its conflicts; and "Other Caches": caches on this computer whose share is no
// longer listed. The nodes carry what the commands act on (a node has `share` once it is open), and
// their context values name what applies, for the menus in package.json.
import * as vscode from 'vscode';
import type { ShareOptions } from '../core/settings';
import { basename, dirname } from '../core/remotePath';
import { parseShareUrl, type ShareLocation } from '../core/shareLocation';
import type { Logger } from '../core/log';
import { uriOf } from '../provider/webdavFileSystemProvider';
import { describeConflictKind, type Conflict, type Share, type StoredCache, type StoredCaches } from '../share/share';
import type { ShareRegistry } from '../share/shareRegistry';
import { formatBytes } from './cacheCommands';
import { keyOfAddress, type RecentShare, type SavedShares } from './savedShares';
import { describeState, shareStateOf, stateIcon } from './shareState';

export interface ShareNode {
  readonly kind: 'share';
  readonly key: string;
  readonly location: ShareLocation;
  readonly saved?: ShareOptions;
  readonly recent?: RecentShare;
  /** Open in this window. */
  readonly share?: Share;
  /** Its cache on this computer, when it has one. */
  readonly cache?: StoredCache;
}
export interface PinNode {
  readonly kind: 'pin';
  readonly share: Share;
  readonly path: string;
}
export interface ConflictNode {
  readonly kind: 'conflict';
  readonly share: Share;
  readonly conflict: Conflict;
}
export interface CacheNode {
  readonly kind: 'cache';
  readonly cache: StoredCache;
  /** The share it belonged to, when known. */
  readonly key?: string;
}
interface GroupNode {
  readonly kind: 'otherCaches';
  readonly caches: readonly CacheNode[];
}
interface NoteNode {
  readonly kind: 'note';
  readonly text: string;
}
export type ViewNode = ShareNode | PinNode | ConflictNode | CacheNode | GroupNode | NoteNode;

/** Date and time in the display language, short. */
export function formatWhen(ms: number): string {
  const d = new Date(ms);
  const sameDay = new Date().toDateString() === d.toDateString();
  try {
    return sameDay ? d.toLocaleTimeString(vscode.env.language, { hour: '2-digit', minute: '2-digit' }) : d.toLocaleDateString(vscode.env.language);
  } catch {
    return d.toISOString().slice(0, 16).replace('T', ' ');
  }
}

export class SharesView implements vscode.TreeDataProvider<ViewNode>, vscode.Disposable {
  private readonly _onDidChangeTreeData = new vscode.EventEmitter<ViewNode | undefined>();
  readonly onDidChangeTreeData = this._onDidChangeTreeData.event;
  private readonly disposables: vscode.Disposable[] = [this._onDidChangeTreeData];
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The shares as last listed (for the commands that name a share by key). */
  private listed: ShareNode[] = [];
  readonly treeView: vscode.TreeView<ViewNode>;

  constructor(
    private readonly registry: ShareRegistry,
    private readonly saved: SavedShares,
    private readonly caches: StoredCaches,
    private readonly log: Logger,
  ) {
    this.treeView = vscode.window.createTreeView('webdavOffline.shares', { treeDataProvider: this, showCollapseAll: false });
    const follow = (share: Share) => {
      const refresh = () => this.refresh();
      this.disposables.push(
        share.onDidChangeConnection(refresh),
        share.onDidChangePending(refresh),
        share.onDidChangeCacheState(refresh),
        share.onDidReplayProgress(refresh),
      );
      this.refresh();
    };
    registry.all().forEach(follow);
    this.disposables.push(
      this.treeView,
      registry.onDidAddShare(follow),
      saved.onDidChange(() => this.refresh()),
      this.treeView.onDidChangeVisibility(e => e.visible && this.refresh()),
    );
  }

  /** Lists again soon (changes come in bursts: a pin changes the cache state of every file). */
  refresh(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this._onDidChangeTreeData.fire(undefined);
    }, 150);
  }

  /** The share of the view with this key, as last listed. */
  node(key: string): ShareNode | undefined {
    return this.listed.find(n => n.key === key);
  }

  async getChildren(node?: ViewNode): Promise<ViewNode[]> {
    if (!node) return this.roots();
    if (node.kind === 'otherCaches') return [...node.caches];
    if (node.kind !== 'share' || !node.share) return [];
    const share = node.share;
    const pins: PinNode[] = share.pinnedPaths().map(path => ({ kind: 'pin', share, path }));
    const conflicts: ConflictNode[] = (await share.conflicts()).map(conflict => ({ kind: 'conflict', share, conflict }));
    const children: ViewNode[] = [...conflicts, ...pins];
    return children.length ? children : [{ kind: 'note', text: vscode.l10n.t('Nothing is kept available offline, and there are no conflicts.') }];
  }

  private async roots(): Promise<ViewNode[]> {
    const stored = await this.caches.list().catch(err => {
      this.log.warn(`[view] cannot list the caches: ${(err as Error).message}`);
      return [] as StoredCache[];
    });
    const owners = this.saved.cacheOwners();
    const cacheOf = (key: string) => stored.find(c => owners[c.id]?.key === key);
    const nodes = new Map<string, ShareNode>();
    const add = (key: string, more: Partial<ShareNode>) => {
      let location: ShareLocation;
      try {
        location = parseShareUrl(key).location;
      } catch {
        return;
      }
      const open = this.registry.all().find(s => s.key === key);
      const prev = nodes.get(key);
      nodes.set(key, { kind: 'share', key, location, ...prev, ...more, ...(open ? { share: open } : {}), cache: cacheOf(key) });
    };
    for (const o of this.saved.saved) add(keyOfAddress(o.address)!, { saved: o });
    for (const s of this.registry.all()) add(s.key, {});
    for (const r of this.saved.recent()) add(r.key, { recent: r });
    this.listed = [...nodes.values()];
    const listedIds = new Set(this.listed.map(n => n.cache?.id).filter(Boolean));
    const others: CacheNode[] = stored.filter(c => !listedIds.has(c.id)).map(c => ({ kind: 'cache', cache: c, key: owners[c.id]?.key }));
    const roots: ViewNode[] = [...this.listed];
    if (others.length) roots.push({ kind: 'otherCaches', caches: others });
    return roots;
  }

  async getTreeItem(node: ViewNode): Promise<vscode.TreeItem> {
    switch (node.kind) {
      case 'share':
        return this.shareItem(node);
      case 'pin': {
        const uri = uriOf(node.share, node.path);
        const item = new vscode.TreeItem(node.path === '/' ? vscode.l10n.t('Whole share') : basename(node.path));
        item.id = `pin:${node.share.key}${node.path}`;
        item.resourceUri = uri;
        item.description = node.path === '/' ? undefined : dirname(node.path);
        item.tooltip = vscode.l10n.t('{0}: kept available offline', node.path);
        item.iconPath = new vscode.ThemeIcon('pinned');
        item.contextValue = 'pin';
        item.command = { title: vscode.l10n.t('Reveal in Explorer'), command: 'revealInExplorer', arguments: [uri] };
        return item;
      }
      case 'conflict': {
        const item = new vscode.TreeItem(basename(node.conflict.path));
        item.id = `conflict:${node.share.key}:${node.conflict.id}`;
        item.description = describeConflictKind(node.conflict);
        item.tooltip = vscode.l10n.t('{0}: {1}. Compare, merge, or keep one side or both.', node.conflict.path, describeConflictKind(node.conflict));
        item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'));
        item.contextValue = 'conflict';
        item.command = { title: vscode.l10n.t('Compare'), command: 'webdavOffline.compareConflict', arguments: [node] };
        return item;
      }
      case 'otherCaches': {
        const item = new vscode.TreeItem(vscode.l10n.t('Other Caches'), vscode.TreeItemCollapsibleState.Collapsed);
        item.id = 'otherCaches';
        const total = node.caches.reduce((a, c) => a + c.cache.bytes, 0);
        item.description = `${node.caches.length} · ${formatBytes(total)}`;
        item.tooltip = vscode.l10n.t('Caches on this computer of shares that are not in this list');
        item.iconPath = new vscode.ThemeIcon('database');
        return item;
      }
      case 'cache': {
        const item = new vscode.TreeItem(node.key ?? vscode.l10n.t('Unknown share ({0}…)', node.cache.id.slice(0, 8)));
        item.id = `cache:${node.cache.id}`;
        item.description = this.cacheText(node.cache);
        item.tooltip = vscode.l10n.t('A cache on this computer: {0}', this.cacheText(node.cache));
        item.iconPath = new vscode.ThemeIcon('database');
        item.contextValue = 'cache';
        return item;
      }
      case 'note': {
        const item = new vscode.TreeItem(node.text);
        item.contextValue = 'note';
        return item;
      }
    }
  }

  private cacheText(cache: StoredCache): string {
    return cache.lastUsed
      ? vscode.l10n.t('{0}, last used {1}', formatBytes(cache.bytes), formatWhen(cache.lastUsed))
      : formatBytes(cache.bytes);
  }

  private async shareItem(node: ShareNode): Promise<vscode.TreeItem> {
    const share = node.share;
    const label = node.saved?.name ?? shortName(node.location);
    const tokens = ['share', node.saved ? 'saved' : 'unsaved', share ? 'open' : 'closed'];
    const item = new vscode.TreeItem(label, share && (await share.hasCache()) ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
    item.id = `share:${node.key}`;
    const tooltip = new vscode.MarkdownString();
    tooltip.appendMarkdown(`**${escape(label)}**  \n${escape(node.key)}`);
    if (share) {
      const state = shareStateOf(share);
      tokens.push(state);
      if (await share.hasCache()) tokens.push('cached');
      const conflicts = (await share.conflicts()).length;
      const pending = (await share.pendingChanges()).length - conflicts;
      const usage = await share.usage();
      const parts = [describeState(state)];
      if (pending) parts.push(pending === 1 ? vscode.l10n.t('1 pending') : vscode.l10n.t('{0} pending', pending));
      if (conflicts) parts.push(conflicts === 1 ? vscode.l10n.t('1 conflict') : vscode.l10n.t('{0} conflicts', conflicts));
      if (usage) parts.push(formatBytes(usage.bytes));
      if (usage?.pinnedFiles) parts.push(vscode.l10n.t('{0} kept offline', usage.pinnedFiles));
      item.description = parts.join(' · ');
      item.iconPath = stateIcon(state);
      tooltip.appendMarkdown(`\n\n${escape(parts.join(' · '))}`);
      if (usage) tooltip.appendMarkdown(`  \n${escape(vscode.l10n.t('Cache: {0} of {1}, {2} files cached, {3} kept available offline', formatBytes(usage.bytes), formatBytes(usage.limitBytes), usage.files, usage.pinnedFiles))}`);
    } else {
      const parts = [node.saved ? vscode.l10n.t('saved') : vscode.l10n.t('recent')];
      if (node.cache) {
        tokens.push('cached');
        parts.push(vscode.l10n.t('cache {0}', this.cacheText(node.cache)));
      } else if (node.recent) parts.push(vscode.l10n.t('opened {0}', formatWhen(node.recent.opened)));
      item.description = parts.join(' · ');
      item.iconPath = new vscode.ThemeIcon(node.saved ? 'folder-library' : 'history');
      tooltip.appendMarkdown(`\n\n${escape(vscode.l10n.t('Not open in this window.'))} ${escape(parts.join(' · '))}`);
    }
    item.tooltip = tooltip;
    item.contextValue = tokens.join(' ');
    item.accessibilityInformation = { label: `${label}, ${String(item.description ?? '')}` };
    return item;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.disposables.forEach(d => d.dispose());
  }
}

/** A share without a name: its host and path (the scheme is in the tooltip). */
export function shortName(location: ShareLocation): string {
  return `${location.authority}${location.basePath === '/' ? '' : location.basePath}`;
}

function escape(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, m => `\\${m}`);
}
