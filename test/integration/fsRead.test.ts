// Reading the sample share through vscode.workspace.fs: stat, readDirectory, readFile, errors.
import * as assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import * as vscode from 'vscode';
import { diskPath, rejectsWithFsError, shareUri } from './harness';

const at = (...p: string[]) => vscode.Uri.joinPath(shareUri(), ...p);

suite('integration: reading', () => {
  test('stat of a file: type File, size as on disk, mtime > 0', async () => {
    const st = await vscode.workspace.fs.stat(at('notes.md'));
    assert.equal(st.type, vscode.FileType.File);
    assert.equal(st.size, statSync(diskPath('notes.md')).size);
    assert.ok(st.mtime > 0, `mtime ${st.mtime}`);
  });

  test('stat of a folder: type Directory', async () => {
    const st = await vscode.workspace.fs.stat(at('docs'));
    assert.equal(st.type, vscode.FileType.Directory);
    assert.ok(st.mtime >= 0, `mtime ${st.mtime}`);
  });

  test('readDirectory of the root lists files and folders with their types', async () => {
    const entries = new Map(await vscode.workspace.fs.readDirectory(shareUri()));
    assert.equal(entries.get('notes.md'), vscode.FileType.File);
    assert.equal(entries.get('docs'), vscode.FileType.Directory);
    assert.equal(entries.get('src'), vscode.FileType.Directory);
  });

  test('readDirectory of a sub-folder lists exactly its entries', async () => {
    const names = (await vscode.workspace.fs.readDirectory(at('docs'))).map(([n]) => n).sort();
    assert.deepEqual(names, ['a.md', 'b.md', 'c.md', 'old.md', 'space & ümlaut #1.txt']);
  });

  test('readFile returns the bytes on the server', async () => {
    const got = await vscode.workspace.fs.readFile(at('notes.md'));
    assert.deepEqual(Buffer.from(got), readFileSync(diskPath('notes.md')));
    const js = await vscode.workspace.fs.readFile(at('src', 'hello.js'));
    assert.deepEqual(Buffer.from(js), readFileSync(diskPath('src', 'hello.js')));
  });

  test('readFile of a name with space, ümlaut and # from the sample share', async () => {
    const got = await vscode.workspace.fs.readFile(at('docs', 'space & ümlaut #1.txt'));
    assert.deepEqual(Buffer.from(got), readFileSync(diskPath('docs', 'space & ümlaut #1.txt')));
  });

  test('readFile of a missing file → FileNotFound', async () => {
    await rejectsWithFsError(vscode.workspace.fs.readFile(at('no-such-file.txt')), 'FileNotFound');
  });

  test('stat of a missing file → FileNotFound', async () => {
    await rejectsWithFsError(vscode.workspace.fs.stat(at('docs', 'missing.md')), 'FileNotFound');
  });

  test('readDirectory of a missing folder → FileNotFound', async () => {
    await rejectsWithFsError(vscode.workspace.fs.readDirectory(at('no-such-dir')), 'FileNotFound');
  });
});
