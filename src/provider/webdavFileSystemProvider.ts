// The FileSystemProvider for `dav:` (http) and `davs:` (https). A thin adapter: it routes each URI to
// its share, calls the core, maps errors in one place and reports its own changes to VS Code.
import * as vscode from 'vscode';
import { isShareError } from '../core/errors';
import type { Logger } from '../core/log';
import { isShareScheme } from '../core/shareLocation';
import type { EntryType } from '../remote/remoteFs';
import type { RemoteChangeType, Share } from '../share/share';
import type { ResolvedPath, ShareRegistry } from '../share/shareRegistry';
import { toFileSystemError } from './errorMapping';
import { displayUri, uriOf } from './shareUris';

export { uriOf } from './shareUris';

export const SCHEMES = ['dav', 'davs'] as const;

export class WebdavFileSystemProvider implements vscode.FileSystemProvider, vscode.Disposable {
  private readonly _onDidChangeFile = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this._onDidChangeFile.event;
  private readonly _onDidMissFolderOffline = new vscode.EventEmitter<{ uri: vscode.Uri; shareKey: string; message: string }>();
  /**
   * Offline, a folder whose names are not known here was read (the Explorer shows such a folder empty
   * and says nothing: the notice is the UI's, ui/offlineNotices.ts).
   */
  readonly onDidMissFolderOffline = this._onDidMissFolderOffline.event;
  private disposables: vscode.Disposable[] = [this._onDidChangeFile, this._onDidMissFolderOffline];
  private pendingEvents: vscode.FileChangeEvent[] = [];
  private fireTimer?: ReturnType<typeof setTimeout>;

  constructor(
    private readonly registry: ShareRegistry,
    private readonly log: Logger,
  ) {
    for (const scheme of SCHEMES) {
      this.disposables.push(vscode.workspace.registerFileSystemProvider(scheme, this, { isCaseSensitive: true }));
    }
    const follow = (share: Share) =>
      share.onDidChangeRemote(
        changes => this.fireSoon(...changes.map(c => ({ type: CHANGE_TYPES[c.type], uri: uriOf(share, c.path) }))),
        undefined,
        this.disposables,
      );
    registry.all().forEach(follow);
    registry.onDidAddShare(follow, undefined, this.disposables);
  }

  // --- lookup

  private resolve(uri: vscode.Uri): ResolvedPath {
    if (!isShareScheme(uri.scheme)) throw vscode.FileSystemError.Unavailable(vscode.l10n.t('{0}: is not a WebDAV scheme', uri.scheme));
    return this.registry.resolve(uri.scheme, uri.authority, uri.path);
  }

  private async run<T>(uri: vscode.Uri, op: (r: ResolvedPath) => Promise<T>): Promise<T> {
    try {
      return await op(this.resolve(uri));
    } catch (err) {
      throw toFileSystemError(err, uri, this.log);
    }
  }

  // --- reading

  watch(uri: vscode.Uri, options: { readonly recursive: boolean }): vscode.Disposable {
    const { share, path } = this.resolve(uri);
    const watch = share.watch(path, options.recursive);
    return new vscode.Disposable(() => watch.dispose());
  }

  stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    return this.run(uri, async ({ share, path }) => {
      const e = await share.stat(path);
      // the server says the user may not change it (Nextcloud's permissions, WebDAV ACLs): VS Code shows it read-only
      const readonly = e.permissions && !e.permissions.write ? { permissions: vscode.FilePermission.Readonly } : {};
      return { type: fileType(e.type), size: e.size, mtime: e.mtime, ctime: e.ctime, ...readonly };
    });
  }

  readDirectory(uri: vscode.Uri): Promise<[string, vscode.FileType][]> {
    return this.run(uri, async ({ share, path }) => {
      try {
        return (await share.readDirectory(path)).map(([name, type]) => [name, fileType(type)] as [string, vscode.FileType]);
      } catch (err) {
        if (isShareError(err, 'Unavailable') && err.reason === 'offline') this._onDidMissFolderOffline.fire({ uri, shareKey: share.key, message: err.message });
        throw err;
      }
    });
  }

  readFile(uri: vscode.Uri): Promise<Uint8Array> {
    return this.run(uri, ({ share, path }) => share.readFile(path));
  }

  // --- writing

  writeFile(uri: vscode.Uri, content: Uint8Array, options: { create: boolean; overwrite: boolean }): Promise<void> {
    return this.run(uri, async ({ share, path }) => {
      const result = await share.writeFile(path, content, options);
      this.fireSoon({ type: result === 'created' ? vscode.FileChangeType.Created : vscode.FileChangeType.Changed, uri });
    });
  }

  createDirectory(uri: vscode.Uri): Promise<void> {
    return this.run(uri, async ({ share, path }) => {
      await share.createDirectory(path);
      this.fireSoon({ type: vscode.FileChangeType.Created, uri });
    });
  }

  delete(uri: vscode.Uri, options: { recursive: boolean }): Promise<void> {
    return this.run(uri, async ({ share, path }) => {
      await share.delete(path, options);
      this.fireSoon({ type: vscode.FileChangeType.Deleted, uri });
    });
  }

  rename(oldUri: vscode.Uri, newUri: vscode.Uri, options: { overwrite: boolean }): Promise<void> {
    return this.transfer('rename', oldUri, newUri, options);
  }

  copy(source: vscode.Uri, destination: vscode.Uri, options: { overwrite: boolean }): Promise<void> {
    return this.transfer('copy', source, destination, options);
  }

  private transfer(kind: 'rename' | 'copy', from: vscode.Uri, to: vscode.Uri, options: { overwrite: boolean }): Promise<void> {
    return this.run(from, async ({ share, path }) => {
      const target = this.resolve(to);
      if (target.share !== share) {
        throw vscode.FileSystemError.NoPermissions(
          kind === 'rename'
            ? vscode.l10n.t('Cannot move between different WebDAV shares ({0} → {1}); copy the content instead', displayUri(from), displayUri(to))
            : vscode.l10n.t('Cannot copy between different WebDAV shares ({0} → {1}); copy the content instead', displayUri(from), displayUri(to)),
        );
      }
      await share[kind](path, target.path, options);
      if (kind === 'rename') this.fireSoon({ type: vscode.FileChangeType.Deleted, uri: from });
      this.fireSoon({ type: vscode.FileChangeType.Created, uri: to });
    });
  }

  // --- events

  private fireSoon(...events: vscode.FileChangeEvent[]): void {
    this.pendingEvents.push(...events);
    if (this.fireTimer) clearTimeout(this.fireTimer);
    this.fireTimer = setTimeout(() => {
      this.fireTimer = undefined;
      const batch = this.pendingEvents;
      this.pendingEvents = [];
      this._onDidChangeFile.fire(batch);
    }, 5);
  }

  dispose(): void {
    if (this.fireTimer) clearTimeout(this.fireTimer);
    this.disposables.forEach(d => d.dispose());
    this.disposables = [];
  }
}

const CHANGE_TYPES: Record<RemoteChangeType, vscode.FileChangeType> = {
  created: vscode.FileChangeType.Created,
  changed: vscode.FileChangeType.Changed,
  deleted: vscode.FileChangeType.Deleted,
};

function fileType(type: EntryType): vscode.FileType {
  return type === 'directory' ? vscode.FileType.Directory : vscode.FileType.File;
}
