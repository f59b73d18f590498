// How the runner describes the Apache and lighttpd shares of the integration suite, and the sign-in
// gateway in front of the Apache one, to the extension host (its own module, so the tests' bundles do
// not pull in the code that starts servers).
// WEBDAV_TEST_SHARES is a JSON object by server name of
//   { folderUri, diskRoot, owner }  — dav: URI of /share/, the folder on disk, and the user:group a
//                                     file written there "as a colleague" must be handed to (or null)
//   { error }                       — the server could not be started (the tests that need it say why)
// WEBDAV_TEST_SIGNIN_GATEWAY is one JSON object:
//   { folderUri, diskRoot, owner, behind, controlUrl } — the same share of `behind` (its folder on disk),
//                                     reached through the gateway (test/support/signInGateway.ts), whose
//                                     mode is switched at controlUrl
//   { error }                       — the gateway (or the server behind it) could not be started
export const SERVER_SHARES_ENV = 'WEBDAV_TEST_SHARES';
export const SIGNIN_GATEWAY_ENV = 'WEBDAV_TEST_SIGNIN_GATEWAY';
export const SERVER_SHARE_NAMES = ['apache', 'lighttpd'] as const;
export type ServerShareName = (typeof SERVER_SHARE_NAMES)[number];
export type ServerShareInfo = { folderUri: string; diskRoot: string; owner: string | null } | { error: string };
export type GatewayInfo = { folderUri: string; diskRoot: string; owner: string | null; behind: ServerShareName; controlUrl: string } | { error: string };

/** The sign-in gateway's modes: forward everything; a sign-in page for every request; for changes only. */
export const GATEWAY_MODES = ['pass', 'all', 'writes'] as const;
export type GatewayMode = (typeof GATEWAY_MODES)[number];
/** What the gateway's control endpoint answers: its mode and what it did since it started. */
export interface GatewayStatus {
  readonly mode: GatewayMode;
  /** Requests forwarded to the server. */
  readonly forwarded: number;
  /** Requests answered with the sign-in page, by method. */
  readonly signInPages: Readonly<Record<string, number>>;
}
