// The extension's settings as the core sees them. ui/settingsReader.ts is the only place that reads
// VS Code's configuration; tests build `{ ...DEFAULTS, … }`.
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
  /** Upper bound of cached content per share, bytes. */
  readonly maxCacheBytes: number;
  /** Clean, unpinned content is culled least-recently-used first when over the limit. */
  readonly cullingEnabled: boolean;
  /** Downloads run in parallel when pinning. */
  readonly parallelDownloads: number;
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
}

export const DEFAULTS: Settings = Object.freeze({
  requestTimeoutMs: 30_000,
  transferTimeoutMs: 300_000,
  cacheEnabled: true,
  liveShares: [],
  freshnessMs: 5_000,
  maxCacheBytes: 1024 * 1024 * 1024,
  cullingEnabled: true,
  parallelDownloads: 4,
  pollIntervalMs: 15_000,
  massDeleteThreshold: 20,
  maxListingBytes: 64 * 1024 * 1024,
  maxListingEntries: 200_000,
  maxDownloadBytes: 4 * 1024 * 1024 * 1024,
});
