// The authentication state of one share: stored credentials, one prompt for concurrent 401s, a
// limited number of attempts, and no prompt again after the user cancelled (a 401 never loops). Also
// what else the share is given (secret headers such as a bearer token, trusted certificates, the
// client certificate's passphrase) and the secure connections the user can settle (shareTrust.ts).
import { tlsProblemOf } from '../core/certificates';
import { isShareError, ShareError } from '../core/errors';
import type { Logger } from '../core/log';
import { shareKey, type ShareLocation } from '../core/shareLocation';
import { authSchemes, challengeOf } from '../remote/httpErrors';
import type { Credentials, RemoteFs, ShareAccess } from '../remote/remoteFs';
import type { AuthHandler } from './auth';
import { ShareTrust } from './shareTrust';

const MAX_PROMPTS = 3;
/** What remote/httpErrors.ts says about a 401. */
const NEEDS_PASSWORD = 'the server needs a valid user name and password';

export class ShareAuth {
  readonly ready: Promise<void>;
  private signingIn?: Promise<boolean>;
  /** The user cancelled a prompt: no more prompts until an explicit sign-in. */
  private gaveUp = false;
  private username?: string;
  /** Bumped whenever the credentials change, so a 401 answered to old credentials just retries. */
  private generation = 0;
  private readonly key: string;
  private access: ShareAccess = {};
  private readonly trust: ShareTrust;

  constructor(
    private readonly location: ShareLocation,
    /** The server itself (never the cache): credentials are checked against it. */
    private readonly server: RemoteFs,
    private readonly auth: AuthHandler,
    private readonly log: Logger,
  ) {
    this.key = shareKey(location);
    this.trust = new ShareTrust(location, auth, log, () => this.loadAccess());
    // lives as long as the handler (the extension): shares are only disposed with it
    auth.onDidChangeAccess?.(key => {
      if (key !== this.key) return;
      this.trust.reset();
      void this.loadAccess();
    });
    this.ready = Promise.all([this.loadStored(), this.loadAccess()]).then(() => undefined);
  }

  private async loadAccess(): Promise<void> {
    if (!this.auth.access) return;
    try {
      this.access = await this.auth.access(this.location);
    } catch (err) {
      this.log.warn(`[auth] ${this.key}: could not read the stored access (${(err as Error).message})`);
      return;
    }
    this.server.setAccess?.(this.access);
  }

  /** A secret Authorization header (a bearer token) stands in for a user name and password. */
  private get usesToken(): boolean {
    return Object.keys(this.access.headers ?? {}).some(h => h.toLowerCase() === 'authorization');
  }

  private async loadStored(): Promise<void> {
    try {
      const stored = await this.auth.stored(this.location);
      if (stored) this.use(stored);
    } catch (err) {
      this.log.warn(`[auth] ${this.key}: could not read stored credentials (${(err as Error).message})`);
    }
  }

  private use(credentials: Credentials | undefined): void {
    this.username = credentials?.username;
    this.generation++;
    this.server.setCredentials(credentials);
  }

  /** The user cancelled a prompt, or the attempts ran out: a sign-in is needed. */
  get needsSignIn(): boolean {
    return this.gaveUp;
  }

  /** Tries `given` first, then asks. Resolves true once the server accepts a user name and password. */
  async signIn(given?: Credentials): Promise<boolean> {
    await this.ready;
    this.gaveUp = false;
    this.trust.reset();
    return this.authenticate('required', given);
  }

  /** Drops the credentials in use (after "Forget Credentials"). */
  forget(): void {
    this.use(undefined);
  }

  private authenticate(reason: 'required' | 'rejected', given?: Credentials): Promise<boolean> {
    // concurrent 401s share one prompt
    this.signingIn ??= this.promptUntilAccepted(reason, given).finally(() => (this.signingIn = undefined));
    return this.signingIn;
  }

  private async promptUntilAccepted(reason: 'required' | 'rejected', given?: Credentials): Promise<boolean> {
    for (let attempt = 0; attempt < MAX_PROMPTS && !this.gaveUp; attempt++) {
      const credentials = attempt === 0 && given ? given : await this.auth.ask(this.location, { reason, username: this.username });
      if (!credentials) break;
      this.use(credentials);
      try {
        await this.server.stat('/');
      } catch (err) {
        if (isShareError(err, 'Unauthorized')) {
          this.log.info(`[auth] ${this.key}: the server refused the user name or password of ${credentials.username}`);
          reason = 'rejected';
          continue;
        }
        // any other failure is not about the credentials; keep them and let the operation report it
      }
      // kept with how the server wants them (a stored password never goes out as Basic to a Digest server)
      const scheme = this.server.authScheme;
      await this.auth.save(this.location, scheme === 'digest' ? { ...credentials, scheme } : credentials);
      this.log.info(`[auth] ${this.key}: signed in as ${credentials.username}${scheme === 'digest' ? ' (Digest)' : ''}`);
      return true;
    }
    this.gaveUp = true;
    return false;
  }

  /**
   * Runs one operation; a 401 asks for credentials once and retries once; a secure connection refused
   * for a reason the user can settle (an untrusted certificate, a missing passphrase) asks once and
   * retries once.
   */
  async call<T>(op: () => Promise<T>, tlsSettled = false): Promise<T> {
    await this.ready;
    const generation = this.generation;
    try {
      return await op();
    } catch (err) {
      const refused = tlsFailureOf(err);
      const problem = refused && tlsProblemOf(refused);
      if (refused && problem) {
        if (!tlsSettled && (await this.trust.settle(problem))) return this.call(op, true);
        throw this.trust.refusal(refused, problem);
      }
      if (!isShareError(err, 'Unauthorized')) throw err;
      const say = (what: string, todo: string) =>
        new ShareError('Unauthorized', `${err.message.replace(NEEDS_PASSWORD, what)}. ${todo}`, { cause: err, status: 401 });
      if (this.usesToken) {
        throw say('the server refused the access token (or secret Authorization header) set for this share', 'Set a new one with "WebDAV: Set Access Token…"');
      }
      const offered = authSchemes(challengeOf(err));
      if (offered.length && !offered.includes('basic') && !offered.includes('digest')) {
        // a user name and password would not help: no prompt
        if (offered.includes('bearer')) throw say('the server asks for a bearer token, not a user name and password', 'Set one with "WebDAV: Set Access Token…"');
        throw say(`the server asks for ${offered.join(' or ')} sign-in`, 'WebDAV Offline signs in with a user name and password (Basic, Digest) or a bearer token only');
      }
      if (this.generation !== generation && !this.signingIn) return op(); // signed in meanwhile
      if (this.gaveUp || !(await this.authenticate(this.username ? 'rejected' : 'required'))) {
        throw new ShareError('Unauthorized', `${err.message}. Run "WebDAV: Sign In" to enter them`, { cause: err, status: 401 });
      }
      return op();
    }
  }
}

/**
 * The refused secure connection behind a failure: the failure itself, or its cause when the cache turned
 * it into "not available offline" (it serves what it has whatever the server's trouble).
 */
function tlsFailureOf(err: unknown): ShareError | undefined {
  for (let e = err, depth = 0; e instanceof ShareError && depth < 4; e = e.cause, depth++) {
    if (e.code === 'Unavailable' && e.reason === 'tls') return e;
    if (e.code !== 'Unavailable') return undefined;
  }
  return undefined;
}
