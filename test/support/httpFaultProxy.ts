// An HTTP-level fault proxy for the write-fault trials (test/conformance/writeFaults.test.ts): node:http
// in front of a real WebDAV server, forwarding each request with http.request, that misbehaves on the
// n-th request matching an armed fault — the ways a server, a gateway or the network between them really
// fail a change: a 5xx without the change; the change stored and a 503 answered; the answer stalled after
// some bytes (the client's timeout fires mid-body); the connection reset mid-request or mid-answer; a
// 204/201 for a change that never reached the server; a gateway's sign-in page (200 text/html). The TCP
// proxy (faultProxy.ts) only cuts connections; this one speaks HTTP. It records what it did, so a trial's
// summary can say which request met which fault and whether the server saw it. For the pin's adaptive
// parallelism (pinParallel.test.ts) it also answers 429/503 with a Retry-After (a busy server), can add a
// delay before each forwarded request (a link's round trip, so that parallelism pays), and keeps a
// timeline of arrivals with the requests in flight at each.
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export type HttpFaultKind =
  /** answer `status` (500, 502, 503) without forwarding: the change never reached the server */
  | 'status'
  /** forward, let the server answer, then answer 503: the change landed, the answer says it failed */
  | 'landedThen503'
  /** forward, then send the answer's head and half its body (half its head if it has none) and stall */
  | 'stall'
  /** reset the connection mid-request: half the body reaches the server (nothing, for a request without one) */
  | 'resetRequest'
  /** forward, then reset mid-answer: after half the body (half the head if it has no body) */
  | 'resetAnswer'
  /** answer `status` (204, 201) without forwarding: a 2xx for a change that was not stored */
  | 'fake2xx'
  /** answer 200 text/html with a sign-in page without forwarding: a gateway in front of the server */
  | 'signIn'
  /** answer `status` (429, 503) with `Retry-After: retryAfter` without forwarding: a busy server */
  | 'busy';

export const WRITE_METHODS: readonly string[] = ['PUT', 'MKCOL', 'DELETE', 'MOVE', 'COPY'];
export const ANY_METHOD: readonly string[] = [...WRITE_METHODS, 'PROPFIND', 'GET'];

export interface HttpFault {
  readonly kind: HttpFaultKind;
  /** The requests that count towards `nth`, by method. */
  readonly methods: readonly string[];
  /** The fault hits the n-th matching request after arming (1-based). */
  readonly nth: number;
  /** 'status': 500, 502 or 503; 'fake2xx': 204 or 201; 'busy': 429 or 503. */
  readonly status?: number;
  /** 'busy': the Retry-After header's value (seconds or an HTTP date; none when absent). */
  readonly retryAfter?: string;
}

/** One request as it arrived: when (performance.now(), ms), and how many were in flight with it. */
export interface Arrival {
  readonly method: string;
  readonly at: number;
  readonly inFlight: number;
  /** The fault it met, if any. */
  readonly fault?: HttpFaultKind;
}

/** What the proxy did to one request. */
export interface FaultEvent {
  readonly fault: HttpFault;
  readonly method: string;
  /** The request target, as sent (percent-encoded, with the mount). */
  readonly target: string;
  /** Whether the server received the whole request (it may have stored the change). */
  readonly forwarded: boolean;
  /** In words, for a trial's summary. */
  readonly what: string;
  /** When the proxy answered (or cut) it: performance.now(), ms. */
  readonly at: number;
}

/** The server's whole answer to a forwarded request. */
interface Upstream {
  readonly status: number;
  readonly statusText?: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

interface Armed {
  readonly fault: HttpFault;
  seen: number;
  nth: number;
  fired: boolean;
}

const SIGN_IN_PAGE =
  '<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n<body><h1>Sign in to continue</h1>\n' +
  '<form method="post" action="/login"><input name="user"><input name="password" type="password"><button>Sign in</button></form>\n</body></html>\n';

/** The longest a stalled answer is held (the client's timeout is far shorter). */
const MAX_STALL_MS = 30_000;

/** Headers that belong to one connection, not to the message. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

export class HttpFaultProxy {
  private server?: Server;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private armed: Armed[] = [];
  port = 0;
  /** Requests seen since the start. */
  requests = 0;
  /** Requests seen since the start, by method. */
  readonly byMethod: Record<string, number> = {};
  /** Requests being handled now, and the most at once since the start (or the last resetCounts()). */
  inFlight = 0;
  maxInFlight = 0;
  /** What the faults did since the last arm(). */
  readonly events: FaultEvent[] = [];
  /** Every request since the start (or the last resetCounts()), as it arrived. */
  readonly arrivals: Arrival[] = [];
  /** Milliseconds each forwarded request waits before it goes on to the server (a link's round trip). */
  delayMs = 0;

