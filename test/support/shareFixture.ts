// A throw-away copy of sample-share/ served by nephele at /share, plus the dav: URI VS Code opens.
// The template folder itself is never touched.
//
// Server control (to simulate the network going away): stopServer() closes nephele (every connection
// too, so the port refuses), startServer() serves the same folder on the same port again. With
// `control: true` a tiny HTTP endpoint on another loopback port does the same for code that runs in
// other processes (the extension host): POST <controlUrl>/server/stop, POST <controlUrl>/server/start,
// GET <controlUrl>/server/status → {"running":true|false}. The VS Code runners pass its URL on as the
// environment variable WEBDAV_TEST_SERVER_CONTROL.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../scripts/lib/repoRoot';
import { startNephele, type RunningServer } from './nepheleServer';

export const DEMO_USERS = { alice: 's3cret' };
/** Environment variable that carries the control endpoint's URL to the extension host. */
export const SERVER_CONTROL_ENV = 'WEBDAV_TEST_SERVER_CONTROL';

export interface ShareFixture {
  /** Folder on disk that is served. */
  readonly root: string;
  /** `dav://127.0.0.1:<port>/share/` */
  readonly folderUri: string;
  /** `http://127.0.0.1:<port>/share/` */
  readonly httpUrl: string;
  readonly port: number;
  /** The running nephele (the last one started; closed while stopped). */
  readonly server: RunningServer;
  /** Whether nephele is serving now. */
  readonly running: boolean;
  /** `http://127.0.0.1:<port>` of the control endpoint (with `control: true`). */
  readonly controlUrl?: string;
  /** Closes nephele and every open connection: the port refuses connections. Idempotent. */
  stopServer(): Promise<void>;
  /** Serves the same folder on the same port again. Idempotent. */
  startServer(): Promise<void>;
  close(): Promise<void>;
}

export async function startShare(
  o: { parentDir?: string; auth?: boolean; keep?: boolean; control?: boolean } = {},
): Promise<ShareFixture> {
  const root = mkdtempSync(join(o.parentDir ?? tmpdir(), 'webdav-share-'));
  cpSync(join(repoRoot(), 'sample-share'), root, { recursive: true });
  const users = o.auth ? DEMO_USERS : undefined;
  let server: RunningServer;
  try {
    server = await startNephele({ root, mount: '/share', users });
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  const port = server.port;
  let running = true;
  // one change at a time: a start during a stop waits for it
  let queue: Promise<unknown> = Promise.resolve();
  const serial = (fn: () => Promise<void>) => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };
  const stopServer = () =>
    serial(async () => {
      if (!running) return;
      await server.close();
      running = false;
    });
  const startServer = () =>
    serial(async () => {
      if (running) return;
      // the port was ours a moment ago; retry briefly in case the kernel still holds it
      for (let attempt = 0; ; attempt++) {
        try {
          server = await startNephele({ root, mount: '/share', users, port });
          break;
        } catch (err) {
          if (attempt >= 20 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
          await new Promise(r => setTimeout(r, 100));
        }
      }
      running = true;
    });

  let control: Server | undefined;
  let controlUrl: string | undefined;
  if (o.control) {
    control = createServer((req, res) => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      const route = `${req.method} ${req.url}`;
      const act = route === 'POST /server/stop' ? stopServer : route === 'POST /server/start' ? startServer : undefined;
      if (route === 'GET /server/status') return reply(200, { running });
      if (!act) return reply(404, { error: `unknown: ${route}` });
      act().then(
        () => reply(200, { running }),
        err => reply(500, { error: String(err instanceof Error ? err.message : err), running }),
      );
    });
    await new Promise<void>((resolve, reject) => {
      control!.once('error', reject);
      control!.listen(0, '127.0.0.1', () => resolve());
    });
    controlUrl = `http://127.0.0.1:${(control.address() as AddressInfo).port}`;
  }

  let closed = false;
  return {
    root,
    folderUri: `dav://127.0.0.1:${port}/share/`,
    httpUrl: `http://127.0.0.1:${port}/share/`,
    port,
    get server() {
      return server;
    },
    get running() {
      return running;
    },
    controlUrl,
    stopServer,
    startServer,
    async close() {
      if (closed) return;
      closed = true;
      if (control) {
        const c = control;
        const done = new Promise<void>(r => c.close(() => r()));
        c.closeAllConnections();
        await done;
      }
      await stopServer();
      if (!o.keep) rmSync(root, { recursive: true, force: true });
    },
  };
}
