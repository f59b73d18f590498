// Read-only documents for versions the cache keeps apart from the live file: the server version a
// change started from (base), a version in the recovery area. Registered with isReadonly, like git:.
//   webdav-variant:/<label>/<path in share>?share=<share key>&blob=<content hash>
import * as vscode from 'vscode';
import type { Logger } from '../core/log';
import { isShareScheme, parseShareUrl } from '../core/shareLocation';
import type { Share } from '../share/share';
import type { ShareRegistry } from '../share/shareRegistry';

export const VARIANT_SCHEME = 'webdav-variant';

export function variantUri(share: Share, path: string, blob: string, label: string): vscode.Uri {
  return vscode.Uri.from({
    scheme: VARIANT_SCHEME,
    path: `/${encodeURIComponent(label)}${path}`,
    query: new URLSearchParams({ share: share.key, blob }).toString(),
  });
}

export class VariantFileSystemProvider implements vscode.FileSystemProvider, vscode.Disposable {
  private readonly _onDidChangeFile = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this._onDidChangeFile.event;
  private readonly registration: vscode.Disposable;

  constructor(
    private readonly registry: ShareRegistry,
    private readonly log: Logger,
  ) {
    this.registration = vscode.workspace.registerFileSystemProvider(VARIANT_SCHEME, this, { isReadonly: true, isCaseSensitive: true });
  }

  private async content(uri: vscode.Uri): Promise<Uint8Array> {
    const q = new URLSearchParams(uri.query);
    const blob = q.get('blob');
    const key = q.get('share');
    const location = key ? parseShareUrl(key).location : undefined;
    if (!blob || !location || !isShareScheme(location.scheme)) throw vscode.FileSystemError.FileNotFound(uri);
    const data = await this.registry.get(location).blob(blob);
    if (!data) {
      this.log.warn(`[variant] ${uri.path}: the kept version is no longer in the cache`);
      throw vscode.FileSystemError.FileNotFound(vscode.l10n.t('This version is no longer kept: {0}', uri.path));
    }
    return data;
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const data = await this.content(uri);
    return { type: vscode.FileType.File, size: data.byteLength, mtime: 0, ctime: 0, permissions: vscode.FilePermission.Readonly };
  }

  readFile(uri: vscode.Uri): Promise<Uint8Array> {
    return this.content(uri);
  }

  watch(): vscode.Disposable {
    return new vscode.Disposable(() => undefined); // kept versions never change
  }

  readDirectory(): never {
    throw vscode.FileSystemError.FileNotADirectory();
  }
  createDirectory(): never {
    throw vscode.FileSystemError.NoPermissions(vscode.l10n.t('Kept versions are read-only'));
  }
  writeFile(): never {
    throw vscode.FileSystemError.NoPermissions(vscode.l10n.t('Kept versions are read-only'));
  }
  delete(): never {
    throw vscode.FileSystemError.NoPermissions(vscode.l10n.t('Kept versions are read-only'));
  }
  rename(): never {
    throw vscode.FileSystemError.NoPermissions(vscode.l10n.t('Kept versions are read-only'));
  }

  dispose(): void {
    this.registration.dispose();
    this._onDidChangeFile.dispose();
  }
}
