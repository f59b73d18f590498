// A throw-away copy of sample-share/ served by nephele at /share, plus the dav: URI VS Code opens.
// The template folder itself is never touched.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../scripts/lib/repoRoot';
import { startNephele, type RunningServer } from './nepheleServer';

export const DEMO_USERS = { alice: 's3cret' };

export interface ShareFixture {
  /** Folder on disk that is served. */
  readonly root: string;
  /** `dav://127.0.0.1:<port>/share/` */
  readonly folderUri: string;
  /** `http://127.0.0.1:<port>/share/` */
  readonly httpUrl: string;
  readonly server: RunningServer;
  close(): Promise<void>;
}

export async function startShare(o: { parentDir?: string; auth?: boolean; keep?: boolean } = {}): Promise<ShareFixture> {
  const root = mkdtempSync(join(o.parentDir ?? tmpdir(), 'webdav-share-'));
  cpSync(join(repoRoot(), 'sample-share'), root, { recursive: true });
  let server: RunningServer;
  try {
    server = await startNephele({ root, mount: '/share', users: o.auth ? DEMO_USERS : undefined });
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  let closed = false;
  return {
    root,
    folderUri: `dav://127.0.0.1:${server.port}/share/`,
    httpUrl: `${server.origin}/share/`,
    server,
    async close() {
      if (closed) return;
      closed = true;
      await server.close();
      if (!o.keep) rmSync(root, { recursive: true, force: true });
    },
  };
}
