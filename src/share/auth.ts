// What a share may ask its user, and what it keeps for them. The core asks through this interface; the
// VS Code adapter keeps passwords, tokens and passphrases in SecretStorage, trusted certificates in the
// extension's global state, and asks with input boxes and a modal trust prompt. Nothing here logs or
// persists a secret.
import type { TlsProblem } from '../core/certificates';
import type { Event } from '../core/events';
import type { ShareLocation } from '../core/shareLocation';
import type { Credentials, ShareAccess } from '../remote/remoteFs';

export interface CredentialPrompt {
  /** Why we ask: first time, or the last user name / password was refused. */
  readonly reason: 'required' | 'rejected';
  readonly username?: string;
  /** What the server is, when known, for a better prompt (e.g. "Nextcloud": an app password). */
  readonly product?: string;
}

export type UntrustedCertificate = Extract<TlsProblem, { kind: 'untrusted' }>;
export type ChangedCertificate = Extract<TlsProblem, { kind: 'changed' }>;

export interface AuthHandler {
  /** Credentials saved earlier for this share, if any. */
  stored(location: ShareLocation): Promise<Credentials | undefined>;
  /** Asks the user; undefined when they cancel. */
  ask(location: ShareLocation, prompt: CredentialPrompt): Promise<Credentials | undefined>;
  /** Called once credentials were accepted by the server. */
  save(location: ShareLocation, credentials: Credentials): Promise<void>;

  // The rest is optional: a handler without it never trusts a certificate, sends no secret header, asks
  // for no passphrase.

  /** Secret headers, trusted certificates and the client certificate's passphrase kept for this share. */
  access?(location: ShareLocation): Promise<ShareAccess>;
  /** Fires with a share's key when what `access` gives for it changed (a command set a token, forgot a certificate…). */
  readonly onDidChangeAccess?: Event<string>;
  /**
   * The system does not trust the server's certificate: asks whether to trust it for this share, and
   * keeps it when the user does. Resolves true when trusted. Called for every request refused this way;
   * once the user declined, the handler answers false without asking again (until the user asks to
   * review the certificate).
   */
  trustCertificate?(location: ShareLocation, problem: UntrustedCertificate): Promise<boolean>;
  /**
   * The server shows another certificate than the one trusted for this share: tells the user (once per
   * certificate), naming both. Resolves true if the user then reviewed and trusted the new one (kept).
   * The refused requests are not held back for it.
   */
  certificateChanged?(location: ShareLocation, problem: ChangedCertificate): Promise<boolean>;
  /** Asks for the client certificate's passphrase and keeps it; undefined when the user cancels. */
  askPassphrase?(location: ShareLocation, reason: 'missing' | 'wrong'): Promise<string | undefined>;
}

/** For shares that need no credentials and for tests: never asks, never stores. */
export const noAuth: AuthHandler = {
  stored: async () => undefined,
  ask: async () => undefined,
  save: async () => undefined,
};
