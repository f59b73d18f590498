// A real WebDAV server in this process: nephele (the npm server that honours If-Match / If-None-Match)
// behind express, on 127.0.0.1, serving a folder on disk. Used by `npm start`, the conformance suite and
// the VS Code suites. Basic auth is optional; CORS is answered so the browser extension host can reach it.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface NepheleOptions {
  /** Folder on disk that is served. */
  root: string;
  /** URL path the share is mounted at, e.g. `/share` (default `/`). */
  mount?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** user → password for Basic auth; none means no authentication. */
  users?: Record<string, string>;
  /** Loopback address to listen on (default 127.0.0.1; the proxy suite uses 127.0.0.2, which VS Code does not bypass). */
  host?: string;
}

export interface RunningServer {
  readonly name: string;
  /** Origin, e.g. `http://127.0.0.1:41234`. */
  readonly origin: string;
  readonly port: number;
  /** Requests answered so far, by method. */
  readonly requests: Map<string, number>;
  /** The last lines of the server's error log, for servers that keep one (Apache, lighttpd). */
  logTail?(lines?: number): string;
  close(): Promise<void>;
}

export async function startNephele(options: NepheleOptions): Promise<RunningServer> {
  const { default: express } = await import('express');
  const nephele = await import('nephele');
  const { default: FileSystemAdapter } = await import('@nephele/adapter-file-system');
  const none = await import('@nephele/authenticator-none');
  const users = options.users;
  const host = options.host ?? '127.0.0.1';

  class BasicAuthenticator {
    async authenticate(req: any, res: any) {
      const header: string = req.get('authorization') ?? '';
      const [user, ...rest] = Buffer.from(header.replace(/^Basic /i, ''), 'base64').toString().split(':');
      if (users && Object.prototype.hasOwnProperty.call(users, user) && users[user] === rest.join(':')) {
        return new none.User({ username: user });
      }
      res.set('WWW-Authenticate', 'Basic realm="dav", charset="UTF-8"');
      throw new nephele.UnauthorizedError('Authentication required');
    }
    async cleanAuthentication() {}
  }

  const requests = new Map<string, number>();
  const app = express();
  app.use((req: any, res: any, next: any) => {
    requests.set(req.method, (requests.get(req.method) ?? 0) + 1);
    res.set({
      'Access-Control-Allow-Origin': req.get('origin') ?? '*',
      'Access-Control-Allow-Credentials': 'true',
      'Access-Control-Allow-Methods': 'GET,HEAD,PUT,DELETE,OPTIONS,PROPFIND,PROPPATCH,MKCOL,COPY,MOVE,LOCK,UNLOCK',
      'Access-Control-Allow-Headers':
        'Authorization,Depth,Destination,Overwrite,If,If-Match,If-None-Match,Content-Type,Range,Lock-Token,Timeout',
      'Access-Control-Expose-Headers': 'ETag,DAV,Content-Range,Last-Modified,Lock-Token',
    });
    if (req.method === 'OPTIONS' && req.get('access-control-request-method')) return res.sendStatus(204);
    next();
  });
  const authenticator = users ? new BasicAuthenticator() : new none.default();
  app.use(
    options.mount && options.mount !== '/' ? options.mount : '/',
    nephele.default({ adapter: new FileSystemAdapter({ root: options.root }), authenticator: authenticator as any }),
  );
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(options.port ?? 0, host, (err?: Error) => (err ? reject(err) : resolve(s)));
    s.on('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    name: 'nephele',
    origin: `http://${host}:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>(resolve => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
