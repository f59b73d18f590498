// Proof of landing (offline/landing.ts) as a table: what the server shows after a change decides
// whether it landed, did not land, or met someone else's version.
import * as assert from 'node:assert/strict';
import type { ServerVersion } from '../../src/remote/version';
import { ShareError } from '../../src/core/errors';
import { dirname } from '../../src/core/remotePath';
import { judgePresence, judgeWrite, provenByAnswer } from '../../src/sync/landing';
import { observeServer, PROOF_TREE_ENTRIES } from '../../src/sync/provenWrites';
import type { RemoteEntry, RemoteFs, RemoteListing } from '../../src/remote/remoteFs';

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

  test('what the server shows is asked in one request per folder, or one whole-tree answer where allowed and small enough', async () => {
    // a server of /docs/{a,b,c}/{f,g}.txt and /docs/top.txt, counting what it is asked
    const paths = ['/docs', '/docs/top.txt', '/docs/a', '/docs/a/f.txt', '/docs/a/g.txt', '/docs/b', '/docs/b/f.txt', '/docs/b/g.txt', '/docs/c', '/docs/c/f.txt', '/docs/c/g.txt'];
    const entry = (p: string): RemoteEntry => ({ ...(p.endsWith('.txt') ? file(`"${p}"`, 1) : dir), path: p });
    const asked: string[] = [];
    let treeAnswer: 'whole' | 'too-large' | 'refused' = 'whole';
    const server = {
      stat: async (p: string) => (asked.push(`stat ${p}`), entry(p)),
      list: async (p: string): Promise<RemoteListing> => (asked.push(`list ${p}`), { self: entry(p), children: paths.filter(c => c !== p && dirname(c) === p).map(entry) }),
      listTree: async (p: string, max: number) => {
        asked.push(`tree ${p} ${max}`);
        if (treeAnswer === 'refused') throw new ShareError('NoPermissions', 'PROPFIND: 403 propfind-finite-depth');
        return treeAnswer === 'too-large' ? 'too-large' : paths.filter(c => c === p || c.startsWith(`${p}/`)).map(entry);
      },
    } as unknown as RemoteFs;
    const wanted = ['/docs/a/f.txt', '/docs/a/g.txt', '/docs/b/f.txt', '/docs/b/g.txt', '/docs/c/f.txt', '/docs/c/gone.txt'];
    const check = (got: Map<string, RemoteEntry | undefined>) => {
      assert.equal(got.get('/docs/a/f.txt')?.etag, '"/docs/a/f.txt"');
      assert.equal(got.get('/docs/c/gone.txt'), undefined, 'not there: gone');
      assert.deepEqual([...got.keys()].sort(), [...wanted].sort());
    };
    check(await observeServer(server, wanted, 1));
    assert.deepEqual(asked.splice(0), ['list /docs/a', 'list /docs/b', 'list /docs/c'], 'a listing per folder');
    check(await observeServer(server, wanted, 1, () => false));
    assert.deepEqual(asked.splice(0), ['list /docs/a', 'list /docs/b', 'list /docs/c'], 'the tree not known small: a listing per folder');
    const roots: string[] = [];
    check(await observeServer(server, wanted, 1, root => (roots.push(root), true)));
    assert.deepEqual(roots, ['/docs'], 'asked about the folder that holds them all');
    assert.deepEqual(asked.splice(0), [`tree /docs ${PROOF_TREE_ENTRIES}`], 'one whole-tree answer');
    treeAnswer = 'too-large';
    check(await observeServer(server, wanted, 1, () => true));
    assert.deepEqual(asked.splice(0), [`tree /docs ${PROOF_TREE_ENTRIES}`, 'list /docs/a', 'list /docs/b', 'list /docs/c'], 'too large: folder by folder after all');
    treeAnswer = 'refused';
    check(await observeServer(server, wanted, 1, () => true));
    assert.deepEqual(asked.splice(0), [`tree /docs ${PROOF_TREE_ENTRIES}`, 'list /docs/a', 'list /docs/b', 'list /docs/c'], 'refused: folder by folder');
    // two requests to make: not worth a whole tree
    const two = await observeServer(server, ['/docs/a/f.txt', '/docs/a/g.txt', '/docs/b/f.txt'], 1, () => true);
    assert.equal(two.size, 3);
    assert.deepEqual(asked.splice(0), ['list /docs/a', 'stat /docs/b/f.txt']);
  });
});
