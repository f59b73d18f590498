// Credentials in VS Code's SecretStorage (the OS keychain on desktop), one entry per share. The list of
// shares with stored credentials (keys only, no secrets) lives in globalState so they can be forgotten.
import * as vscode from 'vscode';
import { shareKey, type ShareLocation } from '../core/shareLocation';
import type { Credentials } from '../remote/remoteFs';
import type { AuthHandler, CredentialPrompt } from '../share/auth';

const INDEX_KEY = 'webdavOffline.credentialKeys';

export class CredentialStore implements AuthHandler {
  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly state: vscode.Memento,
  ) {}

  private static secretKey(key: string): string {
    return `webdavOffline.credentials:${key}`;
  }

  async stored(location: ShareLocation): Promise<Credentials | undefined> {
    const raw = await this.secrets.get(CredentialStore.secretKey(shareKey(location)));
    if (!raw) return undefined;
    try {
      const parsed = JSON.parse(raw);
      return typeof parsed?.username === 'string' && typeof parsed?.password === 'string' ? parsed : undefined;
    } catch {
      return undefined;
    }
  }

  async save(location: ShareLocation, credentials: Credentials): Promise<void> {
    await this.secrets.store(CredentialStore.secretKey(shareKey(location)), JSON.stringify(credentials));
    const keys = new Set(this.keys());
    keys.add(shareKey(location));
    await this.state.update(INDEX_KEY, [...keys]);
  }

  keys(): string[] {
    return this.state.get<string[]>(INDEX_KEY, []);
  }

  async forget(key: string): Promise<void> {
    await this.secrets.delete(CredentialStore.secretKey(key));
    await this.state.update(
      INDEX_KEY,
      this.keys().filter(k => k !== key),
    );
  }

  async ask(location: ShareLocation, prompt: CredentialPrompt): Promise<Credentials | undefined> {
    const where = shareKey(location);
    const title = `Sign in to ${where}`;
    const username = await vscode.window.showInputBox({
      title,
      prompt:
        (prompt.reason === 'rejected'
          ? 'The server did not accept the user name or password. Enter them again.'
          : 'The server asks for a user name and password.') +
        (prompt.product
          ? ` ${prompt.product}: with two-factor sign-in, use an app password (in ${prompt.product}: Settings → Security → Devices & sessions → Create new app password).`
          : ''),
      value: prompt.username ?? '',
      placeHolder: 'User name',
      ignoreFocusOut: true,
    });
    if (username === undefined) return undefined;
    const password = await vscode.window.showInputBox({
      title,
      prompt: `${prompt.product ? 'Password or app password' : 'Password'} for ${username} (kept in VS Code's secret storage)`,
      password: true,
      placeHolder: 'Password',
      ignoreFocusOut: true,
    });
    if (password === undefined) return undefined;
    return { username, password };
  }
}
