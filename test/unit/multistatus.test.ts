import * as assert from 'node:assert/strict';
import { normalizeEtag, isWeakEtag } from '../../src/remote/etag';
import { MultistatusError, parseMultistatus, parseStatusLine } from '../../src/remote/multistatus';

const ms = (responses: string) => `<?xml version="1.0"?><d:multistatus xmlns:d="DAV:">${responses}</d:multistatus>`;

suite('etag', () => {
  test('normalizeEtag keeps quoted and weak etags and quotes bare ones', () => {
    const table: [unknown, string | undefined][] = [
      ['"abc"', '"abc"'],
      ['W/"5-66"', 'W/"5-66"'],
      ['w/"x"', 'W/"x"'],
      ['2e8d29c6', '"2e8d29c6"'],
      ['-554e0345', '"-554e0345"'],
      ['12345678', '"12345678"'],
      [12345678, '"12345678"'],
      ['W/abc', 'W/"abc"'],
      ['', undefined],
      [undefined, undefined],
      [null, undefined],
    ];
    for (const [input, expected] of table) assert.equal(normalizeEtag(input), expected, String(input));
    assert.equal(isWeakEtag('W/"a"'), true);
    assert.equal(isWeakEtag('"a"'), false);
  });
});

suite('multistatus', () => {
  test('keeps etags as text: all digits, hex with e, negative, quoted, weak', () => {
    const items = parseMultistatus(
      ms(
        ['12345678', '-554e0345', '"q"', 'W/"w"', '1e5'].map(
          (etag, i) =>
            `<d:response><d:href>/f${i}</d:href><d:propstat><d:prop><d:getetag>${etag}</d:getetag><d:resourcetype/></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`,
        ).join(''),
      ),
    );
    assert.deepEqual(items.map(i => i.props?.etag), ['"12345678"', '"-554e0345"', '"q"', 'W/"w"', '"1e5"']);
  });

  test('reads types, sizes, dates; merges several propstats; ignores 404 props', () => {
    const [dir, file] = parseMultistatus(
      ms(
        `<d:response><d:href>http://h:1/share/a%20b/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype>` +
          `<d:getlastmodified>Sun, 22 Nov 2026 00:00:00 GMT</d:getlastmodified></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>` +
          `<d:propstat><d:prop><d:getcontentlength/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response>` +
          `<d:response><d:href>/share/a%20b/%C3%BC%23.txt</d:href><d:propstat><d:prop><d:resourcetype/><d:getcontentlength>42</d:getcontentlength>` +
          `<d:getcontenttype>text/plain</d:getcontenttype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>` +
          `<d:propstat><d:prop><lp1:getlastmodified xmlns:lp1="DAV:" ns0:dt="dateTime.rfc1123" xmlns:ns0="urn:uuid:c2f41010-65b3-11d1-a29f-00aa00c14882/">Sun, 22 Nov 2026 01:00:00 GMT</lp1:getlastmodified>` +
          `<d:creationdate>2026-11-21T10:00:00Z</d:creationdate></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`,
      ),
    );
    assert.equal(dir.href, 'http://h:1/share/a%20b/', 'the href as sent (remote/hrefs.ts decodes it)');
    assert.equal(dir.props?.type, 'directory');
    assert.equal(dir.props?.size, 0);
    assert.equal(dir.props?.mtime, Date.UTC(2026, 10, 22));
    assert.equal(file.href, '/share/a%20b/%C3%BC%23.txt');
    assert.equal(file.props?.type, 'file');
    assert.equal(file.props?.size, 42);
    assert.equal(file.props?.mtime, Date.UTC(2026, 10, 22, 1), 'lighttpd-style date with attributes');
    assert.equal(file.props?.ctime, Date.UTC(2026, 10, 21, 10));
    assert.equal(file.props?.contentType, 'text/plain');
  });

  test('response-level statuses (207 answers to MOVE/COPY) are read', () => {
    const [item] = parseMultistatus(ms('<d:response><d:href>/a</d:href><d:status>HTTP/1.1 412 Precondition Failed</d:status></d:response>'));
    assert.equal(item.status, 412);
    assert.equal(item.props, undefined);
  });

  test('an empty multistatus has no items; HTML is not a multistatus', () => {
    assert.deepEqual(parseMultistatus(ms('')), []);
    assert.throws(() => parseMultistatus('<html><body>hi</body></html>'), (e: unknown) => e instanceof MultistatusError && /not a WebDAV multistatus/.test(e.message));
    assert.throws(() => parseMultistatus(''), MultistatusError, 'an empty body is not a multistatus');
  });

  test('entities are never expanded: billion laughs and XXE are errors', () => {
    const laughs = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>' + ms('<d:response><d:href>&b;</d:href></d:response>');
    assert.throws(() => parseMultistatus(laughs), (e: unknown) => e instanceof MultistatusError && e.kind === 'invalid');
    const xxe = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + ms('<d:response><d:href>/&x;</d:href></d:response>');
    assert.throws(() => parseMultistatus(xxe), MultistatusError);
    assert.throws(() => parseMultistatus(ms('<d:response><d:href>/&x;</d:href></d:response>')), /undefined entity|malformed/);
  });

  test('limits: entries, nesting depth, value length', () => {
    const many = ms('<d:response><d:href>/a</d:href><d:propstat><d:prop><d:resourcetype/></d:prop></d:propstat></d:response>'.repeat(11));
    assert.throws(() => parseMultistatus(many, { maxEntries: 10 }), (e: unknown) => e instanceof MultistatusError && e.kind === 'limit');
    assert.equal(parseMultistatus(many, { maxEntries: 11 }).length, 11);
    const deep = ms('<d:response>' + '<x>'.repeat(100) + '</x>'.repeat(100) + '</d:response>');
    assert.throws(() => parseMultistatus(deep), /nested more than/);
    const longEtag = ms(`<d:response><d:href>/a</d:href><d:propstat><d:prop><d:resourcetype/><d:getetag>"${'x'.repeat(20_000)}"</d:getetag></d:prop></d:propstat></d:response>`);
    assert.equal(parseMultistatus(longEtag)[0].props?.etag, undefined, 'an absurdly long etag counts as absent');
    const longHref = ms(`<d:response><d:href>/${'a'.repeat(20_000)}</d:href><d:propstat><d:prop><d:resourcetype/></d:prop></d:propstat></d:response>`);
    assert.deepEqual(parseMultistatus(longHref), [], 'an entry with an absurdly long href is skipped');
  });

  test('parseStatusLine', () => {
    assert.equal(parseStatusLine('HTTP/1.1 207 Multi-Status'), 207);
    assert.equal(parseStatusLine('garbage'), undefined);
  });
});
