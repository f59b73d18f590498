// Secure connections through the Node transport against Apache mod_ssl from Debian, with certificates
// the suite made (test/support/apacheTls.ts): a self-signed certificate (one prompt for concurrent
// requests, with what the user can check; trusted → pinned and used; declined → a clear error, and the
// share does not go offline for it), a changed certificate (refused, both fingerprints named, the user
// told once, never asked on the spot), a certificate issued by a CA this computer does not know (the
// share's CA file), a server that requires a client certificate (PEM, PKCS#12 with its passphrase
// asked for and kept). The server's access log shows that a refused connection sent nothing.
import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ShareError } from '../../src/core/errors';
import { DEFAULTS, type Settings, type ShareOptions } from '../../src/core/settings';
import type { ShareLocation } from '../../src/core/shareLocation';
import { WebdavRemote } from '../../src/remote/webdavRemote';
import { Share } from '../../src/share/share';
import { startApacheTls, type ApacheTls, type Listener } from '../support/apacheTls';
import { diskCache } from '../support/cachedShare';
import { NODE_PLATFORM } from '../support/nodePlatform';
import { RecordingLogger } from '../support/recordingLogger';
import { ScriptedAccess } from '../support/scriptedAccess';
import { handToServer, tempFolder, USERS } from '../support/servers';
import { PASSPHRASE } from '../support/testCertificates';

