// A share's own way of sending requests, injected by the host: in the Node extension host a transport
// per share (platform/nodeTransport.ts) — its own connections, the certificate the user trusted for
// it, its CA file and client certificate, the proxy VS Code is configured with; in the browser none
// (the browser's fetch, the browser decides about certificates and proxies). The `webdav` client
// hands every request to fetch; httpExchange.ts routes those of a share with a transport to it.
import type { ProxySettings } from '../core/proxy';
import type { ShareOptions } from '../core/settings';
import type { FetchResponse } from './httpExchange';

export interface FetchInit {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  /** What the `webdav` client sends: a string, bytes, or (never here) a stream. */
  readonly body?: unknown;
  readonly signal?: AbortSignal;
}

export type ShareFetch = (url: string, init: FetchInit) => Promise<FetchResponse>;

/** What a transport is made from; a new one is made when any of it changes. */
export interface TransportOptions {
  /** `https://host:port`: the one origin this transport talks to. */
  readonly origin: string;
  /** The share's saved options (CA file, client certificate), if it has an entry in `webdavOffline.shares`. */
  readonly share?: ShareOptions;
  readonly proxy: ProxySettings;
  /** SHA-256 fingerprints of certificates the user trusted for this share. */
  readonly trustedCertificates: readonly string[];
  readonly clientCertificatePassphrase?: string;
  /** Connections kept open at most: the pin's ceiling of downloads in flight, and room for other requests. */
  readonly maxSockets?: number;
}

export interface ShareTransport {
  readonly fetch: ShareFetch;
  /** One line for the log: the route (direct, or which proxy and why) and the TLS options in use. */
  readonly description: string;
  /** No new requests will come: idle connections are closed, busy ones when they finish. */
  retire(): void;
}

export type TransportFactory = (options: TransportOptions) => ShareTransport;
