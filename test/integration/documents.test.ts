// Text documents on the dav: folder: open shows the server's content; edit + save reaches the server.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { bytes, diskHas, diskPath, freshFolder, shareUri } from './harness';

suite('integration: text documents', () => {
  teardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('openTextDocument shows the content of notes.md', async () => {
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(shareUri(), 'notes.md'));
    assert.equal(doc.uri.scheme, 'dav');
    assert.equal(doc.getText(), readFileSync(diskPath('notes.md'), 'utf8'));
    assert.equal(doc.languageId, 'markdown');
    const editor = await vscode.window.showTextDocument(doc);
    assert.equal(editor.document.lineAt(0).text, '# Notes');
  });

  test('edit in an editor and save: the server has the new text', async () => {
    const dir = await freshFolder('doc-save');
    const uri = vscode.Uri.joinPath(dir.uri, 'edit me.md');
    await vscode.workspace.fs.writeFile(uri, bytes('line one\n'));
    await diskHas(join(dir.disk, 'edit me.md'), 'line one\n');
    const doc = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(doc);
    assert.ok(await editor.edit(b => b.insert(new vscode.Position(1, 0), 'line two ü\n')));
    assert.equal(doc.isDirty, true);
    assert.equal(await doc.save(), true);
    await diskHas(join(dir.disk, 'edit me.md'), 'line one\nline two ü\n');
    assert.equal(doc.isDirty, false);
  });
});
