import type { BlobClient } from '@azure/storage-blob';
import { callAzure } from '../azure/azureErrors';
import { BlobClaim } from '../azure/blobClaim';
import { type CopyProgress, copyBlob, followCopy, sasBlobClient } from '../azure/blobCopy';
import { maskSas } from '../azure/labs';
import { ErrorCodes, FactoryError } from '../errors';
import { type FactoryImage, claimMetadata, fromBlobMetadata, isClaimPlaceholder, storeBlobName, toBlobMetadata } from '../factoryImages';
import { runSteps, type Step } from '../steps';
import { type ApplySnapOptions, parseDiskId, reportError } from './apply';
import { accessSecondsFor, revokeDiskAccess } from './diskAccess';
import type { SnapAction } from './plan';
import { computeClient } from '../azure/compute';

/**
 * One VM's save, as steps with cleanup: claim the store name (a lease with the run's id, so a second
 * run at once waits instead of copying over or deleting this one's work), grant read access to the OS
 * disk, copy it into the store, then revoke and release, in reverse order, whatever happened. Once the
 * claim is held, the store blob is looked at again: another run may have saved the disk meanwhile, or
 * a killed one left its copy pending or its disk access granted.
 */
export interface SaveResult {
  sizeBytes: number;
  /** Another run saved the disk while this one waited for it. */
  byAnotherRun: boolean;
}

type SaveMode = 'copy' | 'follow' | 'done';

interface SaveState {
  claim?: BlobClaim;
  mode: SaveMode;
  /** Set once access may have been granted: from the grant request on, or by the interrupted run. */
  accessRequested?: boolean;
  diskSizeBytes?: number;
  sourceUrl?: string;
  /** The copy ended in success: the image is complete in the store. */
  copied?: boolean;
  destination?: BlobClient;
}

