// Stopping a server the suites started as a child process: SIGTERM, then SIGKILL if it lingers.
import type { ChildProcess } from 'node:child_process';

/** Resolves once `child` has exited (`exited`: its exit, awaited). */
export async function stopChild(child: ChildProcess, exited: Promise<unknown>, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
