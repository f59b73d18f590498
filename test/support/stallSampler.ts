// Client-side health meters for the hostile-server suite: how long the event loop was blocked (a parser
// chewing on a huge answer freezes the extension host, and with it VS Code's file explorer and editors),
// and how far resident memory grew (a body that is buffered whole grows with its size). The servers run
// in the same process, so they only ever write pre-built chunks and never block the loop themselves.
import { performance } from 'node:perf_hooks';

export interface StallSampler {
  /** The longest stall seen so far, ms (how late a 10 ms timer fired). */
  readonly maxStallMs: number;
  /** Stops sampling; returns the longest stall, ms. */
  stop(): number;
}

/** Starts measuring event-loop stalls: a timer every `everyMs` and how late it fires. */
export function startStallSampler(everyMs = 10): StallSampler {
  let last = performance.now();
  let max = 0;
  const sample = () => {
    const now = performance.now();
    max = Math.max(max, now - last - everyMs);
    last = now;
  };
  const timer = setInterval(sample, everyMs);
  let stopped = false;
  return {
    get maxStallMs() {
      return Math.max(0, max);
    },
    stop() {
      if (!stopped) {
        stopped = true;
        clearInterval(timer);
        sample();
      }
      return Math.max(0, max);
    },
  };
}

export interface RssWatch {
  /** Stops watching; returns how far resident memory grew above the start at its peak, bytes. */
  stop(): number;
}

/** Watches the peak resident set size (sampled every `everyMs`) relative to now. */
export function startRssWatch(everyMs = 20): RssWatch {
  const start = process.memoryUsage.rss();
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), everyMs);
  let stopped = false;
  return {
    stop() {
      if (!stopped) {
        stopped = true;
        clearInterval(timer);
        peak = Math.max(peak, process.memoryUsage.rss());
      }
      return peak - start;
    },
  };
}
