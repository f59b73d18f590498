// The extension's settings as the core sees them. ui/settingsReader.ts is the only place that reads
// VS Code's configuration; tests build `{ ...DEFAULTS, … }`.
export interface Settings {
  /** Timeout of one metadata request (PROPFIND, MKCOL, DELETE, MOVE, COPY), ms. */
  readonly requestTimeoutMs: number;
  /** Timeout of one whole-file transfer (GET, PUT), ms. */
  readonly transferTimeoutMs: number;
}

export const DEFAULTS: Settings = Object.freeze({
  requestTimeoutMs: 30_000,
  transferTimeoutMs: 300_000,
});
