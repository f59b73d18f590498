// Sign-in methods besides Basic, against Apache from Debian (test/support/apacheTls.ts, its plain
// listener), through the Node transport: Digest (mod_auth_digest; the password never goes out as Basic,
// it is kept with its scheme), a bearer token and a secret header kept for the share (never a password
// prompt), and a server that only offers Windows sign-in (Negotiate/NTLM: one clear message, no prompt
// loop). The server's access log shows which scheme each request carried (never its value).
import * as assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ShareError } from '../../src/core/errors';
import { DEFAULTS, type Settings, type ShareOptions } from '../../src/core/settings';
import type { ShareLocation } from '../../src/core/shareLocation';
import type { Credentials } from '../../src/remote/remoteFs';
import { WebdavRemote } from '../../src/remote/webdavRemote';
import { Share } from '../../src/share/share';
import { API_KEY, BEARER_TOKEN, startApacheTls, type ApacheTls } from '../support/apacheTls';
import { NODE_PLATFORM } from '../support/nodePlatform';
import { RecordingLogger } from '../support/recordingLogger';
import { ScriptedAccess } from '../support/scriptedAccess';
import { handToServer, tempFolder, USERS } from '../support/servers';

const GOOD: Credentials = { username: 'alice', password: USERS.alice };
const text = (b: Uint8Array) => Buffer.from(b).toString();

