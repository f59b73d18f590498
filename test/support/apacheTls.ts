// Apache httpd from Debian as the server of the transport and sign-in suites: one process, one folder,
// four listeners on a loopback address (127.0.0.2 by default: VS Code — and WebDAV Offline with it —
// never sends 127.0.0.1 through a proxy), with certificates the suite made (testCertificates.ts):
//   selfSigned  https, a self-signed certificate (as a NAS ships); changeCertificate() swaps it for
//               another self-signed one on the same address
//   caSigned    https, a certificate issued by the test CA ("caFile")
//   mutual      https, issued by the test CA, and a client certificate issued by it is required
//               (`SSLVerifyClient require`)
//   plain       http
// On every listener the same folder is served at
//   /share    Basic (USERS)          /open     no sign-in
//   /digest   Digest (mod_auth_digest, USERS)
//   /bearer   `Authorization: Bearer BEARER_TOKEN` (mod_rewrite; else 401 with `WWW-Authenticate: Bearer`)
//   /apikey   `X-Api-Key: API_KEY` (else 403)
//   /windows  always 401 with `WWW-Authenticate: Negotiate` and `NTLM` (a Windows server's answer)
// The access log records listener, method, path, status and the scheme of the Authorization header
// (never its value): requests() reads it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { apacheAvailable } from './apacheServer';
import { stopChild } from './childProcess';
import { freePort, waitForHttp } from './freePort';
import { makeTestCertificates, type TestCertificates } from './testCertificates';

const MODULES = '/usr/lib/apache2/modules';
export const BEARER_TOKEN = 'tok-7Qe2-not-a-password';
export const API_KEY = 'key-41c9-api';
export const DIGEST_REALM = 'WebDAV Offline digest';

export type Listener = 'selfSigned' | 'caSigned' | 'mutual' | 'plain';
const LISTENERS: Listener[] = ['selfSigned', 'caSigned', 'mutual', 'plain'];

export interface LoggedRequest {
  readonly listener: Listener;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** The scheme of the Authorization header (`Basic`, `Digest`, `Bearer`), or undefined. */
  readonly auth?: string;
}

export interface ApacheTls {
  readonly host: string;
  readonly ports: Readonly<Record<Listener, number>>;
  readonly certs: TestCertificates;
  /** `host:port` of a listener. */
  authority(listener: Listener): string;
  /** What the access log holds so far. */
  requests(): LoggedRequest[];
  /** The self-signed listener presents self2.crt from now on (or self.crt again with `back`). */
  changeCertificate(back?: boolean): Promise<void>;
  logTail(lines?: number): string;
  close(): Promise<void>;
}

export async function startApacheTls(o: { root: string; users: Record<string, string>; host?: string }): Promise<ApacheTls> {
  if (!apacheAvailable() || !existsSync(join(MODULES, 'mod_ssl.so'))) throw new Error('Apache httpd with mod_ssl is required: apt-get install apache2');
  const host = o.host ?? '127.0.0.2';
  const certs = makeTestCertificates();
  const dir = mkdtempSync(join(tmpdir(), 'wdo-apache-tls-'));
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'lock'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) spawnSync('chown', ['-R', 'www-data:www-data', o.root, join(dir, 'lock')]);
  copyFileSync(certs.path('self.crt'), join(dir, 'current.crt'));
  copyFileSync(certs.path('self.key'), join(dir, 'current.key'));
  const sha1 = (p: string) => createHash('sha1').update(p).digest('base64');
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  writeFileSync(join(dir, 'htpasswd'), Object.entries(o.users).map(([u, p]) => `${u}:{SHA}${sha1(p)}\n`).join(''));
  writeFileSync(join(dir, 'htdigest'), Object.entries(o.users).map(([u, p]) => `${u}:${DIGEST_REALM}:${md5(`${u}:${DIGEST_REALM}:${p}`)}\n`).join(''));
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const ports = {} as Record<Listener, number>;
    for (const l of LISTENERS) ports[l] = await freePort();
    const conf = config(dir, host, ports, o.root, certs, asRoot);
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
        waitForHttp(`http://${host}:${ports.plain}/`, 10_000),
        exited.then(code => {
          throw new Error(`apache2 exited with ${code}: ${stderr.trim() || tail(dir, 5)}`);
        }),
      ]);
    } catch (err) {
      lastError = err;
      child.kill('SIGKILL');
      continue;
    }
    return {
      host,
      ports,
      certs,
      authority: l => `${host}:${ports[l]}`,
      requests: () => readRequests(dir, ports),
      async changeCertificate(back = false) {
        const name = back ? 'self' : 'self2';
        copyFileSync(certs.path(`${name}.crt`), join(dir, 'current.crt'));
        copyFileSync(certs.path(`${name}.key`), join(dir, 'current.key'));
        child.kill('SIGHUP'); // restart: the listener reads the certificate again
        const want = certs.fingerprint(`${name}.crt`);
        const until = Date.now() + 10_000;
        while ((await presented(host, ports.selfSigned).catch(() => '')) !== want) {
          if (Date.now() > until) throw new Error(`apache2 still presents the old certificate: ${tail(dir, 5)}`);
          await new Promise(r => setTimeout(r, 50));
        }
      },
      logTail: (lines = 20) => tail(dir, lines),
      close: async () => {
        await stopChild(child, exited);
        rmSync(dir, { recursive: true, force: true });
        certs.remove();
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  certs.remove();
  throw lastError;
}

/** The fingerprint of the certificate a TLS listener presents now. */
function presented(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host, port, rejectUnauthorized: false }, () => {
      resolve(s.getPeerCertificate().fingerprint256);
      s.destroy();
    });
    s.once('error', reject);
  });
}