  constructor(private readonly targetPort: number) {}

  async start(): Promise<this> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('connection', s => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.on('clientError', (_err, socket) => socket.destroy());
    await new Promise<void>(r => server.listen(0, '127.0.0.1', () => r()));
    this.server = server;
    this.port = (server.address() as { port: number }).port;
    return this;
  }

  /** Arms these faults (replacing any armed before) and forgets earlier events. */
  arm(faults: readonly HttpFault[]): void {
    this.armed = faults.map(fault => ({ fault, seen: 0, nth: fault.nth, fired: false }));
    this.events.length = 0;
  }

  /** No more faults: every request is forwarded as it is. */
  disarm(): void {
    this.armed = [];
  }

  /** The armed faults that have not fired yet. */
  get unfired(): HttpFault[] {
    return this.armed.filter(a => !a.fired).map(a => a.fault);
  }

  /** The fault this request meets, if any: each armed fault counts its matching requests and fires once. */
  private match(method: string): HttpFault | undefined {
    let hit: Armed | undefined;
    for (const a of this.armed) {
      if (a.fired || !a.fault.methods.includes(method)) continue;
      if (++a.seen < a.nth) continue;
      if (hit) a.nth++; // two faults on one request: the second takes the next matching one
      else hit = a;
    }
    if (hit) hit.fired = true;
    return hit?.fault;
  }

