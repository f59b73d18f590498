// "WebDAV: Open Folder…": asks for the address — offering the saved and recent shares first — connects
// (credentials only when the server answers 401), then opens the share as the workspace folder or adds
// it to the workspace. A share opened this way and not saved yet is offered for saving, once, by the
// window that shows it (opening in this window reloads it): one click.
import * as vscode from 'vscode';
import { isShareError } from '../core/errors';
import type { Logger } from '../core/log';
import { basename, normalizePath } from '../core/remotePath';
import { parseShareUrl, shareKey, splitAuthority, type ParsedShareUrl, type ShareLocation } from '../core/shareLocation';
import { cloudFilesPath, detectCloudServer } from '../remote/discovery';
import type { Credentials } from '../remote/remoteFs';
import type { WebdavRemote } from '../remote/webdavRemote';
import type { AuthHandler } from '../share/auth';
import type { ShareRegistry } from '../share/shareRegistry';
import { addressOf, keyOfAddress, type SavedShares } from './savedShares';

export type OpenMode = 'open' | 'newWindow' | 'add';

export function shareFolderUri(location: ShareLocation): vscode.Uri {
  return vscode.Uri.from({ scheme: location.scheme, authority: location.authority, path: location.basePath });
}

export class OpenFolderCommand {
  constructor(
    private readonly registry: ShareRegistry,
    private readonly log: Logger,
    /** A bare remote for an address (discovery, before there is a share). */
    private readonly remoteFor: (location: ShareLocation) => WebdavRemote,
    private readonly auth: AuthHandler,
    private readonly saved: SavedShares,
  ) {}

  /**
   * Nextcloud and ownCloud: the web address a person knows (`https://cloud.example.com`) becomes the
   * user's files folder (`…/remote.php/dav/files/<id>/`), after signing in (an app password where
   * two-factor sign-in is on). Any other address is returned as it was.
   */
  private async discover(parsed: ParsedShareUrl): Promise<ParsedShareUrl> {
    if (/\/remote\.php(\/|$)/.test(parsed.location.basePath)) return parsed;
    const base = this.remoteFor(parsed.location);
    const server = await detectCloudServer(base).catch(err => {
      this.log.debug(`[open] ${shareKey(parsed.location)}: not a Nextcloud/ownCloud address (${(err as Error).message})`);
      return undefined;
    });
    if (!server) return parsed;
    this.log.info(`[open] ${shareKey(parsed.location)} is ${server.product}${server.version ? ` ${server.version}` : ''}: finding the files folder`);
    let given: Credentials | undefined = parsed.username && parsed.password ? { username: parsed.username, password: parsed.password } : undefined;
    let reason: 'required' | 'rejected' = 'required';
    for (let attempt = 0; attempt < 3; attempt++) {
      const credentials = given ?? (await this.auth.ask(parsed.location, { reason, username: parsed.username, product: server.product }));
      given = undefined;
      if (!credentials) throw new Error(vscode.l10n.t('Signing in to {0} was cancelled.', server.product));
      base.setCredentials(credentials);
      try {
        const files = await cloudFilesPath(base);
        const location = { ...parsed.location, basePath: normalizePath(`${parsed.location.basePath}/${files}`) };
        this.log.info(`[open] ${server.product} files folder: ${shareKey(location)}`);
        return { location, username: credentials.username, password: credentials.password };
      } catch (err) {
        if (!isShareError(err, 'Unauthorized')) throw err;
        reason = 'rejected';
      }
    }
    throw new Error(
      vscode.l10n.t(
        '{0} did not accept the user name and password. With two-factor sign-in, create an app password in {0} (Settings → Security → Devices & sessions) and use it here.',
        server.product,
      ),
    );
  }

