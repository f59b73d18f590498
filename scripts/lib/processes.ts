// Child processes and clean-up: every process group we start is killed when this process exits,
// and SIGINT/SIGTERM run the registered async clean-ups first.
import { spawn, type SpawnOptions } from 'node:child_process';
import { createServer } from 'node:net';

type Cleanup = () => void | Promise<void>;
const cleanups = new Set<Cleanup>();
const groups = new Set<number>();

// Last resort (also on uncaught errors): synchronous kill of every group still registered.
process.on('exit', () => {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

/** Registers a clean-up; returns a function that unregisters it. */
export function onCleanup(fn: Cleanup): () => void {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

/** Runs (and forgets) every registered clean-up, newest first, each bounded by `timeoutMs`. */
export async function runCleanups(timeoutMs = 15_000): Promise<void> {
  const list = [...cleanups].reverse();
  cleanups.clear();
  for (const fn of list) {
    await withTimeout(Promise.resolve().then(fn), timeoutMs, 'clean-up').catch(err =>
      console.error(`[cleanup] ${err instanceof Error ? err.message : err}`),
    );
  }
}

let signalsInstalled = false;
/** On SIGINT/SIGTERM: run the clean-ups, then exit 130/143. */
export function exitOnSignals(log: (msg: string) => void = console.log): void {
  if (signalsInstalled) return;
  signalsInstalled = true;
  let stopping = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      log(`${sig}: stopping everything that was started…`);
      void runCleanups().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
    });
  }
}

export interface GroupProcess {
  readonly pid: number;
  readonly exited: Promise<number | null>;
  hasExited(): boolean;
  /** SIGTERM to the whole group, SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Spawns `cmd` as the leader of a new process group (detached), killed with the whole group. */
export function spawnGroup(cmd: string, args: string[], options: SpawnOptions): GroupProcess {
  const child = spawn(cmd, args, { ...options, detached: true });
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  const pid = child.pid;
  groups.add(pid);
  let done = false;
  const exited = new Promise<number | null>(resolve => {
    child.once('exit', code => {
      done = true;
      resolve(code);
    });
    child.once('error', () => {
      done = true;
      resolve(null);
    });
  });
  return {
    pid,
    exited,
    hasExited: () => done,
    async stop(graceMs = 5000) {
      if (!groups.has(pid)) return;
      signalGroup(pid, 'SIGTERM');
      const deadline = Date.now() + graceMs;
      while (groupAlive(pid) && Date.now() < deadline) await sleep(100);
      if (groupAlive(pid)) signalGroup(pid, 'SIGKILL');
      groups.delete(pid);
      await withTimeout(exited, 2000, 'process exit').catch(() => undefined);
    },
  };
}

function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    /* gone */
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise<void>(r => setTimeout(r, ms));

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freeLocalPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Runs a command to completion; resolves with its exit code (never rejects on non-zero). */
export function runCommand(cmd: string, args: string[], options: SpawnOptions = {}): Promise<number> {
  return new Promise(resolve => {
    const child = spawn(cmd, args, { stdio: 'inherit', ...options });
    child.once('error', () => resolve(127));
    child.once('exit', code => resolve(code ?? 1));
  });
}

/**
 * `process.env` without what npm exports to the scripts it runs (`npm test`, `npm start`): with
 * npm_config_local_prefix a nested `npm install` would install into the repository instead of its
 * own folder, npm_config_loglevel=silent (from `npm test --silent`) would hide its errors.
 * npm still reads the user's and global npmrc files, so registry settings are kept.
 */
export function envWithoutNpmScriptVars(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) {
    const key = k.toLowerCase();
    if (key === 'init_cwd' || (key.startsWith('npm_') && !/^npm_config_(registry|@.*:registry|cafile|proxy|https_proxy|noproxy|strict_ssl|userconfig|globalconfig|cache)$/.test(key))) continue;
    out[k] = v;
  }
  return out;
}
