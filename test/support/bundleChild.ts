// Crash suites kill a child process; build.mjs bundles only test entry points, so the child is bundled
// here, with the project's own esbuild loaded at run time (not bundled into the test).
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

/** Bundles `test/support/<name>.ts` into a temp folder; resolves with the script and a clean-up. */
export async function bundleChild(name: string): Promise<{ js: string; dispose(): void }> {
  const esbuild = createRequire(join(ROOT, 'package.json'))('esbuild') as typeof import('esbuild');
  const dir = mkdtempSync(join(tmpdir(), `wdo-${name}-`));
  const js = join(dir, `${name}.js`);
  await esbuild.build({
    entryPoints: [join(ROOT, 'test', 'support', `${name}.ts`)],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: js,
    logLevel: 'warning',
  });
  return { js, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
