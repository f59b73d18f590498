// A loopback TCP proxy that shapes the link between a client and a server like a real network: a
// round-trip time (half of it added each way, plus one round trip before a new connection carries data,
// the TCP handshake) and a bandwidth limit per direction shared by all connections (one access link).
// It counts connections, HTTP requests (by method, parsed from the request stream) and bytes each way.
import { createServer, Socket, type Server } from 'node:net';

export interface LinkOptions {
  /** Round-trip time added, ms. */
  readonly rttMs: number;
  /** Bandwidth per direction, bits per second; 0 or Infinity: unlimited. */
  readonly bitsPerSecond: number;
}

export interface ProxyCounts {
  connections: number;
  requests: number;
  byMethod: Record<string, number>;
  /** Client → server bytes (requests, uploads). */
  bytesUp: number;
  /** Server → client bytes (answers, downloads). */
  bytesDown: number;
}

/** Sockets hold back at most this much in flight per connection and direction (a TCP window). */
const WINDOW_BYTES = 1 << 20;

class Link {
  /** When the link finishes sending what it was given so far (ms, performance.now()). */
  private freeAt = 0;
  constructor(private readonly o: LinkOptions) {}
  /** When a chunk of `bytes` handed over at `now` (not before `notBefore`) arrives at the other end. */
  arrival(now: number, bytes: number, notBefore: number): number {
    const start = Math.max(now, notBefore, this.freeAt);
    const bps = this.o.bitsPerSecond;
    this.freeAt = start + (bps > 0 && Number.isFinite(bps) ? (bytes * 8 * 1000) / bps : 0);
    return this.freeAt + this.o.rttMs / 2;
  }
}

/** Minimal HTTP/1.1 request framing: finds where each request starts (method) in a byte stream. */
class RequestParser {
  private head = '';
  private bodyLeft = 0;
  private chunked = false;
  private chunkState: 'size' | 'data' | 'crlf' | 'trailer' = 'size';
  private line = '';
  constructor(private readonly onRequest: (method: string) => void) {}

  feed(buf: Buffer): void {
    let i = 0;
    while (i < buf.length) {
      if (this.bodyLeft > 0) {
        const n = Math.min(this.bodyLeft, buf.length - i);
        this.bodyLeft -= n;
        i += n;
        if (this.bodyLeft === 0 && this.chunked) this.chunkState = 'crlf';
        continue;
      }
      if (this.chunked) {
        // chunk-size line, CRLF after data, trailer lines until an empty one
        const c = String.fromCharCode(buf[i++]);
        if (c !== '\n') {
          this.line += c;
          continue;
        }
        const line = this.line.replace(/\r$/, '');
        this.line = '';
        if (this.chunkState === 'crlf') this.chunkState = 'size';
        else if (this.chunkState === 'size') {
          const size = parseInt(line, 16);
          if (size > 0) {
            this.bodyLeft = size;
            this.chunkState = 'data';
          } else this.chunkState = 'trailer';
        } else if (this.chunkState === 'trailer' && line === '') {
          this.chunked = false;
          this.chunkState = 'size';
        }
        continue;
      }
      // headers
      const end = buf.indexOf('\r\n\r\n', i, 'latin1');
      const headEnd = end < 0 ? buf.length : end + 4;
      this.head += buf.toString('latin1', i, headEnd);
      i = headEnd;
      const done = this.head.indexOf('\r\n\r\n');
      if (done < 0) {
        if (this.head.length > 65536) this.head = ''; // not HTTP; give up on framing this
        continue;
      }
      // a CRLF split across chunks: whatever follows the head belongs to the body
      const extra = this.head.length - (done + 4);
      const head = this.head.slice(0, done);
      this.head = '';
      if (extra > 0) i -= extra;
      const method = head.slice(0, head.indexOf(' '));
      if (method) this.onRequest(method);
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      this.chunked = /\r\ntransfer-encoding:[^\r]*chunked/i.test(head);
      this.bodyLeft = !this.chunked && length ? Number(length[1]) : 0;
    }
  }
}

export class LatencyProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private up: Link;
  private down: Link;
  port = 0;
  counts: ProxyCounts = emptyCounts();

  constructor(
    private readonly targetPort: number,
    private link: LinkOptions,
    private readonly targetHost = '127.0.0.1',
  ) {
    this.up = new Link(link);
    this.down = new Link(link);
  }

  get options(): LinkOptions {
    return this.link;
  }

  /** Changes the link for the connections opened from now on (and the queues from now on). */
  setLink(link: LinkOptions): void {
    this.link = link;
    this.up = new Link(link);
    this.down = new Link(link);
  }

  async start(): Promise<this> {
    this.server = createServer(client => this.handle(client));
    await new Promise<void>(r => this.server!.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  /** Returns the counts so far and starts counting from zero. */
  take(): ProxyCounts {
    const c = this.counts;
    this.counts = emptyCounts();
    return c;
  }

  private handle(client: Socket): void {
    this.counts.connections++;
    const upstream = new Socket();
    this.sockets.add(client);
    this.sockets.add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    // the handshake: the client's first bytes can leave one round trip after it connected
    const openAt = performance.now() + this.link.rttMs;
    const parser = new RequestParser(method => {
      this.counts.requests++;
      this.counts.byMethod[method] = (this.counts.byMethod[method] ?? 0) + 1;
    });
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', kill);
    upstream.on('error', kill);
    // a close travels like data: the other side ends once what was sent before it has arrived
    client.on('close', () => this.sockets.delete(client));
    upstream.on('close', () => this.sockets.delete(upstream));
    upstream.connect(this.targetPort, this.targetHost);
    this.pipe(client, upstream, () => this.up, openAt, chunk => {
      this.counts.bytesUp += chunk.length;
      parser.feed(chunk);
    });
    this.pipe(upstream, client, () => this.down, 0, chunk => (this.counts.bytesDown += chunk.length));
  }

  /** Forwards `from` → `to` through a link: each chunk is delivered when the link says it arrives. */
  private pipe(from: Socket, to: Socket, link: () => Link, notBefore: number, count: (chunk: Buffer) => void): void {
    const queue: { at: number; chunk: Buffer }[] = [];
    let queued = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let ended = false;
    const pump = () => {
      timer = undefined;
      const now = performance.now();
      while (queue.length && queue[0].at <= now + 0.5) {
        const { chunk } = queue.shift()!;
        queued -= chunk.length;
        if (!to.destroyed) to.write(chunk);
      }
      if (queued < WINDOW_BYTES && from.isPaused()) from.resume();
      if (queue.length) timer = setTimeout(pump, Math.max(0, queue[0].at - now));
      else if (ended && !to.destroyed) to.end();
    };
    from.on('data', (chunk: Buffer) => {
      count(chunk);
      queue.push({ at: link().arrival(performance.now(), chunk.length, notBefore), chunk });
      queued += chunk.length;
      if (queued >= WINDOW_BYTES) from.pause();
      if (!timer) timer = setTimeout(pump, Math.max(0, queue[0].at - performance.now()));
    });
    const finish = () => {
      if (ended) return;
      ended = true;
      if (!queue.length && !timer && !to.destroyed) to.end();
    };
    from.on('end', finish);
    from.on('close', finish);
  }

  /** Drops every open connection (keep-alive ones too), so the next run starts with new connections. */
  dropAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    this.dropAll();
    await new Promise<void>(r => (this.server ? this.server.close(() => r()) : r()));
  }
}

function emptyCounts(): ProxyCounts {
  return { connections: 0, requests: 0, byMethod: {}, bytesUp: 0, bytesDown: 0 };
}
