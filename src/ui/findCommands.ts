// "WebDAV: Go to File…" and "WebDAV: Find in Files…" over the cache's index and cached contents:
// instant, and working offline. VS Code's own Quick Open (Ctrl+P) and Search view do not reach this file
// system: in real VS Code (code-server 4.x) on a dav: folder, Ctrl+P finds nothing in folders that were
// never expanded and the Search view waits for a search provider that only extensions with proposed APIs
// may register. Go to File lists every name the cache knows — with the whole tree learnt in the
// background, every file of the share — filtered here as you type (the list would be too long for
// VS Code's own filtering); Find in Files says how many files it could not search because their content
// is not downloaded.
import * as vscode from 'vscode';
import { uriOf } from '../provider/webdavFileSystemProvider';
import type { Share } from '../share/share';
import type { ShareRegistry } from '../share/shareRegistry';

/** Matches shown at once (the best first); typing more narrows them. */
const GO_TO_FILE_LIMIT = 500;

interface FileItem extends vscode.QuickPickItem {
  readonly uri: vscode.Uri;
}

function files(n: number): string {
  return n === 1 ? '1 file' : `${n.toLocaleString('en-US')} files`;
}

export class FindCommands {
  constructor(private readonly registry: ShareRegistry) {}

  /** The matches of `query` in every share, best first. */
  private async fileItems(query: string): Promise<FileItem[]> {
    const shares = this.registry.all();
    const items: FileItem[] = [];
    for (const share of shares) {
      for (const hit of await share.findFiles(query, GO_TO_FILE_LIMIT)) {
        const slash = hit.path.lastIndexOf('/');
        items.push({
          label: `${hit.cached ? '$(check)' : '$(cloud)'} ${hit.path.slice(slash + 1)}`,
          description: hit.path.slice(0, slash) || '/',
          detail: shares.length > 1 ? share.key : undefined,
          // filtered here already (by name, path and letters in order): VS Code must not hide any
          alwaysShow: true,
          uri: uriOf(share, hit.path),
        });
      }
    }
    return items;
  }

  /** Opens the file picked; resolves with the URI opened (undefined when cancelled). */
  async goToFile(initial = ''): Promise<vscode.Uri | undefined> {
    if (!(await this.fileItems('')).length) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No WebDAV files are known yet: open a folder first.'));
      return undefined;
    }
    const pick = vscode.window.createQuickPick<FileItem>();
    pick.title = vscode.l10n.t('WebDAV: Go to File — every known file (a check: downloaded; a cloud: not downloaded, available online)');
    pick.placeholder = vscode.l10n.t('File name, part of its path, or its letters in order');
    pick.matchOnDescription = true;
    pick.value = initial;
    let asked = 0;
    const update = async (value: string) => {
      const mine = ++asked;
      pick.busy = true;
      const items = await this.fileItems(value);
      if (mine !== asked) return; // a newer query is being answered
      pick.items = items;
      pick.busy = false;
    };
    return new Promise<vscode.Uri | undefined>(resolve => {
      let chosen: vscode.Uri | undefined;
      const subscriptions = [
        pick.onDidChangeValue(value => void update(value)),
        pick.onDidAccept(() => {
          chosen = pick.selectedItems[0]?.uri;
          pick.hide();
        }),
        pick.onDidHide(() => {
          subscriptions.forEach(d => d.dispose());
          pick.dispose();
          if (chosen) void vscode.commands.executeCommand('vscode.open', chosen);
          resolve(chosen);
        }),
      ];
      void update(initial);
      pick.show();
    });
  }

  async findInFiles(query?: string): Promise<number> {
    const text = query ?? (await vscode.window.showInputBox({ title: vscode.l10n.t('WebDAV: Find in Files (downloaded files)'), placeHolder: vscode.l10n.t('Text to find') }));
    if (!text) return 0;
    const items: (vscode.QuickPickItem & { share: Share; path: string; line: number; column: number })[] = [];
    let notDownloaded = 0;
    for (const share of this.registry.all()) {
      const found = await share.findInFiles(text);
      notDownloaded += found.notDownloaded;
      for (const hit of found.hits) {
        items.push({ label: hit.preview, description: `${hit.path}:${hit.line + 1}`, share, path: hit.path, line: hit.line, column: hit.column });
      }
    }
    if (query !== undefined) return items.length; // called with a query (tests, other extensions): just count
    const unsearched = notDownloaded ? ' ' + vscode.l10n.t('{0} not searched: their content is not downloaded (open them, or keep their folder available offline).', files(notDownloaded)) : '';
    if (!items.length) {
      void vscode.window.showInformationMessage(vscode.l10n.t('"{0}" is not in any downloaded WebDAV file.', text) + unsearched);
      return 0;
    }
    const title = vscode.l10n.t('{0} matches of "{1}" in downloaded files', items.length, text) + (notDownloaded ? ' · ' + vscode.l10n.t('{0} not searched (not downloaded)', files(notDownloaded)) : '');
    const pick = await vscode.window.showQuickPick(items, { title, matchOnDescription: true });
    if (pick) {
      const pos = new vscode.Position(pick.line, pick.column);
      await vscode.window.showTextDocument(uriOf(pick.share, pick.path), { selection: new vscode.Range(pos, pos.translate(0, text.length)) });
    }
    return items.length;
  }
}