suite('conformance: TLS (Apache mod_ssl, certificates made by the suite)', function () {
  this.timeout(20_000);
  let disk: ReturnType<typeof tempFolder>;
  let cacheDir: ReturnType<typeof tempFolder>;
  let apache: ApacheTls;
  let log: RecordingLogger;
  const opened: { share: Share; remote: WebdavRemote }[] = [];

  function open(listener: Listener, access: ScriptedAccess, o: { options?: Omit<ShareOptions, 'address'>; cached?: boolean } = {}): Share {
    const location: ShareLocation = { scheme: 'davs', authority: apache.authority(listener), basePath: '/open' };
    const settings: Settings = { ...DEFAULTS, shares: o.options ? [{ address: `https://${location.authority}/open/`, ...o.options }] : [] };
    const remote = new WebdavRemote(location, () => settings, log, NODE_PLATFORM);
    const cache = o.cached ? diskCache(cacheDir.path, () => settings, log, undefined, `tls-${opened.length}`) : undefined;
    const share = new Share(location, remote, access, log, cache);
    opened.push({ share, remote });
    return share;
  }

  const requestsOn = (listener: Listener) => apache.requests().filter(r => r.listener === listener).length;
  const text = (b: Uint8Array) => Buffer.from(b).toString();

  function tlsRefusal(pattern: RegExp) {
    return (err: unknown) => {
      assert.ok(err instanceof ShareError, `a ShareError: ${err}`);
      assert.equal(err.code, 'Unavailable', err.message);
      assert.equal(err.reason, 'tls', err.message);
      assert.match(err.message, pattern);
      return true;
    };
  }

  suiteSetup(async () => {
    disk = tempFolder('wdo-tls-');
    cacheDir = tempFolder('wdo-tls-cache-');
    writeFileSync(join(disk.path, 'a.txt'), 'alpha');
    handToServer('apache', disk.path);
    apache = await startApacheTls({ root: disk.path, users: USERS });
  });

  suiteTeardown(async function () {
    const failed = this.test?.parent?.tests.some(t => t.state === 'failed');
    if (failed) console.log(`      [apache error log]\n${apache?.logTail(30).replace(/^/gm, '        ')}`);
    await apache?.close();
    disk?.remove();
    cacheDir?.remove();
  });

  setup(() => {
    log = new RecordingLogger();
  });

  teardown(async function () {
    if (this.currentTest?.state === 'failed') console.log(log.lines.slice(-30).join('\n'));
    for (const { share, remote } of opened.splice(0)) {
      await share.dispose();
      remote.dispose();
    }
  });

  test('a self-signed certificate: one prompt for concurrent requests, with fingerprint, subject, issuer and validity; trusted, they go through and it is kept', async () => {
    const access = new ScriptedAccess({ trust: [true], promptMs: 150 });
    const share = open('selfSigned', access);
    const [content, root, listing] = await Promise.all([share.readFile('/a.txt'), share.stat('/'), share.readDirectory('/')]);
    assert.equal(text(content), 'alpha');
    assert.equal(root.type, 'directory');
    assert.deepEqual(listing, [['a.txt', 'file']]);
    assert.equal(access.trustAsked.length, 1, 'one prompt for the three requests');
    const asked = access.trustAsked[0];
    assert.equal(asked.certificate.fingerprint, apache.certs.fingerprint('self.crt'));
    assert.equal(asked.reason, 'DEPTH_ZERO_SELF_SIGNED_CERT');
    assert.match(asked.certificate.subject, /CN=nas\.example/);
    assert.equal(asked.certificate.issuer, asked.certificate.subject, 'self-signed: issued by itself');
    assert.match(asked.certificate.altNames ?? '', /127\.0\.0\.2/);
    assert.ok(Date.parse(asked.certificate.validTo) > Date.now() && Date.parse(asked.certificate.validFrom) <= Date.now(), 'validity as ISO dates');
    assert.deepEqual(access.kept.trustedCertificates, [apache.certs.fingerprint('self.crt')], 'the certificate is kept for the share');
  });

  test('declined: a clear error that says what to do, nothing reaches the server, and a cached share stays online (TLS is not "unreachable")', async () => {
    const access = new ScriptedAccess({ trust: [] });
    const share = open('selfSigned', access, { cached: true });
    assert.equal(await share.hasCache(), true);
    const before = requestsOn('selfSigned');
    await assert.rejects(share.stat('/a.txt'), tlsRefusal(/not trusted: it is self-signed.*SHA-256 [0-9A-F:]{95}.*Review Server Certificate.*caFile/));
    assert.equal(access.trustAsked.length, 1);
    assert.equal(share.connectionState?.kind, 'online', 'the share did not go offline by itself');
    await assert.rejects(share.readFile('/a.txt'), tlsRefusal(/not trusted/));
    await assert.rejects(share.readDirectory('/'), tlsRefusal(/not trusted/));
    assert.equal(requestsOn('selfSigned'), before, 'no request reached the server');
  });

  test('trusted before (kept for the share): connects without asking', async () => {
    const access = new ScriptedAccess({ access: { trustedCertificates: [apache.certs.fingerprint('self.crt')] } });
    const share = open('selfSigned', access);
    assert.equal(text(await share.readFile('/a.txt')), 'alpha');
    assert.equal(access.trustAsked.length, 0);
  });

  test('a changed certificate is refused, naming both fingerprints; the user is told once and nothing is sent — then trusts the new one on review', async () => {
    const old = apache.certs.fingerprint('self.crt');
    const now = apache.certs.fingerprint('self2.crt');
    await apache.changeCertificate();
    try {
      const access = new ScriptedAccess({ access: { trustedCertificates: [old] }, changed: [true], promptMs: 300 });
      const share = open('selfSigned', access, { cached: true });
      await share.hasCache();
      const before = requestsOn('selfSigned');
      const results = await Promise.allSettled([share.stat('/'), share.readFile('/a.txt'), share.readDirectory('/')]);
      for (const r of results) {
        assert.equal(r.status, 'rejected');
        tlsRefusal(new RegExp(`changed since you trusted it.*${old}.*${now}.*Review Server Certificate`))(r.reason);
      }
      assert.equal(access.trustAsked.length, 0, 'never asked "trust it?" on the spot');
      assert.equal(access.changedTold.length, 1, 'told once for the three requests');
      assert.equal(access.changedTold[0].pinned, old);
      assert.equal(access.changedTold[0].certificate.fingerprint, now);
      assert.equal(requestsOn('selfSigned'), before, 'nothing reached the server');
      assert.equal(share.connectionState?.kind, 'online');
      // the user reviewed the new certificate and trusted it (the notice's answer comes later)
      await new Promise(r => setTimeout(r, 500));
      assert.deepEqual(access.kept.trustedCertificates, [now]);
      assert.equal(text(await share.readFile('/a.txt')), 'alpha');
    } finally {
      await apache.changeCertificate(true);
    }
  });

  test('issued by a certificate authority this computer does not know: untrusted; with the CA file set for the share it is trusted without a prompt', async () => {
    const unknown = new ScriptedAccess({ trust: [] });
    await assert.rejects(open('caSigned', unknown).stat('/'), tlsRefusal(/certificate authority this computer does not know/));
    assert.match(unknown.trustAsked[0]?.reason ?? '', /UNABLE_TO_(VERIFY_LEAF_SIGNATURE|GET_ISSUER_CERT)/);

    const withCa = new ScriptedAccess();
    const share = open('caSigned', withCa, { options: { caFile: apache.certs.path('ca.crt') } });
    assert.equal(text(await share.readFile('/a.txt')), 'alpha');
    assert.equal(withCa.trustAsked.length, 0);
    // the CA file trusts what the CA issued, not any certificate: the self-signed server stays untrusted
    const other = new ScriptedAccess({ trust: [] });
    await assert.rejects(open('selfSigned', other, { options: { caFile: apache.certs.path('ca.crt') } }).stat('/'), tlsRefusal(/self-signed/));
  });

  test('a CA file that cannot be read: a clear error naming the file and the setting, no prompt', async () => {
    const access = new ScriptedAccess({ trust: [true] });
    const missing = join(cacheDir.path, 'no-such-ca.pem');
    await assert.rejects(open('caSigned', access, { options: { caFile: missing } }).stat('/'), tlsRefusal(new RegExp(`CA file.*no-such-ca\\.pem.*ENOENT.*webdavOffline\\.shares`)));
    assert.equal(access.trustAsked.length, 0);
  });

  test('a server that requires a client certificate: without one, an error that names the setting; with a PEM certificate and key, it connects', async () => {
    const caFile = apache.certs.path('ca.crt');
    const before = requestsOn('mutual');
    await assert.rejects(open('mutual', new ScriptedAccess(), { options: { caFile } }).stat('/'), tlsRefusal(/client certificate.*clientCertificate/));
    assert.equal(requestsOn('mutual'), before, 'the server refused before any request');
    const share = open('mutual', new ScriptedAccess(), { options: { caFile, clientCertificate: apache.certs.path('client.crt'), clientKey: apache.certs.path('client.key') } });
    assert.equal(text(await share.readFile('/a.txt')), 'alpha');
    await share.writeFile('/b.txt', Buffer.from('beta'), { create: true, overwrite: false });
    assert.equal(text(await share.readFile('/b.txt')), 'beta');
  });

  test('a PKCS#12 client certificate: its passphrase is asked for, kept and used; a wrong one is asked for again; a cancel stops asking', async () => {
    const options = { caFile: apache.certs.path('ca.crt'), clientCertificate: apache.certs.path('client.p12') };
    const access = new ScriptedAccess({ passphrases: ['not it', PASSPHRASE] });
    const share = open('mutual', access, { options });
    await assert.rejects(share.stat('/'), tlsRefusal(/passphrase.*does not open.*Set Client Certificate Passphrase/));
    assert.equal(text(await share.readFile('/a.txt')), 'alpha');
    assert.deepEqual(access.passphraseAsked, ['missing', 'wrong']);
    assert.equal(access.kept.clientCertificatePassphrase, PASSPHRASE);

    const cancels = new ScriptedAccess({ passphrases: [] });
    const other = open('mutual', cancels, { options });
    await assert.rejects(other.stat('/'), tlsRefusal(/protected by a passphrase and none is set/));
    await assert.rejects(other.stat('/a.txt'), tlsRefusal(/passphrase/));
    assert.deepEqual(cancels.passphraseAsked, ['missing'], 'not asked again after a cancel');
  });

  test('an encrypted PEM key with its passphrase kept: connects without asking', async () => {
    const access = new ScriptedAccess({ access: { clientCertificatePassphrase: PASSPHRASE } });
    const options = { caFile: apache.certs.path('ca.crt'), clientCertificate: apache.certs.path('client.crt'), clientKey: apache.certs.path('client-enc.key') };
    assert.equal(text(await open('mutual', access, { options }).readFile('/a.txt')), 'alpha');
    assert.deepEqual(access.passphraseAsked, []);
  });
});
