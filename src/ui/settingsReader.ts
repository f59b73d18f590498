// The only reader of VS Code's configuration: a frozen Settings, re-read when the section changes.
import * as vscode from 'vscode';
import { DEFAULTS, type Settings } from '../core/settings';

export const SECTION = 'webdavOffline';

export class SettingsReader implements vscode.Disposable {
  private current: Settings = read();
  private readonly _onDidChange = new vscode.EventEmitter<Settings>();
  readonly onDidChange = this._onDidChange.event;
  private readonly subscription = vscode.workspace.onDidChangeConfiguration(e => {
    if (e.affectsConfiguration(SECTION)) {
      this.current = read();
      this._onDidChange.fire(this.current);
    }
  });

  get settings(): Settings {
    return this.current;
  }

  dispose(): void {
    this.subscription.dispose();
    this._onDidChange.dispose();
  }
}

function read(): Settings {
  const c = vscode.workspace.getConfiguration(SECTION);
  const num = (key: string, fallback: number, min: number) => {
    const v = c.get<number>(key, fallback);
    return typeof v === 'number' && Number.isFinite(v) ? Math.max(min, v) : fallback;
  };
  return Object.freeze({
    requestTimeoutMs: num('requestTimeout', DEFAULTS.requestTimeoutMs / 1000, 1) * 1000,
    transferTimeoutMs: num('transferTimeout', DEFAULTS.transferTimeoutMs / 1000, 1) * 1000,
    cacheEnabled: c.get<boolean>('cache.enabled', DEFAULTS.cacheEnabled),
    liveShares: c.get<string[]>('cache.liveShares', [...DEFAULTS.liveShares]),
    freshnessMs: num('cache.freshness', DEFAULTS.freshnessMs / 1000, 0) * 1000,
    maxCacheBytes: num('cache.maxSize', DEFAULTS.maxCacheBytes / 2 ** 20, 1) * 2 ** 20,
    cullingEnabled: c.get<boolean>('cache.culling', DEFAULTS.cullingEnabled),
    parallelDownloads: Math.round(num('cache.parallelDownloads', DEFAULTS.parallelDownloads, 1)),
    pollIntervalMs: num('watch.pollInterval', DEFAULTS.pollIntervalMs / 1000, 0) * 1000,
    massDeleteThreshold: Math.round(num('sync.massDeleteThreshold', DEFAULTS.massDeleteThreshold, 0)),
    maxListingBytes: num('limits.maxListingSize', DEFAULTS.maxListingBytes / 2 ** 20, 1) * 2 ** 20,
    maxListingEntries: Math.round(num('limits.maxListingEntries', DEFAULTS.maxListingEntries, 100)),
    maxDownloadBytes: num('limits.maxFileSize', DEFAULTS.maxDownloadBytes / 2 ** 20, 1) * 2 ** 20,
  });
}
