// What the share's server honours (remote/capabilities.ts), probed once and kept: in the share's cache
// (per-share values, a week) when there is one, in memory for a share in live mode. Every conditional
// write asks it first: where a server ignores If-Match, versions are compared right before writing.
import { isShareError } from '../core/errors';
import type { Logger } from '../core/log';
import { probeCapabilities, UNKNOWN_CAPABILITIES, type Capabilities } from '../remote/capabilities';
import type { RemoteFs } from '../remote/remoteFs';

const CAPABILITIES_KEY = 'capabilities';
const CAPABILITIES_MAX_AGE_MS = 7 * 24 * 3600_000;

/** Where probed capabilities are kept (the cache index's per-share values). */
export interface CapabilityMemory {
  getMeta<T>(key: string): T | undefined;
  setMeta(key: string, value: unknown): void;
}

export class ServerCapabilities {
  private known?: Capabilities;
  private probing?: Promise<Capabilities>;

  constructor(
    private readonly server: RemoteFs,
    private readonly memory: CapabilityMemory | undefined,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** What is known without asking the server (for display), or undefined. */
  peek(): Capabilities | undefined {
    return this.known ?? this.memory?.getMeta<Capabilities>(CAPABILITIES_KEY);
  }

  /** Something learnt from a real answer (a PUT that carried its etag): kept with the rest. */
  learn(change: Partial<Omit<Capabilities, 'probedAt'>>): void {
    const known = this.peek();
    if (!known || Object.entries(change).every(([k, v]) => known[k as keyof Capabilities] === v)) return;
    this.known = { ...known, ...change };
    this.memory?.setMeta(CAPABILITIES_KEY, this.known);
  }

  /** The capabilities, probing the server once if they are not known (concurrent callers share the probe). */
  get(): Promise<Capabilities> {
    if (this.known) return Promise.resolve(this.known);
    const stored = this.memory?.getMeta<Capabilities>(CAPABILITIES_KEY);
    // kept from before Depth: infinity was probed: probed again (once)
    if (stored?.depthProbed && this.now() - stored.probedAt < CAPABILITIES_MAX_AGE_MS) return Promise.resolve((this.known = stored));
    this.probing ??= this.probe().finally(() => (this.probing = undefined));
    return this.probing;
  }

  private async probe(): Promise<Capabilities> {
    let caps: Capabilities;
    try {
      caps = await probeCapabilities(this.server, this.log, this.now());
    } catch (err) {
      if (isShareError(err, 'Unavailable') && err.reason !== 'tls') throw err;
      if (isShareError(err, 'Unauthorized')) throw err;
      this.log.warn(`[capabilities] cannot probe the server (${(err as Error).message}); assuming it ignores preconditions`);
      caps = { ...UNKNOWN_CAPABILITIES, probedAt: this.now() };
      // kept for a week only where the server clearly refused the probe (a read-only share); otherwise for
      // this session, and probed again next time
      if (!isShareError(err, 'NoPermissions') && !isShareError(err, 'Rejected')) return (this.known = caps);
    }
    this.known = caps;
    this.memory?.setMeta(CAPABILITIES_KEY, caps);
    return caps;
  }
}
