// What is kept for each share, and the prompts that fill it. In VS Code's SecretStorage (the OS keychain
// on desktop), one entry each per share: the user name and password (with the scheme the server asked
// for), secret request headers (a bearer token is `Authorization: Bearer …`), the client certificate's
// passphrase. The list of shares with any of these (keys only, no secrets) lives in globalState so
// they can be forgotten. Trusted certificates are certificateTrust.ts's. Nothing here logs or persists
// a secret elsewhere.
import * as vscode from 'vscode';
import { shareKey, type ShareLocation } from '../core/shareLocation';
import type { Credentials, ShareAccess } from '../remote/remoteFs';
import type { AuthHandler, ChangedCertificate, CredentialPrompt, UntrustedCertificate } from '../share/auth';
import type { CertificateTrust } from './certificateTrust';

const INDEX_KEY = 'webdavOffline.credentialKeys';

type SecretKind = 'credentials' | 'headers' | 'passphrase';

export class CredentialStore implements AuthHandler, vscode.Disposable {
  private readonly _onDidChangeAccess = new vscode.EventEmitter<string>();
  readonly onDidChangeAccess = this._onDidChangeAccess.event;

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly state: vscode.Memento,
    private readonly trust: CertificateTrust,
    /** The user name saved for a share (`webdavOffline.shares`), offered in the sign-in prompt. */
    private readonly savedUsername: (key: string) => string | undefined = () => undefined,
  ) {}

  private static secretKey(kind: SecretKind, key: string): string {
    return `webdavOffline.${kind}:${key}`;
  }

  async stored(location: ShareLocation): Promise<Credentials | undefined> {
    const parsed = await this.read(CredentialStore.secretKey('credentials', shareKey(location)));
    if (typeof parsed?.username !== 'string' || typeof parsed?.password !== 'string') return undefined;
    const scheme = parsed.scheme === 'digest' || parsed.scheme === 'basic' ? parsed.scheme : undefined;
    return { username: parsed.username, password: parsed.password, ...(scheme ? { scheme } : {}) };
  }

  async save(location: ShareLocation, credentials: Credentials): Promise<void> {
    await this.secrets.store(CredentialStore.secretKey('credentials', shareKey(location)), JSON.stringify(credentials));
    await this.index(shareKey(location));
  }

  async access(location: ShareLocation): Promise<ShareAccess> {
    const key = shareKey(location);
    const headers = await this.headers(key);
    const passphrase = await this.secrets.get(CredentialStore.secretKey('passphrase', key));
    const trusted = this.trust.trusted(key);
    return {
      ...(Object.keys(headers).length ? { headers } : {}),
      ...(trusted ? { trustedCertificates: [trusted] } : {}),
      ...(passphrase !== undefined ? { clientCertificatePassphrase: passphrase } : {}),
    };
  }

  trustCertificate(location: ShareLocation, problem: UntrustedCertificate): Promise<boolean> {
    return this.trust.askToTrust(shareKey(location), problem);
  }

  certificateChanged(location: ShareLocation, problem: ChangedCertificate): Promise<boolean> {
    return this.trust.tellChanged(shareKey(location), problem);
  }

  /** The secret headers of a share (name → value). */
  async headers(key: string): Promise<Record<string, string>> {
    const parsed = await this.read(CredentialStore.secretKey('headers', key));
    if (!parsed || typeof parsed !== 'object') return {};
    return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'));
  }

  /** Sets (or, with an empty value, removes) one secret header of a share. */
  async setHeader(key: string, name: string, value: string): Promise<void> {
    const headers = await this.headers(key);
    for (const existing of Object.keys(headers)) if (existing.toLowerCase() === name.toLowerCase()) delete headers[existing];
    if (value) headers[name] = value;
    const secret = CredentialStore.secretKey('headers', key);
    if (Object.keys(headers).length) await this.secrets.store(secret, JSON.stringify(headers));
    else await this.secrets.delete(secret);
    await this.index(key);
    this._onDidChangeAccess.fire(key);
  }

  async setPassphrase(key: string, passphrase: string): Promise<void> {
    await this.secrets.store(CredentialStore.secretKey('passphrase', key), passphrase);
    await this.index(key);
    this._onDidChangeAccess.fire(key);
  }

  /** Keys of the shares with anything secret kept. */
  keys(): string[] {
    return this.state.get<string[]>(INDEX_KEY, []);
  }

  /** Forgets everything secret kept for a share: password, token and secret headers, passphrase. */
  async forget(key: string): Promise<void> {
    for (const kind of ['credentials', 'headers', 'passphrase'] as const) await this.secrets.delete(CredentialStore.secretKey(kind, key));
    await this.state.update(
      INDEX_KEY,
      this.keys().filter(k => k !== key),
    );
    this._onDidChangeAccess.fire(key);
  }

  /** Tells the shares that what is kept for `key` changed (a certificate trusted or forgotten by a command). */
  changed(key: string): void {
    this._onDidChangeAccess.fire(key);
  }

  async ask(location: ShareLocation, prompt: CredentialPrompt): Promise<Credentials | undefined> {
    const where = shareKey(location);
    const title = vscode.l10n.t('Sign in to {0}', where);
    const username = await vscode.window.showInputBox({
      title,
      prompt:
        (prompt.reason === 'rejected'
          ? vscode.l10n.t('The server did not accept the user name or password. Enter them again.')
          : vscode.l10n.t('The server asks for a user name and password.')) +
        (prompt.product
          ? ` ${vscode.l10n.t('{0}: with two-factor sign-in, use an app password (in {0}: Settings → Security → Devices & sessions → Create new app password).', prompt.product)}`
          : ''),
      value: prompt.username ?? this.savedUsername(where) ?? '',
      placeHolder: vscode.l10n.t('User name'),
      ignoreFocusOut: true,
    });
    if (username === undefined) return undefined;
    const password = await vscode.window.showInputBox({
      title,
      prompt: prompt.product
        ? vscode.l10n.t("Password or app password for {0} (kept in VS Code's secret storage)", username)
        : vscode.l10n.t("Password for {0} (kept in VS Code's secret storage)", username),
      password: true,
      placeHolder: vscode.l10n.t('Password'),
      ignoreFocusOut: true,
    });
    if (password === undefined) return undefined;
    return { username, password };
  }

  async askPassphrase(location: ShareLocation, reason: 'missing' | 'wrong'): Promise<string | undefined> {
    const key = shareKey(location);
    const passphrase = await this.promptPassphrase(key, reason);
    if (passphrase === undefined) return undefined;
    await this.secrets.store(CredentialStore.secretKey('passphrase', key), passphrase);
    await this.index(key);
    return passphrase;
  }

  /** The passphrase input box (also used by "Set Client Certificate Passphrase…"). */
  promptPassphrase(key: string, reason: 'missing' | 'wrong' | 'set'): Thenable<string | undefined> {
    return vscode.window.showInputBox({
      title: vscode.l10n.t('Client certificate of {0}', key),
      prompt:
        reason === 'wrong'
          ? vscode.l10n.t("The passphrase did not open the client certificate. Enter it again (kept in VS Code's secret storage).")
          : vscode.l10n.t("The client certificate's key is protected by a passphrase. Enter it (kept in VS Code's secret storage)."),
      password: true,
      placeHolder: vscode.l10n.t('Passphrase'),
      ignoreFocusOut: true,
    });
  }

  dispose(): void {
    this._onDidChangeAccess.dispose();
  }

  private async read(secretKey: string): Promise<Record<string, unknown> | undefined> {
    const raw = await this.secrets.get(secretKey);
    if (!raw) return undefined;
    try {
      const parsed: unknown = JSON.parse(raw);
      return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }

  private async index(key: string): Promise<void> {
    const keys = new Set(this.keys());
    if (keys.has(key)) return;
    keys.add(key);
    await this.state.update(INDEX_KEY, [...keys]);
  }
}
