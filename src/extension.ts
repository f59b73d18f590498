// Composition root: builds the objects, registers them, pushes one disposable. Shared by the Node and
// browser entry points, which inject what differs between the hosts.
import * as vscode from 'vscode';
import type { ShareStores } from './cache/shareStore';
import type { StoredCaches } from './cache/storedCaches';
import { sha256Hex } from './cache/contentHash';
import type { Logger } from './core/log';
import { isShareScheme, shareKey, splitAuthority, type ShareLocation } from './core/shareLocation';
import { normalizePath } from './core/remotePath';
import { isLiveShare, settingsForShare } from './core/settings';
import { WebdavFileSystemProvider } from './provider/webdavFileSystemProvider';
import { WebdavRemote, type HttpPlatform } from './remote/webdavRemote';
import { Share } from './share/share';
import { openCache, openStoreWhenFree, type OpenShareCache } from './cache/openCache';
import { ShareRegistry } from './share/shareRegistry';
import { VariantFileSystemProvider } from './provider/variantFileSystemProvider';
import { CacheCommands } from './ui/cacheCommands';
import { CacheDecorations } from './ui/cacheDecorations';
import { registerCommands } from './ui/commands';
import { ConflictCommands } from './ui/conflictCommands';
import { FindCommands } from './ui/findCommands';
import { OfflineFolderNotice } from './ui/offlineNotices';
import { TreeCommands } from './ui/treeCommands';
import { ConnectionStatusBar } from './ui/connectionStatusBar';
import { PendingChangesScm } from './ui/pendingChangesScm';
import { AccessCommands } from './ui/accessCommands';
import { CertificateTrust } from './ui/certificateTrust';
import { CredentialStore } from './ui/credentialStore';
import { offerToRemovePassword, offerToSave, OpenFolderCommand } from './ui/openFolderCommand';
import { SavedShares } from './ui/savedShares';
import { SharesView } from './ui/sharesView';
import { ShareViewCommands } from './ui/shareViewCommands';
import { ContextKeys } from './ui/contextKeys';
import { shareKeyOfArg } from './ui/commandArgs';
import { JOURNAL_TABLE } from './offline/journal';
import { CONFLICT_TABLE } from './offline/conflicts';
import { SettingsReader } from './ui/settingsReader';
import { ShareCommands } from './ui/shareCommands';

export interface Platform extends HttpPlatform {
  readonly name: 'node' | 'web';
  /** Where the caches live: on disk in the Node host, in IndexedDB in the browser. */
  shareStores(context: vscode.ExtensionContext, log: Logger): ShareStores;
  /** The same caches as a list, also of shares that are not open (the WebDAV view lists and deletes them). */
  storedCaches(context: vscode.ExtensionContext): StoredCaches;
}

/** What `activate` returns: used by the integration tests, and by other extensions that open shares. */
export interface WebdavOfflineApi {
  readonly registry: ShareRegistry;
  /** The WebDAV view's tree (the web suite reads it in the browser, where the caches are IndexedDB). */
  readonly sharesView: SharesView;
  /** Commits what the caches hold (called on deactivation). */
  flush(): Promise<void>;
}

/** The cache folder / database name of a share: a hash of its address, never the address itself. */
export async function shareId(location: ShareLocation): Promise<string> {
  return (await sha256Hex(new TextEncoder().encode(shareKey(location)))).slice(0, 32);
}

/** What a cache holds that is not on the server yet: opens its store (refused while in use), counts, closes. */
async function cacheContents(storage: ShareStores, id: string): Promise<{ pending: number; conflicts: number }> {
  const store = await storage.open(id);
  try {
    return { pending: (await store.loadTable(JOURNAL_TABLE)).length, conflicts: (await store.loadTable(CONFLICT_TABLE)).length };
  } finally {
    await store.close();
  }
}