  /**
   * `address` and `mode` let tests and other extensions skip the prompts. Resolves the folder URI
   * once it is connected, or undefined when the user gave up. `nextcloud`: the prompt asks for a
   * Nextcloud or ownCloud address.
   */
  async run(address?: string, mode?: OpenMode, nextcloud = false): Promise<vscode.Uri | undefined> {
    let value = typeof address === 'string' ? address : undefined;
    const interactive = value === undefined;
    let lastValue = '';
    for (;;) {
      if (interactive) {
        const known = !lastValue && !nextcloud ? await this.pickKnown() : {};
        if (!known) return undefined;
        value = known.address ?? (await this.askAddress(lastValue, nextcloud));
        if (value === undefined) return undefined;
        lastValue = value;
      }
      let parsed: ParsedShareUrl;
      try {
        parsed = parseShareUrl(value!);
      } catch (err) {
        if (!interactive) throw err;
        if ((await vscode.window.showErrorMessage((err as Error).message, editAddress())) === editAddress()) continue;
        return undefined;
      }
      try {
        parsed = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Looking at {0}…', shareKey(parsed.location)) },
          () => this.discover(parsed),
        );
      } catch (err) {
        const message = describeConnectFailure(err, shareKey(parsed.location));
        this.log.warn(`[open] ${message}`);
        if (!interactive) throw new Error(message);
        if ((await vscode.window.showErrorMessage(message, editAddress())) === editAddress()) continue;
        return undefined;
      }
      const share = this.registry.get(parsed.location);
      try {
        await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Connecting to {0}…', shareKey(parsed.location)) },
          async () => {
            if (parsed.username && parsed.password) {
              await share.signIn({ username: parsed.username, password: parsed.password });
            }
            const root = await share.stat('/');
            if (root.type !== 'directory') {
              throw new Error(vscode.l10n.t('{0} is a file, not a folder; enter the address of a folder', shareKey(parsed.location)));
            }
          },
        );
      } catch (err) {
        const message = describeConnectFailure(err, shareKey(parsed.location));
        this.log.warn(`[open] ${message}`);
        if (!interactive) throw new Error(message);
        const choice = await vscode.window.showErrorMessage(message, editAddress());
        if (choice === editAddress()) continue;
        return undefined;
      }
      const uri = shareFolderUri(parsed.location);
      this.log.info(`[open] connected to ${shareKey(parsed.location)}`);
      await this.saved.noteOpened(parsed.location);
      if (interactive) await this.saved.offerLater(shareKey(parsed.location));
      await this.open(uri, parsed.location, mode);
      return uri;
    }
  }

  /**
   * The saved and recent shares to pick from, or an address typed there. Resolves `{}` to ask for an
   * address (nothing known, or "Enter an address…"), undefined when cancelled.
   */
  private async pickKnown(): Promise<{ address?: string } | undefined> {
    type Item = vscode.QuickPickItem & { address?: string; typed?: boolean };
    const known: Item[] = [];
    const seen = new Set<string>();
    for (const o of this.saved.saved) {
      const key = keyOfAddress(o.address)!;
      if (seen.has(key)) continue;
      seen.add(key);
      known.push({ label: `$(folder-library) ${o.name ?? key}`, description: o.name ? key : undefined, address: o.address });
    }
    const recent = this.saved.recent().filter(r => !seen.has(r.key));
    if (recent.length) known.push({ label: vscode.l10n.t('recently opened'), kind: vscode.QuickPickItemKind.Separator });
    for (const r of recent) known.push({ label: `$(history) ${r.key}`, address: r.key });
    if (!known.length) return {};
    const enter: Item = { label: vscode.l10n.t('$(edit) Enter an address…'), alwaysShow: true, typed: true };
    const qp = vscode.window.createQuickPick<Item>();
    qp.title = vscode.l10n.t('Open WebDAV Folder');
    qp.placeholder = vscode.l10n.t('Pick a saved or recent share, or type an address (https://example.com/dav/folder/)');
    qp.ignoreFocusOut = true;
    qp.items = [...known, enter];
    qp.onDidChangeValue(v => {
      const text = v.trim();
      const typed: Item[] = text && /[:./]/.test(text) ? [{ label: text, description: vscode.l10n.t('Open this address'), alwaysShow: true, address: text }] : [];
      qp.items = [...typed, ...known, enter];
    });
    const picked = await new Promise<Item | undefined>(resolve => {
      qp.onDidAccept(() => {
        // Enter right after typing can come before the typed address is listed (the list follows the text
        // a moment later): an address typed that the selected share does not contain is what was meant
        const text = qp.value.trim();
        const selected = qp.selectedItems[0];
        const typedAddress = text && /[:./]/.test(text) && !(selected?.address ?? '').includes(text);
        resolve(typedAddress ? { label: text, address: text } : selected);
      });
      qp.onDidHide(() => resolve(undefined));
      qp.show();
    });
    qp.dispose();
    return picked && { address: picked.typed ? undefined : picked.address };
  }

  private askAddress(value: string, nextcloud: boolean): Thenable<string | undefined> {
    return vscode.window.showInputBox({
      title: nextcloud ? vscode.l10n.t('Connect to Nextcloud or ownCloud') : vscode.l10n.t('Open WebDAV Folder'),
      prompt: nextcloud
        ? vscode.l10n.t('The address you open in the browser, e.g. https://cloud.example.com; you are asked for your user name and an app password')
        : vscode.l10n.t('Address of a folder on a WebDAV server (http://, https://, dav:// or davs://)'),
      placeHolder: nextcloud ? 'https://cloud.example.com' : 'https://example.com/dav/folder/',
      value,
      ignoreFocusOut: true,
      validateInput: v => {
        try {
          parseShareUrl(v);
          return undefined;
        } catch (err) {
          return (err as Error).message;
        }
      },
    });
  }

  private async open(uri: vscode.Uri, location: ShareLocation, mode: OpenMode | undefined): Promise<void> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (folders.some(f => f.uri.toString() === uri.toString())) {
      await vscode.commands.executeCommand('workbench.view.explorer');
      await offerToSave(this.saved, location);
      return;
    }
    if (!mode) {
      if (folders.length === 0) mode = 'open';
      else {
        const pick = await vscode.window.showQuickPick(
          [
            { label: vscode.l10n.t('Add to Workspace'), mode: 'add' as const },
            { label: vscode.l10n.t('Open in This Window'), mode: 'open' as const },
            { label: vscode.l10n.t('Open in New Window'), mode: 'newWindow' as const },
          ],
          { title: vscode.l10n.t('Open {0}', shareKey(location)), ignoreFocusOut: true },
        );
        if (!pick) return;
        mode = pick.mode;
      }
    }
    if (mode === 'add') {
      const name = basename(location.basePath) || location.authority;
      vscode.workspace.updateWorkspaceFolders(folders.length, 0, { uri, name });
    } else {
      await vscode.commands.executeCommand('vscode.openFolder', uri, { forceNewWindow: mode === 'newWindow' });
    }
  }
}

