// A streaming HTTP proxy in front of a real WebDAV server for the big-file tests: it forwards each
// request with http.request and pipes the answer through without holding it (a 256 MB body passes in
// slices), counts the answer bytes of each GET, and can cut the next GET's answer after some bytes (the
// connection closed mid-body, as a dropped network does) or rewrite a 206's Content-Range (a hostile or broken
// server). It records each request's Range and If-Range and the status answered. (httpFaultProxy.ts
// holds whole answers; the TCP proxy cannot see a body's bytes.)
import { Agent, createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface SeenGet {
  readonly target: string;
  readonly range?: string;
  readonly ifRange?: string;
  status: number;
  /** Body bytes that reached the client. */
  bytes: number;
}

export class RangeProxy {
  private server?: Server;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 8 });
  private readonly sockets = new Set<Socket>();
  port = 0;
  /** GETs seen, in order. */
  readonly gets: SeenGet[] = [];
  /** Cut the next GET's answer after this many body bytes (then it is disarmed). */
  cutAfter?: number;
  /** Rewrite the next 206's Content-Range (then it is disarmed). */
  tamperRange?: (contentRange: string) => string;

  constructor(private readonly targetPort: number) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.forward(req, res));
    this.server.on('connection', s => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>(r => this.server!.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  /** Body bytes of every GET answer since the last reset. */
  get getBytes(): number {
    return this.gets.reduce((n, g) => n + g.bytes, 0);
  }

  reset(): void {
    this.gets.length = 0;
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const seen: SeenGet | undefined =
      req.method === 'GET' ? { target: req.url ?? '', range: header(req, 'range'), ifRange: header(req, 'if-range'), status: 0, bytes: 0 } : undefined;
    if (seen) this.gets.push(seen);
    const cut = seen ? this.cutAfter : undefined;
    if (seen) this.cutAfter = undefined;
    const upstream = httpRequest(
      { host: '127.0.0.1', port: this.targetPort, method: req.method, path: req.url, headers: req.headers, agent: this.agent },
      answer => {
        const headers = { ...answer.headers };
        if (answer.statusCode === 206 && this.tamperRange && headers['content-range']) {
          headers['content-range'] = this.tamperRange(String(headers['content-range']));
          this.tamperRange = undefined;
        }
        if (seen) seen.status = answer.statusCode ?? 0;
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
        answer.on('data', (chunk: Buffer) => {
          if (cut !== undefined && seen && seen.bytes + chunk.length > cut) {
            const part = chunk.subarray(0, Math.max(0, cut - seen.bytes));
            seen.bytes += part.length;
            // every byte counted reaches the client, then the connection closes mid-body (a reset would
            // discard what the client has not read yet)
            res.write(part, () => res.socket?.destroy());
            answer.destroy();
            return;
          }
          if (seen) seen.bytes += chunk.length;
          // back-pressure: a slow client slows the server, nothing piles up here
          if (!res.write(chunk)) {
            answer.pause();
            res.once('drain', () => answer.resume());
          }
        });
        answer.on('end', () => res.end());
        answer.on('error', () => res.destroy());
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.agent.destroy();
    await new Promise<void>(r => (this.server ? this.server.close(() => r()) : r()));
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}
