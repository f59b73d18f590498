// What a share command was invoked with, wherever it came from: a share key (the status bar, tests,
// other extensions), a node of the WebDAV view, or a Source Control provider (the title actions of
// Source Control pass their SourceControl, known by its root URI). One place, so every command accepts
// all of them.
import * as vscode from 'vscode';
import { uriOf } from '../provider/webdavFileSystemProvider';
import type { Share } from '../share/share';
import type { ShareRegistry } from '../share/shareRegistry';

/** The key of the share an argument names, if it names one. */
export function shareKeyOfArg(registry: ShareRegistry, arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (typeof arg !== 'object' || arg === null) return undefined;
  const o = arg as { share?: Share; key?: unknown; rootUri?: unknown };
  if (o.share && typeof o.share.key === 'string') return o.share.key;
  if (typeof o.key === 'string') return o.key;
  if (o.rootUri instanceof vscode.Uri) {
    const root = o.rootUri.toString();
    return registry.all().find(s => uriOf(s, '/').toString() === root)?.key;
  }
  return undefined;
}

/** The open share an argument names (undefined when it names none, or one not open in this window). */
export function shareOfArg(registry: ShareRegistry, arg: unknown): Share | undefined {
  const key = shareKeyOfArg(registry, arg);
  return key === undefined ? undefined : registry.all().find(s => s.key === key);
}

/** Said by a command that needs an open share when there is none. */
export function noShareOpen(): void {
  void vscode.window.showInformationMessage(vscode.l10n.t('No WebDAV share is open in this window. Open one with "WebDAV: Open Folder…" or from the WebDAV view.'));
}
