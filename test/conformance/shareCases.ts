// Provider semantics (share facade + WebDAV remote) against a real server: the cases of share.test.ts
// (nephele in-process, Apache mod_dav_fs and lighttpd from Debian), run again by proxy.test.ts through
// a real proxy. Every assertion that matters also looks at the server's folder on disk.
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ShareError } from '../../src/core/errors';
import { DEFAULTS } from '../../src/core/settings';
import type { ShareLocation } from '../../src/core/shareLocation';
import type { Credentials } from '../../src/remote/remoteFs';
import { WebdavRemote, type HttpPlatform } from '../../src/remote/webdavRemote';
import type { AuthHandler } from '../../src/share/auth';
import { Share } from '../../src/share/share';
import type { RunningServer } from '../support/nepheleServer';
import { RecordingLogger } from '../support/recordingLogger';
import { ScriptedAuth } from '../support/scriptedAuth';
import { assertServerInstalled, handToServer, printServerLogIfFailed, tempFolder, USERS, type ServerKind } from '../support/servers';

const GOOD: Credentials = { username: 'alice', password: USERS.alice };


function rejectsWith(code: ShareError['code']) {
  return (err: unknown) => {
    assert.ok(err instanceof ShareError, `expected a ShareError, got ${err}`);
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    assert.ok(err.message.length > 10, 'the message says something');
    return true;
  };
}

const ODD_NAMES = ['with space.txt', 'ümlaut ø ✓.txt', 'hash#1.txt', 'per%cent.txt', 'pct%41.txt', 'what?.txt', 'plus+sign.txt', 'amp&semi;.txt', "quote'.txt", 'br[a]ck.txt'];

/** How the cases reach the server: straight (share.test.ts), or through a proxy (proxy.test.ts). */
export interface Via {
  /** Added to the suite's name, e.g. ` through tinyproxy`. */
  readonly label: string;
  /** The loopback address the server listens on. */
  readonly host: string;
  /** The platform each remote is made with (the proxy suite's: a transport through the proxy). */
  readonly platform: () => HttpPlatform;
  /** Checked after the suite: e.g. that the proxy really carried the requests. */
  readonly verify?: () => void;
}

export const DIRECT: Via = { label: '', host: '127.0.0.1', platform: () => ({}) };