  /** Forgets the counts (requests, by method, the most in flight). */
  resetCounts(): void {
    this.requests = 0;
    this.maxInFlight = this.inFlight;
    this.arrivals.length = 0;
    for (const m of Object.keys(this.byMethod)) delete this.byMethod[m];
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await this.handleOne(req, res);
    } finally {
      this.inFlight--;
    }
  }

  private async handleOne(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.requests++;
    const method = req.method ?? 'GET';
    this.byMethod[method] = (this.byMethod[method] ?? 0) + 1;
    const target = req.url ?? '/';
    const fault = this.match(method);
    this.arrivals.push({ method, at: performance.now(), inFlight: this.inFlight, fault: fault?.kind });
    res.on('error', () => undefined);
    req.on('error', () => undefined);
    try {
      if (!fault) {
        if (this.delayMs > 0) await this.pause(this.delayMs);
        return await this.pass(req, res);
      }
      const record = (forwarded: boolean, what: string) =>
        this.events.push({ fault, method, target, forwarded, what: `${method} ${readable(target)}: ${what}`, at: performance.now() });
      switch (fault.kind) {
        case 'status':
        case 'fake2xx': {
          await collect(req);
          const status = fault.status ?? (fault.kind === 'status' ? 503 : 204);
          record(false, `answered ${status} without forwarding`);
          return answer(res, status, status === 204 ? '' : `${status} ${fault.kind === 'status' ? 'failure' : 'Created'}\n`, 'text/plain');
        }
        case 'busy': {
          await collect(req);
          if (this.delayMs > 0) await this.pause(this.delayMs); // the server's answer takes the round trip too
          const status = fault.status ?? 503;
          record(false, `answered ${status}${fault.retryAfter !== undefined ? ` with Retry-After: ${fault.retryAfter}` : ''} without forwarding`);
          res.writeHead(status, { 'content-type': 'text/plain', ...(fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {}) });
          res.end(`${status} busy, come back later\n`);
          return;
        }
        case 'signIn':
          await collect(req);
          record(false, 'answered 200 text/html (a sign-in page) without forwarding');
          return answer(res, 200, SIGN_IN_PAGE, 'text/html; charset=utf-8');
        case 'landedThen503': {
          const up = await this.forward(req, await collect(req));
          record(true, `forwarded (the server answered ${up.status}), then answered 503`);
          return answer(res, 503, '503 Service Unavailable\n', 'text/plain');
        }
        case 'resetRequest': {
          const body = await collect(req);
          if (body.byteLength > 1) {
            // half the body reaches the server, then both connections are reset
            const half = body.subarray(0, Math.floor(body.byteLength / 2));
            const up = httpRequest({ host: '127.0.0.1', port: this.targetPort, method, path: target, headers: forwardHeaders(req.headers), agent: false });
            up.on('error', () => undefined);
            up.flushHeaders();
            up.write(half);
            await new Promise(r => setTimeout(r, 20));
            up.destroy();
            record(false, `reset mid-request (${half.byteLength} of ${body.byteLength} bytes of the body reached the server)`);
          } else {
            record(false, 'reset before the request reached the server (it has no body)');
          }
          req.socket.resetAndDestroy();
          return;
        }
        case 'resetAnswer': {
          const up = await this.forward(req, await collect(req));
          record(true, `forwarded (the server answered ${up.status}), then reset ${this.partAnswer(req, res, up)}`);
          await new Promise(r => setTimeout(r, 20));
          req.socket.resetAndDestroy();
          return;
        }
        case 'stall': {
          const up = await this.forward(req, await collect(req));
          record(true, `forwarded (the server answered ${up.status}), then stalled ${this.partAnswer(req, res, up)}`);
          // held until the client gives up (its timeout) or the proxy stops
          const timer = setTimeout(() => {
            this.timers.delete(timer);
            req.socket.destroy();
          }, MAX_STALL_MS);
          this.timers.add(timer);
          req.socket.once('close', () => {
            clearTimeout(timer);
            this.timers.delete(timer);
          });
          return;
        }
      }
    } catch (err) {
      // the upstream server failed (or the client went away): the client sees a reset
      req.socket.destroy();
      if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') process.stderr.write(`[httpFaultProxy] ${method} ${target}: ${(err as Error).message}\n`);
    }
  }

  /**
   * Sends part of the answer: the head and half the body, or — for an answer without a body, whose head
   * alone would be the whole answer — half the head, written to the socket as it would go out. Returns
   * what was sent, in words.
   */
  private partAnswer(req: IncomingMessage, res: ServerResponse, up: Upstream): string {
    if (up.body.byteLength > 1) {
      const half = Math.floor(up.body.byteLength / 2);
      res.writeHead(up.status, up.statusText, { ...answerHeaders(up.headers), 'content-length': String(up.body.byteLength) });
      res.write(up.body.subarray(0, half));
      return `after ${half} of ${up.body.byteLength} bytes of the answer's body`;
    }
    const lines = [`HTTP/1.1 ${up.status} ${up.statusText ?? ''}`];
    for (const [k, v] of Object.entries(answerHeaders(up.headers))) for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${one}`);
    const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
    const half = Math.floor(head.byteLength / 2);
    req.socket.write(head.subarray(0, half));
    return `after ${half} of ${head.byteLength} bytes of the answer's head (it has no body)`;
  }

  /** Waits `ms` (a timer stop() clears). */
  private pause(ms: number): Promise<void> {
    return new Promise(resolve => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  /** Forwards the request and the answer as they are (streamed). */
  private pass(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return new Promise((resolve, reject) => {
      const up = httpRequest({ host: '127.0.0.1', port: this.targetPort, method: req.method, path: req.url, headers: forwardHeaders(req.headers), agent: this.agent }, upRes => {
        res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, answerHeaders(upRes.headers));
        upRes.pipe(res);
        upRes.on('end', () => resolve());
        upRes.on('error', reject);
      });
      up.on('error', reject);
      req.pipe(up);
    });
  }

  /** Sends the request to the server and reads its whole answer. */
  private forward(req: IncomingMessage, body: Buffer): Promise<Upstream> {
    return new Promise((resolve, reject) => {
      const up = httpRequest({ host: '127.0.0.1', port: this.targetPort, method: req.method, path: req.url, headers: forwardHeaders(req.headers), agent: this.agent }, upRes => {
        collect(upRes).then(b => resolve({ status: upRes.statusCode ?? 502, statusText: upRes.statusMessage, headers: upRes.headers, body: b }), reject);
      });
      up.on('error', reject);
      up.end(body);
    });
  }

  async stop(): Promise<void> {
    this.disarm();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const closed = this.server ? new Promise<void>(r => this.server!.close(() => r())) : Promise.resolve();
    for (const s of this.sockets) s.destroy();
    this.agent.destroy();
    await closed;
  }
}

/** A request target for a summary: percent-decoded where it can be. */
function readable(target: string): string {
  try {
    return decodeURI(target);
  } catch {
    return target;
  }
}

function collect(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function forwardHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

function answerHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

function answer(res: ServerResponse, status: number, body: string, type: string): void {
  const bytes = Buffer.from(body);
  res.writeHead(status, status === 204 ? {} : { 'content-type': type, 'content-length': String(bytes.byteLength) });
  res.end(status === 204 ? undefined : bytes);
}
