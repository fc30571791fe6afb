// Runs an async function over items with at most `concurrency` in flight. On the first failure
// no new item starts; the ones in flight finish, and every outcome is returned, so a caller can
// keep what succeeded before it reports the failure.

export type Settled<T, R> = { item: T; ok: true; value: R } | { item: T; ok: false; error: unknown };

export async function settleInPool<T, R>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<Settled<T, R>[]> {
  const out: Settled<T, R>[] = [];
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        out.push({ item, ok: true, value: await fn(item) });
      } catch (error) {
        failed = true;
        out.push({ item, ok: false, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  return out;
}

