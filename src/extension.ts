// Composition root: builds the objects, registers them, pushes one disposable. Shared by the Node and
// browser entry points, which inject what differs between the hosts.
import * as vscode from 'vscode';
import type { ShareStores } from './cache/shareStore';
import { sha256Hex } from './cache/contentHash';
import type { Logger } from './core/log';
import { isShareScheme, parseShareUrl, shareKey, splitAuthority, type ShareLocation } from './core/shareLocation';
import { normalizePath } from './core/remotePath';
import type { Settings } from './core/settings';
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
import { offerToRemovePassword, OpenFolderCommand } from './ui/openFolderCommand';
import { SettingsReader } from './ui/settingsReader';
import { ShareCommands } from './ui/shareCommands';

export interface Platform extends HttpPlatform {
  readonly name: 'node' | 'web';
  /** Where the caches live: on disk in the Node host, in IndexedDB in the browser. */
  shareStores(context: vscode.ExtensionContext, log: Logger): ShareStores;
}

/** What `activate` returns: used by the integration tests, and by other extensions that open shares. */
export interface WebdavOfflineApi {
  readonly registry: ShareRegistry;
  /** Commits what the caches hold (called on deactivation). */
  flush(): Promise<void>;
}

/** The cache folder / database name of a share: a hash of its address, never the address itself. */
export async function shareId(location: ShareLocation): Promise<string> {
  return (await sha256Hex(new TextEncoder().encode(shareKey(location)))).slice(0, 32);
}

function isLive(settings: Settings, location: ShareLocation): boolean {
  if (!settings.cacheEnabled) return true;
  const key = shareKey(location);
  return settings.liveShares.some(address => {
    try {
      return shareKey(parseShareUrl(address).location) === key;
    } catch {
      return false;
    }
  });
}

export function activateWith(context: vscode.ExtensionContext, platform: Platform): WebdavOfflineApi {
  const output = vscode.window.createOutputChannel('WebDAV Offline', { log: true });
  const log: Logger = output;
  const logLevel = () => log.info(`[main] log level: ${vscode.LogLevel[output.logLevel]}`);
  logLevel();
  log.info(`[main] activating in the ${platform.name} extension host`);

  const settings = new SettingsReader();
  const trust = new CertificateTrust(context.globalState, key => credentials.changed(key));
  const credentials: CredentialStore = new CredentialStore(context.secrets, context.globalState, trust);
  const storage = platform.shareStores(context, log);
  const current = () => settings.settings;
  const registry = new ShareRegistry((location: ShareLocation) => {
    const remote = new WebdavRemote(location, current, log, platform);
    const live = isLive(current(), location);
    log.info(`[main] ${shareKey(location)}: ${live ? 'live mode (no cache)' : 'cached'}`);
    const cacheOf: OpenShareCache | undefined = live
      ? undefined
      : async (observed, wait) => openCache(await openStoreWhenFree(storage, await shareId(location), wait), observed, current, log);
    const share = new Share(location, remote, credentials, log, cacheOf, ConflictCommands.hooks());
    if (!live) share.learnTreeInBackground(); // every name known offline
    return share;
  });
  const addWorkspaceFolders = (folders: readonly vscode.WorkspaceFolder[]) => {
    for (const f of folders) {
      if (!isShareScheme(f.uri.scheme)) continue;
      const { authority, password } = splitAuthority(f.uri.authority);
      registry.addBase({ scheme: f.uri.scheme, authority, basePath: normalizePath(f.uri.path) });
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
  const openFolder = new OpenFolderCommand(registry, log, location => new WebdavRemote(location, current, log, platform), credentials);
  const shareCommands = new ShareCommands(registry, credentials, statusBar, log);
  const access = new AccessCommands(registry, current, credentials, trust, log);

  const disposables: vscode.Disposable[] = [
    output,
    settings,
    credentials,
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
        'webdavOffline.openFolder': (address?: string, mode?: 'open' | 'newWindow' | 'add') => openFolder.run(address, mode),
        'webdavOffline.signIn': () => shareCommands.signIn(),
        'webdavOffline.forgetCredentials': () => shareCommands.forgetCredentials(),
        'webdavOffline.setAccessToken': (address?: string, token?: string) => access.setAccessToken(address, token),
        'webdavOffline.setSecretHeader': (address?: string, name?: string, value?: string) => access.setSecretHeader(address, name, value),
        'webdavOffline.setClientCertificatePassphrase': (address?: string, passphrase?: string) => access.setPassphrase(address, passphrase),
        'webdavOffline.reviewCertificate': (address?: string) => access.reviewCertificate(address),
        'webdavOffline.forgetTrustedCertificate': (address?: string) => access.forgetCertificate(address),
        'webdavOffline.showLog': () => output.show(),
        'webdavOffline.pin': (uri?: vscode.Uri, selection?: vscode.Uri[]) => cacheCommands.pin(uri, selection),
        'webdavOffline.freeUpSpace': (uri?: vscode.Uri, selection?: vscode.Uri[]) => cacheCommands.freeUpSpace(uri, selection),
        'webdavOffline.showCacheUsage': () => cacheCommands.showUsage(),
        'webdavOffline.goOffline': (key?: string) => shareCommands.goOffline(key),
        'webdavOffline.goOnline': (key?: string) => shareCommands.goOnline(key),
        'webdavOffline.toggleOnline': (key?: string) => shareCommands.toggleOnline(key),
        'webdavOffline.showConflicts': (key?: string) => conflictCommands.showConflicts(key),
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
        'webdavOffline.previewReconnect': async (key?: string) => conflictCommands.previewReconnect(await shareCommands.shareByKey(key)),
        'webdavOffline.openChange': (arg?: unknown) => shareCommands.openChange(arg),
        'webdavOffline.discardChange': (...args: unknown[]) => shareCommands.discardChanges(...args),
      },
      log,
      () => output.show(),
    ),
  ];
  context.subscriptions.push(new vscode.Disposable(() => vscode.Disposable.from(...disposables).dispose()));
  return { registry, flush: () => registry.dispose() };
}
