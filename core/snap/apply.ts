import type { AzureContext } from '../azure/azureContext';
import type { LabStorage } from '../azure/labs';
import { ErrorCodes, FactoryError, isAbortError, isFactoryError } from '../errors';
import { formatBytes, formatDuration } from '../format';
import { errorCode, type ImageStore } from '../imageStore';
import { type PoolResult, runPool } from '../pool';
import type { Reporter } from '../report';
import { revokeLeftoverGrant } from './diskAccess';
import type { NotSavedAction, SnapAction, SnapPlan, SnapVm } from './plan';
import { SnapProgress } from './progress';
import { saveVm } from './save';

/**
 * Carries out a snap plan: each VM to save is an independent job of steps with cleanup, at most
 * `maxConcurrentJobs` at once. Read access to the OS disk is revoked whatever happens, and a copy that
 * fails or is cancelled is aborted and its blob deleted, metadata and all, so the store holds only
 * complete images. One VM failing does not stop the others.
 */
export interface ApplySnapOptions {
  azure: AzureContext;
  storage: LabStorage;
  store: ImageStore;
  reporter: Reporter;
  maxConcurrentJobs: number;
  /** This run's id: the lease id of every store blob it claims. */
  runId: string;
  /** The longest a disk's read SAS may live (the run's time limit and a margin); a grant is as short as its copy allows. */
  maxAccessSeconds: number;
  signal?: AbortSignal;
  /** Overall progress of the copies: told only when what it says changes. */
  onProgress?: (percent: number, activity: string) => void;
  now?: () => number;
}

export type SnapStatus = 'saved' | 'already-saved' | 'skipped' | 'ignored' | 'failed' | 'cancelled' | 'planned';

export interface SnapOutcome {
  vm: SnapVm;
  status: SnapStatus;
  imageName?: string;
  imagePath?: string;
  sizeBytes?: number;
  durationMs?: number;
  /** What happened, in a sentence. */
  message: string;
}

/** The outcome of each planned action before anything runs: the dry run's answer, and the base of a real run's. */
export function plannedOutcomes(plan: SnapPlan): SnapOutcome[] {
  return plan.actions.map((action): SnapOutcome => {
    const base = { vm: action.vm, imagePath: action.vm.imagePath };
    switch (action.kind) {
      case 'save':
        return { ...base, status: 'planned', imageName: action.image.imageName, message: `would be saved as '${action.image.imageName}'` };
      case 'resume':
        return { ...base, status: 'planned', imageName: action.image.imageName, message: `would follow the copy into '${action.blobName}'` };
      case 'already-saved':
        return {
          ...base,
          status: 'already-saved',
          imageName: action.image.imageName,
          sizeBytes: action.image.sizeBytes,
          message: `its OS disk is already saved as '${action.image.imageName}'`,
        };
      case 'skip':
      case 'ignore':
        return notSavedOutcome(action);
    }
  });
}

/** The outcome, on either route, of a VM the plan does not save: an error skip failed, a warning skip skipped. */
export function notSavedOutcome(action: NotSavedAction): SnapOutcome {
  const base = { vm: action.vm, imagePath: action.vm.imagePath };
  return action.kind === 'skip'
    ? { ...base, status: action.issue.severity === 'error' ? 'failed' : 'skipped', message: `[${action.issue.code}] ${action.issue.message}` }
    : { ...base, status: 'ignored', message: 'no ImagePath tag' };
}

/**
 * A job's error as its VM's outcome, on either route: cancelled when the run is stopping (an abort, or
 * any error but the factory's own once the pool's signal aborted), else failed and reported. True when
 * it failed, so the job's share of the progress is done.
 */
export function settleJobError(outcome: SnapOutcome, error: unknown, poolSignal: AbortSignal, reporter: Reporter, label: string, what: 'saved' | 'published'): boolean {
  if (isAbortError(error) || (poolSignal.aborted && !isFactoryError(error))) {
    Object.assign(outcome, { status: 'cancelled', message: `stopped before it was ${what}` });
    return false;
  }
  const issue = reportError(reporter, error, `${label} was not ${what}`);
  Object.assign(outcome, { status: 'failed', message: `[${issue.code}] ${issue.message}` });
  return true;
}

/** The VMs whose jobs the pool never started, the run stopped first: cancelled. */
export function cancelNotStarted(results: readonly PoolResult<unknown>[], jobs: readonly { index: number }[], outcomes: SnapOutcome[]): void {
  results.forEach((result, jobIndex) => {
    if (result.status === 'not-started') Object.assign(outcomes[jobs[jobIndex].index], { status: 'cancelled', message: 'not started' });
  });
}

