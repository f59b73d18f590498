// The pure parts of the transport and sign-in work: which proxy a share's requests take (VS Code's
// rules), no-proxy matching, fingerprints and the certificate text of the trust prompt, the saved
// options of a share, the schemes a 401 offers, and how TLS problems, Windows-only sign-in and proxy
// failures are classified.
import * as assert from 'node:assert/strict';
import { describeCertificate, describeTrustReason, normalizeFingerprint, tlsProblemOf, type CertificateInfo, type TlsProblem } from '../../src/core/certificates';
import { ShareError } from '../../src/core/errors';
import { bypassesProxy, NO_PROXY_SETTINGS, ProxyConfigError, resolveProxy, type ProxySettings } from '../../src/core/proxy';
import { findShareOptions } from '../../src/core/settings';
import { isNetworkFailure } from '../../src/offline/connection';
import { authSchemes, classifyError } from '../../src/remote/httpErrors';

const settings = (s: Partial<ProxySettings> = {}): ProxySettings => ({ ...NO_PROXY_SETTINGS, ...s });
const route = (url: string, s: Partial<ProxySettings> = {}, env: Record<string, string> = {}) => resolveProxy(new URL(url), settings(s), env);

const CERT: CertificateInfo = {
  fingerprint: 'AB:'.repeat(31) + 'AB',
  subject: 'CN=nas.example, O=Test NAS',
  issuer: 'CN=nas.example, O=Test NAS',
  altNames: 'DNS:nas.example, IP Address:192.168.1.5',
  validFrom: '2025-01-01T00:00:00.000Z',
  validTo: '2035-01-01T00:00:00.000Z',
};

suite('transport: proxy routes (VS Code\'s rules)', () => {
  test('http.proxy is used for http: and https: shares; credentials in it become the Proxy-Authorization header', () => {
    const r = route('https://nas.example:5006/home', { url: 'http://bob:p%40ss@proxy.corp:3128' });
    assert.equal(r.kind, 'proxy');
    if (r.kind !== 'proxy') return;
    assert.deepEqual([r.protocol, r.host, r.port, r.source, r.display], ['http:', 'proxy.corp', 3128, 'http.proxy', 'http://proxy.corp:3128']);
    assert.equal(r.authorization, `Basic ${Buffer.from('bob:p@ss').toString('base64')}`);
    assert.equal(route('http://nas.example/', { url: 'proxy.corp:8080' }).kind, 'proxy', 'host:port alone is an http proxy');
  });

  test('http.proxyAuthorization is the header when the address has no credentials; http.proxyStrictSSL goes with the route', () => {
    const r = route('https://nas.example/', { url: 'https://proxy.corp', authorization: 'Negotiate abc', strictSSL: false });
    assert.ok(r.kind === 'proxy');
    assert.deepEqual([r.protocol, r.port, r.authorization, r.strictSSL], ['https:', 443, 'Negotiate abc', false]);
  });

  test('loopback hosts never go through a proxy; http.proxySupport off means no proxy at all', () => {
    for (const url of ['http://localhost:8080/', 'http://127.0.0.1/', 'http://[::1]:81/', 'https://LOCALHOST/']) {
      assert.deepEqual(route(url, { url: 'http://proxy:1' }), { kind: 'direct', why: 'a loopback address' }, url);
    }
    assert.equal(route('http://127.0.0.2/', { url: 'http://proxy:1' }).kind, 'proxy', 'only the addresses VS Code names');
    assert.equal(route('http://nas/', { url: 'http://proxy:1', support: 'off' }).kind, 'direct');
  });

  test('the environment: https_proxy, HTTPS_PROXY, http_proxy, HTTP_PROXY (first set wins, whatever the scheme), only when http.proxy is empty', () => {
    const env = { HTTP_PROXY: 'http://p4:4', http_proxy: 'http://p3:3', HTTPS_PROXY: 'http://p2:2' };
    const r = route('http://nas/', {}, env);
    assert.ok(r.kind === 'proxy');
    assert.deepEqual([r.host, r.source], ['p2', 'HTTPS_PROXY']);
    const s = route('https://nas/', { url: 'http://setting:9' }, env);
    assert.ok(s.kind === 'proxy' && s.host === 'setting');
    assert.deepEqual(route('http://nas/', {}, {}), { kind: 'direct', why: 'no proxy is configured' });
  });

  test('http.noProxy, when it has entries, decides; else NO_PROXY (no_proxy first)', () => {
    assert.equal(route('http://dav.example.com/', { url: 'http://p:1', noProxy: ['example.com'] }).kind, 'direct');
    assert.equal(route('http://dav.example.com/', { url: 'http://p:1', noProxy: ['other.com'] }, { NO_PROXY: 'example.com' }).kind, 'proxy', 'NO_PROXY is not read then');
    assert.equal(route('http://dav.example.com/', { url: 'http://p:1' }, { NO_PROXY: 'x.org, .example.com' }).kind, 'direct');
    assert.equal(route('http://dav.example.com/', { url: 'http://p:1' }, { no_proxy: 'x.org', NO_PROXY: 'example.com' }).kind, 'proxy');
  });

  test('a SOCKS proxy or an address that is not one fails loudly instead of going direct', () => {
    assert.throws(() => route('http://nas/', { url: 'socks5://p:1080' }), (e: unknown) => e instanceof ProxyConfigError && /SOCKS5 proxy.*not support.*http\.noProxy/.test(e.message));
    assert.throws(() => route('http://nas/', {}, { HTTPS_PROXY: 'http://[broken' }), ProxyConfigError);
  });

  test('no-proxy matching: *, names and everything below them, .domain, name:port, IP addresses', () => {
    const table: [string, string, string[], boolean][] = [
      ['nas.example.com', '443', ['*'], true],
      ['nas.example.com', '443', ['example.com'], true],
      ['nas.example.com', '443', ['.example.com'], true],
      ['example.com', '443', ['.example.com'], true],
      ['badexample.com', '443', ['example.com'], false],
      ['nas.example.com', '443', ['nas.example.com:5006'], false],
      ['nas.example.com', '5006', ['nas.example.com:5006'], true],
      ['10.0.0.5', '80', ['10.0.0.5'], true],
      ['10.0.0.50', '80', ['10.0.0.5'], false],
      ['::1', '80', ['[::1]:80'], true],
      ['nas', '80', ['', ' '], false],
    ];
    for (const [host, port, list, want] of table) assert.equal(bypassesProxy(host, port, list), want, `${host}:${port} ${JSON.stringify(list)}`);
  });
});

