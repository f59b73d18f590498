// Helpers for the integration tests (bundled into each *.test.js; runs inside the extension host).
// The runner passes the share through the environment of code-server, which its extension host inherits:
//   WEBDAV_TEST_FOLDER_URI  dav: URI of the share (the workspace folder)
//   WEBDAV_TEST_DISK_ROOT   folder on the server's disk that nephele serves
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { eventually } from '../support/eventually';

export function harnessEnv(): { folderUri: string; diskRoot: string } {
  const folderUri = process.env.WEBDAV_TEST_FOLDER_URI;
  const diskRoot = process.env.WEBDAV_TEST_DISK_ROOT;
  if (!folderUri || !diskRoot) {
    throw new Error('WEBDAV_TEST_FOLDER_URI / WEBDAV_TEST_DISK_ROOT are not set: run through the test runner (npm test -- --suite=integration)');
  }
  return { folderUri, diskRoot };
}

/** The dav: workspace folder that is open. */
export function shareUri(): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'no workspace folder is open');
  return folder.uri;
}

let counter = 0;
/** A fresh, not yet existing name in the share root: `it-<label>-<n>-<random>`. */
export function freshName(label: string): string {
  return `it-${label}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Creates a fresh folder in the share (through VS Code) and returns its URI and disk path. */
export async function freshFolder(label: string): Promise<{ uri: vscode.Uri; disk: string; name: string }> {
  const name = freshName(label);
  const uri = vscode.Uri.joinPath(shareUri(), name);
  await vscode.workspace.fs.createDirectory(uri);
  const disk = join(harnessEnv().diskRoot, name);
  await eventually(() => assert.ok(existsSync(disk), `folder ${name} not on the server's disk`));
  return { uri, disk, name };
}

export const bytes = (s: string) => new TextEncoder().encode(s);
export const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Disk path of a share-relative path (`a/b.txt`). */
export const diskPath = (...segments: string[]) => join(harnessEnv().diskRoot, ...segments);

export { eventually };

/** Waits until the server's disk holds exactly `expected` at `path`. */
export async function diskHas(path: string, expected: Uint8Array | string): Promise<void> {
  const want = typeof expected === 'string' ? Buffer.from(expected) : Buffer.from(expected);
  await eventually(() => {
    assert.ok(existsSync(path), `${path} does not exist on the server's disk`);
    assert.deepEqual(readFileSync(path), want, `${path} on the server's disk has other bytes`);
  });
}

/** Waits until `path` is gone from the server's disk. */
export async function diskGone(path: string): Promise<void> {
  await eventually(() => assert.ok(!existsSync(path), `${path} still exists on the server's disk`));
}

/** Asserts that `p` rejects with a vscode.FileSystemError whose code is `code`. */
export async function rejectsWithFsError(p: Thenable<unknown>, code: string): Promise<void> {
  await assert.rejects(Promise.resolve(p), (err: unknown) => {
    assert.ok(err instanceof vscode.FileSystemError, `expected a vscode.FileSystemError, got ${describe(err)}`);
    assert.equal(err.code, code, `expected FileSystemError code ${code}, got ${err.code}: ${err.message}`);
    return true;
  });
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.constructor.name}: ${err.message} (code ${(err as { code?: unknown }).code})`;
  return String(err);
}