export async function applySnap(plan: SnapPlan, options: ApplySnapOptions): Promise<SnapOutcome[]> {
  const { reporter, store } = options;
  const signal = options.signal ?? new AbortController().signal;
  const clock = options.now ?? Date.now;
  const outcomes = plannedOutcomes(plan);

  for (const blob of plan.discard) {
    if (signal.aborted) break;
    try {
      await store.delete(blob.blobName, { signal });
      reporter.info(`Deleted '${blob.blobName}', a ${blob.copyStatus} copy an earlier run left behind.`);
    } catch (error) {
      if (isAbortError(error)) break;
      if (errorCode((error as { cause?: unknown }).cause) === 'LeaseIdMissing') {
        // A run at work right now holds it and copies over it; it is not this run's to delete.
        reporter.debug(`Left '${blob.blobName}': another run holds it.`);
        continue;
      }
      reportError(reporter, error, `Could not delete '${blob.blobName}', a ${blob.copyStatus} copy an earlier run left behind`);
    }
  }

  await revokeLeftoverGrants(plan, options, signal);

  const jobs = plan.actions
    .map((action, index) => ({ action, index }))
    .filter((job): job is { action: Extract<SnapAction, { kind: 'save' | 'resume' }>; index: number } => job.action.kind === 'save' || job.action.kind === 'resume');

  const progress = new SnapProgress(jobs.length, options.onProgress);
  // Each job reports its own end as it happens: in a run of hours, a failure is seen when it occurs.
  const results = await runPool(
    jobs,
    options.maxConcurrentJobs,
    async ({ action, index }, jobIndex, poolSignal) => {
      const outcome = outcomes[index];
      const label = `VM '${action.vm.name}' (image '${action.image.imageName}')`;
      const started = clock();
      reporter.info(
        `VM '${action.vm.name}': ${action.kind === 'save' ? `saving its OS disk as '${action.image.imageName}'` : `following the copy into '${action.blobName}'`}.`,
      );
      try {
        const { sizeBytes, byAnotherRun } = await saveVm(action, options, poolSignal, (p) => progress.update(jobIndex, p));
        const durationMs = clock() - started;
        if (byAnotherRun) {
          Object.assign(outcome, { status: 'already-saved', sizeBytes, message: `saved as '${action.image.imageName}' by another run` });
          reporter.info(`${label}: saved by another run.`);
        } else {
          Object.assign(outcome, { status: 'saved', sizeBytes, durationMs, message: `saved as '${action.image.imageName}'` });
          reporter.info(`${label}: saved, ${formatBytes(sizeBytes)} in ${formatDuration(durationMs)}.`);
        }
        progress.finish(jobIndex);
      } catch (error) {
        if (settleJobError(outcome, error, poolSignal, reporter, label, 'saved')) progress.finish(jobIndex);
      }
    },
    { signal },
  );
  cancelNotStarted(results, jobs, outcomes);
  return outcomes;
}

/**
 * A disk already saved needs no copy, but a run killed after its copy ended may have left its read
 * access granted: revoke it, once no run is at work on the image. A failure is reported; the VM's
 * outcome stays what it is, as its image is complete.
 */
async function revokeLeftoverGrants(plan: SnapPlan, options: ApplySnapOptions, signal: AbortSignal): Promise<void> {
  const saved = plan.actions.filter((a): a is Extract<SnapAction, { kind: 'already-saved' }> => a.kind === 'already-saved');
  if (saved.length === 0) return;
  const container = await options.storage.containerClient({ signal });
  await runPool(
    saved,
    options.maxConcurrentJobs,
    async (action, _index, poolSignal) => {
      try {
        await revokeLeftoverGrant(options.azure, {
          diskId: action.image.sourceDiskId,
          vmName: action.vm.name,
          image: container.getBlobClient(action.image.blobName),
          reporter: options.reporter,
          signal: poolSignal,
        });
      } catch (error) {
        if (isAbortError(error) || poolSignal.aborted) return;
        reportError(options.reporter, error, `VM '${action.vm.name}': could not revoke the read access an earlier run left on its OS disk`);
      }
    },
    { signal },
  );
}

export interface DiskRef {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

export function parseDiskId(diskId: string): DiskRef {
  const match = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/disks\/([^/]+)$/i.exec(diskId);
  if (!match) {
    throw new FactoryError(ErrorCodes.VmHasNoOsDisk, `'${diskId}' is not the id of a managed disk.`, {
      fix: 'Create the factory VMs with managed disks.',
      subject: diskId,
    });
  }
  return { subscriptionId: match[1], resourceGroup: match[2], name: match[3] };
}

/** Reports an error as an issue and returns it; a defect keeps its stack in debug output. */
export function reportError(reporter: Reporter, error: unknown, context: string): { code: string; message: string } {
  if (isFactoryError(error)) {
    const message = `${context}: ${error.message}`;
    reporter.issue({ severity: 'error', code: error.code, message, fix: error.fix });
    return { code: error.code, message };
  }
  const e = error instanceof Error ? error : new Error(String(error));
  reporter.debug(e.stack ?? e.message);
  const message = `${context}: ${e.message}`;
  reporter.issue({
    severity: 'error',
    code: ErrorCodes.SnapFailed,
    message,
    fix: 'Run again (nothing of this VM was left half-made); with system.debug set to true if it fails again, and report the debug output.',
  });
  return { code: ErrorCodes.SnapFailed, message };
}
