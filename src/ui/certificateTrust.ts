// The certificates the user trusted, one per share, like SSH's known_hosts — and the prompts about them.
// Kept in the extension's globalState, not SecretStorage: a certificate's fingerprint is no secret
// (every client that connects sees the certificate), what matters is that it is kept per share,
// survives reloads, and can be listed and forgotten without reading secrets; globalState is the
// extension's own and is not synced to other machines (a pin is about this machine's network path).
// The prompt is modal and shows what the user can check against the server's own display (SHA-256
// fingerprint, subject, issuer, validity). A declined certificate is not asked about again in this
// session until the user asks to review it; a changed one is never trusted without the user asking.
import * as vscode from 'vscode';
import { describeCertificate, describeTrustReason } from '../core/certificates';
import type { ChangedCertificate, UntrustedCertificate } from '../share/auth';

const STATE_KEY = 'webdavOffline.trustedCertificates';
/** The prompt's button (a function: its text is in the display language). */
export const trustButton = () => vscode.l10n.t('Trust this certificate for this share');
const reviewButton = () => vscode.l10n.t('Review New Certificate…');

interface Pin {
  readonly fingerprint: string;
  readonly subject: string;
  readonly validTo: string;
  /** ms since the epoch. */
  readonly trustedAt: number;
}

export class CertificateTrust {
  /** `key\nfingerprint` of certificates the user declined in this session. */
  private readonly declined = new Set<string>();
  /** The last certificate refused per share in this session (what "Review Server Certificate…" shows). */
  private readonly refused = new Map<string, UntrustedCertificate | ChangedCertificate>();
  /** Prompts open now, by `key\nfingerprint` (a second caller waits for the same answer). */
  private readonly asking = new Map<string, Promise<boolean>>();

  constructor(
    private readonly state: vscode.Memento,
    /** Tells the shares that what is kept for a share changed. */
    private readonly changed: (key: string) => void,
  ) {}

  private pins(): Record<string, Pin> {
    const value = this.state.get<unknown>(STATE_KEY, {});
    return value && typeof value === 'object' ? (value as Record<string, Pin>) : {};
  }

  /** The fingerprint trusted for a share, if any. */
  trusted(key: string): string | undefined {
    const pin = this.pins()[key];
    return typeof pin?.fingerprint === 'string' ? pin.fingerprint : undefined;
  }

  /** Shares with a trusted certificate. */
  keys(): string[] {
    return Object.keys(this.pins());
  }

  async forget(key: string): Promise<void> {
    const pins = { ...this.pins() };
    delete pins[key];
    await this.state.update(STATE_KEY, pins);
    this.changed(key);
  }

  /** Shares whose certificate was refused in this session. */
  refusedKeys(): string[] {
    return [...this.refused.keys()];
  }

  /**
   * "Review Server Certificate…": shows the prompt for the certificate last refused for this share (also
   * one declined before, or one that changed). Resolves true when the user trusted it; the shares are
   * told. Undefined when no certificate of this share was refused in this session.
   */
  async review(key: string): Promise<boolean | undefined> {
    const problem = this.refused.get(key);
    if (!problem) return undefined;
    for (const d of [...this.declined]) if (d.startsWith(`${key}\n`)) this.declined.delete(d);
    const trusted =
      problem.kind === 'untrusted'
        ? await this.askToTrust(key, problem)
        : await this.prompt(key, changedQuestion(key, problem), changedDetail(problem), problem);
    if (trusted) this.changed(key);
    return trusted;
  }

  askToTrust(key: string, problem: UntrustedCertificate): Promise<boolean> {
    const c = problem.certificate;
    const id = `${key}\n${c.fingerprint}`;
    this.refused.set(key, problem);
    if (this.declined.has(id)) return Promise.resolve(false);
    let asking = this.asking.get(id);
    if (!asking) {
      asking = this.prompt(
        key,
        vscode.l10n.t('The certificate of {0} is not trusted: {1}.', key, describeTrustReason(problem.reason, c)),
        `${describeCertificate(c)}\n\n${vscode.l10n.t(
          'Compare the fingerprint with the one the server shows (on a NAS: the certificate page of its control panel). If you trust it, WebDAV Offline connects to this share with exactly this certificate and refuses any other.',
        )}`,
        problem,
      ).finally(() => this.asking.delete(id));
      this.asking.set(id, asking);
    }
    return asking;
  }

  /** A notice that the certificate changed; its button opens the prompt for the new one. */
  async tellChanged(key: string, problem: ChangedCertificate): Promise<boolean> {
    this.refused.set(key, problem);
    const choice = await vscode.window.showWarningMessage(
      vscode.l10n.t(
        'The certificate of {0} changed since you trusted it, so WebDAV Offline refuses to connect. Trusted: {1}. Now: {2}. Someone may be intercepting the connection — or the server got a new certificate. Ask its administrator before you trust the new one.',
        key,
        problem.pinned,
        problem.certificate.fingerprint,
      ),
      reviewButton(),
    );
    if (choice !== reviewButton()) return false;
    return this.prompt(key, changedQuestion(key, problem), changedDetail(problem), problem);
  }

  private async prompt(key: string, message: string, detail: string, problem: UntrustedCertificate | ChangedCertificate): Promise<boolean> {
    const c = problem.certificate;
    const choice = await vscode.window.showWarningMessage(message, { modal: true, detail }, trustButton());
    if (choice !== trustButton()) {
      this.declined.add(`${key}\n${c.fingerprint}`);
      return false;
    }
    const pin: Pin = { fingerprint: c.fingerprint, subject: c.subject, validTo: c.validTo, trustedAt: Date.now() };
    await this.state.update(STATE_KEY, { ...this.pins(), [key]: pin });
    this.refused.delete(key);
    return true;
  }
}

function changedQuestion(key: string, problem: ChangedCertificate): string {
  return vscode.l10n.t('Trust the NEW certificate of {0}? It replaces the one you trusted before ({1}).', key, problem.pinned);
}

function changedDetail(problem: ChangedCertificate): string {
  return `${describeCertificate(problem.certificate)}\n\n${vscode.l10n.t("Only trust it if you know the server's certificate was replaced, and the fingerprint matches what the server shows.")}`;
}
