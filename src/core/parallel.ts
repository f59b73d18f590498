// Bounded parallelism for independent requests (a replay round, the proofs of a round, the listings of a
// directory diff): at most `limit` at a time; the first failure stops new starts and is thrown once every
// started one has settled, so nothing runs on after the caller gave up.

/** Runs `work` for each item, `limit` at a time. */
export async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++];
      try {
        await work(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.err;
}

/** `work` of each item, `limit` at a time, in the items' order. */
export async function mapInParallel<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  const indexed = items.map((item, i) => ({ item, i }));
  await inParallel(indexed, limit, async ({ item, i }) => {
    out[i] = await work(item);
  });
  return out;
}
