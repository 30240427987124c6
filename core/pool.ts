import pLimit from 'p-limit';

/**
 * Runs independent jobs with at most `limit` in flight, through p-limit: a finished job hands its slot
 * to the next one at once (no polling for free slots). What p-limit leaves to its caller is added
 * here: once `signal` aborts no new job starts (a queued job sees the signal and does not run, which
 * settles it, where p-limit's clearQueue would leave its promise pending); jobs already running see
 * the same signal and are expected to stop and clean up. A job's failure is its own outcome, in its
 * place, and never stops the others.
 */
export type PoolResult<R> =
  | { status: 'fulfilled'; value: R }
  | { status: 'rejected'; reason: unknown }
  | { status: 'not-started' };

/**
 * How many labs a run reads at once. A read is light next to a copy, so it is not held to
 * maxConcurrentJobs: at least 10, at most 50.
 */
export function labReadConcurrency(maxConcurrentJobs: number): number {
  return Math.min(50, Math.max(10, maxConcurrentJobs));
}

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
  return pLimit(limit).map(items, async (item, index): Promise<PoolResult<R>> => {
    if (signal.aborted) return { status: 'not-started' };
    try {
      return { status: 'fulfilled', value: await worker(item, index, signal) };
    } catch (reason) {
      return { status: 'rejected', reason };
    }
  });
}