export function activateWith(context: vscode.ExtensionContext, platform: Platform): WebdavOfflineApi {
  const output = vscode.window.createOutputChannel('WebDAV Offline', { log: true });
  const log: Logger = output;
  const logLevel = () => log.info(`[main] log level: ${vscode.LogLevel[output.logLevel]}`);
  logLevel();
  log.info(`[main] activating in the ${platform.name} extension host`);

  const settings = new SettingsReader();
  const saved = new SavedShares(settings, context.globalState);
  const trust = new CertificateTrust(context.globalState, key => credentials.changed(key));
  const credentials: CredentialStore = new CredentialStore(context.secrets, context.globalState, trust, key => saved.savedFor(key)?.username);
  const storage = platform.shareStores(context, log);
  const storedCaches = platform.storedCaches(context);
  const current = () => settings.settings;
  const registry = new ShareRegistry((location: ShareLocation) => {
    const forShare = () => settingsForShare(current(), location);
    const remote = new WebdavRemote(location, forShare, log, platform);
    const live = isLiveShare(current(), location);
    log.info(`[main] ${shareKey(location)}: ${live ? 'live mode (no cache)' : 'cached'}`);
    const cacheOf: OpenShareCache | undefined = live
      ? undefined
      : async (observed, wait) => {
          const id = await shareId(location);
          void saved.noteCache(id, location);
          return openCache(await openStoreWhenFree(storage, id, wait), observed, forShare, log);
        };
    const share = new Share(location, remote, credentials, log, cacheOf, ConflictCommands.hooks());
    if (!live) share.learnTreeInBackground(); // every name known offline
    return share;
  });
  const addWorkspaceFolders = (folders: readonly vscode.WorkspaceFolder[]) => {
    for (const f of folders) {
      if (!isShareScheme(f.uri.scheme)) continue;
      const { authority, password } = splitAuthority(f.uri.authority);
      const location: ShareLocation = { scheme: f.uri.scheme, authority, basePath: normalizePath(f.uri.path) };
      registry.addBase(location);
      void saved.noteOpened(location).then(() => offerToSave(saved, location));
      if (password !== undefined) {
        // resolving the folder hands the credentials to the share's sign-in (kept in SecretStorage)
        registry.resolve(f.uri.scheme, f.uri.authority, f.uri.path);
        void offerToRemovePassword(f);
      }
    }
  };
  addWorkspaceFolders(vscode.workspace.workspaceFolders ?? []);

  const provider = new WebdavFileSystemProvider(registry, log);
  const variants = new VariantFileSystemProvider(registry, log);
  const decorations = new CacheDecorations(registry);
  const cacheCommands = new CacheCommands(registry);
  const statusBar = new ConnectionStatusBar(registry);
  const pendingView = new PendingChangesScm(registry);
  const conflictCommands = new ConflictCommands(registry);
  const find = new FindCommands(registry);
  const tree = new TreeCommands(registry);
  const offlineNotice = new OfflineFolderNotice(provider);
  const openFolder = new OpenFolderCommand(registry, log, location => new WebdavRemote(location, current, log, platform), credentials, saved);
  const shareCommands = new ShareCommands(registry, credentials, statusBar, log);
  const access = new AccessCommands(registry, current, credentials, trust, log);
  const view = new SharesView(registry, saved, storedCaches, log);
  const viewCommands = new ShareViewCommands(view, saved, storedCaches, id => cacheContents(storage, id), openFolder, log);
  const contextKeys = new ContextKeys(registry, () => statusBar.current(), credentials);
  const keyOf = (arg: unknown) => shareKeyOfArg(registry, arg);

  const disposables: vscode.Disposable[] = [
    output,
    settings,
    saved,
    credentials,
    view,
    contextKeys,
    provider,
    variants,
    decorations,
    cacheCommands,
    statusBar,
    pendingView,
    conflictCommands,
    tree,
    offlineNotice,
    output.onDidChangeLogLevel(logLevel),
    vscode.workspace.onDidChangeWorkspaceFolders(e => addWorkspaceFolders(e.added)),
    registerCommands(
      {
        'webdavOffline.openFolder': (address?: unknown, mode?: 'open' | 'newWindow' | 'add') => openFolder.run(typeof address === 'string' ? address : undefined, mode),
        'webdavOffline.connectNextcloud': () => openFolder.run(undefined, undefined, true),
        'webdavOffline.openShare': (node?: unknown) => viewCommands.open(node, 'open'),
        'webdavOffline.openShareInNewWindow': (node?: unknown) => viewCommands.open(node, 'newWindow'),
        'webdavOffline.addShareToWorkspace': (node?: unknown) => viewCommands.open(node, 'add'),
        'webdavOffline.saveShare': (node?: unknown) => viewCommands.save(node),
        'webdavOffline.editShare': (node?: unknown) => viewCommands.edit(node),
        'webdavOffline.removeShare': (node?: unknown) => viewCommands.remove(node),
        'webdavOffline.deleteCache': (node?: unknown) => viewCommands.deleteCache(node),
        'webdavOffline.unpin': (node?: unknown) => viewCommands.unpin(node),
        'webdavOffline.refreshShares': () => view.refresh(),
        'webdavOffline.signIn': (arg?: unknown) => shareCommands.signIn(arg),
        'webdavOffline.forgetCredentials': (arg?: unknown) => shareCommands.forgetCredentials(arg),
        'webdavOffline.setAccessToken': (address?: string, token?: string) => access.setAccessToken(address, token),
        'webdavOffline.setSecretHeader': (address?: string, name?: string, value?: string) => access.setSecretHeader(address, name, value),
        'webdavOffline.setClientCertificatePassphrase': (address?: string, passphrase?: string) => access.setPassphrase(address, passphrase),
        'webdavOffline.reviewCertificate': (address?: string) => access.reviewCertificate(address),
        'webdavOffline.forgetTrustedCertificate': (address?: string) => access.forgetCertificate(address),
        'webdavOffline.showLog': () => output.show(),
        'webdavOffline.pin': (uri?: unknown, selection?: vscode.Uri[]) => cacheCommands.pin(uri, selection),
        'webdavOffline.freeUpSpace': (uri?: unknown, selection?: vscode.Uri[]) => cacheCommands.freeUpSpace(uri, selection),
        'webdavOffline.showCacheUsage': (arg?: unknown) => cacheCommands.showUsage(arg),
        'webdavOffline.goOffline': (arg?: unknown) => shareCommands.goOffline(arg),
        'webdavOffline.goOnline': (arg?: unknown) => shareCommands.goOnline(arg),
        'webdavOffline.toggleOnline': (arg?: unknown) => shareCommands.toggleOnline(arg),
        'webdavOffline.showConflicts': (arg?: unknown) => conflictCommands.showConflicts(keyOf(arg)),
        'webdavOffline.compareConflict': async (arg?: unknown) => {
          const t = await conflictCommands.target(arg);
          if (t) await conflictCommands.compare(t);
        },
        'webdavOffline.mergeConflict': async (arg?: unknown) => {
          const t = await conflictCommands.target(arg);
          if (t) await conflictCommands.merge(t);
        },
        'webdavOffline.keepLocal': async (arg?: unknown) => conflictCommands.resolve(await conflictCommands.target(arg), 'keepLocal'),
        'webdavOffline.keepServer': async (arg?: unknown) => conflictCommands.resolve(await conflictCommands.target(arg), 'keepServer'),
        'webdavOffline.keepBoth': async (arg?: unknown) => conflictCommands.resolve(await conflictCommands.target(arg), 'keepBoth'),
        'webdavOffline.markResolved': async (arg?: unknown) => conflictCommands.resolve(await conflictCommands.target(arg), 'markResolved'),
        'webdavOffline.showRecoveredFiles': () => conflictCommands.showRecovered(),
        'webdavOffline.goToFile': (query?: string) => find.goToFile(query),
        'webdavOffline.findInFiles': (query?: string) => find.findInFiles(query),
        'webdavOffline.learnTree': (key?: string) => tree.learn(key),
        'webdavOffline.stopLearningTree': (key?: string) => tree.stop(key),
        'webdavOffline.previewReconnect': async (arg?: unknown) => conflictCommands.previewReconnect(await shareCommands.shareByKey(arg)),
        'webdavOffline.openChange': (arg?: unknown) => shareCommands.openChange(arg),
        'webdavOffline.discardChange': (...args: unknown[]) => shareCommands.discardChanges(...args),
      },
      log,
      () => output.show(),
    ),
  ];
  context.subscriptions.push(new vscode.Disposable(() => vscode.Disposable.from(...disposables).dispose()));
  return { registry, sharesView: view, flush: () => registry.dispose() };
}
