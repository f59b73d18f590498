// The poller on a server that propagates folder etags up the tree (as Nextcloud and ownCloud do): a quiet
// tree costs one request per round, and only changed branches are re-listed. No server available here
// propagates etags, so this runs on an in-memory server (the other servers are in the conformance suite).
import * as assert from 'node:assert/strict';
import type { RemoteChange } from '../../src/cache/cachedTree';
import { openCache } from '../../src/cache/openCache';
import { ChangePoller } from '../../src/cache/changePoller';
import { ShareError } from '../../src/core/errors';
import { dirname, isEqualOrParent } from '../../src/core/remotePath';
import { DEFAULTS } from '../../src/core/settings';
import { DiskShareStores } from '../../src/platform/diskShareStore';
import type { Capabilities } from '../../src/remote/capabilities';
import type { RemoteEntry, RemoteFs, RemoteListing } from '../../src/remote/remoteFs';
import { RecordingLogger } from '../support/recordingLogger';
import { tempFolder } from '../support/servers';

/** A tree in memory whose folder etags change whenever anything below them changes. */
class PropagatingServer implements RemoteFs {
  readonly files = new Map<string, string>();
  private version = 0;
  private readonly etags = new Map<string, number>();
  requests = 0;
  setCredentials() {}
  write(path: string, content: string) {
    this.files.set(path, content);
    this.version++;
    for (let p = path; ; p = dirname(p)) {
      this.etags.set(p, this.version);
      if (p === '/') break;
    }
  }
  private isDir(path: string) {
    return [...this.files.keys()].some(f => f !== path && isEqualOrParent(f, path));
  }
  private entry(path: string): RemoteEntry {
    const dir = this.isDir(path);
    if (!dir && !this.files.has(path)) throw new ShareError('NotFound', `${path}: not found`);
    return { path, type: dir ? 'directory' : 'file', size: dir ? 0 : this.files.get(path)!.length, mtime: 1, ctime: 1, etag: `"${this.etags.get(path) ?? 0}"` };
  }
  async stat(path: string) {
    this.requests++;
    return this.entry(path);
  }
  async list(path: string): Promise<RemoteListing> {
    this.requests++;
    const names = new Set<string>();
    for (const f of this.files.keys()) {
      if (f !== path && isEqualOrParent(f, path)) names.add(f.slice(path === '/' ? 1 : path.length + 1).split('/')[0]);
    }
    return { self: this.entry(path), children: [...names].map(n => this.entry(path === '/' ? `/${n}` : `${path}/${n}`)) };
  }
  async get(path: string) {
    this.requests++;
    return { data: new TextEncoder().encode(this.files.get(path)), etag: this.entry(path).etag };
  }
  put(): never { throw new Error('not used'); }
  mkcol(): never { throw new Error('not used'); }
  delete(): never { throw new Error('not used'); }
  move(): never { throw new Error('not used'); }
  copy(): never { throw new Error('not used'); }
  lock(): never { throw new Error('not used'); }
  unlock(): never { throw new Error('not used'); }
}

suite('change poller', () => {
  test('with etag propagation a quiet tree costs one request, and only the changed branch is re-listed', async () => {
    const server = new PropagatingServer();
    for (const f of ['/a/x.txt', '/a/deep/y.txt', '/b/z.txt', '/b/deep/w.txt', '/c/v.txt']) server.write(f, f);
    const dir = tempFolder('wdo-poller-');
    const store = await new DiskShareStores(dir.path).open('s');
    const log = new RecordingLogger();
    const settings = () => ({ ...DEFAULTS, pollIntervalMs: 0 });
    const parts = await openCache(store, server, settings, log);
    const cache = parts.remote;
    const poller = new ChangePoller(cache, parts.tree, settings, log);
    const caps: Capabilities = { ifMatch: true, ifNoneMatch: true, etagInListing: true, etagOnPut: true, directoryEtags: true, etagPropagation: true, depthInfinity: false, probedAt: 0 };
    poller.useCapabilities(async () => caps);
    try {
      for (const d of ['/', '/a', '/a/deep', '/b', '/b/deep', '/c']) await cache.list(d);
      const watch = poller.watch('/', true);
      const changes: RemoteChange[] = [];
      parts.tree.onDidChangeRemote(c => changes.push(...c));

      let before = server.requests;
      assert.equal(await poller.poll(), 1);
      assert.equal(server.requests - before, 1, 'nothing changed: only the root was asked');

      server.write('/b/deep/w.txt', 'changed deep down');
      before = server.requests;
      await poller.poll();
      assert.equal(server.requests - before, 4, 'root etag, then /, /b, /b/deep are listed; /a and /c are skipped');
      assert.deepEqual(changes.map(c => `${c.type} ${c.path}`), ['changed /b/deep/w.txt']);

      Object.assign(caps, { etagPropagation: false });
      before = server.requests;
      await poller.poll();
      assert.equal(server.requests - before, 6, 'without propagation every cached folder is listed');
      watch.dispose();
    } finally {
      poller.dispose();
      await parts.dispose();
      dir.remove();
    }
  });
});


