// "WebDAV: Go to File…" and "WebDAV: Find in Files…" over the cache's index and cached contents:
// instant, and working offline (VS Code's own Quick Open and search do not reach this file system).
import * as vscode from 'vscode';
import { uriOf } from '../provider/webdavFileSystemProvider';
import type { Share } from '../share/share';
import type { ShareRegistry } from '../share/shareRegistry';

export class FindCommands {
  constructor(private readonly registry: ShareRegistry) {}

  async goToFile(): Promise<void> {
    const items: (vscode.QuickPickItem & { uri: vscode.Uri })[] = [];
    for (const share of this.registry.all()) {
      for (const hit of await share.findFiles('')) {
        const slash = hit.path.lastIndexOf('/');
        items.push({
          label: `${hit.cached ? '$(check)' : '$(cloud)'} ${hit.path.slice(slash + 1)}`,
          description: hit.path.slice(0, slash) || '/',
          detail: this.registry.all().length > 1 ? share.key : undefined,
          uri: uriOf(share, hit.path),
        });
      }
    }
    if (!items.length) return void vscode.window.showInformationMessage(vscode.l10n.t('No WebDAV files are known yet: open a folder first.'));
    const pick = await vscode.window.showQuickPick(items, {
      title: vscode.l10n.t('WebDAV: Go to File (✓ available offline)'),
      matchOnDescription: true,
      placeHolder: vscode.l10n.t('File name'),
    });
    if (pick) await vscode.commands.executeCommand('vscode.open', pick.uri);
  }

  async findInFiles(query?: string): Promise<number> {
    const text = query ?? (await vscode.window.showInputBox({ title: vscode.l10n.t('WebDAV: Find in Files (cached files)'), placeHolder: vscode.l10n.t('Text to find') }));
    if (!text) return 0;
    const items: (vscode.QuickPickItem & { share: Share; path: string; line: number; column: number })[] = [];
    for (const share of this.registry.all()) {
      for (const hit of await share.findInFiles(text)) {
        items.push({ label: hit.preview, description: `${hit.path}:${hit.line + 1}`, share, path: hit.path, line: hit.line, column: hit.column });
      }
    }
    if (query !== undefined) return items.length; // called with a query (tests, other extensions): just count
    if (!items.length) {
      void vscode.window.showInformationMessage(vscode.l10n.t('"{0}" is not in any cached WebDAV file.', text));
      return 0;
    }
    const pick = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('{0} matches of "{1}" in cached files', items.length, text), matchOnDescription: true });
    if (pick) {
      const pos = new vscode.Position(pick.line, pick.column);
      await vscode.window.showTextDocument(uriOf(pick.share, pick.path), { selection: new vscode.Range(pos, pos.translate(0, text.length)) });
    }
    return items.length;
  }
}
