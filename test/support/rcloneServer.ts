// `rclone serve webdav` from Debian: a server that ignores If-Match / If-None-Match (silent lost
// updates), so it exercises the replay's fallback path. `--dir-cache-time 0s`, or files written to
// its folder directly stay invisible for minutes.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForHttp } from './freePort';
import type { RunningServer } from './nepheleServer';

export function rcloneAvailable(): boolean {
  return spawnSync('rclone', ['version'], { stdio: 'ignore' }).status === 0;
}

export async function startRclone(options: { root: string; mount?: string; users?: Record<string, string> }): Promise<RunningServer> {
  if (!rcloneAvailable()) throw new Error('rclone is not installed: apt-get install rclone');
  const dir = mkdtempSync(join(tmpdir(), 'wdo-rclone-'));
  const config = join(dir, 'rclone.conf');
  writeFileSync(config, '');
  const [user, pass] = Object.entries(options.users ?? {})[0] ?? [];
  const port = await freePort();
  const args = ['--config', config, 'serve', 'webdav', options.root, '--addr', `127.0.0.1:${port}`, '--dir-cache-time', '0s', '--poll-interval', '0'];
  if (options.mount && options.mount !== '/') args.push('--baseurl', options.mount);
  if (user) args.push('--user', user, '--pass', pass);
  const child = spawn('rclone', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', d => (stderr += d));
  const exited = new Promise<number | null>(r => child.once('exit', code => r(code)));
  await Promise.race([
    waitForHttp(`http://127.0.0.1:${port}/`, 10_000),
    exited.then(code => {
      throw new Error(`rclone exited with ${code}: ${stderr.trim()}`);
    }),
  ]);
  return {
    name: 'rclone',
    origin: `http://127.0.0.1:${port}`,
    port,
    requests: new Map(),
    close: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
