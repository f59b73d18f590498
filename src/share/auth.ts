// Credentials per share. The core asks through this interface; the VS Code adapter keeps passwords in
// SecretStorage and asks the user with input boxes. Nothing here logs or persists a password.
import type { ShareLocation } from '../core/shareLocation';
import type { Credentials } from '../remote/remoteFs';

export interface CredentialPrompt {
  /** Why we ask: first time, or the last user name / password was refused. */
  readonly reason: 'required' | 'rejected';
  readonly username?: string;
  /** What the server is, when known, for a better prompt (e.g. "Nextcloud": an app password). */
  readonly product?: string;
}

export interface AuthHandler {
  /** Credentials saved earlier for this share, if any. */
  stored(location: ShareLocation): Promise<Credentials | undefined>;
  /** Asks the user; undefined when they cancel. */
  ask(location: ShareLocation, prompt: CredentialPrompt): Promise<Credentials | undefined>;
  /** Called once credentials were accepted by the server. */
  save(location: ShareLocation, credentials: Credentials): Promise<void>;
}

/** For shares that need no credentials and for tests: never asks, never stores. */
export const noAuth: AuthHandler = {
  stored: async () => undefined,
  ask: async () => undefined,
  save: async () => undefined,
};
