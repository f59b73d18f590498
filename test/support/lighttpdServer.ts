// lighttpd 1.4 with mod_webdav from Debian, started in the foreground on a free loopback port with a
// config and folder of its own, serving `root` at `mount`. The second strict server next to Apache:
// correct 412s, strong quoted-decimal etags (also on PUT answers), directory etags, locks and props in
// an SQLite database, no Depth infinity, `getlastmodified` with an `ns0:dt` attribute. Traps it has:
// a LOCK with an infinite timeout spins it at 100 % CPU for good, and a pretty-printed lockinfo body
// gets 422 — so nothing here locks. As root it drops to www-data, which must own what it serves
// (see handToServer in servers.ts). Its stat cache is off: the suites play "a colleague" by writing
// straight into the served folder, and with the default cache a GET within about a second of such a
// write answers with the old ETag and Content-Length over the new bytes (changes made through the
// server itself do not have this problem).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChild } from './childProcess';
import { freePort, waitForHttp } from './freePort';
import type { RunningServer } from './nepheleServer';

const LIGHTTPD = '/usr/sbin/lighttpd';
const MOD_WEBDAV = '/usr/lib/lighttpd/mod_webdav.so';
/** Debian's generator of `mimetype.assign`; without it GET answers carry no ETag or Last-Modified. */
const MIME_CONF = '/usr/share/lighttpd/create-mime.conf.pl';

export interface LighttpdOptions {
  root: string;
  mount?: string;
  users?: Record<string, string>;
  /** Loopback address to listen on (default 127.0.0.1). */
  host?: string;
}

export interface RunningLighttpd extends RunningServer {
  /** The server's error log (its tail is printed by a suite with a failed test). */
  readonly errorLog: string;
  logTail(lines?: number): string;
}

export function lighttpdAvailable(): boolean {
  return existsSync(LIGHTTPD) && existsSync(MOD_WEBDAV);
}

/** A lighttpd config string literal (its strings have no escape for every character: refuse those). */
function str(s: string): string {
  if (/["\\\n]/.test(s)) throw new Error(`lighttpd config: cannot quote ${JSON.stringify(s)}`);
  return `"${s}"`;
}

export async function startLighttpd(options: LighttpdOptions): Promise<RunningLighttpd> {
  if (!lighttpdAvailable()) throw new Error('lighttpd with mod_webdav is not installed: apt-get install lighttpd lighttpd-mod-webdav');
  const mount = options.mount && options.mount !== '/' ? options.mount.replace(/\/$/, '') : '';
  const host = options.host ?? '127.0.0.1';
  if (mount && !/^(\/[\w-]+)+$/.test(mount)) throw new Error(`lighttpd: mount ${mount} must be /name[/name…] (letters, digits, _ and -)`);
  const dir = mkdtempSync(join(tmpdir(), 'wdo-lighttpd-'));
  chmodSync(dir, 0o755); // www-data must read the password file and write the lock/props database
  for (const sub of ['docroot', 'tmp', 'db', 'log']) mkdirSync(join(dir, sub));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    // lighttpd drops to www-data before it opens its error log: it must own what it serves, its upload
    // folder, its log folder and its database folder (SQLite writes a journal next to the database).
    spawnSync('chown', ['-R', 'www-data:www-data', options.root, ...['tmp', 'db', 'log'].map(sub => join(dir, sub))]);
  }
  const errorLog = join(dir, 'log', 'error.log');
  let auth = '';
  if (options.users) {
    const lines = Object.entries(options.users).map(([u, p]) => `${u}:{SHA}${createHash('sha1').update(p).digest('base64')}`);
    writeFileSync(join(dir, 'htpasswd'), lines.join('\n') + '\n');
    auth = `auth.backend = "htpasswd"
auth.backend.htpasswd.userfile = ${str(join(dir, 'htpasswd'))}
$HTTP["request-method"] != "OPTIONS" {
  auth.require = ( "/" => ( "method" => "basic", "realm" => "dav", "require" => "valid-user" ) )
}`;
  }
  // The share is aliased at the mount; the condition keeps `/shareX` from mapping to `<root>X`.
  const webdav = `webdav.activate = "enable"
  webdav.is-readonly = "disable"
  webdav.sqlite-db-name = ${str(join(dir, 'db', 'webdav.db'))}`;
  const served = mount
    ? `$HTTP["url"] =~ "^${mount}(/|$)" {
  alias.url = ( ${str(mount)} => ${str(options.root)} )
  ${webdav}
}`
    : webdav;
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const conf = `server.modules = ( "mod_alias", "mod_auth", "mod_authn_file", "mod_setenv", "mod_webdav" )
server.document-root = ${str(mount ? join(dir, 'docroot') : options.root)}
server.bind = "${host}"
server.port = ${port}
server.errorlog = ${str(errorLog)}
server.upload-dirs = ( ${str(join(dir, 'tmp'))} )
server.stat-cache-engine = "disable"
${asRoot ? 'server.username = "www-data"\nserver.groupname = "www-data"' : ''}
include_shell "${MIME_CONF}"
${auth}
${served}
setenv.add-response-header = (
  "Access-Control-Allow-Origin" => "*",
  "Access-Control-Allow-Methods" => "GET,HEAD,PUT,DELETE,OPTIONS,PROPFIND,PROPPATCH,MKCOL,COPY,MOVE,LOCK,UNLOCK",
  "Access-Control-Allow-Headers" => "Authorization,Depth,Destination,Overwrite,If,If-Match,If-None-Match,Content-Type,Range,Lock-Token,Timeout",
  "Access-Control-Expose-Headers" => "ETag,DAV,Content-Range,Last-Modified,Lock-Token"
)
`;
    const confFile = join(dir, 'lighttpd.conf');
    writeFileSync(confFile, conf);
    const child: ChildProcess = spawn(LIGHTTPD, ['-D', '-f', confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', d => (stderr += d));
    const exited = new Promise<number | null>(r => child.once('exit', code => r(code)));
    try {
      await Promise.race([
        waitForHttp(`http://${host}:${port}/`, 10_000),
        exited.then(code => {
          throw new Error(`lighttpd exited with ${code}: ${stderr.trim() || tail(errorLog, 5)}`);
        }),
      ]);
    } catch (err) {
      lastError = err;
      child.kill('SIGKILL');
      await exited;
      continue;
    }
    return {
      name: 'lighttpd',
      origin: `http://${host}:${port}`,
      port,
      requests: new Map(),
      errorLog,
      logTail: (lines = 20) => tail(errorLog, lines),
      close: async () => {
        // SIGTERM: lighttpd stops at once (SIGINT would wait for open connections to finish)
        await stopChild(child, exited);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError;
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
