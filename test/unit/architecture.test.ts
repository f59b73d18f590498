// The layering rules of the code base, checked on the sources: the core never imports `vscode`, and
// imports only point downward (extension → ui, provider → share → sync → offline, cache → remote → core).
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const SRC = join(__dirname, '..', '..', '..', 'src');
const LAYER_ORDER = ['core', 'remote', 'cache', 'offline', 'platform', 'sync', 'share', 'provider', 'ui'];
/** What each layer may import (besides itself and npm packages). */
const ALLOWED: Record<string, string[]> = {
  core: [],
  remote: ['core'],
  cache: ['core', 'remote'],
  offline: ['core', 'remote'],
  platform: ['core', 'cache'],
  sync: ['core', 'remote', 'cache', 'offline'],
  share: ['core', 'remote', 'cache', 'offline', 'sync'],
  provider: ['core', 'remote', 'share'],
  ui: ['core', 'remote', 'share', 'provider'],
};
const NO_VSCODE = ['core', 'remote', 'cache', 'offline', 'platform', 'sync', 'share'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap(name => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]|require\(['"]([^'"]+)['"]\)|import\(['"]([^'"]+)['"]\)/gm)].map(
    m => m[1] ?? m[2] ?? m[3],
  );
}

suite('architecture', () => {
  const files = sources(SRC);

  test('the sources are found', () => {
    assert.ok(files.length > 10, `found ${files.length} files under ${SRC}`);
  });

  test(`${NO_VSCODE.join(', ')} never import vscode`, () => {
    const offenders = files.filter(f => NO_VSCODE.includes(relative(SRC, f).split(/[\\/]/)[0]) && imports(f).includes('vscode'));
    assert.deepEqual(offenders.map(f => relative(SRC, f)), []);
  });

  test('imports point downward only', () => {
    const wrong: string[] = [];
    for (const f of files) {
      const layer = relative(SRC, f).split(/[\\/]/)[0];
      if (!LAYER_ORDER.includes(layer)) continue;
      for (const spec of imports(f).filter(s => s.startsWith('.'))) {
        const target = relative(SRC, join(f, '..', spec)).split(/[\\/]/)[0];
        if (target !== layer && !ALLOWED[layer].includes(target)) wrong.push(`${relative(SRC, f)} → ${spec}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  test('share/ and sync/ reach the cache through its named parts, never its index', () => {
    const wrong: string[] = [];
    for (const f of files) {
      const layer = relative(SRC, f).split(/[\\/]/)[0];
      if (layer !== 'share' && layer !== 'sync') continue;
      const text = readFileSync(f, 'utf8');
      if (imports(f).some(spec => /cache\/cacheIndex$/.test(spec))) wrong.push(`${relative(SRC, f)} imports the cache index`);
      if (/\.index\.(get|set|all|subtree|store|flush|update|delete|getMeta|setMeta|addBlobHolder)\b/.test(text)) wrong.push(`${relative(SRC, f)} uses .index`);
    }
    assert.deepEqual(wrong, []);
  });

  test('no source file is over 500 lines', () => {
    const long = files.map(f => [relative(SRC, f), readFileSync(f, 'utf8').split('\n').length] as const).filter(([, n]) => n > 500);
    assert.deepEqual(long, []);
  });
});
