// Finding the WebDAV folder behind the web address a person knows. Nextcloud and ownCloud serve files at
// `<base>/remote.php/dav/files/<user id>/` (the user id may differ from the login name: it is read from the
// DAV principal, `<base>/remote.php/dav/`'s current-user-principal), and still at the legacy
// `<base>/remote.php/webdav/`; `<base>/status.php` says what the server is. Behaviour from Nextcloud's
// developer manual ("WebDAV basics", "status.php") and ownCloud's.
import { isShareError } from '../core/errors';
import type { RemoteFs } from './remoteFs';

export interface CloudServer {
  /** "Nextcloud" or "ownCloud" (as status.php says). */
  readonly product: string;
  readonly version?: string;
}

/** Whether the share's base is a Nextcloud or ownCloud web address (its status.php), else undefined. */
export async function detectCloudServer(base: Pick<RemoteFs, 'get'>): Promise<CloudServer | undefined> {
  let body: Uint8Array;
  try {
    const answer = await base.get('/status.php');
    if (answer === 'not-modified') return undefined;
    body = answer.data;
  } catch (err) {
    if (isShareError(err) && err.code !== 'Unavailable') return undefined; // 404, 403, …: not one
    if (isShareError(err, 'Unavailable') && err.reason === 'signin') return undefined;
    throw err;
  }
  if (body.byteLength > 64 * 1024) return undefined;
  let status: { installed?: unknown; productname?: unknown; versionstring?: unknown; version?: unknown };
  try {
    status = JSON.parse(new TextDecoder().decode(body)) as typeof status;
  } catch {
    return undefined;
  }
  if (typeof status !== 'object' || status === null || status.installed !== true) return undefined;
  const name = typeof status.productname === 'string' ? status.productname : '';
  const product = /owncloud/i.test(name) ? 'ownCloud' : /nextcloud/i.test(name) || typeof status.versionstring === 'string' ? 'Nextcloud' : undefined;
  if (!product) return undefined;
  const version = typeof status.versionstring === 'string' ? status.versionstring : typeof status.version === 'string' ? status.version : undefined;
  return { product, ...(version ? { version } : {}) };
}

/**
 * The files folder of the signed-in user below a Nextcloud/ownCloud base, as a path relative to the base:
 * `/remote.php/dav/files/<id>` from the user's principal, else the legacy `/remote.php/webdav`.
 */
export async function cloudFilesPath(base: { principal(path: string): Promise<string | undefined> }): Promise<string> {
  const principal = await base.principal('/remote.php/dav').catch(err => {
    if (isShareError(err, 'Unauthorized')) throw err;
    return undefined;
  });
  const id = principal ? /\/principals\/users\/([^/]+)\/?$/.exec(principal)?.[1] : undefined;
  return id ? `/remote.php/dav/files/${id}` : '/remote.php/webdav';
}
