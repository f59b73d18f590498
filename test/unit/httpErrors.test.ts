import * as assert from 'node:assert/strict';
import { ShareError } from '../../src/core/errors';
import { classifyError, type Method } from '../../src/remote/httpErrors';

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
});
