// Provider semantics (share facade + WebDAV remote) against real servers: nephele in-process, and Apache
// mod_dav_fs and lighttpd mod_webdav from Debian — the cases are shareCases.ts's, run through node-fetch
// and through the Node transport (proxy.test.ts runs them once more through a real proxy) — and what
// unreachable and unusual servers look like.
import * as assert from 'node:assert/strict';
import { ShareError } from '../../src/core/errors';
import { DEFAULTS } from '../../src/core/settings';
import type { ShareLocation } from '../../src/core/shareLocation';
import { WebdavRemote } from '../../src/remote/webdavRemote';
import { Share } from '../../src/share/share';
import { RecordingLogger } from '../support/recordingLogger';
import { ScriptedAuth } from '../support/scriptedAuth';
import { SERVER_KINDS } from '../support/servers';
import { NODE_PLATFORM } from '../support/nodePlatform';
import { shareSuite } from './shareCases';

// through node-fetch, and through the transport the Node extension host gives each share
for (const kind of SERVER_KINDS) {
  shareSuite(kind);
  shareSuite(kind, { label: ' (Node transport)', host: '127.0.0.1', platform: () => NODE_PLATFORM });
}

suite('conformance: unreachable and unusual servers', function () {
  this.timeout(10_000);
  const log = new RecordingLogger();
  const shareAt = (authority: string, settings = DEFAULTS) => {
    const loc: ShareLocation = { scheme: 'dav', authority, basePath: '/' };
    return new Share(loc, new WebdavRemote(loc, () => settings, log), new ScriptedAuth(undefined), log);
  };

  test('a closed port is Unavailable (refused)', async () => {
    const { freePort } = await import('../support/freePort');
    const port = await freePort();
    await assert.rejects(shareAt(`127.0.0.1:${port}`).stat('/'), (err: unknown) => {
      assert.ok(err instanceof ShareError);
      assert.equal(err.code, 'Unavailable');
      assert.equal(err.reason, 'refused');
      assert.match(err.message, /refused/);
      return true;
    });
  });

  test('an unknown host name is Unavailable (dns)', async () => {
    await assert.rejects(shareAt('no-such-host.invalid').stat('/'), (err: unknown) => {
      assert.ok(err instanceof ShareError);
      assert.equal(err.code, 'Unavailable');
      assert.equal(err.reason, 'dns');
      return true;
    });
  });

  test('a server that never answers times out as Unavailable (timeout)', async () => {
    const net = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    const blackhole = net.createServer(s => sockets.push(s)).listen(0, '127.0.0.1');
    await new Promise(r => blackhole.once('listening', r));
    const port = (blackhole.address() as { port: number }).port;
    const t0 = Date.now();
    try {
      await assert.rejects(shareAt(`127.0.0.1:${port}`, { ...DEFAULTS, requestTimeoutMs: 300 }).stat('/'), (err: unknown) => {
        assert.ok(err instanceof ShareError);
        assert.equal(err.code, 'Unavailable');
        assert.equal(err.reason, 'timeout');
        return true;
      });
      assert.ok(Date.now() - t0 < 3000, 'the timeout fired');
    } finally {
      sockets.forEach(s => s.destroy());
      blackhole.close();
    }
  });

  test('a plain web server (not WebDAV): a web page means a sign-in is needed, anything else is Rejected; both say WebDAV', async () => {
    const http = await import('node:http');
    const web = http
      .createServer((req, res) => (req.url?.includes('text') ? res.end('hello, this is not XML') : res.end('<html>hello</html>')))
      .listen(0, '127.0.0.1');
    await new Promise(r => web.once('listening', r));
    const port = (web.address() as { port: number }).port;
    try {
      await assert.rejects(shareAt(`127.0.0.1:${port}`).stat('/'), (err: unknown) => {
        assert.ok(err instanceof ShareError);
        assert.equal(err.code, 'Unavailable');
        assert.equal(err.reason, 'signin', 'a web page where WebDAV data should be: a sign-in page, or the wrong address');
        assert.match(err.message, /web page instead of WebDAV/);
        return true;
      });
      await assert.rejects(shareAt(`127.0.0.1:${port}`).stat('/text'), (err: unknown) => {
        assert.ok(err instanceof ShareError);
        assert.equal(err.code, 'Rejected');
        assert.match(err.message, /not valid WebDAV/);
        return true;
      });
    } finally {
      web.close();
    }
  });

  test('a server that drops the connection mid-answer is Unavailable (reset)', async () => {
    const net = await import('node:net');
    const dropper = net
      .createServer(s => s.once('data', () => s.end('HTTP/1.1 207 Multi-Status\r\nContent-Length: 1000\r\n\r\n<?xml', () => s.destroy())))
      .listen(0, '127.0.0.1');
    await new Promise(r => dropper.once('listening', r));
    const port = (dropper.address() as { port: number }).port;
    try {
      await assert.rejects(shareAt(`127.0.0.1:${port}`).stat('/'), (err: unknown) => {
        assert.ok(err instanceof ShareError);
        assert.equal(err.code, 'Unavailable', err.message);
        return true;
      });
    } finally {
      dropper.close();
    }
  });
});
