// Mocha reporter: the Spec output, then ONE machine-readable line at the very end:
//   [suite-summary] {"suite":"<name>","passed":N,"failed":M}
// The suite name comes from reporterOptions.suite (or env SUMMARY_SUITE). Works in plain Node and
// inside the VS Code extension host (console output is forwarded there).
import Mocha from 'mocha';

export const SUMMARY_PREFIX = '[suite-summary] ';

export interface SuiteSummary {
  suite: string;
  passed: number;
  failed: number;
}

export function summaryLine(s: SuiteSummary): string {
  return SUMMARY_PREFIX + JSON.stringify({ suite: s.suite, passed: s.passed, failed: s.failed });
}

/** Every summary line in `text` (lines that start with the prefix). */
export function parseSummaries(text: string): SuiteSummary[] {
  const found: SuiteSummary[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.startsWith(SUMMARY_PREFIX)) continue;
    try {
      const o = JSON.parse(line.slice(SUMMARY_PREFIX.length));
      if (typeof o.suite === 'string' && Number.isInteger(o.passed) && Number.isInteger(o.failed)) found.push(o);
    } catch {
      /* not ours */
    }
  }
  return found;
}

export class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    const suite = String(options?.reporterOptions?.suite ?? process.env.SUMMARY_SUITE ?? 'mocha');
    // registered after Spec's own EVENT_RUN_END handler, so this prints after its epilogue
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const stats = runner.stats ?? this.stats;
      if (stats.pending) console.log(`[test] ${suite}: ${stats.pending} pending (skipped) tests`);
      console.log(summaryLine({ suite, passed: stats.passes, failed: stats.failures }));
    });
  }
}