function describeConnectFailure(err: unknown, where: string): string {
  if (!isShareError(err)) return (err as Error)?.message ?? String(err);
  switch (err.code) {
    case 'NotFound':
      return vscode.l10n.t('There is no folder at {0} on the server (404). Check the path.', where);
    case 'Unauthorized':
      return vscode.l10n.t('Could not sign in to {0}: the server did not accept the user name and password.', where);
    case 'NoPermissions':
      return vscode.l10n.t('The server does not allow access to {0} (403).', where);
    case 'Unavailable':
      if (err.reason === 'signin') {
        return vscode.l10n.t(
          '{0} answered with a web page, not WebDAV. Check that the address is the WebDAV folder itself (not the web interface), or sign in where a gateway in front of the server asks for it.',
          where,
        );
      }
      return vscode.l10n.t('Cannot reach {0}: {1}.', where, err.message.replace(/^[A-Z]+ [^:]*: /, ''));
    case 'Rejected':
      return vscode.l10n.t('{0} does not look like a WebDAV folder: {1}.', where, err.message.replace(/^[A-Z]+ [^:]*: /, ''));
    default:
      return vscode.l10n.t('Could not open {0}: {1}', where, err.message);
  }
}

/**
 * A workspace folder whose address holds a password: the password went to SecretStorage; VS Code itself
 * keeps the address (recent list, window title), so offer to open the folder without it.
 */
export async function offerToRemovePassword(folder: vscode.WorkspaceFolder): Promise<void> {
  const { authority } = splitAuthority(folder.uri.authority);
  const clean = folder.uri.with({ authority });
  const remove = vscode.l10n.t('Remove from Address');
  const choice = await vscode.window.showWarningMessage(
    vscode.l10n.t("The address of the folder {0} contains a password. WebDAV Offline keeps it in VS Code's secret storage; remove it from the folder's address?", clean.toString(true)),
    remove,
  );
  if (choice === remove) vscode.workspace.updateWorkspaceFolders(folder.index, 1, { uri: clean, name: folder.name });
}

const editAddress = () => vscode.l10n.t('Edit Address');

/**
 * After "Open Folder…" connected to a share that is not saved: offers, once, to save it — in the window
 * that shows the folder (this one, or the one opened for it).
 */
export async function offerToSave(saved: SavedShares, location: ShareLocation): Promise<void> {
  const key = shareKey(location);
  if (!(await saved.takeOffer(key))) return;
  const save = vscode.l10n.t('Save Share');
  const choice = await vscode.window.showInformationMessage(vscode.l10n.t('Connected to {0}. Save it, to open it again with one click from the WebDAV view?', key), save, vscode.l10n.t('Not Now'));
  if (choice === save) await saved.save({ address: addressOf(location) });
}
