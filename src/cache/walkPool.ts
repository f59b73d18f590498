// Walking a tree a few folders at a time: a queue of items, at most `parallel` visits in flight, each
// visit handing back what it found to visit next (a folder's subfolders). Breadth-first as far as the
// queue goes, never idle while work is queued, and stopping cleanly: once `stop()` says so, no new
// visit starts and the walk ends when those in flight have. Used by the whole-tree walk (treeLearner.ts).

/**
 * Visits every item of `queue` and whatever the visits hand back, `parallel` at a time. Resolves when
 * nothing is queued or in flight (or, after `stop()` turned true, when the visits in flight ended);
 * rejects with the first visit's failure once the others in flight ended (no new visit starts then).
 */
export function walkPool<T>(queue: T[], parallel: number, visit: (item: T) => Promise<readonly T[]>, stop: () => boolean = () => false): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let active = 0;
    let failed = false;
    let failure: unknown;
    const pump = () => {
      while (!failed && active < parallel && queue.length && !stop()) {
        const item = queue.shift()!;
        active++;
        void visit(item).then(
          more => {
            for (const m of more) queue.push(m);
          },
          (err: unknown) => {
            if (!failed) failure = err;
            failed = true;
          },
        ).finally(() => {
          active--;
          pump();
        });
      }
      if (active === 0) {
        if (failed) reject(failure instanceof Error ? failure : new Error(String(failure)));
        else resolve();
      }
    };
    pump();
  });
}
