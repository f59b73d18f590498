// The extension's settings as the core sees them. ui/settingsReader.ts is the only place that reads
// VS Code's configuration; tests build `{ ...DEFAULTS, … }`.
import { NO_PROXY_SETTINGS, type ProxySettings } from './proxy';
import { parseShareUrl, shareKey, type ShareLocation } from './shareLocation';

export type { ProxySettings } from './proxy';
export interface Settings {
  /** Timeout of one metadata request (PROPFIND, MKCOL, DELETE, MOVE, COPY), ms. */
  readonly requestTimeoutMs: number;
  /** Timeout of one whole-file transfer (GET, PUT), ms. */
  readonly transferTimeoutMs: number;
  /** The persistent cache is used (false: live mode, every stat and read goes to the server). */
  readonly cacheEnabled: boolean;
  /** Share addresses (`dav://host:port/base/`) that run in live mode although the cache is on. */
  readonly liveShares: readonly string[];
  /** How long a validated item is trusted without asking the server again (like NFS attribute caching), ms. */
  readonly freshnessMs: number;
  /**
   * After the freshness window, a cached item is served at once and checked in the background (a change
   * found there is told to VS Code, which reloads what it shows) — or, `beforeRead`, every read waits for the
   * server's answer first.
   */
  readonly revalidation: Revalidation;
  /** Upper bound of cached content per share, bytes. */
  readonly maxCacheBytes: number;
  /** Clean, unpinned content is culled least-recently-used first when over the limit. */
  readonly cullingEnabled: boolean;
  /** The most downloads in flight when pinning (a ceiling: how many is found as it goes, cache/adaptiveLimit.ts). */
  readonly parallelDownloads: number;
  /**
   * Most entries (files and folders) the background walk learns of a share's tree, so that every name
   * is known offline; 0 turns the walk off. Folders beyond it are not known offline.
   */
  readonly maxTreeEntries: number;
  /** Interval of the remote-change poll of watched folders, ms (0: no polling). */
  readonly pollIntervalMs: number;
  /** A reconnect that would delete more pinned or cached files than this asks first. */
  readonly massDeleteThreshold: number;
  /** Largest folder listing (PROPFIND answer) read, bytes; a larger one fails with a clear error. */
  readonly maxListingBytes: number;
  /** Most entries one folder listing may hold. */
  readonly maxListingEntries: number;
  /** Largest file body downloaded (GET), bytes: checked against Content-Length and while reading. */
  readonly maxDownloadBytes: number;
  /** Saved shares and their own options (`webdavOffline.shares`). */
  readonly shares: readonly ShareOptions[];
  /** VS Code's proxy settings (`http.proxy`, `http.noProxy`, …), which the share's requests honour. */
  readonly proxy: ProxySettings;
}

/**
 * One saved share and the options that apply to it alone. Matched to an open share by the share key of
 * its address. Never a secret: passwords, tokens, passphrases and secret header values live in VS Code's
 * SecretStorage.
 */
export interface ShareOptions {
  /** The share's address as given (`https://host/dav/`, `davs://…`, `dav://…`). */
  readonly address: string;
  /** A name to show instead of the address. */
  readonly name?: string;
  /** The user name to sign in with (the password is asked for, and kept in SecretStorage). */
  readonly username?: string;
  /** Live mode for this share: no cache (like `cache.liveShares`). */
  readonly live?: boolean;
  /** This share's freshness window, seconds (instead of `cache.freshness`). */
  readonly freshness?: number;
  /** Downloads at once when pinning in this share (instead of `cache.parallelDownloads`). */
  readonly parallelDownloads?: number;
  /** A PEM file of certificate authorities to trust for this share, besides the system's. */
  readonly caFile?: string;
  /** A client certificate: a PEM file (its key in it, or in `clientKey`), or a PKCS#12 file (.p12, .pfx). */
  readonly clientCertificate?: string;
  /** The client certificate's private key, when it is a separate PEM file. */
  readonly clientKey?: string;
  /** Extra request headers whose values are not secret (secret ones are set with a command, kept in SecretStorage). */
  readonly headers?: Readonly<Record<string, string>>;
}

export type Revalidation = 'background' | 'beforeRead';

export const DEFAULTS: Settings = Object.freeze({
  requestTimeoutMs: 30_000,
  transferTimeoutMs: 300_000,
  cacheEnabled: true,
  liveShares: [],
  freshnessMs: 5_000,
  revalidation: 'background',
  maxCacheBytes: 1024 * 1024 * 1024,
  cullingEnabled: true,
  parallelDownloads: 32,
  maxTreeEntries: 200_000,
  pollIntervalMs: 15_000,
  massDeleteThreshold: 20,
  maxListingBytes: 64 * 1024 * 1024,
  maxListingEntries: 200_000,
  maxDownloadBytes: 4 * 1024 * 1024 * 1024,
  shares: [],
  proxy: NO_PROXY_SETTINGS,
});

/**
 * The saved options of the share at `location`: the entry of `webdavOffline.shares` whose address names
 * the same share (scheme, host and port, base path — `https://h/dav` and `davs://h/dav/` are one share);
 * the first such entry when there are several; undefined when none does.
 */
export function findShareOptions(shares: readonly ShareOptions[], location: ShareLocation): ShareOptions | undefined {
  const key = shareKey(location);
  return shares.find(o => {
    try {
      return shareKey(parseShareUrl(o.address).location) === key;
    } catch {
      return false;
    }
  });
}

/** The settings as one share sees them: its saved options (freshness, parallel downloads) over the general ones. */
export function settingsForShare(settings: Settings, location: ShareLocation): Settings {
  const o = findShareOptions(settings.shares, location);
  if (o?.freshness === undefined && o?.parallelDownloads === undefined) return settings;
  return Object.freeze({
    ...settings,
    ...(o.freshness !== undefined ? { freshnessMs: o.freshness * 1000 } : {}),
    ...(o.parallelDownloads !== undefined ? { parallelDownloads: o.parallelDownloads } : {}),
  });
}

/** Whether the share runs live, without a cache: the cache is off, or the share is listed as live or saved with `live`. */
export function isLiveShare(settings: Settings, location: ShareLocation): boolean {
  if (!settings.cacheEnabled) return true;
  if (findShareOptions(settings.shares, location)?.live) return true;
  const key = shareKey(location);
  return settings.liveShares.some(address => {
    try {
      return shareKey(parseShareUrl(address).location) === key;
    } catch {
      return false;
    }
  });
}
