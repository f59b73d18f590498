// An AuthHandler for the transport and sign-in suites whose answers are scripted, and which keeps what
// the "user" decided as the VS Code adapter does: a trusted certificate becomes the share's pinned one,
// a passphrase is kept. Every question is recorded (with the time it was asked, to tell one prompt for
// concurrent requests from several).
import type { ShareLocation } from '../../src/core/shareLocation';
import { Emitter } from '../../src/core/events';
import type { Credentials, ShareAccess } from '../../src/remote/remoteFs';
import type { AuthHandler, ChangedCertificate, CredentialPrompt, UntrustedCertificate } from '../../src/share/auth';

export interface AccessScript {
  credentials?: Credentials;
  /** Answers to sign-in prompts, in order (undefined: cancel). */
  logins?: (Credentials | undefined)[];
  access?: ShareAccess;
  /** Answers to "trust this certificate?", in order (missing: decline). */
  trust?: boolean[];
  /** Answers to "the certificate changed — review and trust the new one?", in order (missing: no). */
  changed?: boolean[];
  /** Answers to passphrase prompts, in order (undefined or missing: cancel). */
  passphrases?: (string | undefined)[];
  /** How long each prompt takes (ms): concurrent requests arrive meanwhile. */
  promptMs?: number;
}

export class ScriptedAccess implements AuthHandler {
  readonly logins: CredentialPrompt[] = [];
  readonly saved: Credentials[] = [];
  readonly trustAsked: UntrustedCertificate[] = [];
  readonly changedTold: ChangedCertificate[] = [];
  readonly passphraseAsked: ('missing' | 'wrong')[] = [];
  /** What is kept for the share (the adapter's SecretStorage and global state). */
  kept: ShareAccess;
  private readonly emitter = new Emitter<string>();
  readonly onDidChangeAccess = this.emitter.event;

  constructor(private readonly script: AccessScript = {}) {
    this.kept = { ...script.access };
  }

  private pause(): Promise<void> {
    return new Promise(r => setTimeout(r, this.script.promptMs ?? 0));
  }

  async stored() {
    return this.script.credentials;
  }
  async ask(_: ShareLocation, prompt: CredentialPrompt) {
    this.logins.push(prompt);
    await this.pause();
    return this.script.logins?.shift();
  }
  async save(_: ShareLocation, c: Credentials) {
    this.saved.push(c);
  }
  async access(): Promise<ShareAccess> {
    return this.kept;
  }

  async trustCertificate(_: ShareLocation, problem: UntrustedCertificate): Promise<boolean> {
    this.trustAsked.push(problem);
    await this.pause();
    const yes = this.script.trust?.shift() ?? false;
    if (yes) this.kept = { ...this.kept, trustedCertificates: [problem.certificate.fingerprint] };
    return yes;
  }
  async certificateChanged(_: ShareLocation, problem: ChangedCertificate): Promise<boolean> {
    this.changedTold.push(problem);
    await this.pause();
    const yes = this.script.changed?.shift() ?? false;
    if (yes) this.kept = { ...this.kept, trustedCertificates: [problem.certificate.fingerprint] };
    return yes;
  }
  async askPassphrase(_: ShareLocation, reason: 'missing' | 'wrong'): Promise<string | undefined> {
    this.passphraseAsked.push(reason);
    await this.pause();
    const given = this.script.passphrases?.shift();
    if (given !== undefined) this.kept = { ...this.kept, clientCertificatePassphrase: given };
    return given;
  }

  /** As a command does: changes what is kept and tells the share. */
  change(key: string, access: ShareAccess): void {
    this.kept = access;
    this.emitter.fire(key);
  }
}
