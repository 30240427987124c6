import { isAbortError } from './errors';

/**
 * Steps with cleanup, in the manner of Packer's multistep: a step that acquires something (a disk
 * SAS, a half-copied blob) releases it in its cleanup. Cleanups of every step that started run in
 * reverse order whatever happened: success, failure or cancel. Cleanups get no abort signal on
 * purpose: a cancel must still revoke access and delete partial blobs.
 */
export type StepOutcome = 'succeeded' | 'failed' | 'cancelled';

export interface Step<S> {
  readonly name: string;
  run(state: S, signal: AbortSignal): Promise<void>;
  /** Releases what `run` acquired. Called even when `run` threw, so it must cope with partial state. */
  cleanup?(state: S, outcome: StepOutcome): Promise<void>;
}

export interface RunStepsOptions {
  signal?: AbortSignal;
  /** Told of every cleanup that failed; the run's own error, if any, still wins. */
  onCleanupError?: (stepName: string, error: unknown) => void;
}

export async function runSteps<S>(steps: readonly Step<S>[], state: S, options: RunStepsOptions = {}): Promise<StepOutcome> {
  const signal = options.signal ?? new AbortController().signal;
  const started: Step<S>[] = [];
  let runError: unknown;
  let failed = false;
  try {
    for (const step of steps) {
      signal.throwIfAborted();
      started.push(step);
      await step.run(state, signal);
    }
  } catch (error) {
    failed = true;
    runError = error;
  }
  const outcome: StepOutcome = !failed ? 'succeeded' : signal.aborted || isAbortError(runError) ? 'cancelled' : 'failed';

  let cleanupError: unknown;
  let cleanupFailed = false;
  for (const step of started.reverse()) {
    if (!step.cleanup) continue;
    try {
      await step.cleanup(state, outcome);
    } catch (error) {
      options.onCleanupError?.(step.name, error);
      if (!cleanupFailed) {
        cleanupFailed = true;
        cleanupError = error;
      }
    }
  }
  if (failed) throw runError;
  // A cleanup that fails after a successful run (say, access that could not be revoked) is a failure.
  if (cleanupFailed) throw cleanupError;
  return outcome;
}
