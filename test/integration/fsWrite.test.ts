// Writing through vscode.workspace.fs; every change is checked on the server's disk.
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { bytes, diskGone, diskHas, eventually, freshFolder, rejectsWithFsError, text } from './harness';

suite('integration: writing', () => {
  test('writeFile creates a new file on the server', async () => {
    const dir = await freshFolder('write-new');
    const uri = vscode.Uri.joinPath(dir.uri, 'new.txt');
    await vscode.workspace.fs.writeFile(uri, bytes('hello server\n'));
    await diskHas(join(dir.disk, 'new.txt'), 'hello server\n');
    const st = await vscode.workspace.fs.stat(uri);
    assert.equal(st.type, vscode.FileType.File);
    assert.equal(st.size, 13);
    assert.equal(text(await vscode.workspace.fs.readFile(uri)), 'hello server\n');
  });

  test('writeFile overwrites an existing file (shorter content too)', async () => {
    const dir = await freshFolder('write-over');
    const uri = vscode.Uri.joinPath(dir.uri, 'f.txt');
    await vscode.workspace.fs.writeFile(uri, bytes('first version, quite long\n'));
    await diskHas(join(dir.disk, 'f.txt'), 'first version, quite long\n');
    await vscode.workspace.fs.writeFile(uri, bytes('second\n'));
    await diskHas(join(dir.disk, 'f.txt'), 'second\n');
    assert.equal(text(await vscode.workspace.fs.readFile(uri)), 'second\n');
    assert.equal((await vscode.workspace.fs.stat(uri)).size, 7);
  });

  test('writeFile round-trips all 256 byte values and an empty file', async () => {
    const dir = await freshFolder('write-binary');
    const all = new Uint8Array(512).map((_, i) => i % 256);
    await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(dir.uri, 'bin.dat'), all);
    await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(dir.uri, 'empty.txt'), new Uint8Array(0));
    await diskHas(join(dir.disk, 'bin.dat'), all);
    await diskHas(join(dir.disk, 'empty.txt'), '');
    assert.deepEqual(Buffer.from(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(dir.uri, 'bin.dat'))), Buffer.from(all));
    assert.equal((await vscode.workspace.fs.readFile(vscode.Uri.joinPath(dir.uri, 'empty.txt'))).length, 0);
  });

  test('writeFile into missing folders creates them (VS Code mkdirs the parents)', async () => {
    const dir = await freshFolder('write-nested');
    await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(dir.uri, 'a', 'b', 'c.txt'), bytes('deep'));
    await diskHas(join(dir.disk, 'a', 'b', 'c.txt'), 'deep');
    assert.equal((await vscode.workspace.fs.stat(vscode.Uri.joinPath(dir.uri, 'a', 'b'))).type, vscode.FileType.Directory);
  });

  test('a file written on the server is read through VS Code', async () => {
    const dir = await freshFolder('server-side');
    writeFileSync(join(dir.disk, 'from-server.txt'), 'written on the server\n');
    const uri = vscode.Uri.joinPath(dir.uri, 'from-server.txt');
    await eventually(async () => assert.equal(text(await vscode.workspace.fs.readFile(uri)), 'written on the server\n'));
  });

  test('createDirectory creates a folder; existing folder is kept; existing file → FileExists', async () => {
    const dir = await freshFolder('mkdir');
    const sub = vscode.Uri.joinPath(dir.uri, 'sub');
    await vscode.workspace.fs.createDirectory(sub);
    await eventually(() => assert.ok(existsSync(join(dir.disk, 'sub')) && statSync(join(dir.disk, 'sub')).isDirectory()));
    assert.equal((await vscode.workspace.fs.stat(sub)).type, vscode.FileType.Directory);
    // workspace.fs.createDirectory is mkdirp: an existing FOLDER is fine (and keeps its content) …
    await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(sub, 'keep.txt'), bytes('kept'));
    await diskHas(join(dir.disk, 'sub', 'keep.txt'), 'kept');
    await vscode.workspace.fs.createDirectory(sub);
    await diskHas(join(dir.disk, 'sub', 'keep.txt'), 'kept');
    // … but an existing FILE of that name → FileExists
    const file = vscode.Uri.joinPath(dir.uri, 'plain.txt');
    await vscode.workspace.fs.writeFile(file, bytes('file'));
    await diskHas(join(dir.disk, 'plain.txt'), 'file');
    await rejectsWithFsError(vscode.workspace.fs.createDirectory(file), 'FileExists');
    await diskHas(join(dir.disk, 'plain.txt'), 'file');
  });

  test('delete a file', async () => {
    const dir = await freshFolder('del-file');
    const uri = vscode.Uri.joinPath(dir.uri, 'gone.txt');
    await vscode.workspace.fs.writeFile(uri, bytes('x'));
    await diskHas(join(dir.disk, 'gone.txt'), 'x');
    await vscode.workspace.fs.delete(uri);
    await diskGone(join(dir.disk, 'gone.txt'));
    await rejectsWithFsError(vscode.workspace.fs.stat(uri), 'FileNotFound');
  });

  test('delete a folder recursively', async () => {
    const dir = await freshFolder('del-dir');
    mkdirSync(join(dir.disk, 'tree', 'deeper'), { recursive: true });
    writeFileSync(join(dir.disk, 'tree', 'one.txt'), '1');
    writeFileSync(join(dir.disk, 'tree', 'deeper', 'two.txt'), '2');
    const tree = vscode.Uri.joinPath(dir.uri, 'tree');
    await eventually(async () => assert.equal((await vscode.workspace.fs.stat(tree)).type, vscode.FileType.Directory));
    await vscode.workspace.fs.delete(tree, { recursive: true });
    await diskGone(join(dir.disk, 'tree'));
    await rejectsWithFsError(vscode.workspace.fs.stat(tree), 'FileNotFound');
    assert.deepEqual(await vscode.workspace.fs.readDirectory(dir.uri), []);
  });

  test('delete of a missing file → FileNotFound', async () => {
    const dir = await freshFolder('del-missing');
    await rejectsWithFsError(vscode.workspace.fs.delete(vscode.Uri.joinPath(dir.uri, 'never.txt')), 'FileNotFound');
  });
});

