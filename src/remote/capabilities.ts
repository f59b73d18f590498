// What a server really does, probed once per share in a scratch folder it then removes: whether it
// honours If-Match / If-None-Match (only Apache, lighttpd and nephele do; webdav-server, nginx and
// rclone overwrite silently), gives etags in listings and on PUT, has directory etags, answers
// Depth infinity. The replay strategy follows it.
import { isShareError, ShareError } from '../core/errors';
import type { Logger } from '../core/log';
import { joinPath } from '../core/remotePath';
import type { RemoteFs, WriteResult } from './remoteFs';

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
  readonly depthInfinity: boolean;
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
};

const bytes = (s: string) => new TextEncoder().encode(s);

export async function probeCapabilities(remote: RemoteFs, log: Logger, now = Date.now()): Promise<Capabilities> {
  const dir = `/.webdav-offline-probe-${now.toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const file = joinPath(dir, 'probe.txt');
  // a gateway's sign-in page answers every change with 200: nothing learnt from it may be kept
  const answered = <T extends WriteResult>(r: T, what: string): T => {
    if (r.html) throw new ShareError('Unavailable', `${what}: the server (or a gateway in front of it) answered with a web page: a sign-in is needed`, { reason: 'signin', status: 200 });
    return r;
  };
  answered(await remote.mkcol(dir), `MKCOL ${dir}`);
  try {
    const put = answered(await remote.put(file, bytes('one'), { ifNoneMatch: '*' }), `PUT ${file}`);
    const ifNoneMatch = await remote.put(file, bytes('two'), { ifNoneMatch: '*' }).then(
      () => false,
      err => (isShareError(err, 'Conflict') ? true : Promise.reject(err)),
    );
    const stat = await remote.stat(file).catch(err => {
      // the file just written is not there: the server does not store what it accepts; learn nothing
      if (isShareError(err, 'NotFound')) throw new ShareError('Unavailable', `PUT ${file}: the server answered, but did not store the probe file`, { reason: 'unstored' });
      throw err;
    });
    const ifMatch = await remote.put(file, bytes('three'), { ifMatch: '"webdav-offline-stale-etag"' }).then(
      () => false,
      err => (isShareError(err, 'Conflict') ? true : Promise.reject(err)),
    );
    const listing = await remote.list(dir);
    // propagation: does a change two levels down show in the folder's own etag?
    const sub = joinPath(dir, 'sub');
    await remote.mkcol(sub);
    await remote.put(joinPath(sub, 'deep.txt'), bytes('one'));
    const before = (await remote.stat(dir)).etag;
    await remote.put(joinPath(sub, 'deep.txt'), bytes('two, longer'));
    const after = (await remote.stat(dir)).etag;
    const depthInfinity = remote.depthInfinity ? await remote.depthInfinity(dir) : false;
    const caps: Capabilities = {
      ifMatch,
      ifNoneMatch,
      etagInListing: !!stat.etag,
      etagOnPut: !!put.etag,
      directoryEtags: !!listing.self.etag,
      etagPropagation: !!before && !!after && before !== after,
      depthInfinity,
      probedAt: now,
    };
    log.info(`[capabilities] ${Object.entries(caps).filter(([k]) => k !== 'probedAt').map(([k, v]) => `${k}=${v}`).join(' ')}`);
    return caps;
  } finally {
    await remote.delete(dir).catch(err => log.warn(`[capabilities] could not remove ${dir} (${(err as Error).message})`));
  }
}
