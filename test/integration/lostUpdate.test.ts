// Lost updates in real VS Code, on the two servers that honour If-Match (Apache and lighttpd): a text
// document is saved, a colleague changes the same file on the server's disk within a second, and the
// document is edited and saved again at once — inside the cache's freshness window, where the cached
// metadata answers VS Code's "did it change on disk?" check before the write. Both by hand (save())
// and by files.autoSave "afterDelay". What must hold: the colleague's bytes stay on the server, the
// user's bytes are not lost (the local version reads back, kept as a conflict or a pending change),
// and the conflict is listed. Nothing may be overwritten silently.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { SERVER_SHARE_NAMES } from '../support/serverSharesEnv';
import { eventually, text } from './harness';
import { resolve } from './serverControl';
import { serverShare, type ServerShare } from './serverShares';

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
/** The cache's freshness window (webdavOffline.cache.freshness default): the second save must land in it. */
const FRESHNESS_MS = 5_000;
const INITIAL = '# Minutes\n\n- agenda\n';
const COLLEAGUE = '# Minutes\n\n- agenda\n- the colleague added this line straight on the server\n';

let counter = 0;
function freshFile(srv: ServerShare, label: string): { rel: string; uri: vscode.Uri; disk: string } {
  const rel = `lost-update-${label}-${++counter}-${Math.random().toString(36).slice(2, 8)}.md`;
  srv.writeAsColleague(rel, INITIAL);
  return { rel, uri: srv.uri(rel), disk: srv.diskPath(rel) };
}

const onDisk = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '<missing>');

/** Step 4: the colleague's version is on the server, the user's is not lost, and a conflict is listed. */
async function assertNothingLost(f: { rel: string; uri: vscode.Uri; disk: string }, mine: string, doc: vscode.TextDocument): Promise<void> {
  const overwritten = (when: string) =>
    `${when}: the colleague's version on the server's disk was overwritten (silent lost update).\n` +
    `disk now:\n${onDisk(f.disk)}\nthe colleague wrote:\n${COLLEAGUE}`;
  assert.equal(onDisk(f.disk), COLLEAGUE, overwritten('right after the save'));
  await sleep(1500); // a replay or retry after the save must not overwrite it either
  assert.equal(onDisk(f.disk), COLLEAGUE, overwritten('1.5 s after the save'));

  const { share, path } = resolve(f.uri);
  const local = text(await vscode.workspace.fs.readFile(f.uri));
  assert.equal(local, mine, `the user's version must read back through vscode.workspace.fs (document dirty: ${doc.isDirty})`);
  await eventually(async () => {
    const conflicts = await share.conflicts();
    const pending = await share.pendingChanges();
    const conflict = conflicts.find(c => c.path === path);
    assert.ok(
      conflict,
      `a conflict is listed for ${path}; conflicts: [${conflicts.map(c => `${c.kind} ${c.path}`).join(', ')}], ` +
        `pending: [${pending.map(i => `${i.op.kind} ${'path' in i.op ? i.op.path : ''}`).join(', ')}]`,
    );
  }, 5_000);
}

for (const name of SERVER_SHARE_NAMES) {
  suite(`integration: lost updates on ${name}`, function () {
    this.timeout(30_000);
    const files = () => vscode.workspace.getConfiguration('files');

    teardown(async () => {
      // an editor left dirty (a save that failed) would make "close all" ask whether to save: revert it
      for (const editor of vscode.window.visibleTextEditors.filter(e => e.document.isDirty)) {
        await vscode.window.showTextDocument(editor.document);
        await vscode.commands.executeCommand('workbench.action.files.revert');
      }
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    });

    test('save, a colleague changes the file on the server, save again at once: nothing is overwritten, nothing lost', async () => {
      const srv = serverShare(name);
      const f = freshFile(srv, 'save');
      const doc = await vscode.workspace.openTextDocument(f.uri);
      assert.equal(doc.getText(), INITIAL, 'the document shows the server content');

      // 1. edit + save: the server has it
      const first = new vscode.WorkspaceEdit();
      first.insert(f.uri, doc.positionAt(doc.getText().length), '- my first point\n');
      assert.ok(await vscode.workspace.applyEdit(first), 'first edit applied');
      assert.equal(await doc.save(), true, 'the first save succeeds');
      const savedAt = Date.now();
      assert.equal(onDisk(f.disk), INITIAL + '- my first point\n', 'the first save reached the server');

      // 2. a colleague writes the same file on the server, within a second
      srv.writeAsColleague(f.rel, COLLEAGUE);
      assert.ok(Date.now() - savedAt < 1000, `the colleague wrote ${Date.now() - savedAt} ms after the save (must be < 1 s)`);

      // 3. edit again and save at once, as a user would
      const second = new vscode.WorkspaceEdit();
      second.insert(f.uri, doc.positionAt(doc.getText().length), '- my second point\n');
      assert.ok(await vscode.workspace.applyEdit(second), 'second edit applied');
      const mine = doc.getText();
      await doc.save();
      const elapsed = Date.now() - savedAt;
      assert.ok(elapsed < FRESHNESS_MS, `the second save came ${elapsed} ms after the first: too slow to probe the freshness window`);

      // 4.
      await assertNothingLost(f, mine, doc);
    });

    test('files.autoSave "afterDelay": type, autosave, a colleague changes the file, type again, autosave: nothing is overwritten, nothing lost', async () => {
      const srv = serverShare(name);
      const f = freshFile(srv, 'autosave');
      const before = files().inspect<string>('autoSave')?.globalValue;
      const beforeDelay = files().inspect<number>('autoSaveDelay')?.globalValue;
      await files().update('autoSaveDelay', 200, vscode.ConfigurationTarget.Global);
      await files().update('autoSave', 'afterDelay', vscode.ConfigurationTarget.Global);
      try {
        const doc = await vscode.workspace.openTextDocument(f.uri);
        const editor = await vscode.window.showTextDocument(doc);
        const typeAtEnd = async (s: string) => {
          const end = doc.positionAt(doc.getText().length);
          editor.selection = new vscode.Selection(end, end);
          await vscode.commands.executeCommand('type', { text: s });
        };
        const autosaved = (what: string) =>
          eventually(() => assert.equal(doc.isDirty, false, `${what}: the document is still dirty 5 s later (autosave failed or never ran)`), 5_000, 50);

        // 1. type, autosave: the server has it
        await typeAtEnd('- typed first\n');
        assert.equal(doc.getText(), INITIAL + '- typed first\n', 'typed into the editor');
        await autosaved('first change');
        const savedAt = Date.now();
        assert.equal(onDisk(f.disk), INITIAL + '- typed first\n', 'the autosave reached the server');

        // 2. a colleague writes the same file on the server, within a second
        srv.writeAsColleague(f.rel, COLLEAGUE);
        assert.ok(Date.now() - savedAt < 1000, `the colleague wrote ${Date.now() - savedAt} ms after the autosave (must be < 1 s)`);

        // 3. type again at once; autosave
        await typeAtEnd('- typed second\n');
        const mine = doc.getText();
        assert.equal(mine, INITIAL + '- typed first\n- typed second\n', 'typed into the editor');
        await autosaved('second change');
        const elapsed = Date.now() - savedAt;
        assert.ok(elapsed < FRESHNESS_MS, `the second autosave came ${elapsed} ms after the first: too slow to probe the freshness window`);

        // 4.
        await assertNothingLost(f, mine, doc);
      } finally {
        await files().update('autoSave', before, vscode.ConfigurationTarget.Global);
        await files().update('autoSaveDelay', beforeDelay, vscode.ConfigurationTarget.Global);
      }
    });
  });
}
