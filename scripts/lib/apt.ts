// Debian packages the VS Code suites (and the Apache conformance server) need. Installs the missing
// ones with apt-get when running as root; otherwise says exactly what to install and fails.
import { spawnSync } from 'node:child_process';

let aptUpdated = false;

export function isDebInstalled(pkg: string): boolean {
  const r = spawnSync('dpkg-query', ['-W', '-f=${db:Status-Abbrev}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.startsWith('ii');
}

export function ensureAptPackages(pkgs: string[], log: (msg: string) => void): void {
  const hasDpkg = spawnSync('dpkg-query', ['--version']).status === 0;
  if (!hasDpkg) {
    log(`no dpkg here; make sure these (Debian names) are installed: ${pkgs.join(' ')}`);
    return;
  }
  const missing = pkgs.filter(p => !isDebInstalled(p));
  if (missing.length === 0) return;
  const cmd = `apt-get install -y ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing system packages: ${missing.join(' ')}. Install them first:\n  sudo apt-get update && sudo ${cmd}`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const t0 = Date.now();
  if (!aptUpdated) {
    log('apt-get update…');
    const u = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env, timeout: 10 * 60_000 });
    if (u.status !== 0) throw new Error(`apt-get update failed (exit ${u.status ?? u.signal})`);
    aptUpdated = true;
  }
  log(`${cmd}…`);
  const r = spawnSync('apt-get', ['install', '-y', '-qq', ...missing], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env,
    timeout: 20 * 60_000,
  });
  if (r.status !== 0) throw new Error(`${cmd} failed (exit ${r.status ?? r.signal})`);
  const still = missing.filter(p => !isDebInstalled(p));
  if (still.length) throw new Error(`apt-get did not install: ${still.join(' ')}`);
  log(`installed ${missing.join(' ')} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
