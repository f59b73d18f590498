// An AuthHandler whose answers are scripted (for the suites that drive sign-in): it records every prompt
// and every save.
import type { ShareLocation } from '../../src/core/shareLocation';
import type { Credentials } from '../../src/remote/remoteFs';
import type { AuthHandler, CredentialPrompt } from '../../src/share/auth';

export class ScriptedAuth implements AuthHandler {
  readonly prompts: CredentialPrompt[] = [];
  readonly saved: Credentials[] = [];
  constructor(
    private readonly storedCredentials: Credentials | undefined,
    private readonly answers: (Credentials | undefined)[] = [],
  ) {}
  async stored() {
    return this.storedCredentials;
  }
  async ask(_: ShareLocation, prompt: CredentialPrompt) {
    this.prompts.push(prompt);
    return this.answers.shift();
  }
  async save(_: ShareLocation, c: Credentials) {
    this.saved.push(c);
  }
}