suite('conformance: sign-in methods (Apache: Digest, a bearer token, a secret header, Windows sign-in)', function () {
  this.timeout(20_000);
  let disk: ReturnType<typeof tempFolder>;
  let apache: ApacheTls;
  let log: RecordingLogger;
  const opened: { share: Share; remote: WebdavRemote }[] = [];

  function open(basePath: string, access: ScriptedAccess, options?: Omit<ShareOptions, 'address'>): Share {
    const location: ShareLocation = { scheme: 'dav', authority: apache.authority('plain'), basePath };
    const settings: Settings = { ...DEFAULTS, shares: options ? [{ address: `http://${location.authority}${basePath}/`, ...options }] : [] };
    const remote = new WebdavRemote(location, () => settings, log, NODE_PLATFORM);
    const share = new Share(location, remote, access, log);
    opened.push({ share, remote });
    return share;
  }

  /** The schemes the server saw on requests below `prefix` after `mark` (an index into its log). */
  const schemesSince = (mark: number, prefix: string) =>
    apache
      .requests()
      .slice(mark)
      .filter(r => r.path.startsWith(prefix))
      .map(r => `${r.status} ${r.auth ?? '-'}`);

  function rejectsWith(code: ShareError['code'], pattern: RegExp) {
    return (err: unknown) => {
      assert.ok(err instanceof ShareError, `a ShareError: ${err}`);
      assert.equal(err.code, code, err.message);
      assert.match(err.message, pattern);
      return true;
    };
  }

  suiteSetup(async () => {
    disk = tempFolder('wdo-auth-');
    writeFileSync(join(disk.path, 'a.txt'), 'alpha');
    handToServer('apache', disk.path);
    apache = await startApacheTls({ root: disk.path, users: USERS });
  });

  suiteTeardown(async function () {
    if (this.test?.parent?.tests.some(t => t.state === 'failed')) console.log(`      [apache error log]\n${apache?.logTail(30).replace(/^/gm, '        ')}`);
    await apache?.close();
    disk?.remove();
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

  test('Digest: the 401 says Digest, the password from the prompt goes out as Digest — never as Basic — for reads and changes, and is kept with its scheme', async () => {
    const mark = apache.requests().length;
    const access = new ScriptedAccess({ logins: [GOOD] });
    const share = open('/digest', access);
    assert.equal((await share.stat('/')).type, 'directory');
    assert.equal(access.logins.length, 1);
    assert.deepEqual(access.saved, [{ ...GOOD, scheme: 'digest' }]);
    await share.writeFile('/d.txt', Buffer.from('delta'), { create: true, overwrite: false });
    assert.equal(readFileSync(join(disk.path, 'd.txt'), 'utf8'), 'delta');
    assert.equal(text(await share.readFile('/d.txt')), 'delta');
    await share.rename('/d.txt', '/d2.txt', { overwrite: false });
    assert.ok(existsSync(join(disk.path, 'd2.txt')) && !existsSync(join(disk.path, 'd.txt')));
    const seen = schemesSince(mark, '/digest');
    assert.ok(!seen.some(s => s.endsWith('Basic')), `never Basic: ${seen.join(', ')}`);
    assert.ok(seen.filter(s => /^2\d\d Digest$/.test(s)).length >= 4, `answered with Digest: ${seen.join(', ')}`);
  });

  test('Digest: a body from the store goes out whole, never as a stream a challenge would leave hanging; it lands once', async () => {
    const location: ShareLocation = { scheme: 'dav', authority: apache.authority('plain'), basePath: '/digest' };
    const remote = new WebdavRemote(location, () => DEFAULTS, log, NODE_PLATFORM, { ...GOOD, scheme: 'digest' });
    opened.push({ share: new Share(location, remote, new ScriptedAccess({}), log), remote });
    const slice = Buffer.alloc(1024 * 1024, 7);
    const body = { size: 3 * slice.length, chunks: async function* () { for (let i = 0; i < 3; i++) yield slice; } };
    const mark = apache.requests().length;
    await remote.putStream('/streamed.bin', body);
    assert.equal(readFileSync(join(disk.path, 'streamed.bin')).equals(Buffer.concat([slice, slice, slice])), true);
    const puts = apache.requests().slice(mark).filter(r => r.path.endsWith('/streamed.bin'));
    assert.deepEqual(puts.map(r => `${r.status} ${r.auth}`).filter(r => r.startsWith('2')), ['201 Digest'], 'landed once, as Digest');
  });

  test('Digest with a wrong password: asked again ("rejected"), then signed in', async () => {
    const access = new ScriptedAccess({ logins: [{ username: 'alice', password: 'wrong' }, GOOD] });
    const share = open('/digest', access);
    assert.equal(text(await share.readFile('/a.txt')), 'alpha');
    assert.deepEqual(
      access.logins.map(l => l.reason),
      ['required', 'rejected'],
    );
    assert.deepEqual(access.saved, [{ ...GOOD, scheme: 'digest' }]);
  });

  test('kept Digest credentials answer the challenge from the first request; an entry kept without its scheme is sent once as Basic, then as Digest', async () => {
    let mark = apache.requests().length;
    const kept = new ScriptedAccess({ credentials: { ...GOOD, scheme: 'digest' } });
    assert.equal(text(await open('/digest', kept).readFile('/a.txt')), 'alpha');
    assert.ok(!schemesSince(mark, '/digest').some(s => s.endsWith('Basic')), schemesSince(mark, '/digest').join(', '));
    assert.equal(kept.logins.length, 0);

    mark = apache.requests().length;
    const old = new ScriptedAccess({ credentials: GOOD });
    const share = open('/digest', old);
    assert.equal(text(await share.readFile('/a.txt')), 'alpha');
    assert.equal(text(await share.readFile('/a.txt')), 'alpha');
    const seen = schemesSince(mark, '/digest');
    assert.equal(seen.filter(s => s.endsWith('Basic')).length, 1, `one Basic attempt: ${seen.join(', ')}`);
    assert.equal(old.logins.length, 0, 'no prompt: the kept password was right');
  });

  test('a bearer token kept for the share is sent instead of a password (no prompt); a refused token, or none where the server wants one, says to set one', async () => {
    const mark = apache.requests().length;
    const good = new ScriptedAccess({ access: { headers: { Authorization: `Bearer ${BEARER_TOKEN}` } }, logins: [GOOD] });
    const share = open('/bearer', good);
    assert.equal(text(await share.readFile('/a.txt')), 'alpha');
    await share.writeFile('/t.txt', Buffer.from('token'), { create: true, overwrite: false });
    assert.equal(readFileSync(join(disk.path, 't.txt'), 'utf8'), 'token');
    assert.ok(schemesSince(mark, '/bearer').every(s => s.endsWith('Bearer')), schemesSince(mark, '/bearer').join(', '));

    const wrong = new ScriptedAccess({ access: { headers: { Authorization: 'Bearer not-the-token' } }, logins: [GOOD] });
    await assert.rejects(open('/bearer', wrong).stat('/'), rejectsWith('Unauthorized', /the server refused the access token .*set for this share \(HTTP 401.*Set a new one with "WebDAV: Set Access Token…"/));
    const none = new ScriptedAccess({ logins: [GOOD] });
    await assert.rejects(open('/bearer', none).stat('/'), rejectsWith('Unauthorized', /the server asks for a bearer token, not a user name and password \(HTTP 401.*Set one with "WebDAV: Set Access Token…"/));
    assert.equal(wrong.logins.length + none.logins.length + good.logins.length, 0, 'never a password prompt');

    // a command sets the token later: the open share uses it at once
    const later = new ScriptedAccess();
    const s2 = open('/bearer', later);
    await assert.rejects(s2.stat('/'), rejectsWith('Unauthorized', /bearer/));
    later.change(s2.key, { headers: { Authorization: `Bearer ${BEARER_TOKEN}` } });
    await new Promise(r => setTimeout(r, 10));
    assert.equal((await s2.stat('/')).type, 'directory');
  });

  test('a secret header kept for the share, or a plain one from its saved options, reaches the server', async () => {
    await assert.rejects(open('/apikey', new ScriptedAccess()).stat('/'), rejectsWith('NoPermissions', /403/));
    const secret = open('/apikey', new ScriptedAccess({ access: { headers: { 'X-Api-Key': API_KEY } } }));
    assert.equal(text(await secret.readFile('/a.txt')), 'alpha');
    const plain = open('/apikey', new ScriptedAccess(), { headers: { 'X-Api-Key': API_KEY } });
    assert.equal(text(await plain.readFile('/a.txt')), 'alpha');
    // headers the share sets itself are not replaced by an option
    const clash = open('/apikey', new ScriptedAccess(), { headers: { 'X-Api-Key': API_KEY, Depth: 'infinity' } });
    assert.deepEqual((await clash.readDirectory('/')).map(e => e[0]).sort(), readdirSync(disk.path).sort());
    assert.ok(log.lines.some(l => /header "Depth" is not sent/.test(l)), 'the refused option is logged');
  });

  test('Windows sign-in only (Negotiate, NTLM): a clear message, no prompt, however often it is met', async () => {
    const access = new ScriptedAccess({ logins: [GOOD, GOOD, GOOD] });
    const share = open('/windows', access);
    const windows = /asks for Windows sign-in \(Negotiate\/NTLM\), which WebDAV Offline does not support; ask its administrator for an app password, or for Basic sign-in over HTTPS/;
    await assert.rejects(share.stat('/'), rejectsWith('Other', windows));
    await assert.rejects(share.readFile('/a.txt'), rejectsWith('Other', windows));
    await assert.rejects(share.readDirectory('/'), rejectsWith('Other', windows));
    assert.equal(access.logins.length, 0, 'no password prompt');
  });
});
