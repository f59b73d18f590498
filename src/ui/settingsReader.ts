// The only reader of VS Code's configuration: a frozen Settings, re-read when the section changes —
// ours, and VS Code's proxy settings (`http.*`), which the share's requests honour.
import * as vscode from 'vscode';
import type { ProxySettings } from '../core/proxy';
import { DEFAULTS, type Settings, type ShareOptions } from '../core/settings';

export const SECTION = 'webdavOffline';

export class SettingsReader implements vscode.Disposable {
  private current: Settings = read();
  private readonly _onDidChange = new vscode.EventEmitter<Settings>();
  readonly onDidChange = this._onDidChange.event;
  private readonly subscription = vscode.workspace.onDidChangeConfiguration(e => {
    if (e.affectsConfiguration(SECTION) || e.affectsConfiguration('http')) {
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
    revalidation: c.get<string>('cache.revalidation', DEFAULTS.revalidation) === 'beforeRead' ? 'beforeRead' : 'background',
    maxCacheBytes: num('cache.maxSize', DEFAULTS.maxCacheBytes / 2 ** 20, 1) * 2 ** 20,
    cullingEnabled: c.get<boolean>('cache.culling', DEFAULTS.cullingEnabled),
    parallelDownloads: Math.round(num('cache.parallelDownloads', DEFAULTS.parallelDownloads, 1)),
    maxTreeEntries: Math.round(num('cache.maxTreeEntries', DEFAULTS.maxTreeEntries, 0)),
    pollIntervalMs: num('watch.pollInterval', DEFAULTS.pollIntervalMs / 1000, 0) * 1000,
    massDeleteThreshold: Math.round(num('sync.massDeleteThreshold', DEFAULTS.massDeleteThreshold, 0)),
    maxListingBytes: num('limits.maxListingSize', DEFAULTS.maxListingBytes / 2 ** 20, 1) * 2 ** 20,
    maxListingEntries: Math.round(num('limits.maxListingEntries', DEFAULTS.maxListingEntries, 100)),
    maxDownloadBytes: num('limits.maxFileSize', DEFAULTS.maxDownloadBytes / 2 ** 20, 1) * 2 ** 20,
    shares: readShares(c.get<unknown>('shares', [])),
    proxy: readProxy(),
  });
}

/** VS Code's own proxy settings (`http.proxy`, `http.noProxy`, `http.proxyStrictSSL`, `http.proxyAuthorization`, `http.proxySupport`). */
function readProxy(): ProxySettings {
  const h = vscode.workspace.getConfiguration('http');
  const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
  const noProxy = h.get<unknown>('noProxy', []);
  const support = h.get<unknown>('proxySupport', 'override');
  return Object.freeze({
    url: text(h.get<unknown>('proxy')),
    noProxy: Array.isArray(noProxy) ? noProxy.filter((v): v is string => typeof v === 'string') : [],
    strictSSL: h.get<unknown>('proxyStrictSSL', true) !== false,
    authorization: text(h.get<unknown>('proxyAuthorization')),
    support: support === 'off' || support === 'on' || support === 'fallback' ? support : 'override',
  });
}

/** The saved shares, with what is not a well-formed entry left out (a settings file is hand-edited). */
function readShares(value: unknown): ShareOptions[] {
  if (!Array.isArray(value)) return [];
  const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
  const out: ShareOptions[] = [];
  for (const item of value) {
    if (typeof item !== 'object' || item === null) continue;
    const o = item as Record<string, unknown>;
    const address = text(o.address);
    if (!address) continue;
    const headers =
      typeof o.headers === 'object' && o.headers !== null && !Array.isArray(o.headers)
        ? Object.fromEntries(Object.entries(o.headers as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'))
        : undefined;
    out.push({
      address,
      name: text(o.name),
      username: text(o.username),
      live: o.live === true ? true : undefined,
      freshness: typeof o.freshness === 'number' && Number.isFinite(o.freshness) && o.freshness >= 0 ? o.freshness : undefined,
      parallelDownloads:
        typeof o.parallelDownloads === 'number' && Number.isFinite(o.parallelDownloads) ? Math.min(32, Math.max(1, Math.round(o.parallelDownloads))) : undefined,
      caFile: text(o.caFile),
      clientCertificate: text(o.clientCertificate),
      clientKey: text(o.clientKey),
      headers,
    });
  }
  return out;
}
