// A sign-in gateway in front of a WebDAV server, as companies put one (an SSO proxy) before their file
// servers: node:http, forwarding every request to the server behind it with http.request, bodies streamed
// both ways. While its "session" is gone it answers like such a gateway does: 200 text/html with a
// sign-in page (a form with a password field) instead of doing what was asked. Modes:
//   pass    forward everything
//   all     answer every request with the sign-in page; nothing reaches the server
//   writes  answer PUT/DELETE/MKCOL/MOVE/COPY/PROPPATCH with the sign-in page; reads are forwarded
// The client's Host header is kept (as a reverse proxy for WebDAV must: servers build absolute hrefs,
// Location and the check of a MOVE's Destination from it); a Location that names the server's own origin
// anyway is rewritten to the gateway's.
// A control endpoint on another loopback port switches the mode from other processes (the extension
// host): POST <controlUrl>/gateway/mode with the mode's name as the body; GET <controlUrl>/gateway/status.
// Both answer JSON: { mode, forwarded, signInPages: { METHOD: n } } (counts since the gateway started).
import { Agent, createServer, request, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { GATEWAY_MODES, type GatewayMode, type GatewayStatus } from './serverSharesEnv';

/** What the gateway holds back in `writes` mode. */
export const WRITE_METHODS: ReadonlySet<string> = new Set(['PUT', 'DELETE', 'MKCOL', 'MOVE', 'COPY', 'PROPPATCH']);

/** The page a sign-in gateway serves: a form with a user name and a password field. */
export const SIGN_IN_PAGE = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in – Example Corp single sign-on</title></head>
<body>
<h1>Your session has expired</h1>
<form method="post" action="/_sso/login">
  <label>User name <input name="username" autocomplete="username"></label>
  <label>Password <input type="password" name="password" autocomplete="current-password"></label>
  <button type="submit">Sign in</button>
</form>
</body>
</html>
`;

/** Hop-by-hop headers: about one connection, never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'expect']);

export interface SignInGateway {
  /** `http://127.0.0.1:<port>`: where clients connect. */
  readonly origin: string;
  readonly port: number;
  /** `http://127.0.0.1:<port>` of the control endpoint. */
  readonly controlUrl: string;
  mode: GatewayMode;
  status(): GatewayStatus;
  close(): Promise<void>;
}

/** Starts a gateway on a free loopback port in front of `target` (an origin, `http://127.0.0.1:PORT`). */
export async function startSignInGateway(o: { target: string; mode?: GatewayMode }): Promise<SignInGateway> {
  const target = new URL(o.target);
  if (target.protocol !== 'http:') throw new Error(`the sign-in gateway forwards to http:// only, not ${o.target}`);
  const backend = target.origin;
  let mode: GatewayMode = o.mode ?? 'pass';
  let forwarded = 0;
  const signInPages: Record<string, number> = {};
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  let origin = '';

  const status = (): GatewayStatus => ({ mode, forwarded, signInPages: { ...signInPages } });

  const answerSignIn = (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET';
    signInPages[method] = (signInPages[method] ?? 0) + 1;
    const body = Buffer.from(SIGN_IN_PAGE);
    // the request's body is read and dropped first, so the connection stays usable for the next one
    req.resume();
    req.once('end', () => {
      res.writeHead(200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Length': body.byteLength,
        'Cache-Control': 'no-store',
      });
      res.end(method === 'HEAD' ? undefined : body);
    });
  };

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    forwarded++;
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name)) continue;
      headers[name] = value;
    }
    const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent }, up => {
      const out: OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(up.headers)) {
        if (value === undefined || HOP_BY_HOP.has(name)) continue;
        out[name] = (name === 'location' || name === 'content-location') && typeof value === 'string' ? swapOrigin(value, backend, origin) : value;
      }
      res.writeHead(up.statusCode ?? 502, up.statusMessage, out);
      up.pipe(res);
      up.once('error', () => res.destroy());
    });
    upstream.once('error', err => {
      if (res.headersSent) return void res.destroy();
      const msg = `the sign-in gateway cannot reach ${backend}: ${err.message}\n`;
      res.writeHead(502, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(msg) }).end(msg);
    });
    // a client that goes away mid-request takes the forwarded request with it
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  };

  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const holdBack = mode === 'all' || (mode === 'writes' && WRITE_METHODS.has(req.method ?? ''));
    if (holdBack) answerSignIn(req, res);
    else forward(req, res);
  });
  server.on('connection', s => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });

  const control = createServer((req, res) => {
    const reply = (code: number, body: unknown) => res.writeHead(code, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    const route = `${req.method} ${req.url}`;
    if (route === 'GET /gateway/status') return reply(200, status());
    if (route !== 'POST /gateway/mode') return reply(404, { error: `unknown: ${route} (POST /gateway/mode, GET /gateway/status)` });
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.once('end', () => {
      const wanted = text.trim();
      if (!(GATEWAY_MODES as readonly string[]).includes(wanted)) {
        return reply(400, { error: `unknown mode "${wanted.slice(0, 40)}" (one of ${GATEWAY_MODES.join(', ')})`, ...status() });
      }
      mode = wanted as GatewayMode;
      reply(200, status());
    });
  });

  const listen = (s: Server) =>
    new Promise<number>((resolve, reject) => {
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port));
    });
  const port = await listen(server);
  origin = `http://127.0.0.1:${port}`;
  let controlPort: number;
  try {
    controlPort = await listen(control);
  } catch (err) {
    server.close();
    throw err;
  }

  let closing: Promise<void> | undefined;
  return {
    origin,
    port,
    controlUrl: `http://127.0.0.1:${controlPort}`,
    get mode() {
      return mode;
    },
    set mode(m: GatewayMode) {
      mode = m;
    },
    status,
    close() {
      closing ??= (async () => {
        const closed = (s: Server) => new Promise<void>(r => s.close(() => r()));
        const done = Promise.all([closed(server), closed(control)]);
        for (const s of sockets) s.destroy();
        control.closeAllConnections();
        agent.destroy();
        await done;
      })();
      return closing;
    },
  };
}

/** `url` with the origin `from` replaced by `to` (other URLs unchanged). */
function swapOrigin(url: string, from: string, to: string): string {
  return url === from || url.startsWith(`${from}/`) ? to + url.slice(from.length) : url;
}
