// Offline operation inside real VS Code: the WebDAV server is stopped (its port refuses connections)
// through the runner's control endpoint, and everything goes through vscode.workspace.fs and the
// extension's commands. Proves: cached files read offline, never-read ones fail with a typed
// "not available offline" error, the share goes offline by itself, offline changes are journaled and
// provisional, and "Go Online" replays them onto the server's disk; "Go Offline" by hand keeps every
// change away from the server until "Go Online".
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { ConnectionState, Share } from '../../src/share/share';
import { bytes, diskGone, diskHas, diskPath, eventually, freshFolder, shareUri, text } from './harness';
import { resolve, restoreOnline, startServer, stopServer, waitForState, workspaceShare } from './serverControl';

/** The state now (a function, so earlier checks do not narrow its type). */
const stateOf = (share: Share): ConnectionState | undefined => share.connectionState;
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** Paths of the pending changes (a move by its target). */
async function pendingPaths(): Promise<string[]> {
  return (await workspaceShare().pendingChanges()).map(i => (i.op.kind === 'move' || i.op.kind === 'copy' ? i.op.to : i.op.path));
}

suite('integration: offline', function () {
  this.timeout(120_000);
  const config = () => vscode.workspace.getConfiguration('webdavOffline');

  teardown(async function () {
    this.timeout(60_000);
    await restoreOnline();
    await config().update('watch.pollInterval', undefined, vscode.ConfigurationTarget.Global);
  });

  test('server stopped: the share goes offline by itself; cached files read, a never-read file fails "not available offline"', async () => {
    const share = workspaceShare();
    assert.equal(share.connectionState?.kind, 'online', 'online at the start');
    const { uri, name } = await freshFolder('offline-read');
    writeFileSync(diskPath(name, 'cached.txt'), 'cached content\n');
    writeFileSync(diskPath(name, 'never-read.txt'), 'never read\n');
    // the listing is cached: both names are known (after the window, once the check behind the cached listing is done)
    await eventually(async () => assert.deepEqual((await vscode.workspace.fs.readDirectory(uri)).map(([n]) => n).sort(), ['cached.txt', 'never-read.txt']));
    assert.equal(text(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(uri, 'cached.txt'))), 'cached content\n');

    // polling the watched share is the only traffic: the failed poll must switch the share offline
    await config().update('watch.pollInterval', 1, vscode.ConfigurationTarget.Global);
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(shareUri(), `${name}/**`));
    try {
      await stopServer();
      await waitForState(share, 'offline', 40_000);
      const state = stateOf(share);
      assert.ok(state?.kind === 'offline' && !state.manual, `offline because unreachable, not by hand: ${JSON.stringify(state)}`);
    } finally {
      watcher.dispose();
    }

    assert.equal(text(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(uri, 'cached.txt'))), 'cached content\n', 'a cached file reads offline');
    const st = await vscode.workspace.fs.stat(vscode.Uri.joinPath(uri, 'cached.txt'));
    assert.equal(st.type, vscode.FileType.File);
    const listing = await vscode.workspace.fs.readDirectory(uri);
    assert.deepEqual(listing.map(([n]) => n).sort(), ['cached.txt', 'never-read.txt'], 'the cached listing');

    await assert.rejects(Promise.resolve(vscode.workspace.fs.readFile(vscode.Uri.joinPath(uri, 'never-read.txt'))), (err: unknown) => {
      assert.ok(err instanceof vscode.FileSystemError, `expected a vscode.FileSystemError, got ${String(err)}`);
      assert.equal(err.code, 'Unavailable', `code: ${err.code}: ${err.message}`);
      assert.match(err.message, /not available offline/, 'the message says why');
      return true;
    });
    assert.equal(share.connectionState?.kind, 'offline', 'still offline');
  });

  test('offline: save, new file, new folder are journaled and provisional; server back + "Go Online" replays them', async () => {
    const share = workspaceShare();
    const { uri, name } = await freshFolder('offline-edit');
    writeFileSync(diskPath(name, 'edit.txt'), 'server version\n');
    const edit = vscode.Uri.joinPath(uri, 'edit.txt');
    assert.equal(text(await vscode.workspace.fs.readFile(edit)), 'server version\n');
    await vscode.workspace.fs.readDirectory(uri);

    await stopServer();
    // the first change after the server went away is not lost: it is recorded offline
    await vscode.workspace.fs.writeFile(edit, bytes('edited offline\n'));
    assert.equal(share.connectionState?.kind, 'offline', 'the failed upload switched the share offline');
    const folder = vscode.Uri.joinPath(uri, 'new-folder');
    await vscode.workspace.fs.createDirectory(folder);
    const inFolder = vscode.Uri.joinPath(folder, 'inside.txt');
    await vscode.workspace.fs.writeFile(inFolder, bytes('made offline, in a new folder\n'));
    const created = vscode.Uri.joinPath(uri, 'created.txt');
    await vscode.workspace.fs.writeFile(created, bytes('made offline\n'));

    assert.equal(text(await vscode.workspace.fs.readFile(edit)), 'edited offline\n', 'the local version reads back');
    assert.equal((await vscode.workspace.fs.stat(folder)).type, vscode.FileType.Directory);
    const names = (await vscode.workspace.fs.readDirectory(uri)).map(([n]) => n).sort();
    assert.deepEqual(names, ['created.txt', 'edit.txt', 'new-folder']);
    for (const u of [edit, folder, inFolder, created]) assert.equal(resolve(u).share.isProvisional(resolve(u).path), true, `${u.path} is provisional`);
    const pending = await pendingPaths();
    for (const u of [edit, folder, inFolder, created]) assert.ok(pending.includes(resolve(u).path), `${u.path} is pending: ${pending.join(', ')}`);
    assert.equal(readFileSync(diskPath(name, 'edit.txt'), 'utf8'), 'server version\n', 'nothing reached the (stopped) server');
    assert.ok(!existsSync(diskPath(name, 'created.txt')));

    await startServer();
    const online = await vscode.commands.executeCommand<boolean>('webdavOffline.goOnline');
    assert.equal(online, true, '"Go Online" says it is online');
    assert.equal(share.connectionState?.kind, 'online');
    await diskHas(diskPath(name, 'edit.txt'), 'edited offline\n');
    await diskHas(diskPath(name, 'created.txt'), 'made offline\n');
    await diskHas(diskPath(name, 'new-folder', 'inside.txt'), 'made offline, in a new folder\n');
    assert.deepEqual(await pendingPaths(), [], 'nothing pending after the replay');
    assert.deepEqual(await share.conflicts(), [], 'no conflicts');
    for (const u of [edit, folder, inFolder, created]) assert.equal(share.isProvisional(resolve(u).path), false, `${u.path} is no longer provisional`);
  });

  test('"Go Offline" by hand: no change reaches the server until "Go Online"', async () => {
    const share = workspaceShare();
    const { uri, name } = await freshFolder('offline-manual');
    writeFileSync(diskPath(name, 'a.txt'), 'a on the server\n');
    writeFileSync(diskPath(name, 'gone.txt'), 'to be deleted\n');
    writeFileSync(diskPath(name, 'old-name.txt'), 'to be renamed\n');
    for (const f of ['a.txt', 'gone.txt', 'old-name.txt']) await vscode.workspace.fs.readFile(vscode.Uri.joinPath(uri, f));

    await vscode.commands.executeCommand('webdavOffline.goOffline');
    const state = stateOf(share);
    assert.ok(state?.kind === 'offline' && state.manual, `offline by hand: ${JSON.stringify(state)}`);
    await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(uri, 'a.txt'), bytes('a changed by hand-offline\n'));
    await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(uri, 'b.txt'), bytes('b new\n'));
    await vscode.workspace.fs.delete(vscode.Uri.joinPath(uri, 'gone.txt'));
    await vscode.workspace.fs.rename(vscode.Uri.joinPath(uri, 'old-name.txt'), vscode.Uri.joinPath(uri, 'new-name.txt'));
    assert.equal((await pendingPaths()).length, 4, `four pending changes: ${(await pendingPaths()).join(', ')}`);

    // the server is up the whole time: still nothing may reach it
    await sleep(3000);
    assert.equal(readFileSync(diskPath(name, 'a.txt'), 'utf8'), 'a on the server\n');
    assert.ok(!existsSync(diskPath(name, 'b.txt')), 'b.txt is not on the server yet');
    assert.ok(existsSync(diskPath(name, 'gone.txt')), 'gone.txt is still on the server');
    assert.ok(existsSync(diskPath(name, 'old-name.txt')) && !existsSync(diskPath(name, 'new-name.txt')), 'not renamed on the server yet');
    assert.equal(share.connectionState?.kind, 'offline', 'it stays offline by itself');

    assert.equal(await vscode.commands.executeCommand<boolean>('webdavOffline.goOnline'), true);
    await diskHas(diskPath(name, 'a.txt'), 'a changed by hand-offline\n');
    await diskHas(diskPath(name, 'b.txt'), 'b new\n');
    await diskGone(diskPath(name, 'gone.txt'));
    await diskGone(diskPath(name, 'old-name.txt'));
    await diskHas(diskPath(name, 'new-name.txt'), 'to be renamed\n');
    await eventually(async () => assert.deepEqual(await pendingPaths(), []));
  });
});
