// Entry point of `npm start`, `npm test`, `npm run bench`: works from a fresh clone.
// It installs the npm dependencies when they are missing or older than package-lock.json, builds with
// esbuild, then runs the compiled tool `out/scripts/<name>.js` with the remaining arguments.
// Plain Node, no dependencies: it must run before `npm install` has.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const [name, ...rest] = process.argv.slice(2);
if (!name) {
  console.error('usage: node scripts/run.mjs <start|test|bench|…> [args]');
  process.exit(2);
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: process.env });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const marker = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
if (!existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs)) {
  console.log('[run] installing npm dependencies (npm ci)…');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}
run(process.execPath, [join(root, 'scripts', 'build.mjs')]);
const r = spawnSync(process.execPath, ['--enable-source-maps', join(root, 'out', 'scripts', `${name}.js`), ...rest], {
  cwd: root,
  stdio: 'inherit',
  env: process.env,
});
process.exit(r.status ?? (r.signal ? 1 : 0));
