// tinyproxy from Debian, a real HTTP proxy, started by the suites on a free loopback port with a config
// of its own: forwards absolute-form requests (any method, WebDAV's too) and CONNECT tunnels to any
// port; with `credentials` it asks for them (`BasicAuth`, 407 otherwise). Its log (LogLevel Info) says
// which requests and tunnels it carried: requests() reads them. `tls: true` puts a TLS front in front
// of it (an `https://` proxy, with the given certificate), for `http.proxyStrictSSL`.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { stopChild } from './childProcess';
import { freePort } from './freePort';
import { proxyRequests } from './transportEnv';

export interface TinyProxy {
  /** `http://127.0.0.1:PORT` (or `https://` with a TLS front), without credentials. */
  readonly url: string;
  /** The URL with the credentials in it, when it asks for some. */
  readonly urlWithCredentials: string;
  readonly port: number;
  /** What it carried, from its log: `CONNECT host:port` or `METHOD http://…`. */
  requests(): string[];
  readonly logFile: string;
  close(): Promise<void>;
}

export function tinyproxyAvailable(): boolean {
  return existsSync('/usr/bin/tinyproxy');
}

export async function startTinyproxy(
  o: { credentials?: { user: string; password: string }; tls?: { cert: string; key: string } } = {},
): Promise<TinyProxy> {
  if (!tinyproxyAvailable()) throw new Error('tinyproxy is required: apt-get install tinyproxy');
  const dir = mkdtempSync(join(tmpdir(), 'wdo-tinyproxy-'));
  chmodSync(dir, 0o777); // it may drop to nobody as root
  const logFile = join(dir, 'tinyproxy.log');
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    writeFileSync(
      join(dir, 'tinyproxy.conf'),
      [
        `Port ${port}`,
        'Listen 127.0.0.1',
        'Timeout 60',
        'MaxClients 64',
        'Allow 127.0.0.1',
        'DisableViaHeader Yes',
        'LogLevel Info',
        `LogFile "${logFile}"`,
        `PidFile "${join(dir, 'tinyproxy.pid')}"`,
        ...(o.credentials ? [`BasicAuth ${o.credentials.user} ${o.credentials.password}`] : []),
      ].join('\n') + '\n',
    );
    const child: ChildProcess = spawn('/usr/bin/tinyproxy', ['-d', '-c', join(dir, 'tinyproxy.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', d => (stderr += d));
    const exited = new Promise<number | null>(r => child.once('exit', code => r(code)));
    try {
      await Promise.race([
        waitForPort(port, 10_000),
        exited.then(code => {
          throw new Error(`tinyproxy exited with ${code}: ${stderr.trim()}`);
        }),
      ]);
    } catch (err) {
      lastError = err;
      child.kill('SIGKILL');
      continue;
    }
    const front = o.tls ? await tlsFront(port, o.tls) : undefined;
    const scheme = front ? 'https' : 'http';
    const at = `127.0.0.1:${front?.port ?? port}`;
    const creds = o.credentials ? `${encodeURIComponent(o.credentials.user)}:${encodeURIComponent(o.credentials.password)}@` : '';
    return {
      url: `${scheme}://${at}`,
      urlWithCredentials: `${scheme}://${creds}${at}`,
      port: front?.port ?? port,
      requests: () => readRequests(logFile),
      logFile,
      close: async () => {
        await front?.close();
        await stopChild(child, exited);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError;
}

function readRequests(logFile: string): string[] {
  try {
    return proxyRequests(readFileSync(logFile, 'utf8'));
  } catch {
    return [];
  }
}

async function waitForPort(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>(resolve => {
      const s: Socket = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`);
    await new Promise(r => setTimeout(r, 30));
  }
}

/** TLS on a port of its own, each connection piped to tinyproxy: an `https://` proxy. */
async function tlsFront(target: number, cert: { cert: string; key: string }): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = tls.createServer({ cert: readFileSync(cert.cert), key: readFileSync(cert.key) }, client => {
    const upstream = connect(target, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: () =>
      new Promise<void>(resolve => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
