// `npm run screenshots`: copies the UI suite's screenshots that the README and the walkthrough show
// from artifacts/ (written by `npm test -- --suite=ui`) into media/screenshots/, which is packaged.
// One table, so that the pictures a user sees are always ones the tests took of the real UI.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** media/screenshots/<name> ← artifacts/<screenshot of the UI suite> */
const PICTURES = {
  'welcome.png': 'ui-home-1-welcome.png',
  'save-share.png': 'ui-home-2-save-offer.png',
  'view.png': 'ui-home-4-view.png',
  'pinned.png': 'ui-acceptance-2b-pinned.png',
  'offline.png': 'ui-acceptance-4b-offline-pending-scm.png',
  'conflict.png': 'ui-acceptance-6c-conflict-diff-server-vs-local.png',
  'trust.png': 'ui-tls-1-trust-prompt.png',
};

const target = join(root, 'media', 'screenshots');
mkdirSync(target, { recursive: true });
const missing = Object.values(PICTURES).filter(f => !existsSync(join(root, 'artifacts', f)));
if (missing.length) {
  console.error(`[screenshots] not in artifacts/ (run npm test -- --suite=ui first): ${missing.join(', ')}`);
  process.exit(1);
}
for (const [name, from] of Object.entries(PICTURES)) copyFileSync(join(root, 'artifacts', from), join(target, name));
console.log(`[screenshots] ${Object.keys(PICTURES).length} pictures in media/screenshots/`);
