// Builds everything with esbuild: the two extension bundles and the test/tool bundles.
//   node scripts/build.mjs [--production] [--watch] [--only=ext]
// dist/extension.js      Node extension host (main)
// dist/web/extension.js  web-worker extension host (browser)
// out/**                 tests and tools (Node), one bundle per entry, node_modules left external
import * as esbuild from 'esbuild';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = new Set(process.argv.slice(2));
const production = args.has('--production');
const onlyExt = args.has('--only=ext');

function entries(dir, pattern) {
  const found = [];
  const walk = d => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (pattern.test(name)) found.push(p);
    }
  };
  walk(join(root, dir));
  return found;
}

const common = {
  bundle: true,
  sourcemap: production ? false : 'linked',
  sourcesContent: false,
  minify: production,
  logLevel: 'warning',
  absWorkingDir: root,
};

const builds = [
  {
    ...common,
    entryPoints: ['src/extension.node.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    target: 'node18',
    external: ['vscode'],
  },
  {
    ...common,
    entryPoints: ['src/extension.web.ts'],
    outfile: 'dist/web/extension.js',
    platform: 'browser',
    format: 'cjs',
    target: 'es2022',
    external: ['vscode'],
    // the `webdav` package's "browser" export is used here (fetch, no Node built-ins)
    mainFields: ['browser', 'module', 'main'],
    conditions: ['browser'],
    define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
  },
];

if (!onlyExt) {
  const testEntries = [
    ...entries('test', /\.test\.ts$/),
    ...entries('test', /^index\.ts$/),
    ...entries('scripts', /\.ts$/).filter(p => !/[\\/]lib[\\/]/.test(p)),
  ].map(p => relative(root, p));
  builds.push({
    ...common,
    sourcemap: 'inline',
    entryPoints: testEntries,
    outdir: 'out',
    outbase: '.',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'mocha', 'nephele', '@nephele/*', 'express', 'playwright-core', '@vscode/test-electron', 'typescript'],
  });
}

if (args.has('--watch')) {
  for (const b of builds) await (await esbuild.context(b)).watch();
  console.log('[build] watching');
} else {
  const t0 = Date.now();
  await Promise.all(builds.map(b => esbuild.build(b)));
  console.log(`[build] ${builds.length} builds in ${Date.now() - t0} ms`);
}
