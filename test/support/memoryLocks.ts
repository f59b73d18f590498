// The browser's Web Locks (navigator.locks), exclusive mode, for IdbShareStores on fake-indexeddb in Node
// (Node 20 has no navigator.locks): a lock is held until its callback's promise settles; requests queue
// in order; `ifAvailable` gets null instead of queueing; `signal` takes a queued request back (rejecting
// with the signal's reason). The web suite runs the same store on the browser's real navigator.locks.
import type { Locks } from '../../src/platform/idbShareStore';

interface Waiter {
  readonly grant: () => void;
}

export class MemoryLocks implements Locks {
  private readonly held = new Set<string>();
  private readonly queues = new Map<string, Waiter[]>();

  request<T>(name: string, ...args: unknown[]): Promise<T> {
    const [options, callback] = (args.length === 1 ? [{}, args[0]] : args) as [LockOptions, (lock: Lock | null) => T | PromiseLike<T>];
    const lock = { name, mode: 'exclusive' } as Lock;
    const run = async (): Promise<T> => {
      try {
        return await callback(lock);
      } finally {
        this.release(name);
      }
    };
    if (!this.held.has(name)) {
      this.held.add(name);
      return run();
    }
    if (options.ifAvailable) return Promise.resolve().then(() => callback(null));
    return new Promise<T>((resolve, reject) => {
      const queue = this.queues.get(name) ?? [];
      const waiter: Waiter = {
        grant: () => {
          options.signal?.removeEventListener('abort', aborted);
          run().then(resolve, reject);
        },
      };
      const aborted = () => {
        queue.splice(queue.indexOf(waiter), 1);
        reject(options.signal!.reason);
      };
      if (options.signal?.aborted) return reject(options.signal.reason);
      options.signal?.addEventListener('abort', aborted);
      queue.push(waiter);
      this.queues.set(name, queue);
    });
  }

  private release(name: string): void {
    const next = this.queues.get(name)?.shift();
    if (next) next.grant(); // stays held, by the next in line
    else this.held.delete(name);
  }
}

/** This process's lock manager, as a browser has one per site: every IdbShareStores of the Node tests shares it. */
export const nodeLocks = new MemoryLocks();
