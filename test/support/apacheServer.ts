// Apache httpd with mod_dav_fs from Debian, started on a free loopback port with a config and folder of
// its own, serving `root` at `mount`. The reference WebDAV implementation: strict 412s, weak etags for
// about a second after each write, no Depth infinity.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChild } from './childProcess';
import { freePort, waitForHttp } from './freePort';
import type { RunningServer } from './nepheleServer';

const MODULES = '/usr/lib/apache2/modules';

export interface ApacheOptions {
  root: string;
  mount?: string;
  users?: Record<string, string>;
  /** Loopback address to listen on (default 127.0.0.1). */
  host?: string;
}

export function apacheAvailable(): boolean {
  return existsSync('/usr/sbin/apache2') && existsSync(join(MODULES, 'mod_dav_fs.so'));
}

export async function startApache(options: ApacheOptions): Promise<RunningServer> {
  if (!apacheAvailable()) throw new Error('Apache httpd is not installed: apt-get install apache2');
  const dir = mkdtempSync(join(tmpdir(), 'wdo-apache-'));
  chmodSync(dir, 0o755); // www-data must read the password file
  mkdirSync(join(dir, 'lock'));
  mkdirSync(join(dir, 'docroot'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    // Apache drops to www-data; it must own what it serves and its lock database.
    spawnSync('chown', ['-R', 'www-data:www-data', options.root, join(dir, 'lock')]);
  }
  const mount = options.mount && options.mount !== '/' ? options.mount.replace(/\/$/, '') : '';
  const host = options.host ?? '127.0.0.1';
  let auth = '';
  if (options.users) {
    const lines = Object.entries(options.users).map(
      ([u, p]) => `${u}:{SHA}${createHash('sha1').update(p).digest('base64')}`,
    );
    writeFileSync(join(dir, 'htpasswd'), lines.join('\n') + '\n');
    auth = `AuthType Basic\n  AuthName "dav"\n  AuthUserFile ${join(dir, 'htpasswd')}\n  <LimitExcept OPTIONS>\n    Require valid-user\n  </LimitExcept>`;
  }
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const conf = `ServerRoot ${dir}
ServerName ${host}
Listen ${host}:${port}
PidFile ${dir}/httpd.pid
ErrorLog ${dir}/error.log
LogLevel warn
${asRoot ? 'User www-data\nGroup www-data' : ''}
LoadModule mpm_event_module ${MODULES}/mod_mpm_event.so
LoadModule authz_core_module ${MODULES}/mod_authz_core.so
LoadModule authn_core_module ${MODULES}/mod_authn_core.so
LoadModule authn_file_module ${MODULES}/mod_authn_file.so
LoadModule auth_basic_module ${MODULES}/mod_auth_basic.so
LoadModule authz_user_module ${MODULES}/mod_authz_user.so
LoadModule alias_module ${MODULES}/mod_alias.so
LoadModule mime_module ${MODULES}/mod_mime.so
LoadModule headers_module ${MODULES}/mod_headers.so
LoadModule dav_module ${MODULES}/mod_dav.so
LoadModule dav_fs_module ${MODULES}/mod_dav_fs.so
LoadModule dav_lock_module ${MODULES}/mod_dav_lock.so
TypesConfig /etc/mime.types
DavLockDB ${dir}/lock/DavLock
DocumentRoot "${mount ? dir + '/docroot' : options.root}"
${mount ? `Alias ${mount} "${options.root}"` : ''}
<Directory "${options.root}">
  Dav On
  ${auth}
  Header always set Access-Control-Allow-Origin "*"
  Header always set Access-Control-Allow-Methods "GET,HEAD,PUT,DELETE,OPTIONS,PROPFIND,PROPPATCH,MKCOL,COPY,MOVE,LOCK,UNLOCK"
  Header always set Access-Control-Allow-Headers "Authorization,Depth,Destination,Overwrite,If,If-Match,If-None-Match,Content-Type,Range,Lock-Token,Timeout"
  Header always set Access-Control-Expose-Headers "ETag,DAV,Content-Range,Last-Modified,Lock-Token"
</Directory>
`;
    const confFile = join(dir, 'httpd.conf');
    writeFileSync(confFile, conf);
    const child: ChildProcess = spawn('/usr/sbin/apache2', ['-f', confFile, '-DFOREGROUND'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, APACHE_RUN_DIR: dir, APACHE_LOCK_DIR: join(dir, 'lock') },
    });
    let stderr = '';
    child.stderr?.on('data', d => (stderr += d));
    const exited = new Promise<number | null>(r => child.once('exit', code => r(code)));
    try {
      await Promise.race([
        waitForHttp(`http://${host}:${port}/`, 10_000),
        exited.then(code => {
          throw new Error(`apache2 exited with ${code}: ${stderr.trim() || readLog(dir)}`);
        }),
      ]);
    } catch (err) {
      lastError = err;
      child.kill('SIGKILL');
      continue;
    }
    const requests = new Map<string, number>();
    return {
      name: 'apache',
      origin: `http://${host}:${port}`,
      port,
      requests,
      logTail: (lines = 20) => readLog(dir, lines),
      close: async () => {
        await stopChild(child, exited);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError;
}

function readLog(dir: string, lines = 5): string {
  try {
    return readFileSync(join(dir, 'error.log'), 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
