// Localization: every message the code gives vscode.l10n.t is a plain literal, and the German bundle
// (l10n/bundle.l10n.de.json) has it, with the same placeholders; every %key% of package.json is in
// package.nls.json (English) and package.nls.de.json (German); no bundle holds a key nobody uses; and
// no text a person reads goes to the UI without l10n (messages, titles, prompts, labels in src/ui,
// src/provider and the entry points). The core's own messages stay English (it never imports vscode).
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { placeholders, scan, sourceFiles } from '../support/l10nSources';

const ROOT = join(__dirname, '..', '..', '..');
const read = (p: string) => JSON.parse(readFileSync(join(ROOT, p), 'utf8')) as Record<string, unknown>;
const ADAPTERS = [...sourceFiles(join(ROOT, 'src', 'ui')), ...sourceFiles(join(ROOT, 'src', 'provider')), join(ROOT, 'src', 'extension.ts'), join(ROOT, 'src', 'extension.node.ts'), join(ROOT, 'src', 'extension.web.ts')];

suite('localization', () => {
  const { calls, bare } = scan(ROOT, ADAPTERS);
  const messages = new Set(calls.map(c => c.message).filter((m): m is string => m !== undefined));
  const german = read('l10n/bundle.l10n.de.json') as Record<string, string>;

  test('the sources are found, and every l10n.t message is a plain literal', () => {
    assert.ok(calls.length > 150, `${calls.length} calls of l10n.t`);
    assert.deepEqual(calls.filter(c => c.message === undefined).map(c => `${c.file}:${c.line}`), [], 'messages that are not literals');
  });

  test('the German bundle has every message, with the same placeholders, and nothing else', () => {
    const missing = [...messages].filter(m => typeof german[m] !== 'string' || !german[m].trim());
    assert.deepEqual(missing, [], 'messages without a German translation');
    const wrong = [...messages].filter(m => placeholders(m).join() !== placeholders(german[m]).join());
    assert.deepEqual(wrong, [], 'translations whose placeholders differ from the message');
    assert.deepEqual(Object.keys(german).filter(k => !messages.has(k)), [], 'German messages no code uses');
  });

  test('no text a person reads goes to the UI without l10n', () => {
    assert.deepEqual(bare.map(b => `${b.file}:${b.line} ${b.where} ${JSON.stringify(b.text)}`), []);
  });

  test('package.json: every %key% is in package.nls.json and package.nls.de.json, and both hold nothing else', () => {
    const manifest = readFileSync(join(ROOT, 'package.json'), 'utf8');
    const keys = new Set([...manifest.matchAll(/"%([^"%]+)%"/g)].map(m => m[1]));
    assert.ok(keys.size > 60, `${keys.size} keys`);
    assert.ok(existsSync(join(ROOT, 'package.nls.json')) && existsSync(join(ROOT, 'package.nls.de.json')));
    for (const file of ['package.nls.json', 'package.nls.de.json']) {
      const nls = read(file);
      assert.deepEqual([...keys].filter(k => typeof nls[k] !== 'string'), [], `${file} lacks these keys`);
      assert.deepEqual(Object.keys(nls).filter(k => !keys.has(k)), [], `${file} has keys package.json does not use`);
    }
    const english = read('package.nls.json') as Record<string, string>;
    const de = read('package.nls.de.json') as Record<string, string>;
    const fixed = (text: string) => (text.match(/\(command:[^)]+\)|`[^`]+`|#[\w.]+#/g) ?? []).sort().join(' ');
    const differ = [...keys].filter(k => fixed(english[k]) !== fixed(de[k]));
    assert.deepEqual(differ, [], 'German texts whose command links, code or setting links differ from the English');
    assert.deepEqual(JSON.parse(manifest).l10n, './l10n');
  });
});