function config(dir: string, host: string, ports: Record<Listener, number>, root: string, certs: TestCertificates, asRoot: boolean): string {
  const mod = (name: string, file = name) => `LoadModule ${name}_module ${MODULES}/mod_${file}.so`;
  // a virtual host's own rewrite rules (those of the main server do not reach it)
  const REWRITES = `RewriteEngine On
  RewriteCond %{REQUEST_URI} ^/bearer(/|$)
  RewriteCond %{HTTP:Authorization} "!=Bearer ${BEARER_TOKEN}"
  RewriteRule ^ - [R=401,L]
  RewriteCond %{REQUEST_URI} ^/apikey(/|$)
  RewriteCond %{HTTP:X-Api-Key} "!=${API_KEY}"
  RewriteRule ^ - [F,L]
  RewriteCond %{REQUEST_URI} ^/windows(/|$)
  RewriteRule ^ - [R=401,L]`;
  const tlsHost = (port: number, crt: string, key: string, extra = '') => `<VirtualHost ${host}:${port}>
  ${REWRITES}
  SSLEngine on
  SSLCertificateFile ${crt}
  SSLCertificateKeyFile ${key}
  ${extra}
</VirtualHost>`;
  const locations = ['share', 'open', 'digest', 'bearer', 'apikey', 'windows'].map(p => `Alias /${p} "${root}"`).join('\n');
  return `ServerRoot ${dir}
ServerName ${host}
${LISTENERS.map(l => `Listen ${host}:${ports[l]}`).join('\n')}
PidFile ${dir}/httpd.pid
ErrorLog ${dir}/error.log
LogLevel warn
${asRoot ? 'User www-data\nGroup www-data' : ''}
${mod('mpm_event')}
${mod('authz_core')}
${mod('authn_core')}
${mod('authn_file')}
${mod('auth_basic')}
${mod('auth_digest')}
${mod('authz_user')}
${mod('alias')}
${mod('mime')}
${mod('headers')}
${mod('rewrite')}
${mod('setenvif')}
${mod('socache_shmcb')}
${mod('ssl')}
${mod('dav')}
${mod('dav_fs')}
${mod('dav_lock')}
TypesConfig /etc/mime.types
DavLockDB ${dir}/lock/DavLock
SSLSessionCache shmcb:${dir}/ssl_scache(512000)
SetEnvIf Authorization "^(\\S+)" AUTH_SCHEME=$1
LogFormat "%{local}p %m %U %>s %{AUTH_SCHEME}e" wdo
CustomLog ${dir}/access.log wdo
DocumentRoot "${root}"
${locations}
<Directory "${root}">
  Dav On
</Directory>
<Location /share>
  AuthType Basic
  AuthName "dav"
  AuthUserFile ${dir}/htpasswd
  Require valid-user
</Location>
<Location /digest>
  AuthType Digest
  AuthName "${DIGEST_REALM}"
  AuthDigestProvider file
  AuthUserFile ${dir}/htdigest
  Require valid-user
</Location>
Header always set WWW-Authenticate "Bearer realm=\\"dav\\"" "expr=%{REQUEST_STATUS} == 401 && %{REQUEST_URI} =~ m#^/bearer(/|$)#"
Header always set WWW-Authenticate "Negotiate" "expr=%{REQUEST_URI} =~ m#^/windows(/|$)#"
Header always add WWW-Authenticate "NTLM" "expr=%{REQUEST_URI} =~ m#^/windows(/|$)#"
${tlsHost(ports.selfSigned, `${dir}/current.crt`, `${dir}/current.key`)}
${tlsHost(ports.caSigned, certs.path('server-ca.crt'), certs.path('server-ca.key'))}
${tlsHost(ports.mutual, certs.path('server-ca.crt'), certs.path('server-ca.key'), `SSLCACertificateFile ${certs.path('ca.crt')}\n  SSLVerifyClient require\n  SSLVerifyDepth 2`)}
<VirtualHost ${host}:${ports.plain}>
  ${REWRITES}
</VirtualHost>
`;
}

function readRequests(dir: string, ports: Record<Listener, number>): LoggedRequest[] {
  let text = '';
  try {
    text = readFileSync(join(dir, 'access.log'), 'utf8');
  } catch {
    return [];
  }
  const byPort = new Map(LISTENERS.map(l => [String(ports[l]), l]));
  return text
    .split('\n')
    .filter(Boolean)
    .map(line => {
      const [port, method, path, status, auth] = line.split(' ');
      return { listener: byPort.get(port) ?? 'plain', method, path, status: Number(status), auth: auth && auth !== '-' ? auth : undefined };
    });
}

function tail(dir: string, lines: number): string {
  try {
    return readFileSync(join(dir, 'error.log'), 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
