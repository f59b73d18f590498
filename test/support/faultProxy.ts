// A small loopback TCP proxy between the client and a WebDAV server, for fault tests: it can drop the
// connection in the middle of an upload, refuse new connections, and counts what passes.
import { createServer, type Server, type Socket } from 'node:net';

export type FaultMode =
  /** forward everything */
  | { kind: 'pass' }
  /** close new connections at once (the server looks down) */
  | { kind: 'refuse' }
  /** forward a request whose first line starts with `method` only up to `afterBytes`, then reset both sides */
  | { kind: 'dropRequest'; method: string; afterBytes: number }
  /** forward the request, then drop the connection before the answer reaches the client */
  | { kind: 'dropAnswer'; method: string }
  /** the n-th request from now (1-based): reset mid-request (it does not land) or after it (it lands, the answer is lost) */
  | { kind: 'dropNth'; n: number; phase: 'request' | 'answer' };

export class FaultProxy {
  private server!: Server;
  private readonly sockets = new Set<Socket>();
  mode: FaultMode = { kind: 'pass' };
  port = 0;
  connections = 0;
  /** Requests seen (by their request line). */
  requests = 0;
  /** Whether a dropNth fault has fired. */
  fired = false;

  constructor(private readonly targetPort: number) {}

  async start(): Promise<this> {
    this.server = createServer(client => this.handle(client));
    await new Promise<void>(r => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  private handle(client: Socket): void {
    this.connections++;
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => undefined);
    if (this.mode.kind === 'refuse') return void client.destroy();
    const upstream = new (require('node:net').Socket)() as Socket;
    this.sockets.add(upstream);
    upstream.on('close', () => this.sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    upstream.connect(this.targetPort, '127.0.0.1');
    let requestBytes = 0;
    let dropping = false;
    let answerDropping = false;
    client.on('data', chunk => {
      const mode = this.mode;
      if (requestBytes === 0 || /^[A-Z]+ \//.test(chunk.subarray(0, 12).toString('latin1'))) {
        const method = chunk.subarray(0, 12).toString('latin1').split(' ')[0];
        this.requests++;
        const nth = mode.kind === 'dropNth' && !this.fired && --mode.n === 0;
        if (nth) this.fired = true;
        dropping = (mode.kind === 'dropRequest' && method === mode.method) || (nth && mode.kind === 'dropNth' && mode.phase === 'request');
        answerDropping = (mode.kind === 'dropAnswer' && method === mode.method) || (nth && mode.kind === 'dropNth' && mode.phase === 'answer');
        requestBytes = 0;
      }
      const cut = mode.kind === 'dropRequest' ? mode.afterBytes : Math.floor(chunk.length / 2);
      if (dropping && requestBytes + chunk.length > cut) {
        upstream.write(chunk.subarray(0, Math.max(0, cut - requestBytes)));
        client.resetAndDestroy();
        upstream.resetAndDestroy();
        return;
      }
      requestBytes += chunk.length;
      upstream.write(chunk);
    });
    upstream.on('data', chunk => {
      if (answerDropping) {
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('end', () => client.end());
  }

  /** Drops every open connection (keep-alive sockets included). */
  dropAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    this.dropAll();
    await new Promise<void>(r => this.server.close(() => r()));
  }
}
