// How the runner describes the transport servers of the integration suite to the extension host (its
// own module, so the tests' bundles do not pull in the code that starts servers): WEBDAV_TEST_TRANSPORT
// is one JSON object
//   { plain, diskRoot, bearerToken, proxyUrl, proxyLog } — Apache's plain listener (`127.0.0.2:PORT`,
//                 paths /share /digest /bearer /windows, see apacheTls.ts) serving diskRoot, reached
//                 through the proxy VS Code is configured with (http.proxy = proxyUrl, which asks for
//                 credentials); proxyLog is tinyproxy's log file
//   { error }   — they could not be started (the tests that need them say why)
export const TRANSPORT_ENV = 'WEBDAV_TEST_TRANSPORT';

export type TransportInfo =
  | { plain: string; diskRoot: string; bearerToken: string; proxyUrl: string; proxyLog: string }
  | { error: string };

/** What a tinyproxy log says it carried: `CONNECT host:port` or `METHOD http://…`. */
export function proxyRequests(logText: string): string[] {
  // "CONNECT   Nov 29 16:26:57.576 [25690]: Request (file descriptor 4): PROPFIND http://127.0.0.2:1/a HTTP/1.1"
  return [...logText.matchAll(/Request \(file descriptor \d+\): (\S+) (\S+) HTTP\/1\.[01]/g)].map(m => `${m[1]} ${m[2]}`);
}
