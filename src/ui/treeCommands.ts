// The walk that learns each share's whole tree (cache/treeLearner.ts), as the user sees it: a quiet
// status-bar item only while it runs (its tooltip says how far it got; a click stops it), the commands
// that start and stop it, and the sentence Show Cache Usage uses.
import * as vscode from 'vscode';
import { noShareOpen } from './commandArgs';
import type { Share, TreeProgress } from '../share/share';
import type { ShareRegistry } from '../share/shareRegistry';
import { SECTION } from './settingsReader';

const n = (x: number) => x.toLocaleString('en-US');

/** How much of a share's tree is known, in words (Show Cache Usage, the status bar's tooltip). */
export function describeTree(p: TreeProgress): string {
  switch (p.state) {
    case 'complete':
      return `every name known (${n(p.known)} items)${p.unreadable ? `, except ${n(p.unreadable)} folders the server would not list` : ''}`;
    case 'capped':
      return `${n(p.known)} names known: the limit of ${n(p.cap)} (${SECTION}.cache.maxTreeEntries) is reached, ${n(p.foldersToGo)} folders beyond it are not known offline`;
    case 'learning':
      return `learning names: ${n(p.known)} known, ${n(p.foldersToGo)} folders to go (limit ${n(p.cap)})`;
    case 'waiting':
      return `${n(p.known)} names known, ${n(p.foldersToGo)} folders to go (listed when the share is online)`;
    case 'stopped':
      return `${n(p.known)} names known; listing the whole share is stopped ("WebDAV: List the Whole Share" goes on)`;
    case 'off':
      return `${n(p.known)} names known; the whole share is not listed (${SECTION}.cache.maxTreeEntries is 0)`;
  }
}

export class TreeCommands implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('webdavOffline.treeProgress', vscode.StatusBarAlignment.Left, 99);
  private disposables: vscode.Disposable[] = [this.item];

  constructor(private readonly registry: ShareRegistry) {
    this.item.name = 'WebDAV: listing the whole share';
    this.item.command = `${SECTION}.stopLearningTree`;
    const follow = (share: Share) => share.onDidChangeTreeProgress(() => this.update(), undefined, this.disposables);
    registry.all().forEach(follow);
    registry.onDidAddShare(follow, undefined, this.disposables);
  }

  private update(): void {
    const learning = this.registry.all().map(share => ({ share, p: share.treeProgress() })).filter(x => x.p?.state === 'learning');
    if (!learning.length) return void this.item.hide();
    const known = learning.reduce((sum, x) => sum + x.p!.known, 0);
    this.item.text = `$(list-tree) ${n(known)}`;
    this.item.tooltip = [
      ...learning.map(x => `WebDAV: listing ${x.share.key} for offline use — ${describeTree(x.p!)}.`),
      'Only names are downloaded; content is fetched when a file is opened or kept available offline. Click to stop.',
    ].join('\n');
    this.item.show();
  }

  private shares(key?: string): Share[] {
    return this.registry.all().filter(s => key === undefined || s.key === key);
  }

  /** "WebDAV: List the Whole Share": learns every name now (also after a stop); resolves with how far it got. */
  async learn(key?: string): Promise<(TreeProgress | undefined)[]> {
    const shares = this.shares(key);
    if (!shares.length) {
      void noShareOpen();
      return [];
    }
    const results = await Promise.all(shares.map(s => s.learnTree()));
    shares.forEach((s, i) => {
      const p = results[i];
      if (p) void vscode.window.showInformationMessage(`${s.key}: ${describeTree(p)}.`);
    });
    return results;
  }

  /** "WebDAV: Stop Listing the Whole Share": no more listings (what is known stays), also after reloads. */
  async stop(key?: string): Promise<void> {
    const shares = this.shares(key);
    await Promise.all(shares.map(s => s.stopLearningTree()));
    this.update();
    if (shares.length) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Stopped listing {0}: the names learnt so far stay known offline. "WebDAV: List the Whole Share" goes on.', shares.map(s => s.key).join(', ')));
    }
  }

  dispose(): void {
    this.disposables.forEach(d => d.dispose());
    this.disposables = [];
  }
}
