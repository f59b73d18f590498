// The authentication state of one share: stored credentials, one prompt for concurrent 401s, a
// limited number of attempts, and no prompt again after the user cancelled (a 401 never loops).
import { isShareError, ShareError } from '../core/errors';
import type { Logger } from '../core/log';
import { shareKey, type ShareLocation } from '../core/shareLocation';
import type { Credentials, RemoteFs } from '../remote/remoteFs';
import type { AuthHandler } from './auth';

const MAX_PROMPTS = 3;

export class ShareAuth {
  readonly ready: Promise<void>;
  private signingIn?: Promise<boolean>;
  /** The user cancelled a prompt: no more prompts until an explicit sign-in. */
  private gaveUp = false;
  private username?: string;
  /** Bumped whenever the credentials change, so a 401 answered to old credentials just retries. */
  private generation = 0;
  private readonly key: string;

  constructor(
    private readonly location: ShareLocation,
    /** The server itself (never the cache): credentials are checked against it. */
    private readonly server: RemoteFs,
    private readonly auth: AuthHandler,
    private readonly log: Logger,
  ) {
    this.key = shareKey(location);
    this.ready = this.loadStored();
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

  /** Tries `given` first, then asks. Resolves true once the server accepts a user name and password. */
  async signIn(given?: Credentials): Promise<boolean> {
    await this.ready;
    this.gaveUp = false;
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
      await this.auth.save(this.location, credentials);
      this.log.info(`[auth] ${this.key}: signed in as ${credentials.username}`);
      return true;
    }
    this.gaveUp = true;
    return false;
  }

  /** Runs one operation; a 401 asks for credentials once and retries once. */
  async call<T>(op: () => Promise<T>): Promise<T> {
    await this.ready;
    const generation = this.generation;
    try {
      return await op();
    } catch (err) {
      if (!isShareError(err, 'Unauthorized')) throw err;
      if (this.generation !== generation && !this.signingIn) return op(); // signed in meanwhile
      if (this.gaveUp || !(await this.authenticate(this.username ? 'rejected' : 'required'))) {
        throw new ShareError('Unauthorized', `${err.message}. Run "WebDAV: Sign In" to enter them`, { cause: err, status: 401 });
      }
      return op();
    }
  }
}
