// One share's transport in the Node extension host (remote/transport.ts): keep-alive connections of its
// own (as many as the share's client asks for — the pin's ceiling of downloads and a few more; 8 by
// default), the certificate the user trusted for it, its CA file and client certificate (nodeTls.ts),
// and the proxy VS Code is configured with (core/proxy.ts: `http.proxy`, `http.noProxy`, the *_PROXY
// environment, `http.proxyStrictSSL`, `http.proxyAuthorization`, credentials in the proxy's address).
// `http:` shares go through an HTTP proxy as absolute-form requests; `https:` shares through a CONNECT
// tunnel, so the proxy never sees what is sent and the share's own TLS check still decides.
// Requests are sent by nodeFetch.ts (why not node-fetch: see there).
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent, type RequestOptions as HttpsRequestOptions } from 'node:https';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { ProxyConfigError, resolveProxy, type ProxyRoute, type ProxySettings } from '../core/proxy';
import type { ShareOptions } from '../core/settings';
import { sendRequest, type FetchInit, type NodeResponse, type RequestRoute } from './nodeFetch';
import { checkServerCertificate, loadTlsMaterial, type TlsMaterial } from './nodeTls';

export interface NodeTransportOptions {
  /** `https://host:port`: the one origin the transport talks to. */
  readonly origin: string;
  readonly share?: ShareOptions;
  readonly proxy: ProxySettings;
  readonly trustedCertificates: readonly string[];
  readonly clientCertificatePassphrase?: string;
  /** The environment (`HTTPS_PROXY`, `NO_PROXY`…); default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly maxSockets?: number;
}

export interface NodeTransport {
  fetch(url: string, init: FetchInit): Promise<NodeResponse>;
  readonly description: string;
  /** The route the share's requests take (for tests and the log). */
  readonly route: ProxyRoute | { kind: 'invalid'; error: Error };
  retire(): void;
}

const CONNECT_HEAD_LIMIT = 16 * 1024;
/** Longest wait for a connection to be set up (TCP, a proxy's CONNECT, the TLS handshake). */
const SETUP_TIMEOUT_MS = 30_000;

export function createNodeTransport(o: NodeTransportOptions): NodeTransport {
  const origin = new URL(o.origin);
  const secure = origin.protocol === 'https:';
  const host = origin.hostname.replace(/^\[|\]$/g, '');
  const port = Number(origin.port) || (secure ? 443 : 80);
  const maxSockets = o.maxSockets ?? 8;
  let route: ProxyRoute | { kind: 'invalid'; error: Error };
  try {
    route = resolveProxy(origin, o.proxy, o.env ?? process.env);
  } catch (err) {
    if (!(err instanceof ProxyConfigError)) throw err;
    route = { kind: 'invalid', error: Object.assign(new Error(err.message), { code: 'ERR_PROXY_CONFIG', proxy: 'set for this computer' }) };
  }
  const material: TlsMaterial = secure ? loadTlsMaterial(o.share, o.clientCertificatePassphrase) : { description: '' };
  const trusted = o.trustedCertificates;
  const proxied = route.kind === 'proxy' ? route : undefined;

  /** The share's own TLS connection: over a CONNECT tunnel or straight, checked before it is handed on. */
  const connectTls = async (options: HttpsRequestOptions): Promise<tls.TLSSocket> => {
    if (material.problem) throw material.problem;
    const tunnel = proxied ? await openTunnel(proxied, `${origin.host}`) : undefined;
    const socket = tls.connect({
      ...(tunnel ? { socket: tunnel } : { host, port: Number(options.port) || port }),
      host, // the name the certificate is checked against (also through a tunnel)
      servername: net.isIP(host) ? undefined : host,
      ...(material.secureContext ? { secureContext: material.secureContext } : {}),
      rejectUnauthorized: false, // checked below: what the system trusts, or the certificate trusted for this share
      ALPNProtocols: ['http/1.1'],
    });
    await new Promise<void>((resolve, reject) => {
      const timeout = () => socket.destroy(Object.assign(new Error('the secure connection was not set up in time'), { code: 'ETIMEDOUT' }));
      const done = () => {
        socket.off('secureConnect', ok);
        socket.off('error', fail);
        socket.setTimeout(0);
      };
      const fail = (err: Error) => {
        done();
        reject(err);
      };
      const ok = () => {
        done();
        resolve();
      };
      socket.setTimeout(SETUP_TIMEOUT_MS, timeout);
      socket.once('secureConnect', ok);
      socket.once('error', fail);
    });
    const refused = checkServerCertificate(socket, trusted);
    if (refused) {
      socket.destroy();
      throw refused;
    }
    return socket;
  };

  class ShareHttpsAgent extends HttpsAgent {
    override createConnection(options: HttpsRequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
      connectTls(options).then(
        socket => callback?.(null, socket),
        err => callback?.(err as Error, undefined as unknown as Duplex),
      );
      return undefined;
    }
  }

  const agents: HttpAgent[] = [];
  const keep = <A extends HttpAgent>(a: A): A => (agents.push(a), a);
  let requestRoute: RequestRoute | undefined;
  if (route.kind !== 'invalid') {
    if (secure) {
      requestRoute = { agent: keep(new ShareHttpsAgent({ keepAlive: true, maxSockets })), protocol: 'https:', host, port };
    } else if (proxied) {
      // an http: share through the proxy: requests go to the proxy, which forwards them
      const agent =
        proxied.protocol === 'https:'
          ? keep(new HttpsAgent({ keepAlive: true, maxSockets, rejectUnauthorized: proxied.strictSSL }))
          : keep(new HttpAgent({ keepAlive: true, maxSockets }));
      requestRoute = {
        agent,
        protocol: proxied.protocol,
        host: proxied.host,
        port: proxied.port,
        viaProxy: { headers: proxied.authorization ? { 'Proxy-Authorization': proxied.authorization } : {} },
      };
    } else {
      requestRoute = { agent: keep(new HttpAgent({ keepAlive: true, maxSockets })), protocol: 'http:', host, port };
    }
  }

  const description = [
    route.kind === 'direct'
      ? `direct connection (${route.why})`
      : route.kind === 'proxy'
        ? `through the proxy ${route.display} (${route.source}${route.authorization ? ', with credentials' : ''})`
        : `no connection: ${route.error.message}`,
    ...(secure && trusted.length ? [`trusted certificate ${trusted[0]}`] : []),
    ...(material.description ? [material.description] : []),
  ].join('; ');

  return {
    description,
    route,
    async fetch(url: string, init: FetchInit): Promise<NodeResponse> {
      if (route.kind === 'invalid') throw route.error;
      const target = new URL(url);
      if (target.origin !== origin.origin) throw new Error(`this transport only talks to ${origin.origin}, not ${target.origin}`);
      try {
        return await sendRequest(url, init, requestRoute!);
      } catch (err) {
        // an http: share's requests go to the proxy itself: a failure before the answer is the proxy's
        if (proxied && !secure && err && typeof err === 'object' && (err as { proxy?: string }).proxy === undefined) {
          Object.assign(err, { proxy: proxied.display });
        }
        throw err;
      }
    },
    retire() {
      for (const agent of agents) {
        (agent as HttpAgent & { keepAlive: boolean }).keepAlive = false; // busy connections close when their answer is read
        for (const sockets of Object.values(agent.freeSockets)) for (const s of sockets ?? []) s.destroy();
      }
    },
  };
}

