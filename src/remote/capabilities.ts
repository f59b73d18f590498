// What a server really does, probed once per share (and again after a week): whether it honours If-Match
// / If-None-Match (Apache, lighttpd, nephele, Nextcloud do; webdav-server, nginx and rclone overwrite
// silently), gives etags in listings and on PUT, has directory etags that follow changes below them
// (Nextcloud/ownCloud), answers Depth infinity. Conditional writes, the replay and the whole-tree walk
// follow it.
import { isShareError, ShareError } from '../core/errors';
import type { Logger } from '../core/log';
import type { RemoteFs, RemoteListing, WriteResult } from './remoteFs';

export interface Capabilities {
  /** PUT/DELETE with a stale If-Match fail with 412. */
  readonly ifMatch: boolean;
  /** PUT with If-None-Match: * on an existing file fails with 412. */
  readonly ifNoneMatch: boolean;
  readonly etagInListing: boolean;
  readonly etagOnPut: boolean;
  readonly directoryEtags: boolean;
  /** A folder's etag changes when something deeper below it changes (Nextcloud/ownCloud): unchanged subtrees can be skipped. */
  readonly etagPropagation: boolean;
  /** PROPFIND `Depth: infinity` is answered (nephele, rclone; Apache and lighttpd refuse it): a whole tree in one request. */
  readonly depthInfinity: boolean;
  /** Set when `depthInfinity` was probed (capabilities kept from before it was are probed again). */
  readonly depthProbed?: boolean;
  /** When probed, ms since the epoch. */
  readonly probedAt: number;
}

/** What we assume when probing is impossible (a read-only share): nothing. */
export const UNKNOWN_CAPABILITIES: Omit<Capabilities, 'probedAt'> = {
  ifMatch: false,
  ifNoneMatch: false,
  etagInListing: false,
  etagOnPut: false,
  directoryEtags: false,
  etagPropagation: false,
  depthInfinity: false,
  depthProbed: true,
};

/**
 * Probes what the server honours, reading almost only: the share root's listing (etags, folder etags,
 * Nextcloud/ownCloud properties), one `PUT` of an empty file that does not exist with `If-Match` of a
 * version that cannot match — a server that honours preconditions answers 412 and writes nothing; one
 * that ignores them (rclone, nginx) creates the empty file `.webdav-offline-probe-…` in the share's root,
 * which is deleted again at once — and one `Depth: infinity` PROPFIND where it costs least (see
 * probeDepthInfinity). What cannot be told this way is assumed absent (the safe side: versions are
 * compared right before each write, trees are listed folder by folder) or learnt later from real
 * answers (an etag with a PUT).
 */
export async function probeCapabilities(remote: RemoteFs, log: Logger, now = Date.now()): Promise<Capabilities> {
  const root = await remote.list('/');
  let files = root.children.filter(c => c.type === 'file');
  const folder = root.children.find(c => c.type === 'directory');
  const below = !files.length && folder ? await remote.list(folder.path) : undefined;
  if (below) files = below.children.filter(c => c.type === 'file'); // one level down for files
  const ifMatch = await honoursIfMatch(remote, log, `/.webdav-offline-probe-${now.toString(36)}-${Math.random().toString(36).slice(2, 8)}`);
  const caps: Capabilities = {
    ifMatch: ifMatch === true,
    // every server here that honours If-Match honours If-None-Match too (one precondition machinery)
    ifNoneMatch: ifMatch === true,
    etagInListing: files.length ? files.some(f => !!f.etag) : !!root.self.etag,
    etagOnPut: false,
    directoryEtags: !!root.self.etag,
    // Nextcloud and ownCloud (their oc: properties) change a folder's etag with anything below it
    etagPropagation: [root.self, ...root.children].some(e => e.fileId !== undefined && e.permissions !== undefined),
    depthInfinity: await probeDepthInfinity(remote, below ?? root, log),
    depthProbed: true,
    probedAt: now,
  };
  log.info(`[capabilities] ${Object.entries(caps).filter(([k]) => k !== 'probedAt').map(([k, v]) => `${k}=${v}`).join(' ')}${ifMatch === undefined ? ' (preconditions could not be probed)' : ''}`);
  return caps;
}

/** Whether a conditional PUT is refused (412) without writing anything; undefined when the server will not say. */
async function honoursIfMatch(remote: RemoteFs, log: Logger, path: string): Promise<boolean | undefined> {
  let answer: WriteResult;
  try {
    answer = await remote.put(path, new Uint8Array(0), { ifMatch: '"webdav-offline-probe-never-matches"' });
  } catch (err) {
    if (isShareError(err, 'Conflict')) return true; // 412: nothing was written
    // a read-only share, a name the server refuses, no space: it will not tell, and nothing was written
    if (isShareError(err) && ['NoPermissions', 'Rejected', 'NotFound', 'Locked', 'InsufficientStorage', 'Exists'].includes(err.code)) return undefined;
    throw err;
  }
  if (answer.html) {
    throw new ShareError('Unavailable', `PUT ${path}: the server (or a gateway in front of it) answered with a web page: a sign-in is needed`, { reason: 'signin', status: 200 });
  }
  // the server ignored If-Match and created the empty file: take it away again
  await remote.delete(path).catch(err => log.warn(`[capabilities] could not remove ${path} (${(err as Error).message}); delete it by hand`));
  return false;
}

/**
 * Whether the server answers PROPFIND `Depth: infinity`, asked where it costs the server least: on a
 * folder without subfolders, whose whole tree is its own listing (found by following first subfolders
 * down from `start`, at most two listings more); only the answer's status is read, the body is dropped
 * (Apache refuses with 403 propfind-finite-depth, lighttpd by default too; nephele and rclone answer 207).
 * A server that will not say counts as refusing it: trees are then listed folder by folder.
 */
async function probeDepthInfinity(remote: RemoteFs, start: RemoteListing, log: Logger): Promise<boolean> {
  if (!remote.depthInfinity) return false;
  let at = start;
  try {
    for (let i = 0; i < 2; i++) {
      const sub = at.children.find(c => c.type === 'directory');
      if (!sub) break;
      at = await remote.list(sub.path);
    }
    return await remote.depthInfinity(at.self.path);
  } catch (err) {
    if (isShareError(err, 'Unavailable') || isShareError(err, 'Unauthorized')) throw err;
    log.debug(`[capabilities] Depth: infinity could not be probed on ${at.self.path} (${(err as Error).message})`);
    return false;
  }
}
