// How the runner describes the Apache and lighttpd shares of the integration suite to the extension
// host (its own module, so the tests' bundles do not pull in the code that starts servers).
// WEBDAV_TEST_SHARES is a JSON object by server name of
//   { folderUri, diskRoot, owner }  — dav: URI of /share/, the folder on disk, and the user:group a
//                                     file written there "as a colleague" must be handed to (or null)
//   { error }                       — the server could not be started (the tests that need it say why)
export const SERVER_SHARES_ENV = 'WEBDAV_TEST_SHARES';
export const SERVER_SHARE_NAMES = ['apache', 'lighttpd'] as const;
export type ServerShareName = (typeof SERVER_SHARE_NAMES)[number];
export type ServerShareInfo = { folderUri: string; diskRoot: string; owner: string | null } | { error: string };
