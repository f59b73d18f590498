// The URIs of a share's items as VS Code knows them, and the form of a URI that may be shown or logged.
import * as vscode from 'vscode';
import type { Share } from '../share/share';

/** The `dav:`/`davs:` URI of a path inside a share. */
export function uriOf(share: Share, path: string): vscode.Uri {
  const base = share.location.basePath === '/' ? '' : share.location.basePath;
  return vscode.Uri.from({ scheme: share.location.scheme, authority: share.uriAuthority, path: base + (path === '/' ? '' : path) || '/' });
}

/** A URI for messages and logs: without user name or password. */
export function displayUri(uri: vscode.Uri): string {
  const at = uri.authority.lastIndexOf('@');
  return (at < 0 ? uri : uri.with({ authority: uri.authority.slice(at + 1) })).toString(true);
}

