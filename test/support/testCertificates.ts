// Certificates made by the suites with Debian's `openssl` (EC P-256: fast), in a folder of their own:
//   self.crt / self.key      a self-signed server certificate, as a NAS ships (CN=nas.example, for the
//                            loopback addresses): the trust prompt's case
//   self2.crt / self2.key    another one for the same names: "the server's certificate changed"
//   ca.crt / ca.key          a certificate authority of the test ("caFile")
//   server-ca.crt / .key     a server certificate issued by it
//   client.crt / client.key  a client certificate issued by it (clientAuth), its key in clear
//   client-enc.key           the same key protected by PASSPHRASE (PEM)
//   client.p12               certificate and key as PKCS#12, protected by PASSPHRASE
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PASSPHRASE = 'p12-pass phrase';
/** The names the server certificates are made out for. */
const SERVER_NAMES = 'DNS:nas.example,IP:127.0.0.1,IP:127.0.0.2';

export interface TestCertificates {
  readonly dir: string;
  /** Absolute paths by file name (`self.crt`, `client.p12`, …). */
  path(name: string): string;
  /** SHA-256 fingerprint (`AB:CD:…`) of a certificate file. */
  fingerprint(name: string): string;
  remove(): void;
}

export function opensslAvailable(): boolean {
  return existsSync('/usr/bin/openssl');
}

function openssl(dir: string, args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export function makeTestCertificates(): TestCertificates {
  if (!opensslAvailable()) throw new Error('openssl is required: apt-get install openssl');
  const dir = mkdtempSync(join(tmpdir(), 'wdo-certs-'));
  try {
    const selfSigned = (name: string) =>
      openssl(dir, ['req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '7', '-subj', '/CN=nas.example/O=Test NAS', '-addext', `subjectAltName=${SERVER_NAMES}`]);
    selfSigned('self');
    selfSigned('self2');
    openssl(dir, [
      'req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '7', '-subj', '/CN=WebDAV Offline Test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    const issue = (name: string, subject: string, ext: string) => {
      writeFileSync(join(dir, `${name}.ext`), ext);
      openssl(dir, ['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
      openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '7', '-extfile', `${name}.ext`]);
    };
    issue('server-ca', '/CN=nas.example', `subjectAltName=${SERVER_NAMES}\nextendedKeyUsage=serverAuth\n`);
    issue('client', '/CN=alice/O=Test Clients', 'extendedKeyUsage=clientAuth\n');
    openssl(dir, ['pkey', '-in', 'client.key', '-out', 'client-enc.key', '-aes256', '-passout', `pass:${PASSPHRASE}`]);
    openssl(dir, ['pkcs12', '-export', '-in', 'client.crt', '-inkey', 'client.key', '-out', 'client.p12', '-passout', `pass:${PASSPHRASE}`]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    dir,
    path: name => join(dir, name),
    fingerprint: name => new X509Certificate(readFileSync(join(dir, name))).fingerprint256,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
