// The real servers the conformance suite runs against, each on its own copy of a folder: nephele
// (in-process), and from Debian Apache mod_dav_fs and lighttpd mod_webdav (both strict about
// preconditions, each with its own quirks). rclone, which ignores preconditions, is added by the
// reconnect suite only.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apacheAvailable, startApache } from './apacheServer';
import { lighttpdAvailable, startLighttpd } from './lighttpdServer';
import { rcloneAvailable, startRclone } from './rcloneServer';
import { startNephele, type RunningServer } from './nepheleServer';

export const USERS = { alice: 's3cret' };

export interface ServerKind {
  readonly name: string;
  /** Whether the server refuses a write whose If-Match / If-None-Match fails (rclone ignores them). */
  readonly honoursPreconditions: boolean;
  start(options: { root: string; mount?: string; users?: Record<string, string>; host?: string }): Promise<RunningServer>;
}

export const SERVER_KINDS: ServerKind[] = [
  { name: 'nephele', honoursPreconditions: true, start: startNephele },
  { name: 'apache', honoursPreconditions: true, start: startApache },
  { name: 'lighttpd', honoursPreconditions: true, start: startLighttpd },
  { name: 'rclone', honoursPreconditions: false, start: startRclone },
];

/** What the transport suites need: Apache with mod_ssl, openssl for their certificates, tinyproxy. */
export const TRANSPORT_APT_PACKAGES = ['apache2', 'openssl', 'tinyproxy'];

/** Debian packages of the servers the suites start (npm test installs them). */
export const SERVER_APT_PACKAGES = ['apache2', 'lighttpd', 'lighttpd-mod-webdav', 'rclone', 'openssl', 'tinyproxy'];

/** Fails with what to install when the Debian server `name` needs is missing (a no-op for nephele). */
export function assertServerInstalled(name: string): void {
  if (name === 'apache' && !apacheAvailable()) throw new Error('Apache httpd with mod_dav_fs is required: apt-get install apache2');
  if (name === 'lighttpd' && !lighttpdAvailable()) {
    throw new Error('lighttpd with mod_webdav is required: apt-get install lighttpd lighttpd-mod-webdav');
  }
  if (name === 'rclone' && !rcloneAvailable()) throw new Error('rclone is required: apt-get install rclone');
}

/** A fresh temp folder, optionally seeded from `template`. */
export function tempFolder(prefix: string, template?: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  if (template) cpSync(template, path, { recursive: true });
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Servers that drop from root to www-data. */
const RUNS_AS_WWW_DATA = new Set(['apache', 'lighttpd']);

/**
 * Files written straight into a served folder must belong to the server's user: Apache and lighttpd
 * run as www-data and could not replace or delete root's files. A no-op for the other servers.
 */
export function handToServer(serverName: string, path: string): void {
  if (process.getuid?.() === 0 && RUNS_AS_WWW_DATA.has(serverName)) spawnSync('chown', ['-R', 'www-data:www-data', path]);
}

/**
 * In a suiteTeardown (`function`, not an arrow): prints the tail of the server's error log when a test
 * of the suite failed, so a failure on Apache or lighttpd shows what the server said.
 */
export function printServerLogIfFailed(ctx: Mocha.Context, server: RunningServer | undefined): void {
  const failed = ctx.test?.parent?.tests.some(t => t.state === 'failed');
  const tail = failed ? server?.logTail?.(30) : undefined;
  if (tail) console.log(`      [${server!.name} error log, last lines]\n${tail.replace(/^/gm, '        ')}`);
}
