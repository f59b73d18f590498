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

suite('credentials in addresses', () => {
  test('user info is split off an authority, never part of it', async () => {
    const { splitAuthority } = await import('../../src/core/shareLocation');
    assert.deepEqual(splitAuthority('alice:s3cret@Host:8080'), { authority: 'host:8080', username: 'alice', password: 's3cret' });
    assert.deepEqual(splitAuthority('alice@host'), { authority: 'host', username: 'alice', password: undefined });
    assert.deepEqual(splitAuthority('a%40b:p%3Aw%40d@host'), { authority: 'host', username: 'a@b', password: 'p:w@d' });
    assert.deepEqual(splitAuthority('host:1'), { authority: 'host:1' });
  });

  test('a password never appears in a key or an error message', async () => {
    const { parseShareUrl, redactAddress, shareKey } = await import('../../src/core/shareLocation');
    const parsed = parseShareUrl('dav://alice:pw-secret@host:8080/dav/');
    assert.equal(parsed.password, 'pw-secret');
    assert.ok(!shareKey(parsed.location).includes('pw-secret'));
    assert.throws(() => parseShareUrl('http://alice:pw-secret@ho st/'), (e: Error) => !e.message.includes('pw-secret') && /not a valid address/.test(e.message));
    assert.equal(redactAddress('see https://alice:pw@h/x and dav://bob@h2/'), 'see https://h/x and dav://h2/');
    assert.equal(redactAddress('alice:pw@host/x'), 'host/x');
  });
});
