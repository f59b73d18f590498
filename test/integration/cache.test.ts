// The cache inside real VS Code: pinning and freeing space through the commands, and remote changes
// reaching VS Code's file watchers through polling.
import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { WebdavOfflineApi } from '../../src/extension';
import { diskPath, eventually, freshFolder, shareUri } from './harness';

function api(): WebdavOfflineApi {
  const ext = vscode.extensions.getExtension<WebdavOfflineApi>('webdav-offline.webdav-offline');
  assert.ok(ext?.isActive, 'the extension is active');
  return ext.exports;
}

function cacheState(uri: vscode.Uri) {
  const { share, path } = api().registry.resolve(uri.scheme as 'dav', uri.authority, uri.path);
  return share.cacheState(path);
}

suite('integration: cache', function () {
  this.timeout(60_000);

  test('"Keep Available Offline" downloads a folder; "Free Up Space" drops it', async () => {
    const { uri, name } = await freshFolder('pin');
    for (const f of ['one.txt', 'two.txt']) writeFileSync(diskPath(name, f), `content of ${f}`);
    const files = await vscode.commands.executeCommand<number>('webdavOffline.pin', uri);
    assert.equal(files, 2);
    for (const f of ['one.txt', 'two.txt']) {
      assert.deepEqual(cacheState(vscode.Uri.joinPath(uri, f)), { pinned: true, cached: true, type: 'file', listed: false }, f);
    }
    const freed = await vscode.commands.executeCommand<number>('webdavOffline.freeUpSpace', uri);
    assert.equal(freed, 'content of one.txt'.length + 'content of two.txt'.length);
    assert.deepEqual(cacheState(vscode.Uri.joinPath(uri, 'one.txt')), { pinned: false, cached: false, type: 'file', listed: false });
    // and it still reads from the server
    assert.equal(new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(uri, 'one.txt'))), 'content of one.txt');
    assert.equal(cacheState(vscode.Uri.joinPath(uri, 'one.txt'))?.cached, true, 'read content is cached again');
  });

  test('"Find in Files" searches cached contents without the server', async () => {
    const { uri, name } = await freshFolder('find');
    const needle = `needle-${name}`;
    await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(uri, 'haystack.txt'), new TextEncoder().encode(`hay\n${needle}\nhay\n`));
    const found = await vscode.commands.executeCommand<number>('webdavOffline.findInFiles', needle);
    assert.equal(found, 1, 'the saved file is cached and searchable');
    assert.equal(await vscode.commands.executeCommand<number>('webdavOffline.findInFiles', `absent-${name}`), 0);
  });

  test('a file created on the server by someone else reaches a VS Code file watcher', async () => {
    const config = vscode.workspace.getConfiguration('webdavOffline');
    await config.update('watch.pollInterval', 1, vscode.ConfigurationTarget.Global);
    try {
      const { uri, name } = await freshFolder('watch');
      await vscode.workspace.fs.readDirectory(uri); // the folder's listing is now cached
      const created: string[] = [];
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(shareUri(), `${name}/**`));
      watcher.onDidCreate(u => created.push(u.path));
      try {
        writeFileSync(diskPath(name, 'from-elsewhere.txt'), 'hello');
        await eventually(() => assert.ok(created.some(p => p.endsWith(`/${name}/from-elsewhere.txt`)), `created: ${created.join(', ')}`), 20_000);
      } finally {
        watcher.dispose();
      }
    } finally {
      await config.update('watch.pollInterval', undefined, vscode.ConfigurationTarget.Global);
    }
  });
});
