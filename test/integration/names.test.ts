// Names that need escaping in URLs and XML round-trip exactly: VS Code → server disk → VS Code.
import * as assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { bytes, diskHas, eventually, freshFolder, text } from './harness';

const NAMES = [
  'with space.txt',
  'ümlaut-ß-日本語.txt',
  'hash#1.txt',
  '100% sure.txt',
  'what?.txt',
  'a+b=c.txt',
  'this&that.txt',
  "quote's;semi,comma.txt",
  'mixed #%?+& ü [x].txt',
  '%20literal.txt',
];

suite('integration: special names', () => {
  for (const name of NAMES) {
    test(`written through VS Code, exact name on the server: ${JSON.stringify(name)}`, async () => {
      const dir = await freshFolder('name');
      const uri = vscode.Uri.joinPath(dir.uri, name);
      await vscode.workspace.fs.writeFile(uri, bytes(`content of ${name}`));
      await diskHas(join(dir.disk, name), `content of ${name}`);
      assert.deepEqual(readdirSync(dir.disk), [name]);
      const listed = await vscode.workspace.fs.readDirectory(dir.uri);
      assert.deepEqual(listed, [[name, vscode.FileType.File]]);
      assert.equal(text(await vscode.workspace.fs.readFile(uri)), `content of ${name}`);
      assert.equal((await vscode.workspace.fs.stat(uri)).type, vscode.FileType.File);
    });
  }

  test('names created on the server are listed and read exactly', async () => {
    const dir = await freshFolder('server-names');
    mkdirSync(join(dir.disk, 'sub #%?+& dir'));
    for (const name of NAMES) writeFileSync(join(dir.disk, 'sub #%?+& dir', name), `server ${name}`);
    const sub = vscode.Uri.joinPath(dir.uri, 'sub #%?+& dir');
    await eventually(async () => {
      const listed = (await vscode.workspace.fs.readDirectory(sub)).map(([n]) => n).sort();
      assert.deepEqual(listed, [...NAMES].sort());
    });
    for (const name of NAMES) {
      assert.equal(text(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(sub, name))), `server ${name}`);
    }
  });

  test('a folder with special characters holds a file; rename keeps the bytes', async () => {
    const dir = await freshFolder('name-dir');
    const folder = vscode.Uri.joinPath(dir.uri, 'dir #1 & ü?');
    await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(folder, 'in+side%.txt'), bytes('inside'));
    await diskHas(join(dir.disk, 'dir #1 & ü?', 'in+side%.txt'), 'inside');
    await vscode.workspace.fs.rename(vscode.Uri.joinPath(folder, 'in+side%.txt'), vscode.Uri.joinPath(folder, 'out #2.txt'));
    await diskHas(join(dir.disk, 'dir #1 & ü?', 'out #2.txt'), 'inside');
    assert.deepEqual(readdirSync(join(dir.disk, 'dir #1 & ü?')), ['out #2.txt']);
  });
});
