// The share's requests through a real proxy: tinyproxy from Debian, started by the suite. The whole
// provider suite (shareCases.ts) once through a proxy that asks for credentials — every request the
// server answered was carried by the proxy — and around it what the proxy settings mean: an https:
// share through a CONNECT tunnel (the trust prompt and the pinned certificate still decide; the proxy
// sees only the tunnel), missing or wrong proxy credentials (a clear message, not "offline"),
// `http.noProxy`, NO_PROXY and HTTPS_PROXY, a proxy that cannot be reached (offline), and an https://
// proxy whose certificate `http.proxyStrictSSL` decides about. Servers listen on 127.0.0.2: like VS
// Code, WebDAV Offline never sends 127.0.0.1 or localhost through a proxy.
import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ShareError } from '../../src/core/errors';
import { NO_PROXY_SETTINGS, type ProxySettings } from '../../src/core/proxy';
import { DEFAULTS } from '../../src/core/settings';
import type { ShareLocation } from '../../src/core/shareLocation';
import type { HttpPlatform } from '../../src/remote/webdavRemote';
import { WebdavRemote } from '../../src/remote/webdavRemote';
import { Share } from '../../src/share/share';
import { startApacheTls, type ApacheTls } from '../support/apacheTls';
import { diskCache } from '../support/cachedShare';
import { freePort } from '../support/freePort';
import type { RunningServer } from '../support/nepheleServer';
import { platformVia } from '../support/nodePlatform';
import { RecordingLogger } from '../support/recordingLogger';
import { ScriptedAccess } from '../support/scriptedAccess';
import { handToServer, SERVER_KINDS, tempFolder, USERS } from '../support/servers';
import { startTinyproxy, type TinyProxy } from '../support/tinyproxy';
import { shareSuite } from './shareCases';

const PROXY_USER = { user: 'proxyuser', password: 'pr0xy-s3cret' };
const GOOD = { username: 'alice', password: USERS.alice };
const via = (s: Partial<ProxySettings>, env?: Record<string, string>): HttpPlatform => platformVia({ ...NO_PROXY_SETTINGS, ...s }, env);

