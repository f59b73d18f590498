// Which proxy a share's requests go through, by the rules VS Code applies to its own requests (the
// `@vscode/proxy-agent` resolver of the extension host): loopback hosts always direct; `http.noProxy`
// when it has entries, else the `no_proxy` / `NO_PROXY` environment; then `http.proxy`; then the
// environment (`https_proxy`, `HTTPS_PROXY`, `http_proxy`, `HTTP_PROXY`, first set wins, whatever the
// scheme of the share). `http.proxySupport: off` means no proxy. The Node transport
// (platform/nodeTransport.ts) sends requests itself — VS Code's patched `https.request` would drop its
// agents (and with them the share's trusted certificate, CA file and client certificate) — so it
// resolves here what VS Code would. Pure: no vscode, no Node.

/** VS Code's proxy settings, as the settings reader finds them. */
export interface ProxySettings {
  /** `http.proxy`: `http://[user:password@]host:port` or `https://…`; empty: none. */
  readonly url?: string;
  /** `http.noProxy`: hosts (and `host:port`, `.domain`, `*`) reached directly. */
  readonly noProxy: readonly string[];
  /** `http.proxyStrictSSL`: the certificate of an `https://` proxy is verified. */
  readonly strictSSL: boolean;
  /** `http.proxyAuthorization`: the Proxy-Authorization header value, when set. */
  readonly authorization?: string;
  /** `http.proxySupport`: `off` turns proxies off for extensions. */
  readonly support: 'off' | 'on' | 'fallback' | 'override';
}

export const NO_PROXY_SETTINGS: ProxySettings = Object.freeze({ noProxy: [], strictSSL: true, support: 'override' as const });

export type ProxyRoute =
  | { readonly kind: 'direct'; readonly why: string }
  | {
      readonly kind: 'proxy';
      /** `http:` or `https:` (the connection to the proxy itself). */
      readonly protocol: 'http:' | 'https:';
      readonly host: string;
      readonly port: number;
      /** The Proxy-Authorization header value, from the URL's user info or `http.proxyAuthorization`. */
      readonly authorization?: string;
      readonly strictSSL: boolean;
      /** Where it came from, for the log: `http.proxy` or the environment variable's name. */
      readonly source: string;
      /** The proxy's address without credentials, for messages. */
      readonly display: string;
    };

export class ProxyConfigError extends Error {}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '::ffff:127.0.0.1']);
const ENV_PROXY = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'];

/**
 * The route of requests to `target` (a share's URL). Throws ProxyConfigError for a proxy that cannot
 * be used (a SOCKS proxy, an address that is not a URL): silently going direct could bypass a proxy the
 * network requires or the user wants.
 */
export function resolveProxy(target: URL, settings: ProxySettings, env: Readonly<Record<string, string | undefined>>): ProxyRoute {
  if (settings.support === 'off') return { kind: 'direct', why: 'http.proxySupport is off' };
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (LOOPBACK.has(host)) return { kind: 'direct', why: 'a loopback address' };
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  if (settings.noProxy.length) {
    if (bypassesProxy(host, port, settings.noProxy)) return { kind: 'direct', why: 'listed in http.noProxy' };
  } else {
    const envNoProxy = env.no_proxy || env.NO_PROXY;
    if (envNoProxy && bypassesProxy(host, port, envNoProxy.split(','))) return { kind: 'direct', why: 'listed in NO_PROXY' };
  }
  const configured = settings.url?.trim();
  if (configured) return proxyRoute(configured, 'http.proxy', settings);
  for (const name of ENV_PROXY) {
    const value = env[name]?.trim();
    if (value) return proxyRoute(value, name, settings);
  }
  return { kind: 'direct', why: 'no proxy is configured' };
}

/**
 * Whether `host` (lower-case, no brackets) and `port` match a no-proxy list the way VS Code matches it:
 * `*` matches everything; `name` matches the name and every name below it (`example.com` matches
 * `dav.example.com`), as does `.name`; `name:port` only on that port.
 */
export function bypassesProxy(host: string, port: string, list: readonly string[]): boolean {
  const entries = list.map(s => s.trim().toLowerCase()).filter(Boolean);
  if (entries.includes('*')) return true;
  return entries.some(entry => {
    const [name, entryPort] = splitHostPort(entry);
    if (!name) return false;
    const domain = name.startsWith('.') ? name : `.${name}`;
    return `.${host}`.endsWith(domain) && (!entryPort || entryPort === port);
  });
}

function splitHostPort(entry: string): [string, string | undefined] {
  if (entry.startsWith('[')) {
    const end = entry.indexOf(']');
    const rest = entry.slice(end + 1);
    return [entry.slice(1, end), rest.startsWith(':') ? rest.slice(1) : undefined];
  }
  const colons = entry.split(':').length - 1;
  if (colons === 1) {
    const [name, port] = entry.split(':');
    return [name, port];
  }
  return [entry, undefined]; // a bare IPv6 address
}

function proxyRoute(value: string, source: string, settings: ProxySettings): ProxyRoute {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    throw new ProxyConfigError(`the proxy "${value}" (${source}) is not an address like http://proxy.example.com:3128`);
  }
  const protocol = url.protocol;
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new ProxyConfigError(
      `the proxy ${url.protocol}//${url.host} (${source}) is a ${url.protocol.replace(/:$/, '').toUpperCase()} proxy, which WebDAV Offline does not support; use an HTTP proxy, or list the share's host in http.noProxy`,
    );
  }
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  const authorization = user || password ? `Basic ${base64(`${user}:${password}`)}` : settings.authorization?.trim() || undefined;
  return {
    kind: 'proxy',
    protocol,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port) || (protocol === 'https:' ? 443 : 80),
    authorization,
    strictSSL: settings.strictSSL,
    source,
    display: `${protocol}//${url.host}`,
  };
}

function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}
