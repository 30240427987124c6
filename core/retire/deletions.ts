import { isAbortError, isFactoryError } from '../errors';
import { runPool } from '../pool';
import type { Reporter } from '../report';

/**
 * Running a plan's deletions, shared by RetireImages and CleanUpFactory: bounded concurrency, progress,
 * and one outcome per planned deletion. A deletion that finds its resource gone already succeeded (a
 * run stopped half-way, or another run, got there first).
 */
export type DeletionResult = { status: 'deleted' } | { status: 'not-started' } | { status: 'failed'; reason: unknown };

export interface RunDeletionsOptions {
  limit: number;
  signal: AbortSignal;
  reporter: Reporter;
  /** What is deleted, for progress lines: `image`, `VM`. */
  noun: string;
}

export async function runDeletions<T>(
  items: readonly T[],
  options: RunDeletionsOptions,
  remove: (item: T, signal: AbortSignal) => Promise<void>,
): Promise<DeletionResult[]> {
  const { reporter, noun, signal } = options;
  const total = items.length;
  let done = 0;
  if (total > 0) reporter.progress(0, `Deleting ${total} ${noun}(s)`);
  const results = await runPool(
    items,
    options.limit,
    async (item, _index, jobSignal) => {
      try {
        await remove(item, jobSignal);
      } finally {
        done++;
        reporter.progress((done / total) * 100, `Deleted ${done} of ${total} ${noun}(s)`);
      }
    },
    { signal },
  );
  return results.map<DeletionResult>((result) => {
    if (result.status === 'fulfilled') return { status: 'deleted' };
    if (result.status === 'not-started' || (isAbortError(result.reason) && signal.aborted)) return { status: 'not-started' };
    return { status: 'failed', reason: result.reason };
  });
}

/** Runs an Azure delete; a 404 (already gone) counts as done. */
export async function deleteUnlessGone(remove: () => Promise<void>): Promise<void> {
  try {
    await remove();
  } catch (error) {
    const cause = isFactoryError(error) ? error.cause : error;
    if ((cause as { statusCode?: number } | undefined)?.statusCode === 404) return;
    throw error;
  }
}

/** A failure as quoted inside another message: `[IF2003] ...` for a FactoryError, else its message. */
export function causeText(error: unknown): string {
  if (isFactoryError(error)) return `[${error.code}] ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** The failure's own fix, if it has one. */
export function causeFix(error: unknown): string | undefined {
  return isFactoryError(error) ? error.fix : undefined;
}
