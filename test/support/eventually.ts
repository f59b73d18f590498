/**
 * Retries `check` until it stops throwing, at most `ms`; the last assertion error is rethrown, so a
 * check that never passes fails the test. (Used in the extension host and by the UI driver.)
 */
export async function eventually(check: () => void | Promise<void>, ms = 15_000, everyMs = 100): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise(r => setTimeout(r, everyMs));
    }
  }
}
