// A real WebDAV server on a temp folder with the HTTP fault proxy (httpFaultProxy.ts) in front of it, for a
// mocha suite: started in suiteSetup, stopped in suiteTeardown (the server's log printed when a test failed).
// The suites that count or disturb requests (the replay's rounds, the pin's parallelism) share it.
import { HttpFaultProxy } from './httpFaultProxy';
import type { RunningServer } from './nepheleServer';
import { assertServerInstalled, printServerLogIfFailed, tempFolder, USERS } from './servers';

export interface ProxiedServer {
  /** The folder the server serves at /share. */
  readonly disk: ReturnType<typeof tempFolder>;
  readonly server: RunningServer;
  readonly proxy: HttpFaultProxy;
}

/** Registers the suite's setup and teardown; the fields are there once suiteSetup ran. */
export function proxiedServer(kind: { name: string; start: (o: { root: string; mount: string; users: typeof USERS }) => Promise<RunningServer> }, label: string): ProxiedServer {
  const env = {} as { disk: ReturnType<typeof tempFolder>; server: RunningServer; proxy: HttpFaultProxy };
  suiteSetup(async () => {
    assertServerInstalled(kind.name);
    env.disk = tempFolder(`wdo-${label}-${kind.name}-`);
    env.server = await kind.start({ root: env.disk.path, mount: '/share', users: USERS });
    env.proxy = await new HttpFaultProxy(env.server.port).start();
  });
  suiteTeardown(async function () {
    printServerLogIfFailed(this, env.server);
    await env.proxy?.stop();
    await env.server?.close();
    env.disk?.remove();
  });
  return env;
}