export function shareSuite(kind: ServerKind, via: Via = DIRECT): void {
  suite(`conformance: share on ${kind.name}${via.label}`, function () {
    this.timeout(20_000);
    let disk: ReturnType<typeof tempFolder>;
    let server: RunningServer;
    let location: ShareLocation;
    let log: RecordingLogger;
    let share: Share;
    let n = 0;
    /** A fresh folder per test, on disk and as a share path. */
    let dir: string;
    const onDisk = (p: string) => join(disk.path, dir, p);

    function makeShare(auth: AuthHandler, settings = DEFAULTS, loc = location): Share {
      return new Share(loc, new WebdavRemote(loc, () => settings, log, via.platform()), auth, log);
    }

    suiteSetup(async () => {
      assertServerInstalled(kind.name);
      disk = tempFolder(`wdo-conf-${kind.name}-`);
      server = await kind.start({ root: disk.path, mount: '/share', users: USERS, host: via.host });
      location = { scheme: 'dav', authority: `${via.host}:${server.port}`, basePath: '/share' };
    });

    suiteTeardown(async function () {
      printServerLogIfFailed(this, server);
      await server?.close();
      disk?.remove();
      via.verify?.();
    });

    setup(() => {
      log = new RecordingLogger();
      share = makeShare(new ScriptedAuth(GOOD));
      dir = `t${++n}`;
      mkdirSync(join(disk.path, dir));
      writeFileSync(onDisk('a.txt'), 'alpha');
      mkdirSync(onDisk('sub'));
      writeFileSync(onDisk('sub/b.txt'), 'beta');
      handToServer(kind.name, join(disk.path, dir));
    });

    const p = (rel: string) => `/${dir}/${rel}`;

    // --- reading

    test('stat of the share root and of a folder is a directory', async () => {
      assert.equal((await share.stat('/')).type, 'directory');
      assert.equal((await share.stat(p('sub'))).type, 'directory');
    });

    test('stat of a file gives type, size, mtime, ctime and a quoted etag', async () => {
      const e = await share.stat(p('a.txt'));
      assert.equal(e.type, 'file');
      assert.equal(e.size, 5);
      assert.ok(Math.abs(e.mtime - statSync(onDisk('a.txt')).mtimeMs) < 2000, 'mtime matches the disk');
      assert.ok(e.ctime > 0);
      assert.match(e.etag ?? '', /^(W\/)?".+"$/);
    });

    test('stat of a missing item is NotFound', async () => {
      await assert.rejects(share.stat(p('missing.txt')), rejectsWith('NotFound'));
    });

    test('readDirectory lists names and types, not the folder itself', async () => {
      const entries = await share.readDirectory(`/${dir}`);
      assert.deepEqual(entries.sort(), [['a.txt', 'file'], ['sub', 'directory']]);
      assert.deepEqual(await share.readDirectory(p('sub')), [['b.txt', 'file']]);
    });

    test('readDirectory of a file is NotADirectory; of a missing folder NotFound', async () => {
      await assert.rejects(share.readDirectory(p('a.txt')), rejectsWith('NotADirectory'));
      await assert.rejects(share.readDirectory(p('nope')), rejectsWith('NotFound'));
    });

    test('readFile returns the bytes on disk', async () => {
      assert.equal(Buffer.from(await share.readFile(p('sub/b.txt'))).toString(), 'beta');
    });

    test('readFile of a folder is IsADirectory; of a missing file NotFound', async () => {
      await assert.rejects(share.readFile(p('sub')), rejectsWith('IsADirectory'));
      await assert.rejects(share.readFile(p('missing.txt')), rejectsWith('NotFound'));
    });

    test('binary content with every byte value, and an empty file, round-trip', async () => {
      const bytes = new Uint8Array(256 * 4).map((_, i) => i % 256);
      await share.writeFile(p('bin.dat'), bytes, { create: true, overwrite: false });
      assert.deepEqual(new Uint8Array(readFileSync(onDisk('bin.dat'))), bytes);
      assert.deepEqual(await share.readFile(p('bin.dat')), bytes);
      await share.writeFile(p('empty.txt'), new Uint8Array(0), { create: true, overwrite: false });
      assert.equal(readFileSync(onDisk('empty.txt')).length, 0);
      assert.equal((await share.readFile(p('empty.txt'))).length, 0);
    });

    // --- writeFile

    test('writeFile creates a new file', async () => {
      const r = await share.writeFile(p('new.txt'), Buffer.from('fresh'), { create: true, overwrite: false });
      assert.equal(r, 'created');
      assert.equal(readFileSync(onDisk('new.txt'), 'utf8'), 'fresh');
    });

    test('writeFile overwrites an existing file', async () => {
      const r = await share.writeFile(p('a.txt'), Buffer.from('ALPHA!'), { create: true, overwrite: true });
      assert.equal(r, 'changed');
      assert.equal(readFileSync(onDisk('a.txt'), 'utf8'), 'ALPHA!');
      assert.equal((await share.stat(p('a.txt'))).size, 6);
    });

    test('writeFile without overwrite on an existing file is Exists and leaves it', async () => {
      await assert.rejects(share.writeFile(p('a.txt'), Buffer.from('x'), { create: true, overwrite: false }), rejectsWith('Exists'));
      assert.equal(readFileSync(onDisk('a.txt'), 'utf8'), 'alpha');
    });

    test('writeFile without create on a missing file is NotFound and creates nothing', async () => {
      await assert.rejects(share.writeFile(p('ghost.txt'), Buffer.from('x'), { create: false, overwrite: true }), rejectsWith('NotFound'));
      assert.equal(existsSync(onDisk('ghost.txt')), false);
    });

    test('writeFile into a missing folder is NotFound; below a file NotADirectory; onto a folder IsADirectory', async () => {
      await assert.rejects(share.writeFile(p('nodir/x.txt'), Buffer.from('x'), { create: true, overwrite: true }), rejectsWith('NotFound'));
      await assert.rejects(share.writeFile(p('a.txt/x.txt'), Buffer.from('x'), { create: true, overwrite: true }), rejectsWith('NotADirectory'));
      await assert.rejects(share.writeFile(p('sub'), Buffer.from('x'), { create: true, overwrite: true }), rejectsWith('IsADirectory'));
      assert.equal(readFileSync(onDisk('a.txt'), 'utf8'), 'alpha');
    });

    // --- createDirectory

    test('createDirectory makes a folder; again is Exists; in a missing parent NotFound', async () => {
      await share.createDirectory(p('made'));
      assert.ok(statSync(onDisk('made')).isDirectory());
      await assert.rejects(share.createDirectory(p('made')), rejectsWith('Exists'));
      await assert.rejects(share.createDirectory(p('a.txt')), rejectsWith('Exists'));
      await assert.rejects(share.createDirectory(p('no/such')), rejectsWith('NotFound'));
    });

    // --- delete

    test('delete removes a file, and a folder recursively', async () => {
      await share.delete(p('a.txt'), { recursive: false });
      assert.equal(existsSync(onDisk('a.txt')), false);
      await share.delete(p('sub'), { recursive: true });
      assert.equal(existsSync(onDisk('sub')), false);
    });

    test('delete without recursive refuses a non-empty folder and keeps it; takes an empty one', async () => {
      await assert.rejects(share.delete(p('sub'), { recursive: false }), rejectsWith('NotEmpty'));
      assert.equal(readFileSync(onDisk('sub/b.txt'), 'utf8'), 'beta');
      mkdirSync(onDisk('empty'));
      await share.delete(p('empty'), { recursive: false });
      assert.equal(existsSync(onDisk('empty')), false);
    });

    test('delete of a missing item is NotFound', async () => {
      await assert.rejects(share.delete(p('missing'), { recursive: true }), rejectsWith('NotFound'));
    });

    // --- rename and copy

    test('rename moves a file and a folder with its content', async () => {
      await share.rename(p('a.txt'), p('renamed.txt'), { overwrite: false });
      assert.equal(existsSync(onDisk('a.txt')), false);
      assert.equal(readFileSync(onDisk('renamed.txt'), 'utf8'), 'alpha');
      await share.rename(p('sub'), p('moved'), { overwrite: false });
      assert.equal(readFileSync(onDisk('moved/b.txt'), 'utf8'), 'beta');
      assert.equal(existsSync(onDisk('sub')), false);
    });

    test('rename onto an existing file: Exists without overwrite (both kept), replaced with it', async () => {
      writeFileSync(onDisk('other.txt'), 'other');
      await assert.rejects(share.rename(p('a.txt'), p('other.txt'), { overwrite: false }), rejectsWith('Exists'));
      assert.equal(readFileSync(onDisk('a.txt'), 'utf8'), 'alpha');
      assert.equal(readFileSync(onDisk('other.txt'), 'utf8'), 'other');
      await share.rename(p('a.txt'), p('other.txt'), { overwrite: true });
      assert.equal(readFileSync(onDisk('other.txt'), 'utf8'), 'alpha');
      assert.equal(existsSync(onDisk('a.txt')), false);
    });

    test('rename of a missing item is NotFound; into a missing folder NotFound; into itself refused', async () => {
      await assert.rejects(share.rename(p('missing'), p('x'), { overwrite: false }), rejectsWith('NotFound'));
      await assert.rejects(share.rename(p('a.txt'), p('nodir/a.txt'), { overwrite: false }), rejectsWith('NotFound'));
      await assert.rejects(share.rename(p('sub'), p('sub/inner'), { overwrite: false }), rejectsWith('NoPermissions'));
      assert.equal(readFileSync(onDisk('a.txt'), 'utf8'), 'alpha');
    });

    test('copy duplicates a file and a folder tree', async () => {
      await share.copy(p('a.txt'), p('copy.txt'), { overwrite: false });
      assert.equal(readFileSync(onDisk('copy.txt'), 'utf8'), 'alpha');
      assert.equal(readFileSync(onDisk('a.txt'), 'utf8'), 'alpha');
      await share.copy(p('sub'), p('subcopy'), { overwrite: false });
      assert.equal(readFileSync(onDisk('subcopy/b.txt'), 'utf8'), 'beta');
      assert.equal(readFileSync(onDisk('sub/b.txt'), 'utf8'), 'beta');
    });

    test('copy onto an existing file: Exists without overwrite, replaced with it', async () => {
      writeFileSync(onDisk('other.txt'), 'other');
      await assert.rejects(share.copy(p('a.txt'), p('other.txt'), { overwrite: false }), rejectsWith('Exists'));
      assert.equal(readFileSync(onDisk('other.txt'), 'utf8'), 'other');
      await share.copy(p('a.txt'), p('other.txt'), { overwrite: true });
      assert.equal(readFileSync(onDisk('other.txt'), 'utf8'), 'alpha');
    });

    // --- names

    test('names with spaces, non-ASCII, #, %, ?, +, & and more round-trip', async () => {
      for (const name of ODD_NAMES) {
        await share.writeFile(p(name), Buffer.from(`content of ${name}`), { create: true, overwrite: false });
        assert.equal(readFileSync(onDisk(name), 'utf8'), `content of ${name}`, `on disk: ${name}`);
        assert.equal(Buffer.from(await share.readFile(p(name))).toString(), `content of ${name}`);
        assert.equal((await share.stat(p(name))).type, 'file');
      }
      const listed = (await share.readDirectory(`/${dir}`)).map(([name]) => name);
      for (const name of ODD_NAMES) assert.ok(listed.includes(name), `listed: ${name} in ${listed.join(' | ')}`);
      await share.createDirectory(p('dir #?&+ ü'));
      await share.rename(p(ODD_NAMES[2]), p(`dir #?&+ ü/${ODD_NAMES[3]}`), { overwrite: false });
      assert.equal(readFileSync(onDisk(`dir #?&+ ü/${ODD_NAMES[3]}`), 'utf8'), `content of ${ODD_NAMES[2]}`);
    });

    test('a name the server cannot store gives a clear error and creates nothing', async () => {
      const name = 'x'.repeat(300) + '.txt'; // longer than the file system allows (255 bytes)
      const err = await share.writeFile(p(name), Buffer.from('data'), { create: true, overwrite: false }).then(
        () => undefined,
        e => e,
      );
      assert.ok(err instanceof ShareError, `failed with a ShareError (${err})`);
      assert.notEqual(err.code, 'Other', `classified: ${err.message}`);
      assert.match(err.message, /PUT|name|server/i);
      assert.deepEqual(readdirSync(join(disk.path, dir)).sort(), ['a.txt', 'sub']);
    });

    // --- validators

    test('etags change on a same-size rewrite; GET with If-None-Match answers not-modified', async () => {
      const remote = new WebdavRemote(location, () => DEFAULTS, log, via.platform(), GOOD);
      const first = await remote.get(p('a.txt'));
      assert.ok(first !== 'not-modified');
      const before = (await remote.stat(p('a.txt'))).etag!;
      assert.ok(before);
      assert.equal(await remote.get(p('a.txt'), { ifNoneMatch: (first.etag ?? before).replace(/^W\//, '') }).then(r => r === 'not-modified' || (r as any).data.length === 5), true);
      await remote.put(p('a.txt'), Buffer.from('ALPHA'));
      const after = (await remote.stat(p('a.txt'))).etag!;
      assert.notEqual(after.replace(/^W\//, ''), before.replace(/^W\//, ''), 'etag changed after the rewrite');
    });

    // rclone ignores preconditions: the share compares versions right before writing instead
    // (onlineWrites.test.ts proves a colleague's version is not overwritten there either)
    if (kind.honoursPreconditions) test('PUT with a stale If-Match is a Conflict and changes nothing', async () => {
      const remote = new WebdavRemote(location, () => DEFAULTS, log, via.platform(), GOOD);
      await assert.rejects(remote.put(p('a.txt'), Buffer.from('lost update'), { ifMatch: '"stale-etag"' }), rejectsWith('Conflict'));
      assert.equal(readFileSync(onDisk('a.txt'), 'utf8'), 'alpha');
      await assert.rejects(remote.put(p('a.txt'), Buffer.from('x'), { ifNoneMatch: '*' }), rejectsWith('Conflict'));
      assert.equal(readFileSync(onDisk('a.txt'), 'utf8'), 'alpha');
    });

    test('MOVE and COPY with Overwrite: F onto an existing file are Conflicts (also as 207 Multi-Status)', async () => {
      const remote = new WebdavRemote(location, () => DEFAULTS, log, via.platform(), GOOD);
      writeFileSync(onDisk('other.txt'), 'other');
      await assert.rejects(remote.move(p('a.txt'), p('other.txt'), { overwrite: false }), rejectsWith('Conflict'));
      await assert.rejects(remote.copy(p('a.txt'), p('other.txt'), { overwrite: false }), rejectsWith('Conflict'));
      assert.equal(readFileSync(onDisk('other.txt'), 'utf8'), 'other');
      assert.equal(readFileSync(onDisk('a.txt'), 'utf8'), 'alpha');
    });

    test('LOCK is enforced and UNLOCK (token in angle brackets) releases it', async () => {
      const remote = new WebdavRemote(location, () => DEFAULTS, log, via.platform(), GOOD);
      const token = await remote.lock(p('a.txt'), { timeoutSeconds: 60 });
      assert.match(token, /^\S+$/); // a URI (opaquelocktoken:…, urn:uuid:…), or a bare number from rclone
      await assert.rejects(remote.put(p('a.txt'), Buffer.from('while locked')), rejectsWith('Locked'));
      assert.equal(readFileSync(onDisk('a.txt'), 'utf8'), 'alpha');
      await remote.unlock(p('a.txt'), token);
      await remote.put(p('a.txt'), Buffer.from('after unlock'));
      assert.equal(readFileSync(onDisk('a.txt'), 'utf8'), 'after unlock');
    });

    // --- credentials

    test('stored credentials are used without asking', async () => {
      const auth = new ScriptedAuth(GOOD);
      await makeShare(auth).stat(p('a.txt'));
      assert.equal(auth.prompts.length, 0);
    });

    test('a 401 asks once; accepted credentials are saved and the operation completes', async () => {
      const auth = new ScriptedAuth(undefined, [GOOD]);
      const s = makeShare(auth);
      assert.equal(Buffer.from(await s.readFile(p('a.txt'))).toString(), 'alpha');
      assert.deepEqual(auth.prompts.map(x => x.reason), ['required']);
      assert.deepEqual(auth.saved, [GOOD]);
    });

    test('concurrent 401s share one prompt', async () => {
      const auth = new ScriptedAuth(undefined, [GOOD]);
      const s = makeShare(auth);
      await Promise.all([s.stat(p('a.txt')), s.readDirectory(`/${dir}`), s.readFile(p('sub/b.txt'))]);
      assert.equal(auth.prompts.length, 1);
    });

    test('a wrong password asks again saying so, and the right one then works', async () => {
      const auth = new ScriptedAuth({ username: 'alice', password: 'wrong' }, [{ username: 'alice', password: 'nope' }, GOOD]);
      const s = makeShare(auth);
      await s.stat(p('a.txt'));
      assert.deepEqual(auth.prompts.map(x => x.reason), ['rejected', 'rejected']);
      assert.equal(auth.prompts[0].username, 'alice');
      assert.deepEqual(auth.saved, [GOOD]);
    });

    test('cancelling the prompt fails with Unauthorized and never asks again by itself', async () => {
      const auth = new ScriptedAuth(undefined, []);
      const s = makeShare(auth);
      await assert.rejects(s.stat(p('a.txt')), rejectsWith('Unauthorized'));
      await assert.rejects(s.readFile(p('a.txt')), rejectsWith('Unauthorized'));
      await assert.rejects(s.writeFile(p('a.txt'), Buffer.from('x'), { create: true, overwrite: true }), rejectsWith('Unauthorized'));
      assert.equal(auth.prompts.length, 1, 'asked exactly once');
      assert.equal(readFileSync(onDisk('a.txt'), 'utf8'), 'alpha');
    });

    test('wrong passwords three times stop asking (no loop)', async () => {
      const bad = { username: 'alice', password: 'bad' };
      const auth = new ScriptedAuth(undefined, [bad, bad, bad, bad, bad]);
      const s = makeShare(auth);
      await assert.rejects(s.stat('/'), rejectsWith('Unauthorized'));
      assert.equal(auth.prompts.length, 3);
      await assert.rejects(s.stat('/'), rejectsWith('Unauthorized'));
      assert.equal(auth.prompts.length, 3);
      assert.equal(await s.signIn(GOOD), true, 'an explicit sign-in works again');
      assert.equal((await s.stat('/')).type, 'directory');
    });

    // --- bad addresses

    test('a folder that does not exist on the server is NotFound', async () => {
      const s = makeShare(new ScriptedAuth(GOOD), DEFAULTS, { ...location, basePath: '/share/no-such-folder' });
      await assert.rejects(s.stat('/'), rejectsWith('NotFound'));
    });
  });
}
