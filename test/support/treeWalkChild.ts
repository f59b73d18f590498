// The process test/conformance/treeLearning.test.ts kills in the middle of the whole-tree walk. It opens
// a share with its disk cache as the extension does and learns the tree, with the server's answers paced
// (one listing answered every `paceMs`, whatever the parallelism) so that the walk takes a while, and says
// on stdout, one line each, written synchronously:
//   ready | answered <n> <path>
//   node treeWalkChild.js '<json: { authority, basePath, user, password, cacheDir, paceMs }>'
import { writeSync } from 'node:fs';
import { nullLogger } from '../../src/core/log';
import { DEFAULTS, type Settings } from '../../src/core/settings';
import { WebdavRemote } from '../../src/remote/webdavRemote';
import type { RemoteFs } from '../../src/remote/remoteFs';
import { Share } from '../../src/share/share';
import { diskCache } from './cachedShare';

export interface TreeWalkChildArgs {
  readonly authority: string;
  readonly basePath: string;
  readonly user: string;
  readonly password: string;
  readonly cacheDir: string;
  readonly paceMs: number;
}

function say(line: string): void {
  writeSync(1, `${line}\n`);
}

/** `remote` with its listings (Depth 1 and whole trees) answered one per `paceMs`, and announced. */
export function pacedListings(remote: RemoteFs, paceMs: number, onAnswer: (n: number, path: string) => void): RemoteFs {
  let next = Date.now();
  let answered = 0;
  const pace = async <T>(path: string, request: Promise<T>): Promise<T> => {
    next = Math.max(next + paceMs, Date.now());
    const at = next;
    const result = await request;
    await new Promise(r => setTimeout(r, Math.max(0, at - Date.now())));
    onAnswer(++answered, path);
    return result;
  };
  return new Proxy(remote, {
    get(target, key, receiver) {
      if (key === 'list') return (path: string) => pace(path, target.list(path));
      if (key === 'listTree' && target.listTree) return (path: string, max: number) => pace(path, target.listTree!(path, max));
      const value = Reflect.get(target, key, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function main(args: TreeWalkChildArgs): Promise<void> {
  const settings: Settings = { ...DEFAULTS, pollIntervalMs: 0 };
  const location = { scheme: 'dav' as const, authority: args.authority, basePath: args.basePath };
  const remote = new WebdavRemote(location, () => settings, nullLogger);
  const credentials = { username: args.user, password: args.password };
  const auth = { stored: async () => credentials, ask: async () => undefined, save: async () => undefined };
  const share = new Share(location, pacedListings(remote, args.paceMs, (n, path) => say(`answered ${n} ${path}`)), auth, nullLogger, diskCache(args.cacheDir, () => settings, nullLogger));
  await share.capabilities(); // probed (and stored) before the walk: the walk's answers are the paced ones
  say('ready');
  await share.learnTree();
  say('done');
}

if (require.main === module) {
  main(JSON.parse(process.argv[2]) as TreeWalkChildArgs).then(
    () => process.exit(0),
    err => {
      console.error(err);
      process.exit(1);
    },
  );
}
