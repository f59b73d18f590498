// rename and copy through vscode.workspace.fs, with and without overwrite; checked on the server's disk.
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { bytes, diskGone, diskHas, freshFolder, rejectsWithFsError, text } from './harness';

const fs = vscode.workspace.fs;

async function seed(dir: vscode.Uri, name: string, content: string): Promise<vscode.Uri> {
  const uri = vscode.Uri.joinPath(dir, name);
  await fs.writeFile(uri, bytes(content));
  return uri;
}

suite('integration: rename and copy', () => {
  test('rename a file to a new name', async () => {
    const dir = await freshFolder('ren-new');
    const a = await seed(dir.uri, 'a.txt', 'AAA');
    await diskHas(join(dir.disk, 'a.txt'), 'AAA');
    await fs.rename(a, vscode.Uri.joinPath(dir.uri, 'b.txt'));
    await diskHas(join(dir.disk, 'b.txt'), 'AAA');
    await diskGone(join(dir.disk, 'a.txt'));
    await rejectsWithFsError(fs.stat(a), 'FileNotFound');
  });

  test('rename onto an existing file: overwrite false → FileExists, overwrite true → replaced', async () => {
    const dir = await freshFolder('ren-over');
    const a = await seed(dir.uri, 'a.txt', 'from a');
    const b = await seed(dir.uri, 'b.txt', 'old b');
    await diskHas(join(dir.disk, 'b.txt'), 'old b');
    await rejectsWithFsError(fs.rename(a, b, { overwrite: false }), 'FileExists');
    await diskHas(join(dir.disk, 'a.txt'), 'from a');
    await diskHas(join(dir.disk, 'b.txt'), 'old b');
    await fs.rename(a, b, { overwrite: true });
    await diskHas(join(dir.disk, 'b.txt'), 'from a');
    await diskGone(join(dir.disk, 'a.txt'));
    assert.equal(text(await fs.readFile(b)), 'from a');
  });

  test('rename a folder with its content into another folder', async () => {
    const dir = await freshFolder('ren-dir');
    await seed(dir.uri, 'src/x/one.txt', '1');
    await seed(dir.uri, 'src/two.txt', '2');
    await fs.createDirectory(vscode.Uri.joinPath(dir.uri, 'dest'));
    await diskHas(join(dir.disk, 'src', 'x', 'one.txt'), '1');
    await fs.rename(vscode.Uri.joinPath(dir.uri, 'src'), vscode.Uri.joinPath(dir.uri, 'dest', 'moved'));
    await diskHas(join(dir.disk, 'dest', 'moved', 'x', 'one.txt'), '1');
    await diskHas(join(dir.disk, 'dest', 'moved', 'two.txt'), '2');
    await diskGone(join(dir.disk, 'src'));
    const names = (await fs.readDirectory(vscode.Uri.joinPath(dir.uri, 'dest', 'moved'))).map(([n]) => n).sort();
    assert.deepEqual(names, ['two.txt', 'x']);
  });

  test('copy a file: both exist with the same bytes', async () => {
    const dir = await freshFolder('copy-new');
    const a = await seed(dir.uri, 'a.txt', 'copy me');
    await fs.copy(a, vscode.Uri.joinPath(dir.uri, 'c.txt'));
    await diskHas(join(dir.disk, 'c.txt'), 'copy me');
    await diskHas(join(dir.disk, 'a.txt'), 'copy me');
    assert.equal(text(await fs.readFile(vscode.Uri.joinPath(dir.uri, 'c.txt'))), 'copy me');
  });

  test('copy onto an existing file: overwrite false → FileExists, overwrite true → replaced', async () => {
    const dir = await freshFolder('copy-over');
    const a = await seed(dir.uri, 'a.txt', 'new bytes');
    const b = await seed(dir.uri, 'b.txt', 'old bytes, longer');
    await diskHas(join(dir.disk, 'b.txt'), 'old bytes, longer');
    await rejectsWithFsError(fs.copy(a, b, { overwrite: false }), 'FileExists');
    await diskHas(join(dir.disk, 'b.txt'), 'old bytes, longer');
    await fs.copy(a, b, { overwrite: true });
    await diskHas(join(dir.disk, 'b.txt'), 'new bytes');
    await diskHas(join(dir.disk, 'a.txt'), 'new bytes');
  });

  test('copy a folder recursively', async () => {
    const dir = await freshFolder('copy-dir');
    await seed(dir.uri, 'tree/leaf.txt', 'leaf');
    await seed(dir.uri, 'tree/sub/deep.txt', 'deep');
    await fs.copy(vscode.Uri.joinPath(dir.uri, 'tree'), vscode.Uri.joinPath(dir.uri, 'tree2'));
    await diskHas(join(dir.disk, 'tree2', 'leaf.txt'), 'leaf');
    await diskHas(join(dir.disk, 'tree2', 'sub', 'deep.txt'), 'deep');
    await diskHas(join(dir.disk, 'tree', 'sub', 'deep.txt'), 'deep');
  });

  test('rename of a missing file → FileNotFound', async () => {
    const dir = await freshFolder('ren-missing');
    await rejectsWithFsError(
      fs.rename(vscode.Uri.joinPath(dir.uri, 'ghost.txt'), vscode.Uri.joinPath(dir.uri, 'other.txt')),
      'FileNotFound',
    );
  });
});
