// A Nextcloud-shaped server for the suites (Nextcloud itself cannot run here): a node:http front over a
// real nephele serving a folder on disk, answering as Nextcloud does (from its developer manual, "WebDAV
// basics" and "status.php", and its server's behaviour):
// - `GET <base>/status.php` → `{"installed":true,"productname":"Nextcloud","versionstring":…}`;
// - the user's files at `<base>/remote.php/dav/files/<id>/` (and the legacy `<base>/remote.php/webdav/`),
//   Basic sign-in with a user name and app password; `PROPFIND <base>/remote.php/dav/` gives the
//   current-user-principal `<base>/remote.php/dav/principals/users/<id>/` (the id differs from the login
//   name here on purpose: login "alice", id "alice-id");
// - every item carries `oc:fileid` (the file's inode: stable across renames, as Nextcloud's file ids are)
//   and `oc:permissions` (RGDNVW for files, RGDNVCK for folders, or what the test sets per path);
// - a folder's etag changes when anything below it changes (etag propagation);
// - a PUT answers with `ETag` and `OC-ETag`; quota properties come from nephele (or what the test sets).
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startNephele, type RunningServer } from './nepheleServer';

export interface NextcloudFront extends RunningServer {
  /** `<origin><base>` — what a person types. */
  readonly webAddress: string;
  /** The files folder's path on the server: `<base>/remote.php/dav/files/alice-id`. */
  readonly filesPath: string;
  /** Sets the oc:permissions letters of a path below the files folder (`/docs/a.md`); undefined: the default. */
  setPermissions(path: string, letters: string | undefined): void;
  /** Sets the quota the files folder reports (bytes free), or undefined for nephele's. */
  setQuota(available: number | undefined): void;
  /** Requests that reached the front, as `METHOD path` (path as sent). */
  readonly log: string[];
}

const USER = 'alice';
const ID = 'alice-id';

