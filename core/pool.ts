/**
 * Runs independent jobs with at most `limit` in flight. A finished job hands its slot to the next one
 * at once (no polling for free slots). Once `signal` aborts no new job starts; jobs already running
 * see the same signal and are expected to stop and clean up.
 */
export type PoolResult<R> =
  | { status: 'fulfilled'; value: R }
  | { status: 'rejected'; reason: unknown }
  | { status: 'not-started' };

export interface RunPoolOptions {
  signal?: AbortSignal;
}

export async function runPool<T, R>(
  items: readonly T[],
  limit: number,
  worker: (item: T, index: number, signal: AbortSignal) => Promise<R>,
  options: RunPoolOptions = {},
): Promise<PoolResult<R>[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a whole number of at least 1, not ${limit}`);
  const signal = options.signal ?? new AbortController().signal;
  const results: PoolResult<R>[] = items.map(() => ({ status: 'not-started' }));
  let next = 0;

  async function lane(): Promise<void> {
    while (next < items.length && !signal.aborted) {
      const index = next++;
      try {
        results[index] = { status: 'fulfilled', value: await worker(items[index], index, signal) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  }

  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
