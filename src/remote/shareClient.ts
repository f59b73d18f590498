// How one share's requests are authenticated and sent: the `webdav` client made from the share's
// credentials (Basic, or Digest once the server asked for it), its headers (plain ones from the
// share's saved options, secret ones — a bearer token — from its access), and the share's own
// transport when the host gives one (remote/transport.ts). Made again whenever any of that changes;
// a transport that is replaced finishes what it carries and is retired.
import { AuthType, createClient, type WebDAVClient } from 'webdav';
import type { Logger } from '../core/log';
import { findShareOptions, type Settings, type ShareOptions } from '../core/settings';
import { shareKey, type ShareLocation } from '../core/shareLocation';
import type { TransportAgent } from './httpExchange';
import type { Credentials, ShareAccess } from './remoteFs';
import type { ShareTransport, TransportFactory, TransportOptions } from './transport';

/** Platform parts injected by the Node / browser entry points. */
export interface HttpPlatform {
  /** Plain agents for node-fetch (the benchmarks' throttled ones); unused when there is a transport. */
  readonly httpAgent?: unknown;
  readonly httpsAgent?: unknown;
  /** Node host: each share's own transport (its connections, trusted certificate, CA file, client certificate, proxy). */
  readonly transport?: TransportFactory;
  /**
   * Node host: a request body the `webdav` client sends as it is read (a Node stream over the chunks);
   * absent in the browser, whose fetch cannot stream a request body over HTTP/1.1.
   */
  readonly streamBody?: (chunks: AsyncIterable<Uint8Array>) => unknown;
  /** Browser host: said after a network failure of an `https:` share (the browser decides about certificates there). */
  readonly httpsFailureHint?: string;
}

/** Headers the share's requests set themselves: a saved option never replaces them. */
const OWN_HEADERS = new Set([
  'host', 'content-length', 'transfer-encoding', 'connection', 'content-type', 'depth', 'destination', 'overwrite',
  'if', 'if-match', 'if-none-match', 'lock-token', 'timeout', 'range', 'proxy-authorization',
]);

/**
 * The share's connection pool: the pin's ceiling of downloads in flight (`cache.parallelDownloads`) and a
 * few more, so that opening a file while a folder is pinned does not wait for a download to finish.
 */
export function socketsFor(parallelDownloads: number): number {
  return Math.max(8, Math.max(1, Math.round(parallelDownloads)) + 4);
}

export class ShareClient {
  private credentials?: Credentials;
  private access: ShareAccess = {};
  private scheme?: 'basic' | 'digest';
  private transport?: { key: string; value: ShareTransport };
  private client?: { key: string; value: WebDAVClient };
  private warnedBrowserOptions = false;

  constructor(
    private readonly location: ShareLocation,
    private readonly baseUrl: string,
    private readonly settings: () => Settings,
    private readonly log: Logger,
    private readonly platform: HttpPlatform,
  ) {}

  /** The scheme the server asked for (Basic until it says Digest). */
  get authScheme(): 'basic' | 'digest' | undefined {
    return this.scheme;
  }

  setCredentials(credentials: Credentials | undefined): void {
    this.credentials = credentials;
    if (credentials?.scheme) this.scheme = credentials.scheme;
    this.client = undefined;
  }

  setAccess(access: ShareAccess): void {
    this.access = access;
    this.client = undefined;
  }

  /** Whether a secret Authorization header (a bearer token) stands in for a user name and password. */
  get usesToken(): boolean {
    return Object.keys(this.access.headers ?? {}).some(h => h.toLowerCase() === 'authorization');
  }

  /**
   * Learns from a 401's `WWW-Authenticate` schemes. Resolves true when the client changed so that the
   * refused request is worth sending again (the server wants Digest, credentials were sent as Basic).
   */
  learnSchemes(schemes: readonly string[]): boolean {
    const wanted = schemes.includes('basic') ? 'basic' : schemes.includes('digest') ? 'digest' : undefined;
    if (!wanted || wanted === (this.scheme ?? 'basic')) {
      this.scheme ??= wanted;
      return false;
    }
    this.log.info(`[remote] ${shareKey(this.location)}: the server asks for ${wanted === 'digest' ? 'Digest' : 'Basic'} authentication`);
    this.scheme = wanted;
    this.client = undefined;
    return !!this.credentials && !this.usesToken;
  }

  /** The client for the next request (made again when the credentials, access or saved options changed). */
  get(): WebDAVClient {
    const options = findShareOptions(this.settings().shares, this.location);
    const agent = this.agent(options);
    const { headers, refused } = this.headers(options);
    const key = JSON.stringify([this.transport?.key ?? '', headers, this.scheme ?? '', !!this.credentials]);
    if (this.client?.key === key) return this.client.value;
    for (const name of refused) {
      this.log.warn(`[remote] ${shareKey(this.location)}: the header "${name}" is not sent (not a valid header, or one WebDAV Offline sets itself)`);
    }
    const credentials = this.usesToken ? undefined : this.credentials;
    const value = createClient(this.baseUrl, {
      username: credentials?.username,
      password: credentials?.password,
      authType: !credentials ? AuthType.None : this.scheme === 'digest' ? AuthType.Digest : AuthType.Password,
      headers,
      httpAgent: agent as any,
      httpsAgent: agent as any,
    });
    this.client = { key, value };
    return value;
  }

  /** The note a network failure gets, where the platform has one for this share. */
  failureHint(): string | undefined {
    return this.baseUrl.startsWith('https:') ? this.platform.httpsFailureHint : undefined;
  }

  dispose(): void {
    this.transport?.value.retire();
    this.transport = undefined;
  }

  private agent(options: ShareOptions | undefined): unknown {
    const make = this.platform.transport;
    if (!make) {
      if ((options?.caFile || options?.clientCertificate) && !this.warnedBrowserOptions) {
        this.warnedBrowserOptions = true;
        this.log.warn(`[remote] ${shareKey(this.location)}: caFile and clientCertificate are not used here: the browser decides which certificates it trusts and which client certificate it offers`);
      }
      return this.baseUrl.startsWith('https:') ? this.platform.httpsAgent : this.platform.httpAgent;
    }
    const topts: TransportOptions = {
      origin: new URL(this.baseUrl).origin,
      share: options,
      proxy: this.settings().proxy,
      trustedCertificates: this.access.trustedCertificates ?? [],
      clientCertificatePassphrase: this.access.clientCertificatePassphrase,
      maxSockets: socketsFor(this.settings().parallelDownloads),
    };
    const key = JSON.stringify([topts.origin, options?.caFile, options?.clientCertificate, options?.clientKey, topts.proxy, topts.trustedCertificates, topts.clientCertificatePassphrase, topts.maxSockets]);
    if (this.transport?.key !== key) {
      this.transport?.value.retire();
      const value = make(topts);
      this.transport = { key, value };
      this.log.info(`[remote] ${shareKey(this.location)}: ${value.description}`);
    }
    const marker: TransportAgent = { shareFetch: this.transport.value.fetch };
    return marker;
  }

  private headers(options: ShareOptions | undefined): { headers: Record<string, string>; refused: string[] } {
    const headers: Record<string, string> = {};
    const refused: string[] = [];
    for (const [name, value] of Object.entries({ ...options?.headers, ...this.access.headers })) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n\0]/.test(value) || OWN_HEADERS.has(name.toLowerCase())) refused.push(name);
      else headers[name] = value;
    }
    return { headers, refused };
  }
}