suite('transport: certificates', () => {
  test('fingerprints are normalized to upper-case pairs; anything else is refused', () => {
    const hex = 'ab'.repeat(32);
    assert.equal(normalizeFingerprint(hex), 'AB:'.repeat(31) + 'AB');
    assert.equal(normalizeFingerprint(hex.match(/../g)!.join(':')), 'AB:'.repeat(31) + 'AB');
    assert.equal(normalizeFingerprint('ab'.repeat(31)), undefined);
    assert.equal(normalizeFingerprint('zz'.repeat(32)), undefined);
  });

  test('the prompt shows fingerprint, subject, issuer (self-signed said so), names and validity', () => {
    assert.equal(
      describeCertificate(CERT),
      [
        `SHA-256 fingerprint: ${CERT.fingerprint}`,
        'Subject: CN=nas.example, O=Test NAS',
        'Issuer: CN=nas.example, O=Test NAS (self-signed)',
        'Names: DNS:nas.example, IP Address:192.168.1.5',
        'Valid: 2025-01-01 to 2035-01-01',
      ].join('\n'),
    );
    assert.match(describeTrustReason('DEPTH_ZERO_SELF_SIGNED_CERT'), /self-signed/);
    assert.match(describeTrustReason('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), /authority this computer does not know/);
    assert.equal(describeTrustReason('CERT_HAS_EXPIRED', CERT), 'it expired on 2035-01-01');
    assert.match(describeTrustReason('ERR_TLS_CERT_ALTNAME_INVALID', CERT), /another name \(DNS:nas\.example/);
    assert.match(describeTrustReason('SOMETHING_NEW'), /SOMETHING_NEW/);
  });

  test('a TLS problem is found along the causes; TLS failures are never "unreachable"', () => {
    const problem: TlsProblem = { kind: 'untrusted', reason: 'DEPTH_ZERO_SELF_SIGNED_CERT', certificate: CERT };
    const raw = Object.assign(new Error('x'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT', tlsProblem: problem });
    const e = classifyError(raw, 'PROPFIND', '/');
    assert.equal(e.code, 'Unavailable');
    assert.equal(e.reason, 'tls');
    assert.match(e.message, /^PROPFIND \/: the server's certificate is not trusted: it is self-signed .*\(SHA-256 AB:AB:/);
    assert.equal(tlsProblemOf(new ShareError('Unavailable', 'wrapped', { cause: e })), problem);
    assert.equal(isNetworkFailure(e), false);

    const changed = classifyError(Object.assign(new Error('x'), { code: 'CERT_CHANGED', tlsProblem: { kind: 'changed', pinned: 'OLD', certificate: CERT } }), 'GET', '/a');
    assert.match(changed.message, new RegExp(`changed since you trusted it for this share — it was OLD, it is now ${CERT.fingerprint}.*Nothing was sent.*Review Server Certificate`));
    const required = classifyError(Object.assign(new Error('alert'), { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' }), 'GET', '/a');
    assert.equal(required.reason, 'tls');
    assert.match(required.message, /asks for a client certificate.*clientCertificate.*webdavOffline\.shares/);
  });
});

suite('transport: saved share options', () => {
  test('an entry matches its share by scheme, host and port and base path, however the address is written', () => {
    const shares = [
      { address: 'https://nas.example:5006/home', caFile: '/a' },
      { address: 'not an address://' },
      { address: 'davs://NAS.example:5006/home/', caFile: '/second' },
      { address: 'http://nas.example:5006/home/', caFile: '/plain' },
    ];
    assert.equal(findShareOptions(shares, { scheme: 'davs', authority: 'nas.example:5006', basePath: '/home' })?.caFile, '/a', 'the first entry that matches');
    assert.equal(findShareOptions(shares, { scheme: 'dav', authority: 'nas.example:5006', basePath: '/home' })?.caFile, '/plain');
    assert.equal(findShareOptions(shares, { scheme: 'davs', authority: 'nas.example:5006', basePath: '/home/sub' }), undefined);
    assert.equal(findShareOptions(shares, { scheme: 'davs', authority: 'nas.example', basePath: '/home' }), undefined);
  });
});

suite('transport: what a 401 offers, and proxy failures', () => {
  const unauthorized = (header: string) =>
    classifyError(
      Object.assign(new Error('Invalid response: 401'), { status: 401, response: { status: 401, statusText: 'Unauthorized', headers: { get: (n: string) => (n === 'www-authenticate' ? header : null) } } }),
      'PROPFIND',
      '/',
    );

  test('the schemes of a WWW-Authenticate header, quoted commas and parameters aside', () => {
    assert.deepEqual(authSchemes('Digest realm="a, b", nonce="x=y", algorithm=MD5, qop="auth"'), ['digest']);
    assert.deepEqual(authSchemes('Negotiate, NTLM'), ['negotiate', 'ntlm']);
    assert.deepEqual(authSchemes('Basic realm="dav", charset="UTF-8", Digest realm="dav", qop="auth"'), ['basic', 'digest']);
    assert.deepEqual(authSchemes('Negotiate YIIabc=='), ['negotiate']);
    assert.deepEqual(authSchemes('Bearer realm="x", error="invalid_token"'), ['bearer']);
    assert.deepEqual(authSchemes(null), []);
  });

  test('a 401 that offers only Windows sign-in says so (never "a user name and password"); any other 401 is Unauthorized', () => {
    for (const header of ['Negotiate', 'NTLM', 'Negotiate, NTLM']) {
      const e = unauthorized(header);
      assert.equal(e.code, 'Other', header);
      assert.match(e.message, /asks for Windows sign-in \(Negotiate\/NTLM\), which WebDAV Offline does not support; ask its administrator for an app password, or for Basic sign-in over HTTPS/);
    }
    assert.equal(unauthorized('Negotiate, Basic realm="x"').code, 'Unauthorized');
    assert.equal(unauthorized('Digest realm="x"').code, 'Unauthorized');
  });

  test('proxy failures name the proxy and say what to do', () => {
    const tag = (code: string, message = 'x') => Object.assign(new Error(message), { code, proxy: 'http://proxy:3128' });
    const auth = classifyError(tag('ERR_PROXY_AUTH'), 'GET', '/a');
    assert.equal(auth.code, 'Other');
    assert.match(auth.message, /the proxy http:\/\/proxy:3128 asks for a user name and password.*http\.proxy.*http\.proxyAuthorization/);
    const refused = classifyError(tag('ECONNREFUSED'), 'GET', '/a');
    assert.equal(refused.reason, 'refused');
    assert.match(refused.message, /through the proxy http:\/\/proxy:3128/);
    assert.equal(isNetworkFailure(refused), true, 'an unreachable proxy: the server cannot be reached from here');
    const strict = classifyError(tag('DEPTH_ZERO_SELF_SIGNED_CERT'), 'GET', '/a');
    assert.equal(strict.reason, 'tls');
    assert.match(strict.message, /proxy http:\/\/proxy:3128.*http\.proxyStrictSSL/);
    assert.match(classifyError(Object.assign(new Error('Invalid response: 407'), { status: 407 }), 'GET', '/').message, /proxy .*user name and password/);
  });
});
