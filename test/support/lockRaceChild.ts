// A window that races others for a share's disk store (test/conformance/lockRace.test.ts). On `go <t>`
// (stdin) it waits until the clock says t, opens the store, and says `got` (then holds it for the time
// given, writes its mark into the store, closes it and says `released`) or `busy <holder>`.
//   node lockRaceChild.js <cache root> <hold ms>
import { writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { StoreBusyError } from '../../src/cache/shareStore';
import { DiskShareStores } from '../../src/platform/diskShareStore';

function say(line: string): void {
  writeSync(1, `${line}\n`);
}

async function race(root: string, holdMs: number, at: number): Promise<void> {
  while (Date.now() < at) {
    // spin the last moment: every racer starts within a millisecond or so
  }
  let store;
  try {
    store = await new DiskShareStores(root).open('s');
  } catch (err) {
    if (!(err instanceof StoreBusyError)) throw err;
    say(`busy ${err.holder}`);
    return;
  }
  say(`got ${Date.now()}`);
  await new Promise(r => setTimeout(r, holdMs));
  await store.commit({ put: [], delete: [], meta: { [`holder-${process.pid}`]: Date.now() } });
  await store.close();
  say(`released ${Date.now()}`);
}

if (require.main === module) {
  const [root, hold] = process.argv.slice(2);
  createInterface({ input: process.stdin }).on('line', line => {
    const [word, t] = line.split(' ');
    if (word === 'go') race(root, Number(hold), Number(t)).catch(err => say(`error ${(err as Error).message}`));
  });
  say('ready');
}
