import * as assert from 'node:assert/strict';
import { shareKey, type ShareLocation } from '../../src/core/shareLocation';
import type { Share } from '../../src/share/share';
import { ShareRegistry } from '../../src/share/shareRegistry';

suite('ShareRegistry', () => {
  const created: ShareLocation[] = [];
  const registry = () =>
    new ShareRegistry(loc => {
      created.push(loc);
      return { key: shareKey(loc), location: loc } as unknown as Share;
    });

  test('a URI belongs to the share with the longest matching base', () => {
    const r = registry();
    r.addBase({ scheme: 'dav', authority: 'h:1', basePath: '/a' });
    r.addBase({ scheme: 'dav', authority: 'h:1', basePath: '/a/b' });
    const deep = r.resolve('dav', 'H:1', '/a/b/c.txt');
    assert.equal(deep.share.key, 'dav://h:1/a/b/');
    assert.equal(deep.path, '/c.txt');
    const shallow = r.resolve('dav', 'h:1', '/a/bb/c.txt');
    assert.equal(shallow.share.key, 'dav://h:1/a/');
    assert.equal(shallow.path, '/bb/c.txt');
  });

  test('schemes and authorities are separate shares; unknown bases fall back to the server root', () => {
    const r = registry();
    r.addBase({ scheme: 'dav', authority: 'h:1', basePath: '/a' });
    assert.equal(r.resolve('davs', 'h:1', '/a/x').share.key, 'davs://h:1/');
    assert.equal(r.resolve('dav', 'h:2', '/a/x').path, '/a/x');
  });

  test('one share object per location', () => {
    const r = registry();
    const before = created.length;
    const loc: ShareLocation = { scheme: 'dav', authority: 'h:1', basePath: '/s' };
    assert.equal(r.get(loc), r.resolve('dav', 'h:1', '/s/file').share);
    assert.equal(created.length - before, 1);
    assert.equal(r.all().length, 1);
  });
});
