// Hrefs from a server become share paths only when they can be trusted (remote/hrefs.ts), and etags
// that could not be sent back as a header count as absent (remote/etag.ts).
import * as assert from 'node:assert/strict';
import { normalizeEtag } from '../../src/remote/etag';
import { hrefToSharePath } from '../../src/remote/hrefs';

const ORIGIN = 'http://h:8080';
const path = (href: string, base = '/share') => {
  const r = hrefToSharePath(href, ORIGIN, base);
  return 'path' in r ? r.path : `skip: ${r.skip}`;
};

suite('hrefs', () => {
  test('absolute paths and URLs of the share origin map to decoded share paths', () => {
    assert.equal(path('/share/a%20b/'), '/a b');
    assert.equal(path('http://h:8080/share/a/b%2Bc'), '/a/b+c');
    assert.equal(path('HTTP://H:8080/share/x'), '/x', 'scheme and host compare case-insensitively');
    assert.equal(path('/share/'), '/');
    assert.equal(path('/share'), '/');
    assert.equal(path('/a+b/', '/'), '/a+b');
    assert.equal(path('/share/%C3%BC%23.txt'), '/ü#.txt');
    assert.equal(path('/share/per%cent.txt'), '/per%cent.txt', 'a bare % is kept as sent');
  });

  test('backslashes are part of a name, never a separator', () => {
    assert.equal(path('/share/..%5C%5Cvictim.txt'), '/..\\\\victim.txt');
    assert.equal(path('/share/..\\\\victim.txt'), '/..\\\\victim.txt');
  });

  test('what cannot be trusted or shown is skipped', () => {
    assert.match(path('http://evil:8080/share/a'), /^skip: on another server/);
    assert.match(path('http://h:8081/share/a'), /^skip: on another server/, 'another port is another origin');
    assert.match(path('https://h:8080/share/a'), /^skip: on another server/);
    assert.match(path('//evil/share/a'), /^skip: on another server/);
    assert.match(path('a.txt'), /^skip: a relative address/);
    assert.match(path('/share/../etc/passwd'), /^skip: a "\.\." segment/);
    assert.match(path('/share/%2e%2e/etc'), /^skip: a "\.\." segment/);
    assert.match(path('/share/./a'), /^skip: a "\." segment/);
    assert.match(path('/share/a%2Fb.txt'), /^skip: a name with a "\/"/);
    assert.match(path('/share/a%00b'), /^skip: a name with control characters/);
    assert.match(path('/share/a%0Ab'), /^skip: a name with control characters/);
    assert.match(path('/share/x%C2%85name.txt'), /^skip: a name with control characters/, 'C1 controls too');
    assert.match(path('/other/a'), /^skip: outside the share/);
    assert.match(path('/sharex/a'), /^skip: outside the share/);
    assert.match(path('/share/a?x=1'), /^skip: an address with a query/);
  });

  test('etags that cannot be sent back count as absent', () => {
    assert.equal(normalizeEtag('"abc"'), '"abc"');
    assert.equal(normalizeEtag('W/"abc"'), 'W/"abc"');
    assert.equal(normalizeEtag('2e8d29c6'), '"2e8d29c6"');
    assert.equal(normalizeEtag('"a\nb"'), undefined);
    assert.equal(normalizeEtag('"a\u0000b"'), undefined);
    assert.equal(normalizeEtag('"a\rb"'), undefined);
    assert.equal(normalizeEtag(`"${'x'.repeat(2000)}"`), undefined);
    assert.equal(normalizeEtag('"ü✓"'), undefined, 'a header cannot carry it');
    assert.equal(normalizeEtag(''), undefined);
  });
});
