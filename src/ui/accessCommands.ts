// The commands about how a share is reached, besides a user name and password: an access token or a
// secret request header (kept in SecretStorage, sent only to the share's own server), the client
// certificate's passphrase, and the server certificates trusted per share (review one that was
// refused, forget one). A share is picked among the open and saved ones, or given by address — a token
// can be set before a share that needs one is opened. Each takes its answers as arguments too (tests).
import * as vscode from 'vscode';
import type { Logger } from '../core/log';
import { parseShareUrl, shareKey } from '../core/shareLocation';
import type { Settings } from '../core/settings';
import type { ShareRegistry } from '../share/shareRegistry';
import type { CertificateTrust } from './certificateTrust';
import type { CredentialStore } from './credentialStore';

const other = () => vscode.l10n.t('Another address…');

export class AccessCommands {
  constructor(
    private readonly registry: ShareRegistry,
    private readonly settings: () => Settings,
    private readonly credentials: CredentialStore,
    private readonly trust: CertificateTrust,
    private readonly log: Logger,
  ) {}

  /** "Set Access Token…": `Authorization: Bearer <token>` for every request to the share (empty: removed). */
  async setAccessToken(address?: string, token?: string): Promise<void> {
    const key = await this.pickKey(vscode.l10n.t('Set an access token for which share?'), address);
    if (!key) return;
    token ??= await vscode.window.showInputBox({
      title: vscode.l10n.t('Access token for {0}', key),
      prompt: vscode.l10n.t('Sent as "Authorization: Bearer …" to this server only, instead of a user name and password; kept in VS Code\'s secret storage. Empty: no token.'),
      password: true,
      placeHolder: vscode.l10n.t('Token'),
      ignoreFocusOut: true,
    });
    if (token === undefined) return;
    const value = token.trim();
    await this.credentials.setHeader(key, 'Authorization', !value ? '' : /^\S+\s+\S/.test(value) ? value : `Bearer ${value}`);
    this.log.info(`[auth] ${key}: access token ${value ? 'set' : 'removed'}`);
    void vscode.window.showInformationMessage(value ? vscode.l10n.t('The access token of {0} is set.', key) : vscode.l10n.t('{0} has no access token now.', key));
  }

  /** "Set Secret Header…": one request header whose value is secret (an API key); empty value: removed. */
  async setSecretHeader(address?: string, name?: string, value?: string): Promise<void> {
    const key = await this.pickKey(vscode.l10n.t('Set a secret header for which share?'), address);
    if (!key) return;
    name ??= await vscode.window.showInputBox({
      title: vscode.l10n.t('Secret header for {0}', key),
      prompt: vscode.l10n.t("The header's name (e.g. X-Api-Key). Headers whose values are not secret go in the setting webdavOffline.shares."),
      validateInput: v => (/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(v.trim()) ? undefined : vscode.l10n.t('A header name: letters, digits and - only')),
      ignoreFocusOut: true,
    });
    if (!name) return;
    value ??= await vscode.window.showInputBox({
      title: vscode.l10n.t('{0} for {1}', name.trim(), key),
      prompt: vscode.l10n.t("Sent to this server only; kept in VS Code's secret storage. Empty: the header is removed."),
      password: true,
      ignoreFocusOut: true,
    });
    if (value === undefined) return;
    await this.credentials.setHeader(key, name.trim(), value);
    this.log.info(`[auth] ${key}: secret header ${name.trim()} ${value ? 'set' : 'removed'}`);
  }

  /** "Set Client Certificate Passphrase…". */
  async setPassphrase(address?: string, passphrase?: string): Promise<void> {
    const key = await this.pickKey(vscode.l10n.t('Set the client certificate passphrase of which share?'), address);
    if (!key) return;
    passphrase ??= await this.credentials.promptPassphrase(key, 'set');
    if (passphrase === undefined) return;
    await this.credentials.setPassphrase(key, passphrase);
    this.log.info(`[auth] ${key}: client certificate passphrase set`);
  }

  /** "Review Server Certificate…": the trust prompt for the certificate last refused for a share. */
  async reviewCertificate(address?: string): Promise<boolean | undefined> {
    const refused = this.trust.refusedKeys();
    const key = address ? keyOf(address) : refused.length === 1 ? refused[0] : await this.pick(refused, vscode.l10n.t('Review the certificate of which share?'));
    if (!key) {
      if (!refused.length) void vscode.window.showInformationMessage(vscode.l10n.t('No server certificate was refused since VS Code started.'));
      return undefined;
    }
    const trusted = await this.trust.review(key);
    if (trusted === undefined) void vscode.window.showInformationMessage(vscode.l10n.t('No certificate of {0} was refused since VS Code started.', key));
    return trusted;
  }

  /** "Forget Trusted Certificate…": the share's next connection asks again. */
  async forgetCertificate(address?: string): Promise<void> {
    const keys = this.trust.keys();
    const key = address ? keyOf(address) : keys.length === 1 ? keys[0] : await this.pick(keys, vscode.l10n.t('Forget the trusted certificate of which share?'));
    if (!key) {
      if (!keys.length) void vscode.window.showInformationMessage(vscode.l10n.t('No server certificate is trusted for a share.'));
      return;
    }
    await this.trust.forget(key);
    this.log.info(`[auth] ${key}: trusted certificate forgotten`);
    void vscode.window.showInformationMessage(vscode.l10n.t('Forgot the certificate trusted for {0}; its next connection asks again.', key));
  }

  /** A share key: the given address's, else a pick among the open and saved shares, else one typed in. */
  private async pickKey(title: string, address?: string): Promise<string | undefined> {
    if (address) return keyOf(address);
    const keys = new Set(this.registry.all().map(s => s.key));
    for (const o of this.settings().shares) {
      const k = keyOf(o.address);
      if (k) keys.add(k);
    }
    const picked = keys.size ? await this.pick([...keys, other()], title) : other();
    if (picked !== other()) return picked;
    const typed = await vscode.window.showInputBox({
      title,
      prompt: vscode.l10n.t('The address of the share (https://…, davs://…)'),
      validateInput: v => (keyOf(v) ? undefined : vscode.l10n.t('Not a WebDAV address')),
      ignoreFocusOut: true,
    });
    return typed ? keyOf(typed) : undefined;
  }

  private async pick(items: string[], title: string): Promise<string | undefined> {
    if (!items.length) return undefined;
    return vscode.window.showQuickPick(items, { title, ignoreFocusOut: true });
  }
}

function keyOf(address: string): string | undefined {
  try {
    return shareKey(parseShareUrl(address).location);
  } catch {
    return undefined;
  }
}
