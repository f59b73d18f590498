import * as assert from 'node:assert/strict';
import { httpBaseUrl, httpOrigin, parseShareUrl, shareKey } from '../../src/core/shareLocation';

suite('shareLocation', () => {
  test('parseShareUrl accepts http(s), dav(s), webdav(s) and bare host addresses', () => {
    const table: [string, string, string, string][] = [
      ['http://Example.com/dav/', 'dav', 'example.com', '/dav'],
      ['https://example.com:8443/a/b', 'davs', 'example.com:8443', '/a/b'],
      ['dav://127.0.0.1:8080/share/', 'dav', '127.0.0.1:8080', '/share'],
      ['davs://host/', 'davs', 'host', '/'],
      ['webdav://host/x', 'dav', 'host', '/x'],
      ['webdavs://host/x', 'davs', 'host', '/x'],
      ['  host:81/my%20files  ', 'dav', 'host:81', '/my files'],
      ['http://[::1]:8080/s', 'dav', '[::1]:8080', '/s'],
      ['http://host/a%23b', 'dav', 'host', '/a#b'],
    ];
    for (const [input, scheme, authority, basePath] of table) {
      assert.deepEqual(parseShareUrl(input).location, { scheme, authority, basePath }, input);
    }
  });

  test('parseShareUrl moves credentials out of the address', () => {
    const parsed = parseShareUrl('https://alice:p%40ss@host/dav/');
    assert.equal(parsed.username, 'alice');
    assert.equal(parsed.password, 'p@ss');
    assert.equal(shareKey(parsed.location), 'davs://host/dav/');
    assert.doesNotMatch(JSON.stringify(parsed.location), /p@ss|alice/);
  });

  test('parseShareUrl explains what is wrong', () => {
    assert.throws(() => parseShareUrl(''), /Enter the address/);
    assert.throws(() => parseShareUrl('ftp://host/'), /not a WebDAV address/);
    assert.throws(() => parseShareUrl('http://host/a?b'), /cannot contain/);
    assert.throws(() => parseShareUrl('http://'), /not a valid address|no host/);
  });

  test('shareKey, httpOrigin and httpBaseUrl', () => {
    const loc = { scheme: 'davs' as const, authority: 'h:1', basePath: '/my share' };
    assert.equal(shareKey(loc), 'davs://h:1/my share/');
    assert.equal(httpOrigin(loc), 'https://h:1');
    assert.equal(httpBaseUrl(loc), 'https://h:1/my%20share');
    assert.equal(httpBaseUrl({ ...loc, scheme: 'dav', basePath: '/' }), 'http://h:1');
  });
});
