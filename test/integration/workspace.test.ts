// The dav: folder is open in real VS Code and the extension serves it.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { harnessEnv, shareUri } from './harness';

suite('integration: workspace', () => {
  test('the dav: share is the open workspace folder', () => {
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.equal(folders.length, 1, `workspace folders: ${folders.map(f => f.uri.toString()).join(', ')}`);
    const uri = folders[0].uri;
    assert.equal(uri.scheme, 'dav');
    const expected = vscode.Uri.parse(harnessEnv().folderUri);
    assert.equal(uri.authority, expected.authority);
    assert.equal(uri.path.replace(/\/$/, ''), expected.path.replace(/\/$/, ''));
  });

  test('the extension is active once the folder is used', async () => {
    await vscode.workspace.fs.stat(shareUri());
    const ext = vscode.extensions.getExtension('webdav-offline.webdav-offline');
    assert.ok(ext, 'extension webdav-offline.webdav-offline is not loaded');
    assert.equal(ext.isActive, true);
  });

  test('the share root is a directory', async () => {
    const st = await vscode.workspace.fs.stat(shareUri());
    assert.equal(st.type & vscode.FileType.Directory, vscode.FileType.Directory);
  });
});