export async function startNextcloudFront(options: { root: string; base?: string; password: string; signIn?: boolean }): Promise<NextcloudFront> {
  const base = (options.base ?? '/nextcloud').replace(/\/$/, '');
  const inner = await startNephele({ root: options.root, mount: '/share' });
  const filesPrefix = `${base}/remote.php/dav/files/${ID}`;
  const legacyPrefix = `${base}/remote.php/webdav`;
  const permissions = new Map<string, string>();
  let quota: number | undefined;
  const log: string[] = [];
  const requests = new Map<string, number>();

  /** The path below the files folder of a request path (encoded), or undefined. */
  const below = (p: string): string | undefined => {
    for (const prefix of [filesPrefix, legacyPrefix]) {
      const enc = encodeURI(prefix);
      if (p === prefix || p === `${prefix}/` || p === enc || p === `${enc}/`) return '/';
      if (p.startsWith(`${prefix}/`)) return p.slice(prefix.length);
      if (p.startsWith(`${enc}/`)) return p.slice(enc.length);
    }
    return undefined;
  };
  const diskPath = (rel: string) => join(options.root, decodeURIComponent(rel));
  /** A folder's etag that changes with anything below it: a hash of every name, size and mtime under it. */
  const propagatedEtag = (dir: string): string => {
    const h = createHash('sha1');
    const walk = (d: string, rel: string) => {
      for (const name of readdirSync(d).sort()) {
        if (name.endsWith('.nephelemeta')) continue;
        const st = statSync(join(d, name));
        h.update(`${rel}/${name}\t${st.size}\t${st.mtimeMs}\n`);
        if (st.isDirectory()) walk(join(d, name), `${rel}/${name}`);
      }
    };
    walk(dir, '');
    return `"${h.digest('hex').slice(0, 16)}"`;
  };

  const authorized = (req: IncomingMessage) => req.headers.authorization === `Basic ${Buffer.from(`${USER}:${options.password}`).toString('base64')}`;

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://front');
    const method = req.method ?? 'GET';
    log.push(`${method} ${url.pathname}`);
    requests.set(method, (requests.get(method) ?? 0) + 1);
    if (method === 'GET' && url.pathname === `${base}/status.php`) {
      return reply(res, 200, { 'Content-Type': 'application/json' }, JSON.stringify({ installed: true, maintenance: false, needsDbUpgrade: false, version: '29.0.4.1', versionstring: '29.0.4', edition: '', productname: 'Nextcloud', extendedSupport: false }));
    }
    if (options.signIn !== false && url.pathname.startsWith(`${base}/remote.php/`) && !authorized(req)) {
      return reply(res, 401, { 'WWW-Authenticate': 'Basic realm="Nextcloud", charset="UTF-8"', 'Content-Type': 'application/xml' }, '<?xml version="1.0"?><d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns"><s:message>No public access to this resource.</s:message></d:error>');
    }
    if (method === 'PROPFIND' && (url.pathname === `${base}/remote.php/dav` || url.pathname === `${base}/remote.php/dav/`)) {
      return reply(res, 207, { 'Content-Type': 'application/xml; charset=utf-8' }, `<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"><d:response><d:href>${base}/remote.php/dav/</d:href><d:propstat><d:prop><d:current-user-principal><d:href>${base}/remote.php/dav/principals/users/${ID}/</d:href></d:current-user-principal></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>`);
    }
    const rel = below(url.pathname);
    if (rel === undefined) return reply(res, 404, { 'Content-Type': 'text/plain' }, 'not found');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'authorization' && k !== 'host') headers[k] = v;
    if (headers.destination) {
      const d = new URL(headers.destination, 'http://front');
      const drel = below(d.pathname);
      if (drel === undefined) return reply(res, 502, {}, 'destination outside the files folder');
      headers.destination = `${inner.origin}/share${drel}`;
    }
    const forward = request(`${inner.origin}/share${rel}`, { method, headers }, answer => {
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        void (async () => {
          let body = Buffer.concat(chunks);
          const out: Record<string, string | string[]> = {};
          for (const [k, v] of Object.entries(answer.headers)) if (v !== undefined && k !== 'content-length' && k !== 'location' && k !== 'transfer-encoding') out[k] = v;
          if (method === 'PROPFIND' && answer.statusCode === 207) body = Buffer.from(rewriteMultistatus(body.toString('utf8')));
          if (method === 'PUT' && (answer.statusCode === 201 || answer.statusCode === 204)) {
            // as Nextcloud does: the new version's etag with the answer (here: the one the server now lists)
            const etag = await innerEtag(rel);
            if (etag) {
              out.etag = etag;
              out['oc-etag'] = etag;
            }
            out['oc-fileid'] = String(statSync(diskPath(rel)).ino);
          }
          reply(res, answer.statusCode ?? 502, out, body);
        })();
      });
    });
    forward.on('error', err => reply(res, 502, {}, String(err)));
    req.pipe(forward);
  });

  /** nephele's answer, as Nextcloud would give it: its hrefs, file ids, permissions, propagated folder etags. */
  function rewriteMultistatus(xml: string): string {
    return xml.replace(/<response>([\s\S]*?)<\/response>/g, (_, inner: string) => {
      const href = /<href>([^<]*)<\/href>/.exec(inner)?.[1] ?? '';
      const path = new URL(href, 'http://front').pathname.replace(/^\/share/, '') || '/';
      const rel = path.replace(/\/$/, '') || '/';
      const dir = /<collection\/>/.test(inner);
      let st;
      try {
        st = statSync(diskPath(rel));
      } catch {
        return `<response>${inner}</response>`;
      }
      const letters = permissions.get(decodeURIComponent(rel)) ?? (dir ? 'RGDNVCK' : 'RGDNVW');
      let props = inner.replace(/<href>[^<]*<\/href>/, `<href>${encodeURI(filesPrefix)}${rel === '/' ? '/' : rel}${dir && rel !== '/' ? '/' : ''}</href>`);
      if (dir) props = props.replace(/<getetag>[^<]*<\/getetag>/, `<getetag>${propagatedEtag(diskPath(rel))}</getetag>`);
      if (quota !== undefined) props = props.replace(/<quota-available-bytes>[^<]*</, `<quota-available-bytes>${quota}<`);
      props = props.replace(/(<propstat>\s*<status>HTTP\/1\.1 200 OK<\/status>\s*<prop>)/, `$1<oc:fileid>${st.ino}</oc:fileid><oc:permissions>${letters}</oc:permissions>`);
      return `<response>${props}</response>`;
    });
  }

  /** The etag nephele lists for a file now, quoted. */
  async function innerEtag(rel: string): Promise<string | undefined> {
    const answer = await fetch(`${inner.origin}/share${rel}`, {
      method: 'PROPFIND',
      headers: { Depth: '0', 'Content-Type': 'application/xml' },
      body: '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>',
    });
    const raw = /<getetag>([^<]*)<\/getetag>/.exec(await answer.text())?.[1];
    return raw ? (raw.startsWith('"') ? raw : `"${raw}"`) : undefined;
  }

  await new Promise<void>(r => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  return {
    name: 'nextcloud',
    origin,
    port,
    requests,
    log,
    webAddress: `${origin}${base}`,
    filesPath: filesPrefix,
    setPermissions: (path, letters) => (letters === undefined ? permissions.delete(path) : permissions.set(path, letters)),
    setQuota: available => (quota = available),
    async close() {
      const done = new Promise<void>(r => server.close(() => r()));
      server.closeAllConnections();
      await done;
      await inner.close();
    },
  };
}

function reply(res: ServerResponse, status: number, headers: Record<string, string | string[]>, body: string | Buffer): void {
  res.writeHead(status, { ...headers, 'Content-Length': String(Buffer.byteLength(body)) });
  res.end(body);
}
