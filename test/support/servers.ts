// The real servers the conformance suite runs against, each on its own copy of a folder.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apacheAvailable, startApache } from './apacheServer';
import { startNephele, type RunningServer } from './nepheleServer';

export const USERS = { alice: 's3cret' };

export interface ServerKind {
  readonly name: string;
  start(options: { root: string; mount?: string; users?: Record<string, string> }): Promise<RunningServer>;
}

export const SERVER_KINDS: ServerKind[] = [
  { name: 'nephele', start: startNephele },
  { name: 'apache', start: startApache },
];

export function assertServersInstalled(): void {
  if (!apacheAvailable()) throw new Error('Apache httpd with mod_dav_fs is required: apt-get install apache2');
}

/** A fresh temp folder, optionally seeded from `template`. */
export function tempFolder(prefix: string, template?: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  if (template) cpSync(template, path, { recursive: true });
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * Files written straight into a served folder must belong to the server's user: Apache runs as
 * www-data and could not replace or delete root's files. A no-op for the other servers.
 */
export function handToServer(serverName: string, path: string): void {
  if (process.getuid?.() === 0 && serverName === 'apache') spawnSync('chown', ['-R', 'www-data:www-data', path]);
}
