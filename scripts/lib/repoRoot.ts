// Finds the repository root at run time, from wherever the bundle that imports this lives
// (out/scripts/*.js, out/test/**/*.js): the first folder upwards that holds scripts/run.mjs and package.json.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cached: string | undefined;

export function repoRoot(): string {
  if (cached) return cached;
  let dir = __dirname;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'scripts', 'run.mjs'))) return (cached = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error(`repository root not found above ${__dirname}`);
    dir = up;
  }
}
