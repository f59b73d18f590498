// The fetch a share's Node transport gives the `webdav` client: one request over Node's
// `http.ClientRequest`, on the transport's own agent. Not node-fetch over `https.request`: in VS Code's
// extension host that function is patched by `@vscode/proxy-agent`, which — with the default
// `http.proxySupport: override` — replaces the agent of every request to a host other than localhost
// with its own, and with it the share's trusted certificate, CA file, client certificate and
// connection pool (with `on`, the other way round: an agent of our own skips the proxy). The
// ClientRequest constructor is not patched; the transport applies VS Code's proxy settings itself.
// Redirects are never followed (httpExchange.ts decides), nothing is decompressed (no Accept-Encoding is
// sent), the body stays a stream for httpExchange to read against its limits.
import { ClientRequest, type Agent, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';

export interface FetchInit {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
  readonly signal?: AbortSignal;
}

/** The answer, in the shape httpExchange.ts and the `webdav` client read. */
export interface NodeResponse {
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  readonly url: string;
  readonly redirected: false;
  readonly type: 'basic';
  readonly headers: { get(name: string): string | null; has(name: string): boolean; forEach(fn: (value: string, name: string) => void): void };
  /** The body as it arrives (a Node stream: async-iterable, `destroy()` frees the connection). */
  readonly body: IncomingMessage;
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** Where one request goes: the server itself, or an HTTP proxy that forwards it (absolute-form target). */
export interface RequestRoute {
  readonly agent: Agent;
  readonly protocol: 'http:' | 'https:';
  readonly host: string;
  readonly port: number;
  /** Set for a request forwarded by an HTTP proxy: the target is the whole URL, plus these headers. */
  readonly viaProxy?: { readonly headers: Record<string, string> };
}

export function sendRequest(url: string, init: FetchInit, route: RequestRoute): Promise<NodeResponse> {
  const target = new URL(url);
  const headers: OutgoingHttpHeaders = { Accept: '*/*', ...init.headers };
  const body = toBody(init.body);
  if (body !== undefined && !(body instanceof Readable)) headers['Content-Length'] = String(body.byteLength);
  if (route.viaProxy) Object.assign(headers, { Host: target.host }, route.viaProxy.headers);
  const signal = init.signal;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise<NodeResponse>((resolve, reject) => {
    let req: ClientRequest;
    let answer: IncomingMessage | undefined;
    // an abort (the request's timeout) fails the request, or the body being read, as an AbortError
    const onAbort = () => (answer ?? req).destroy(abortError(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => signal?.removeEventListener('abort', onAbort);
    try {
      req = new ClientRequest(
        {
          protocol: route.protocol,
          host: route.host,
          port: route.port,
          path: route.viaProxy ? `${target.protocol}//${target.host}${target.pathname}${target.search}` : `${target.pathname}${target.search}`,
          method: init.method ?? 'GET',
          headers,
          agent: route.agent,
        },
        res => {
          answer = res;
          res.once('close', done);
          // a proxy keeps the connection only when it says so (tinyproxy answers HTTP/1.1 and closes):
          // otherwise the next request would meet a closed connection
          if (route.viaProxy && !/keep-alive/i.test(`${res.headers.connection ?? ''} ${res.headers['proxy-connection'] ?? ''}`)) req.shouldKeepAlive = false;
          resolve(toResponse(res, url));
        },
      );
    } catch (err) {
      done();
      reject(err); // a header value Node refuses
      return;
    }
    req.on('error', err => {
      if (!answer) done();
      reject(err);
    });
    if (body instanceof Readable) {
      body.on('error', err => req.destroy(err));
      body.pipe(req);
    } else {
      req.end(body);
    }
  });
}

/** A request body sent as it is read (a big file from the blob store): a Node stream over its chunks. */
export function streamBody(chunks: AsyncIterable<Uint8Array>): Readable {
  return Readable.from(chunks, { objectMode: false });
}

function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR', cause: signal.reason });
}

function toBody(body: unknown): Buffer | Readable | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (Buffer.isBuffer(body)) return body;
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof Readable) return body;
  throw new TypeError(`cannot send a body of type ${typeof body}`);
}

function toResponse(res: IncomingMessage, url: string): NodeResponse {
  const status = res.statusCode ?? 0;
  const header = (name: string): string | null => {
    const v = res.headers[name.toLowerCase()];
    return v === undefined ? null : Array.isArray(v) ? v.join(', ') : String(v);
  };
  const collect = async (): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  return {
    status,
    statusText: res.statusMessage ?? '',
    ok: status >= 200 && status < 300,
    url,
    redirected: false,
    type: 'basic',
    headers: {
      get: header,
      has: name => header(name) !== null,
      forEach: fn => {
        for (const name of Object.keys(res.headers)) fn(header(name)!, name);
      },
    },
    body: res,
    text: async () => (await collect()).toString('utf8'),
    arrayBuffer: async () => {
      const b = await collect();
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
  };
}
