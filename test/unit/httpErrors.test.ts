import * as assert from 'node:assert/strict';
import { ShareError } from '../../src/core/errors';
import { classifyError, classifyStatus, MAX_RETRY_AFTER_MS, parseRetryAfter, type Method } from '../../src/remote/httpErrors';

/** Shapes as the `webdav` client, node-fetch and the browser's fetch throw them (see reference doc). */
const httpError = (status: number, statusText = '') =>
  Object.assign(new Error(`Invalid response: ${status} ${statusText}`), { status, response: { status, statusText } });
const fetchError = (code: string) => Object.assign(new Error(`request failed, reason: ${code}`), { name: 'FetchError', code, type: 'system' });

suite('httpErrors', () => {
  test('HTTP statuses map to the core vocabulary, per method where it matters', () => {
    const table: [number, Method, string][] = [
      [401, 'GET', 'Unauthorized'],
      [403, 'PUT', 'NoPermissions'],
      [404, 'PROPFIND', 'NotFound'],
      [405, 'MKCOL', 'Exists'],
      [405, 'DELETE', 'Rejected'],
      [409, 'PUT', 'NotFound'],
      [409, 'MKCOL', 'NotFound'],
      [409, 'PROPFIND', 'Rejected'],
      [412, 'PUT', 'Conflict'],
      [412, 'MOVE', 'Conflict'],
      [423, 'PUT', 'Locked'],
      [507, 'PUT', 'InsufficientStorage'],
      [400, 'PUT', 'Rejected'],
      [414, 'GET', 'Rejected'],
      [500, 'GET', 'Unavailable'],
      [502, 'GET', 'Unavailable'],
      [503, 'PROPFIND', 'Unavailable'],
      [418, 'GET', 'Other'],
    ];
    for (const [status, method, code] of table) {
      const e = classifyError(httpError(status, 'X'), method, '/a b.txt');
      assert.equal(e.code, code, `${method} ${status}`);
      assert.equal(e.status, status);
      assert.match(e.message, new RegExp(`^${method} /a b\\.txt: .+ \\(HTTP ${status} X\\)$`));
    }
    assert.equal(classifyError(httpError(503), 'GET', '/').reason, 'server');
  });

  test('network failures are Unavailable with a reason', () => {
    const table: [unknown, string][] = [
      [fetchError('ECONNREFUSED'), 'refused'],
      [fetchError('ENOTFOUND'), 'dns'],
      [fetchError('EAI_AGAIN'), 'dns'],
      [fetchError('ECONNRESET'), 'reset'],
      [fetchError('ETIMEDOUT'), 'timeout'],
      [fetchError('EHOSTUNREACH'), 'network'],
      [Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }), 'refused'],
      [new TypeError('fetch failed'), 'network'],
      [new TypeError('Failed to fetch'), 'network'],
      [new TypeError('NetworkError when attempting to fetch resource.'), 'network'],
      [Object.assign(new Error('The operation was aborted.'), { name: 'AbortError', type: 'aborted' }), 'timeout'],
      [Object.assign(new Error('The operation timed out.'), { name: 'TimeoutError' }), 'timeout'],
      [new Error('socket hang up'), 'reset'],
      [fetchError('CERT_HAS_EXPIRED'), 'tls'],
      [fetchError('DEPTH_ZERO_SELF_SIGNED_CERT'), 'tls'],
    ];
    for (const [err, reason] of table) {
      const e = classifyError(err, 'PROPFIND', '/');
      assert.equal(e.code, 'Unavailable', String((err as Error).message));
      assert.equal(e.reason, reason, String((err as Error).message));
      assert.equal(e.cause, err, 'the original error is kept as the cause');
    }
  });

  test('a non-WebDAV answer is Rejected; anything else is Other, never swallowed', () => {
    assert.equal(classifyError(new Error('Invalid response: No root multistatus found'), 'PROPFIND', '/').code, 'Rejected');
    const odd = classifyError(new RangeError('boom'), 'GET', '/x');
    assert.equal(odd.code, 'Other');
    assert.match(odd.message, /GET \/x: boom/);
    const already = new ShareError('Exists', 'kept');
    assert.equal(classifyError(already, 'PUT', '/'), already);
  });

  test('429 and 503 are a busy server: Unavailable, with the Retry-After they carry (seconds or a date, capped)', () => {
    const answer = (status: number, retryAfter?: string) => ({ response: { status, headers: { get: (n: string) => (n.toLowerCase() === 'retry-after' ? (retryAfter ?? null) : null) } } });
    const busy = classifyStatus(429, 'GET', '/a.txt', answer(429, '2'), 'Too Many Requests');
    assert.equal(busy.code, 'Unavailable');
    assert.equal(busy.reason, 'server');
    assert.equal(busy.retryAfterMs, 2_000);
    assert.equal(busy.message, 'GET /a.txt: the server asks to slow down (too many requests); it asks to wait 2 s (HTTP 429 Too Many Requests)');
    assert.equal(busy.prefixed('pin').retryAfterMs, 2_000);
    const down = classifyStatus(503, 'PROPFIND', '/', answer(503));
    assert.equal(down.code, 'Unavailable');
    assert.equal(down.retryAfterMs, undefined);
    assert.match(down.message, /unavailable for now .* \(HTTP 503\)$/);
    assert.equal(classifyStatus(503, 'GET', '/', answer(503, '86400')).retryAfterMs, MAX_RETRY_AFTER_MS);
    const now = Date.parse('2026-11-29T12:00:00Z');
    assert.equal(parseRetryAfter('Sun, 29 Nov 2026 12:00:05 GMT', now), 5_000);
    assert.equal(parseRetryAfter('Sunday, 29-Nov-26 12:00:07 GMT', now), 7_000);
    assert.equal(parseRetryAfter('Sun, 29 Nov 2026 11:00:00 GMT', now), 0, 'a date in the past: now');
    assert.equal(parseRetryAfter('Mon, 30 Nov 2026 12:00:00 GMT', now), MAX_RETRY_AFTER_MS);
    assert.equal(parseRetryAfter(' 0 ', now), 0);
    for (const bad of [null, undefined, '', '-1', '1.5', 'soon', '2026-11-29', 'Sun, 99 Foo 2026 12:00:00 GMT', '1e3']) {
      assert.equal(parseRetryAfter(bad, now), undefined, String(bad));
    }
  });
});
