import type { BlobClient } from '@azure/storage-blob';
import type { AzureContext } from '../azure/azureContext';
import { callAzure } from '../azure/azureErrors';
import { type CopyProgress, copyBlob, followCopy, sasBlobClient } from '../azure/blobCopy';
import { type LabStorage, maskSas } from '../azure/labs';
import { ErrorCodes, FactoryError, isAbortError, isFactoryError } from '../errors';
import { type FactoryImage, storeBlobName, toBlobMetadata } from '../factoryImages';
import { formatBytes, formatDuration } from '../format';
import type { ImageStore } from '../imageStore';
import { runPool } from '../pool';
import type { Reporter } from '../report';
import { runSteps, type Step } from '../steps';
import type { SnapAction, SnapPlan, SnapVm } from './plan';
import { SnapProgress } from './progress';

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
  /** How long the disk's read SAS lives; longer than the run may take, as access is revoked at the end anyway. */
  accessSeconds: number;
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
        return { ...base, status: action.issue.severity === 'error' ? 'failed' : 'skipped', message: `[${action.issue.code}] ${action.issue.message}` };
      case 'ignore':
        return { ...base, status: 'ignored', message: 'no ImagePath tag' };
    }
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
      reportError(reporter, error, `Could not delete '${blob.blobName}', a ${blob.copyStatus} copy an earlier run left behind`);
    }
  }

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
        const sizeBytes = await saveVm(action, options, poolSignal, (p) => progress.update(jobIndex, p));
        const durationMs = clock() - started;
        Object.assign(outcome, { status: 'saved', sizeBytes, durationMs, message: `saved as '${action.image.imageName}'` });
        reporter.info(`${label}: saved, ${formatBytes(sizeBytes)} in ${formatDuration(durationMs)}.`);
        progress.finish(jobIndex);
      } catch (error) {
        if (isAbortError(error) || (poolSignal.aborted && !isFactoryError(error))) {
          Object.assign(outcome, { status: 'cancelled', message: 'stopped before it was saved' });
        } else {
          const issue = reportError(reporter, error, `${label} was not saved`);
          Object.assign(outcome, { status: 'failed', message: `[${issue.code}] ${issue.message}` });
          progress.finish(jobIndex);
        }
      }
    },
    { signal },
  );
  results.forEach((result, jobIndex) => {
    if (result.status === 'not-started') Object.assign(outcomes[jobs[jobIndex].index], { status: 'cancelled', message: 'not started' });
  });
  return outcomes;
}

interface SaveState {
  /** Set once access may have been granted: from the grant request on, or by the interrupted run. */
  accessRequested?: boolean;
  diskSizeBytes?: number;
  sourceUrl?: string;
  /** The copy ended in success: the image is complete in the store. */
  copied?: boolean;
  destination?: BlobClient;
}

/** The steps of one VM's save (or the rest of an interrupted one); returns the VHD's size. */
async function saveVm(
  action: Extract<SnapAction, { kind: 'save' | 'resume' }>,
  options: ApplySnapOptions,
  signal: AbortSignal,
  onProgress: (progress: CopyProgress) => void,
): Promise<number> {
  const { azure, storage, store, reporter } = options;
  const disk = parseDiskId(action.diskId);
  const compute = azure.compute(disk.subscriptionId);
  const vmName = action.vm.name;
  const blobName = action.kind === 'resume' ? action.blobName : storeBlobName(action.image.imageName);
  const state: SaveState = {};
  let sizeBytes = action.image.sizeBytes;

  const diskAccess: Step<SaveState> = {
    name: 'disk access',
    async run(s, stepSignal) {
      if (action.kind === 'resume') {
        // The interrupted run's grant is still active; it is revoked once the copy is done.
        s.accessRequested = true;
        return;
      }
      const found = await callAzure(`Reading the OS disk '${disk.name}' of VM '${vmName}'`, () => compute.disks.get(disk.resourceGroup, disk.name, { abortSignal: stepSignal }), {
        notFound: ErrorCodes.VmHasNoOsDisk,
        subject: vmName,
      });
      s.diskSizeBytes = found.diskSizeBytes ?? (found.diskSizeGB !== undefined ? found.diskSizeGB * 1024 ** 3 : undefined);
      s.accessRequested = true;
      const access = await callAzure(
        `Granting read access to the OS disk '${disk.name}' of VM '${vmName}'`,
        () =>
          compute.disks.beginGrantAccessAndWait(
            disk.resourceGroup,
            disk.name,
            { access: 'Read', durationInSeconds: options.accessSeconds },
            { abortSignal: stepSignal, updateIntervalInMs: azure.pollIntervalMs },
          ),
        { subject: vmName },
      );
      if (!access.accessSAS) {
        throw new FactoryError(ErrorCodes.SnapFailed, `Azure granted access to the OS disk '${disk.name}' of VM '${vmName}' but gave no SAS URL.`, {
          fix: 'Run again; if it persists, check the disk in the Azure portal.',
          subject: vmName,
        });
      }
      maskSas(access.accessSAS, reporter);
      s.sourceUrl = access.accessSAS;
    },
    async cleanup(s) {
      if (!s.accessRequested) return;
      // Always, and without the run's signal: a disk left with an active SAS cannot be attached or started.
      await callAzure(`Revoking read access to the OS disk '${disk.name}' of VM '${vmName}'`, () =>
        compute.disks.beginRevokeAccessAndWait(disk.resourceGroup, disk.name, { updateIntervalInMs: azure.pollIntervalMs }),
        { subject: vmName },
      );
      reporter.debug(`Revoked read access to disk '${disk.name}' of VM '${vmName}'.`);
    },
  };

  const copy: Step<SaveState> = {
    name: 'copy',
    async run(s, stepSignal) {
      const uploadUri = await storage.uploadUri(blobName, { signal: stepSignal });
      s.destination = sasBlobClient(uploadUri, azure.storageRetryOptions);
      const copyOptions = { signal: stepSignal, onProgress, reporter };
      if (action.kind === 'resume') {
        sizeBytes = (await followCopy(s.destination, copyOptions)).totalBytes;
      } else {
        const image: FactoryImage = { ...action.image, sizeBytes: s.diskSizeBytes ?? 0 };
        sizeBytes = (await copyBlob(s.destination, s.sourceUrl!, { ...copyOptions, metadata: toBlobMetadata(image) })).totalBytes;
      }
      s.copied = true;
    },
    async cleanup(_s, outcome) {
      if (outcome === 'succeeded') return;
      // Aborts a copy still pending and deletes the blob with its metadata: no partial image remains.
      await store.delete(blobName);
      reporter.debug(`Deleted the partial copy '${blobName}' of VM '${vmName}'.`);
    },
  };

  const cleanupErrors: unknown[] = [];
  try {
    await runSteps([diskAccess, copy], state, {
      signal,
      onCleanupError: (step, error) => {
        cleanupErrors.push(error);
        const what =
          step === 'disk access'
            ? `revoke read access to its OS disk '${disk.name}', which stays readable through its SAS until that expires or 'az disk revoke-access --ids ${action.diskId}' revokes it`
            : `delete the partial copy '${blobName}' from the image store; the next run deletes it`;
        reportError(reporter, error, `VM '${vmName}': could not ${what}`);
      },
    });
  } catch (error) {
    // The image is complete and only its cleanup failed, which is reported already: it counts as saved.
    if (state.copied && cleanupErrors.includes(error)) return sizeBytes;
    throw error;
  }
  return sizeBytes;
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
