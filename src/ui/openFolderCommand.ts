// "WebDAV: Open Folder…": asks for the address, connects (credentials only when the server answers 401),
// then opens the share as the workspace folder or adds it to the workspace.
import * as vscode from 'vscode';
import { isShareError } from '../core/errors';
import type { Logger } from '../core/log';
import { basename } from '../core/remotePath';
import { normalizePath } from '../core/remotePath';
import { parseShareUrl, shareKey, splitAuthority, type ParsedShareUrl, type ShareLocation } from '../core/shareLocation';
import { cloudFilesPath, detectCloudServer } from '../remote/discovery';
import type { Credentials } from '../remote/remoteFs';
import type { WebdavRemote } from '../remote/webdavRemote';
import type { AuthHandler } from '../share/auth';
import type { ShareRegistry } from '../share/shareRegistry';

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
      if (!credentials) throw new Error(`Signing in to ${server.product} was cancelled.`);
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
    throw new Error(`${server.product} did not accept the user name and password. With two-factor sign-in, create an app password in ${server.product} (Settings → Security → Devices & sessions) and use it here.`);
  }

  /**
   * `address` and `mode` let tests and other extensions skip the prompts. Resolves the folder URI
   * once it is connected, or undefined when the user gave up.
   */
  async run(address?: string, mode?: OpenMode): Promise<vscode.Uri | undefined> {
    let value = typeof address === 'string' ? address : undefined;
    const interactive = value === undefined;
    let lastValue = '';
    for (;;) {
      if (interactive) {
        value = await vscode.window.showInputBox({
          title: 'Open WebDAV Folder',
          prompt: 'Address of a folder on a WebDAV server (http://, https://, dav:// or davs://)',
          placeHolder: 'https://example.com/dav/folder/',
          value: lastValue,
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
        if (value === undefined) return undefined;
        lastValue = value;
      }
      let parsed = parseShareUrl(value!);
      try {
        parsed = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `Looking at ${shareKey(parsed.location)}…` },
          () => this.discover(parsed),
        );
      } catch (err) {
        const message = describeConnectFailure(err, shareKey(parsed.location));
        this.log.warn(`[open] ${message}`);
        if (!interactive) throw new Error(message);
        if ((await vscode.window.showErrorMessage(message, 'Edit Address')) === 'Edit Address') continue;
        return undefined;
      }
      const share = this.registry.get(parsed.location);
      try {
        await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `Connecting to ${shareKey(parsed.location)}…` },
          async () => {
            if (parsed.username && parsed.password) {
              await share.signIn({ username: parsed.username, password: parsed.password });
            }
            const root = await share.stat('/');
            if (root.type !== 'directory') {
              throw new Error(`${shareKey(parsed.location)} is a file, not a folder; enter the address of a folder`);
            }
          },
        );
      } catch (err) {
        const message = describeConnectFailure(err, shareKey(parsed.location));
        this.log.warn(`[open] ${message}`);
        if (!interactive) throw new Error(message);
        const choice = await vscode.window.showErrorMessage(message, 'Edit Address');
        if (choice === 'Edit Address') continue;
        return undefined;
      }
      const uri = shareFolderUri(parsed.location);
      this.log.info(`[open] connected to ${shareKey(parsed.location)}`);
      await this.open(uri, parsed.location, mode);
      return uri;
    }
  }

  private async open(uri: vscode.Uri, location: ShareLocation, mode: OpenMode | undefined): Promise<void> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (folders.some(f => f.uri.toString() === uri.toString())) {
      await vscode.commands.executeCommand('workbench.view.explorer');
      return;
    }
    if (!mode) {
      if (folders.length === 0) mode = 'open';
      else {
        const pick = await vscode.window.showQuickPick(
          [
            { label: 'Add to Workspace', mode: 'add' as const },
            { label: 'Open in This Window', mode: 'open' as const },
            { label: 'Open in New Window', mode: 'newWindow' as const },
          ],
          { title: `Open ${shareKey(location)}`, ignoreFocusOut: true },
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
      return `There is no folder at ${where} on the server (404). Check the path.`;
    case 'Unauthorized':
      return `Could not sign in to ${where}: the server did not accept the user name and password.`;
    case 'NoPermissions':
      return `The server does not allow access to ${where} (403).`;
    case 'Unavailable':
      if (err.reason === 'signin') {
        return `${where} answered with a web page, not WebDAV. Check that the address is the WebDAV folder itself (not the web interface), or sign in where a gateway in front of the server asks for it.`;
      }
      return `Cannot reach ${where}: ${err.message.replace(/^[A-Z]+ [^:]*: /, '')}.`;
    case 'Rejected':
      return `${where} does not look like a WebDAV folder: ${err.message.replace(/^[A-Z]+ [^:]*: /, '')}.`;
    default:
      return `Could not open ${where}: ${err.message}`;
  }
}

/**
 * A workspace folder whose address holds a password: the password went to SecretStorage; VS Code itself
 * keeps the address (recent list, window title), so offer to open the folder without it.
 */
export async function offerToRemovePassword(folder: vscode.WorkspaceFolder): Promise<void> {
  const { authority } = splitAuthority(folder.uri.authority);
  const clean = folder.uri.with({ authority });
  const choice = await vscode.window.showWarningMessage(
    `The address of the folder ${clean.toString(true)} contains a password. WebDAV Offline keeps it in VS Code's secret storage; remove it from the folder's address?`,
    'Remove from Address',
  );
  if (choice === 'Remove from Address') vscode.workspace.updateWorkspaceFolders(folder.index, 1, { uri: clean, name: folder.name });
}