/**
 * A CONNECT tunnel through the proxy to `authority` (`host:port`): resolves the raw socket once the proxy
 * answered 200. Failures carry `proxy` (its address) and a code the remote explains: the proxy's own
 * connection errors, `ERR_PROXY_AUTH` (407, or 401), `ECONNREFUSED` (the proxy could not reach the server: 502,
 * 503, 504), `ERR_PROXY_REFUSED` (anything else).
 */
async function openTunnel(proxy: Extract<ProxyRoute, { kind: 'proxy' }>, authority: string): Promise<Duplex> {
  const tag = (err: Error, code?: string) => Object.assign(err, { proxy: proxy.display, ...(code ? { code } : {}) });
  const socket: net.Socket =
    proxy.protocol === 'https:'
      ? tls.connect({ host: proxy.host, port: proxy.port, servername: net.isIP(proxy.host) ? undefined : proxy.host, rejectUnauthorized: proxy.strictSSL })
      : net.connect({ host: proxy.host, port: proxy.port });
  return new Promise<Duplex>((resolve, reject) => {
    let head = Buffer.alloc(0);
    const fail = (err: Error) => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onError = (err: Error) => fail(tag(err));
    const onClose = () => fail(tag(new Error(`the proxy ${proxy.display} closed the connection before it answered CONNECT`), 'ECONNRESET'));
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > CONNECT_HEAD_LIMIT) fail(tag(new Error(`the proxy ${proxy.display} sent an answer to CONNECT that is too long`), 'ERR_PROXY_REFUSED'));
        return;
      }
      cleanup();
      const statusLine = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
      const status = m ? Number(m[1]) : 0;
      if (status === 200) {
        const rest = head.subarray(end + 4);
        if (rest.length) socket.unshift(rest);
        resolve(socket);
        return;
      }
      socket.destroy();
      const answer = m ? `HTTP ${status}${m[2] ? ` ${m[2]}` : ''}` : `"${statusLine.slice(0, 80)}"`;
      // (tinyproxy answers a CONNECT with wrong credentials 401: only the proxy answers a CONNECT)
      if (status === 407 || status === 401) reject(tag(new Error(`the proxy ${proxy.display} asks for a user name and password (${answer})`), 'ERR_PROXY_AUTH'));
      else if (status === 502 || status === 503 || status === 504) {
        reject(tag(new Error(`the proxy ${proxy.display} could not reach ${authority} (${answer})`), 'ECONNREFUSED'));
      } else reject(tag(new Error(`the proxy ${proxy.display} refused to connect to ${authority} (${answer})`), 'ERR_PROXY_REFUSED'));
    };
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      socket.setTimeout(0);
    };
    socket.setTimeout(SETUP_TIMEOUT_MS, () => fail(tag(new Error(`the proxy ${proxy.display} did not answer CONNECT in time`), 'ETIMEDOUT')));
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.once(proxy.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
      socket.on('data', onData);
      const auth = proxy.authorization ? `Proxy-Authorization: ${proxy.authorization}\r\n` : '';
      socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth}\r\n`);
    });
  });
}
