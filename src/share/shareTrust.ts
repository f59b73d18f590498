// The TLS side of a share's sign-in: what happens when a secure connection was refused for a reason the
// user can settle (core/certificates.ts). An untrusted certificate: one prompt for all the requests
// that met it at once, "trust it for this share" pins it and the requests are sent again — declined,
// they fail with a message that says what to do, and the share does not go offline for it. A changed
// certificate: refused, never asked about on the spot; the user is told once, naming both fingerprints,
// and may review the new one. A client certificate whose passphrase is missing or wrong: asked for (3
// times at most, never again after a cancel until the user asks).
import type { TlsProblem } from '../core/certificates';
import { ShareError } from '../core/errors';
import type { Logger } from '../core/log';
import { shareKey, type ShareLocation } from '../core/shareLocation';
import type { AuthHandler } from './auth';

const MAX_PASSPHRASE_PROMPTS = 3;

export class ShareTrust {
  private readonly key: string;
  /** Problems being settled now, by kind and certificate: concurrent requests share one prompt. */
  private readonly settling = new Map<string, Promise<boolean>>();
  /** Changed certificates the user was told about (one notice each). */
  private readonly warned = new Set<string>();
  /** Certificates the handler did not trust (for the log). */
  private readonly declined = new Set<string>();
  private passphrasePrompts = 0;
  private passphraseGaveUp = false;

  constructor(
    private readonly location: ShareLocation,
    private readonly auth: AuthHandler,
    private readonly log: Logger,
    /** Reads the share's access again (the handler kept what the user decided) and hands it to the server. */
    private readonly reload: () => Promise<void>,
  ) {
    this.key = shareKey(location);
  }

  /** Resolves true when the problem is settled and the refused request is worth sending again. */
  settle(problem: TlsProblem): Promise<boolean> {
    const id = problem.kind === 'options' ? `options:${problem.passphrase}` : `${problem.kind}:${problem.certificate.fingerprint}`;
    let settling = this.settling.get(id);
    if (!settling) {
      settling = this.run(problem).finally(() => this.settling.delete(id));
      this.settling.set(id, settling);
    }
    return settling;
  }

  /** After an explicit sign-in or a change of what is kept for the share: the user may be asked again. */
  reset(): void {
    this.passphrasePrompts = 0;
    this.passphraseGaveUp = false;
    this.warned.clear();
  }

  /** The failure the user sees when the problem was not settled. */
  refusal(err: ShareError, problem: TlsProblem): ShareError {
    if (problem.kind !== 'untrusted') return err;
    return new ShareError(
      'Unavailable',
      `${err.message}. It is not trusted for this share: run "WebDAV: Review Server Certificate…" to check it and trust it, or set "caFile" for this share in the setting webdavOffline.shares to the certificate authority that issued it`,
      { cause: err, reason: 'tls' },
    );
  }

  private async run(problem: TlsProblem): Promise<boolean> {
    switch (problem.kind) {
      case 'untrusted': {
        if (!this.auth.trustCertificate) return false;
        const trusted = await this.auth.trustCertificate(this.location, problem);
        const fingerprint = problem.certificate.fingerprint;
        // a declined certificate is declined again for every request: said once
        if (trusted || !this.declined.has(fingerprint)) this.log.info(`[auth] ${this.key}: the certificate ${fingerprint} was ${trusted ? '' : 'not '}trusted for this share`);
        if (!trusted) this.declined.add(fingerprint);
        if (trusted) await this.reload();
        return trusted;
      }
      case 'changed': {
        const now = problem.certificate.fingerprint;
        this.log.warn(`[auth] ${this.key}: the server's certificate changed (trusted: ${problem.pinned}; now: ${now}); refused`);
        if (this.auth.certificateChanged && !this.warned.has(now)) {
          this.warned.add(now);
          this.auth.certificateChanged(this.location, problem).then(
            async trusted => {
              if (!trusted) return;
              this.log.info(`[auth] ${this.key}: the new certificate ${now} was trusted for this share`);
              await this.reload();
            },
            err => this.log.warn(`[auth] ${this.key}: the notice about the changed certificate failed (${(err as Error).message})`),
          );
        }
        return false;
      }
      case 'options': {
        if (problem.passphrase === 'ok' || !this.auth.askPassphrase || this.passphraseGaveUp) return false;
        if (++this.passphrasePrompts > MAX_PASSPHRASE_PROMPTS) {
          this.passphraseGaveUp = true;
          return false;
        }
        const given = await this.auth.askPassphrase(this.location, problem.passphrase);
        if (given === undefined) {
          this.passphraseGaveUp = true;
          return false;
        }
        await this.reload();
        return true;
      }
    }
  }
}
