// Starts code-server (VS Code server + web workbench) from `.runtime/` in its own process group and
// builds the workbench URL that loads an extension under development (and, optionally, its tests).
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envWithoutNpmScriptVars, freeLocalPort, onCleanup, sleep, spawnGroup } from './processes';
import { runtimePaths } from './runtimePaths';

export interface CodeServerOptions {
  /** 0/undefined: a free port. */
  port?: number;
  /** Extra environment for code-server; its extension hosts inherit it. */
  env?: Record<string, string>;
  /** Folder to open, e.g. `dav://127.0.0.1:8000/share/`. */
  folderUri?: string;
  /** Absolute path of the extension under development. */
  extensionDevelopmentPath: string;
  /** Absolute path of the compiled mocha entry (exports `run()`) to run inside the extension host. */
  extensionTestsPath?: string;
  /** Keep settings between runs in this folder; default: a fresh folder removed on stop(). */
  userDataDir?: string;
  /** User settings (settings.json) for this instance, e.g. { 'files.autoSave': 'off' }. */
  settings?: Record<string, unknown>;
  /** Display language of the workbench and the extension host (code-server's --locale), e.g. 'de'. */
  locale?: string;
  /** Time to wait for /healthz. */
  startTimeoutMs?: number;
}

export interface CodeServer {
  /** Workbench URL with folder and payload. */
  readonly url: string;
  /** e.g. http://127.0.0.1:41234 */
  readonly origin: string;
  readonly port: number;
  readonly logFile: string;
  stop(): Promise<void>;
}

const REMOTE = 'vscode-remote://remote'; // code-server's remote authority is literally "remote"

/** `<origin>/?folder=<uri>&payload=[["extensionDevelopmentPath","vscode-remote://remote/abs"],…]` */
export function workbenchUrl(
  origin: string,
  o: { folderUri?: string; extensionDevelopmentPath?: string; extensionTestsPath?: string },
): string {
  const payload: [string, string][] = [];
  if (o.extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', REMOTE + o.extensionDevelopmentPath]);
  if (o.extensionTestsPath) payload.push(['extensionTestsPath', REMOTE + o.extensionTestsPath]);
  const q = new URLSearchParams();
  if (o.folderUri) q.set('folder', o.folderUri);
  else q.set('ew', 'true'); // empty window
  if (payload.length) q.set('payload', JSON.stringify(payload));
  return `${origin}/?${q}`;
}

export async function startCodeServer(o: CodeServerOptions): Promise<CodeServer> {
  const p = runtimePaths();
  if (!existsSync(p.csBin)) throw new Error('code-server is not installed: call ensureRuntime() first');
  const port = o.port || (await freeLocalPort());
  mkdirSync(p.csData, { recursive: true });
  mkdirSync(p.logs, { recursive: true });
  const config = join(p.csData, 'config.yaml');
  if (!existsSync(config)) writeFileSync(config, 'auth: none\ncert: false\n');
  const userDataDir = o.userDataDir ?? mkdtempSync(join(p.csData, 'user-'));
  const logFile = join(p.logs, `code-server-${port}.log`);
  if (o.settings) {
    mkdirSync(join(userDataDir, 'User'), { recursive: true });
    writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify(o.settings, null, 2) + '\n');
  }

  const env: NodeJS.ProcessEnv = envWithoutNpmScriptVars();
  // A VS Code terminal's variables would make code-server talk to that VS Code instead.
  for (const k of Object.keys(env)) if (k.startsWith('VSCODE_') || k === 'ELECTRON_RUN_AS_NODE') delete env[k];
  Object.assign(env, o.env ?? {}, {
    PATH: `${p.node24Bin}:${process.env.PATH ?? ''}`,
    XDG_CONFIG_HOME: join(p.dir, '.config'),
    XDG_DATA_HOME: join(p.dir, '.local-share'),
  });

  const args = [
    '--config', config,
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--user-data-dir', userDataDir,
    '--extensions-dir', join(p.csData, 'extensions'),
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--vscode-option', 'enable-smoke-test-driver', // the built workbench honours ?payload= only with this
    '--reconnection-grace-time', '10', // else each closed tab keeps its extension host alive for minutes
    ...(o.locale ? ['--locale', o.locale] : []),
  ];
  const fd = openSync(logFile, 'w');
  const proc = spawnGroup(p.csBin, args, { env, stdio: ['ignore', fd, fd] });
  closeSync(fd);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    unregister();
    await proc.stop();
    if (!o.userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  };
  const unregister = onCleanup(stop);

  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (o.startTimeoutMs ?? 90_000);
  for (;;) {
    if (proc.hasExited()) {
      await stop();
      throw new Error(`code-server exited during start-up; end of ${logFile}:\n${tail(logFile)}`);
    }
    if (await healthy(origin)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server did not answer ${origin}/healthz in time; end of ${logFile}:\n${tail(logFile)}`);
    }
    await sleep(300);
  }
  const url = workbenchUrl(origin, o);
  return { url, origin, port, logFile, stop };
}

async function healthy(origin: string): Promise<boolean> {
  try {
    const r = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(2000) });
    return r.ok;
  } catch {
    return false;
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '';
  }
}