suite('conformance: through a real proxy (tinyproxy)', function () {
  this.timeout(20_000);
  let authProxy: TinyProxy;

  suiteSetup(async () => {
    authProxy = await startTinyproxy({ credentials: PROXY_USER });
  });
  suiteTeardown(async () => {
    await authProxy?.close();
  });

  // every case of the provider suite, on nephele (it counts what it answers), through the proxy that asks for credentials
  let nephele: RunningServer | undefined;
  const kind = SERVER_KINDS.find(k => k.name === 'nephele')!;
  shareSuite(
    {
      name: kind.name,
      honoursPreconditions: kind.honoursPreconditions,
      start: async o => (nephele = await kind.start(o)),
    },
    {
      label: ' through a proxy that asks for credentials (tinyproxy)',
      host: '127.0.0.2',
      platform: () => via({ url: authProxy.urlWithCredentials }),
      verify: () => {
        const answered = [...nephele!.requests.values()].reduce((a, b) => a + b, 0);
        const carried = authProxy.requests().filter(r => r.includes(`//127.0.0.2:${nephele!.port}/`)).length;
        assert.ok(answered > 100, `the suite sent requests (${answered})`);
        assert.equal(carried, answered, 'every request the server answered came through the proxy');
      },
    },
  );

  suite('proxy settings', () => {
    let proxy: TinyProxy;
    let tlsProxy: TinyProxy;
    let apache: ApacheTls;
    let disk: ReturnType<typeof tempFolder>;
    let cacheDir: ReturnType<typeof tempFolder>;
    let log: RecordingLogger;
    const opened: { share: Share; remote: WebdavRemote }[] = [];

    function open(scheme: 'dav' | 'davs', authority: string, platform: HttpPlatform, access: ScriptedAccess, cached = false): Share {
      const location: ShareLocation = { scheme, authority, basePath: '/share' };
      const remote = new WebdavRemote(location, () => DEFAULTS, log, platform);
      const cache = cached ? diskCache(cacheDir.path, () => DEFAULTS, log, undefined, `proxy-${opened.length}`) : undefined;
      const share = new Share(location, remote, access, log, cache);
      opened.push({ share, remote });
      return share;
    }
    const plain = () => apache.authority('plain');
    const secure = () => apache.authority('selfSigned');
    const pinned = () => ({ trustedCertificates: [apache.certs.fingerprint('self.crt')] });
    const text = (b: Uint8Array) => Buffer.from(b).toString();

    function rejectsWith(code: ShareError['code'], pattern: RegExp, reason?: string) {
      return (err: unknown) => {
        assert.ok(err instanceof ShareError, `a ShareError: ${err}`);
        assert.equal(err.code, code, err.message);
        if (reason) assert.equal(err.reason, reason, err.message);
        assert.match(err.message, pattern);
        return true;
      };
    }

    suiteSetup(async () => {
      disk = tempFolder('wdo-proxy-');
      cacheDir = tempFolder('wdo-proxy-cache-');
      writeFileSync(join(disk.path, 'a.txt'), 'alpha');
      handToServer('apache', disk.path);
      apache = await startApacheTls({ root: disk.path, users: USERS });
      proxy = await startTinyproxy();
      tlsProxy = await startTinyproxy({ tls: { cert: apache.certs.path('self.crt'), key: apache.certs.path('self.key') } });
    });
    suiteTeardown(async () => {
      await tlsProxy?.close();
      await proxy?.close();
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

    test('an https: share through a CONNECT tunnel: the trust prompt and the pinned certificate decide as without a proxy; the proxy sees only the tunnel', async () => {
      const access = new ScriptedAccess({ credentials: GOOD, trust: [true] });
      const share = open('davs', secure(), via({ url: proxy.url }), access);
      assert.equal(text(await share.readFile('/a.txt')), 'alpha');
      assert.equal(access.trustAsked.length, 1);
      assert.equal(access.trustAsked[0].certificate.fingerprint, apache.certs.fingerprint('self.crt'));
      const carried = proxy.requests().filter(r => r.includes(secure()));
      assert.ok(carried.length >= 1 && carried.every(r => r === `CONNECT ${secure()}`), `only tunnels: ${carried.join(', ')}`);
      // a changed certificate is refused through the tunnel as well
      await apache.changeCertificate();
      try {
        const later = new ScriptedAccess({ credentials: GOOD, access: pinned() });
        await assert.rejects(open('davs', secure(), via({ url: proxy.url }), later).stat('/'), rejectsWith('Unavailable', /changed since you trusted it/, 'tls'));
      } finally {
        await apache.changeCertificate(true);
      }
    });

    test('proxy credentials: from the proxy address or http.proxyAuthorization they are sent, for forwarded requests and tunnels; missing or wrong, a clear message that says where to put them, and a cached share stays online', async () => {
      const auth = `Basic ${Buffer.from(`${PROXY_USER.user}:${PROXY_USER.password}`).toString('base64')}`;
      const viaHeader = open('dav', plain(), via({ url: authProxy.url, authorization: auth }), new ScriptedAccess({ credentials: GOOD }));
      assert.equal(text(await viaHeader.readFile('/a.txt')), 'alpha');
      const tunnel = open('davs', secure(), via({ url: authProxy.urlWithCredentials }), new ScriptedAccess({ credentials: GOOD, access: pinned() }));
      assert.equal(text(await tunnel.readFile('/a.txt')), 'alpha');

      const where = /^(?=.*proxy .*asks for a user name and password)(?=.*HTTP 407)(?=.*http\.proxy \(http:\/\/user:password@host:port\))(?=.*http\.proxyAuthorization)/;
      const missing = open('dav', plain(), via({ url: authProxy.url }), new ScriptedAccess({ credentials: GOOD }), true);
      await missing.hasCache();
      await assert.rejects(missing.stat('/a.txt'), rejectsWith('Other', where));
      assert.equal(missing.connectionState?.kind, 'online', 'a proxy asking for credentials is not "unreachable"');
      const wrong = `http://${PROXY_USER.user}:nope@${authProxy.url.replace(/^http:\/\//, '')}`;
      await assert.rejects(open('davs', secure(), via({ url: wrong }), new ScriptedAccess({ access: pinned() })).stat('/'), rejectsWith('Other', where));
    });

    test('http.noProxy and NO_PROXY: a listed host is reached directly; HTTPS_PROXY is used when http.proxy is empty; 127.0.0.1 never goes through a proxy', async () => {
      const count = () => proxy.requests().length;
      let before = count();
      assert.equal(text(await open('dav', plain(), via({ url: proxy.url, noProxy: ['127.0.0.2'] }), new ScriptedAccess({ credentials: GOOD })).readFile('/a.txt')), 'alpha');
      assert.equal(text(await open('dav', plain(), via({ url: proxy.url }, { NO_PROXY: 'example.com,127.0.0.2' }), new ScriptedAccess({ credentials: GOOD })).readFile('/a.txt')), 'alpha');
      assert.equal(count(), before, 'the proxy carried nothing');

      before = count();
      assert.equal(text(await open('dav', plain(), via({}, { HTTPS_PROXY: proxy.url }), new ScriptedAccess({ credentials: GOOD })).readFile('/a.txt')), 'alpha');
      assert.ok(count() > before, 'HTTPS_PROXY was used');

      // http.noProxy, when it has entries, is what counts (NO_PROXY is not read then)
      before = count();
      await open('dav', plain(), via({ url: proxy.url, noProxy: ['other.example'] }, { NO_PROXY: '127.0.0.2' }), new ScriptedAccess({ credentials: GOOD })).stat('/');
      assert.ok(count() > before, 'through the proxy');

      const direct = await startApacheTls({ root: disk.path, users: USERS, host: '127.0.0.1' });
      try {
        before = count();
        const loopback = open('dav', direct.authority('plain'), via({ url: proxy.url }), new ScriptedAccess({ credentials: GOOD }));
        assert.equal(text(await loopback.readFile('/a.txt')), 'alpha');
        assert.equal(count(), before, '127.0.0.1 was reached directly');
      } finally {
        await direct.close();
      }
    });

    test('a proxy that cannot be reached: the server is unreachable (a cached share goes offline) and the message names the proxy', async () => {
      const closed = `http://127.0.0.1:${await freePort()}`;
      const share = open('dav', plain(), via({ url: closed }), new ScriptedAccess({ credentials: GOOD }), true);
      await share.hasCache();
      await assert.rejects(share.readFile('/a.txt'), (err: unknown) => {
        // the cache says what it can (never downloaded); the cause says why
        assert.ok(err instanceof ShareError && err.cause instanceof ShareError, String(err));
        assert.match(err.cause.message, new RegExp(`refused.*through the proxy ${closed.replace(/[/.]/g, '\\$&')}`));
        return true;
      });
      assert.equal(share.connectionState?.kind, 'offline');
      const tunnel = open('davs', secure(), via({ url: closed }), new ScriptedAccess({ access: pinned() }));
      await assert.rejects(tunnel.stat('/'), rejectsWith('Unavailable', /through the proxy/, 'refused'));
    });

    test('an https:// proxy with a self-signed certificate: refused while http.proxyStrictSSL is on (never a trust prompt for it), used when it is off', async () => {
      const access = new ScriptedAccess({ credentials: GOOD, trust: [true] });
      await assert.rejects(
        open('dav', plain(), via({ url: tlsProxy.url, strictSSL: true }), access).stat('/'),
        rejectsWith('Unavailable', /proxy https:\/\/127\.0\.0\.1:\d+.*http\.proxyStrictSSL/, 'tls'),
      );
      await assert.rejects(
        open('davs', secure(), via({ url: tlsProxy.url, strictSSL: true }), new ScriptedAccess({ access: pinned() })).stat('/'),
        rejectsWith('Unavailable', /http\.proxyStrictSSL/, 'tls'),
      );
      assert.equal(access.trustAsked.length, 0, "the proxy's certificate is not the share's to trust");
      assert.equal(text(await open('dav', plain(), via({ url: tlsProxy.url, strictSSL: false }), new ScriptedAccess({ credentials: GOOD })).readFile('/a.txt')), 'alpha');
      const tunnel = open('davs', secure(), via({ url: tlsProxy.url, strictSSL: false }), new ScriptedAccess({ credentials: GOOD, access: pinned() }));
      assert.equal(text(await tunnel.readFile('/a.txt')), 'alpha');
    });
  });
});