export async function saveVm(
  action: Extract<SnapAction, { kind: 'save' | 'resume' }>,
  options: ApplySnapOptions,
  signal: AbortSignal,
  onProgress: (progress: CopyProgress) => void,
): Promise<SaveResult> {
  const { azure, storage, store, reporter } = options;
  const disk = parseDiskId(action.diskId);
  const compute = computeClient(azure, disk.subscriptionId);
  const vmName = action.vm.name;
  const blobName = action.kind === 'resume' ? action.blobName : storeBlobName(action.image.imageName);
  const state: SaveState = { mode: 'copy' };
  let sizeBytes = action.image.sizeBytes;

  const claim: Step<SaveState> = {
    name: 'claim',
    async run(s, stepSignal) {
      const blob = (await storage.containerClient({ signal: stepSignal })).getBlobClient(blobName);
      const taken = await callAzure(
        `Claiming '${blobName}' in the image store`,
        () =>
          BlobClaim.wait(blob, options.runId, {
            metadata: claimMetadata(action.image),
            signal: stepSignal,
            pollMs: Math.max(250, Math.min(2000, azure.pollIntervalMs)),
            onWait: () => reporter.info(`VM '${vmName}': another run is saving '${blobName}'; waiting for it.`),
          }),
        { subject: vmName },
      );
      s.claim = taken.claim;
      if (taken.created) return;
      const properties = await callAzure(`Reading '${blobName}' in the image store`, () => blob.getProperties({ abortSignal: stepSignal }), { subject: vmName });
      const found = fromBlobMetadata(properties.metadata);
      const sameDisk = found?.sourceDiskId.toLowerCase() === action.diskId.toLowerCase();
      if (!found || !sameDisk) {
        throw new FactoryError(ErrorCodes.SnapFailed, `The image name '${action.image.imageName}' was taken by another run for another disk while VM '${vmName}' waited to be saved.`, {
          fix: 'Run SnapImagesFromVMs again: it picks a free name.',
          subject: vmName,
        });
      }
      const status = properties.copyStatus;
      if (isClaimPlaceholder(properties.metadata) && status === undefined) s.mode = 'copy';
      else if (status === 'pending') s.mode = 'follow';
      else if (status === undefined || status === 'success') {
        s.mode = 'done';
        sizeBytes = found.sizeBytes;
      } else s.mode = 'copy';
    },
    async cleanup(s) {
      await s.claim?.release();
    },
  };

  const diskAccess: Step<SaveState> = {
    name: 'disk access',
    async run(s, stepSignal) {
      const found = await callAzure(`Reading the OS disk '${disk.name}' of VM '${vmName}'`, () => compute.disks.get(disk.resourceGroup, disk.name, { abortSignal: stepSignal }), {
        notFound: ErrorCodes.VmHasNoOsDisk,
        subject: vmName,
      });
      if (s.mode !== 'copy') {
        // The copy an interrupted run started reads through its grant, revoked once the copy ends; a grant a
        // run left after its copy ended (it was killed before revoking) is revoked now.
        s.accessRequested = s.mode === 'follow' || found.diskState === 'ActiveSAS';
        return;
      }
      s.diskSizeBytes = found.diskSizeBytes ?? (found.diskSizeGB !== undefined ? found.diskSizeGB * 1024 ** 3 : undefined);
      s.accessRequested = true;
      const access = await callAzure(
        `Granting read access to the OS disk '${disk.name}' of VM '${vmName}'`,
        () =>
          compute.disks.beginGrantAccessAndWait(
            disk.resourceGroup,
            disk.name,
            { access: 'Read', durationInSeconds: accessSecondsFor(s.diskSizeBytes, options.maxAccessSeconds) },
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
      await revokeDiskAccess(azure, action.diskId, vmName);
      reporter.debug(`Revoked read access to disk '${disk.name}' of VM '${vmName}'.`);
    },
  };

  const copy: Step<SaveState> = {
    name: 'copy',
    async run(s, stepSignal) {
      if (s.mode === 'done') return;
      const uploadUri = await storage.uploadUri(blobName, { signal: stepSignal });
      s.destination = sasBlobClient(uploadUri, azure.storageRetryOptions);
      const copyOptions = { signal: stepSignal, onProgress, reporter, leaseId: s.claim?.leaseId };
      if (s.mode === 'follow') {
        sizeBytes = (await followCopy(s.destination, copyOptions)).totalBytes;
      } else {
        const image: FactoryImage = { ...action.image, sizeBytes: s.diskSizeBytes ?? 0 };
        sizeBytes = (await copyBlob(s.destination, s.sourceUrl!, { ...copyOptions, metadata: toBlobMetadata(image) })).totalBytes;
      }
      s.copied = true;
    },
    async cleanup(s, outcome) {
      if (outcome === 'succeeded' || s.mode === 'done') return;
      // Aborts a copy still pending and deletes the blob with its metadata: no partial image remains.
      await store.delete(blobName, { leaseId: s.claim?.leaseId });
      s.claim?.stop();
      reporter.debug(`Deleted the partial copy '${blobName}' of VM '${vmName}'.`);
    },
  };

  const cleanupErrors: unknown[] = [];
  try {
    await runSteps([claim, diskAccess, copy], state, {
      signal,
      onCleanupError: (step, error) => {
        cleanupErrors.push(error);
        const what =
          step === 'disk access'
            ? `revoke read access to its OS disk '${disk.name}', which stays readable through its SAS until that expires or 'az disk revoke-access --ids ${action.diskId}' revokes it`
            : step === 'copy'
              ? `delete the partial copy '${blobName}' from the image store; the next run deletes it`
              : `release its claim on '${blobName}', which lapses by itself within seconds`;
        reportError(reporter, error, `VM '${vmName}': could not ${what}`);
      },
    });
  } catch (error) {
    // The image is complete and only its cleanup failed, which is reported already: it counts as saved.
    if ((state.copied || state.mode === 'done') && cleanupErrors.includes(error)) return { sizeBytes, byAnotherRun: state.mode === 'done' };
    throw error;
  }
  return { sizeBytes, byAnotherRun: state.mode === 'done' };
}
