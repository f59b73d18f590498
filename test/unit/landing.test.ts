// Proof of landing (offline/landing.ts) as a table: what the server shows after a change decides
// whether it landed, did not land, or met someone else's version.
import * as assert from 'node:assert/strict';
import type { ServerVersion } from '../../src/remote/version';
import { judgePresence, judgeWrite, provenByAnswer } from '../../src/sync/landing';
import type { RemoteEntry } from '../../src/remote/remoteFs';

const file = (etag: string | undefined, size: number, mtime = 1000): RemoteEntry => ({ path: '/a.txt', type: 'file', size, mtime, ctime: mtime, etag });
const dir: RemoteEntry = { path: '/a.txt', type: 'directory', size: 0, mtime: 0, ctime: 0 };
const base: ServerVersion = { etag: '"v1"', mtime: 1000, size: 5 };
const noEtagBase: ServerVersion = { mtime: 1000, size: 5 };

suite('proof of landing', () => {
  test('a write: the table', () => {
    const rows: [string, RemoteEntry | undefined, number, ServerVersion | undefined, string][] = [
      ['new etag, our size', file('"v2"', 7), 7, base, 'landed'],
      ['new weak etag (Apache, within a second), our size', file('W/"v2"', 7), 7, base, 'landed'],
      ['same etag: the server did not store it', file('"v1"', 5), 7, base, 'unstored'],
      ['same etag, weak form: still the old version', file('W/"v1"', 5), 7, base, 'unstored'],
      ['new etag, another size: someone else wrote', file('"v3"', 9), 7, base, 'other-version'],
      ['nothing there: not stored', undefined, 7, base, 'unstored'],
      ['a folder there now', dir, 7, base, 'other-version'],
      ['a create that shows up', file('"n"', 3), 3, undefined, 'landed'],
      ['a create that does not show up', undefined, 3, undefined, 'unstored'],
      ['a create with another size there', file('"n"', 4), 3, undefined, 'other-version'],
      ['no etags: new mtime, our size', file(undefined, 7, 2000), 7, noEtagBase, 'landed'],
      ['no etags: same mtime, same size as base, other size expected', file(undefined, 5, 1000), 7, noEtagBase, 'unstored'],
      ['no etags: another size, not the base', file(undefined, 9, 2000), 7, noEtagBase, 'other-version'],
      ['no etags: same size and second as the base: only the bytes tell', file(undefined, 5, 1000), 5, noEtagBase, 'ambiguous'],
    ];
    for (const [what, after, size, b, expected] of rows) assert.equal(judgeWrite(after, size, b).kind, expected, what);
    assert.deepEqual(judgeWrite(file('"v2"', 7), 7, base), { kind: 'landed', etag: '"v2"' });
  });

  test('the answer proves a write only with a validator that is not the base', () => {
    assert.equal(provenByAnswer('"v2"', base), true);
    assert.equal(provenByAnswer('"v1"', base), false, 'the old validator echoed back proves nothing');
    assert.equal(provenByAnswer('W/"v1"', base), false);
    assert.equal(provenByAnswer(undefined, base), false);
    assert.equal(provenByAnswer('"n"', undefined), true);
  });

  test('namespace changes', () => {
    assert.equal(judgePresence(dir, 'directory').kind, 'landed', 'a new folder is there');
    assert.equal(judgePresence(undefined, 'directory').kind, 'unstored');
    assert.equal(judgePresence(file('"x"', 1), 'directory').kind, 'other-version');
    assert.equal(judgePresence(undefined, 'absent').kind, 'landed', 'a deleted item is gone');
    assert.equal(judgePresence(file('"v1"', 5), 'absent', base).kind, 'unstored', 'still the same file: the delete did not happen');
    assert.equal(judgePresence(file('"v9"', 5), 'absent', base).kind, 'other-version', 'a new version in its place');
    assert.equal(judgePresence(dir, 'absent').kind, 'unstored');
  });
});
