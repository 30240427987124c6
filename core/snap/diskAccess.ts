import type { BlobClient } from '@azure/storage-blob';
import type { AzureContext } from '../azure/azureContext';
import { callAzure } from '../azure/azureErrors';
import { ASSUMED_COPY_BYTES_PER_SECOND } from '../azure/blobCopy';
import { sleep } from '../azure/retryPolicy';
import { ErrorCodes } from '../errors';
import type { Reporter } from '../report';
import { parseDiskId } from './apply';

/**
 * Read access to a factory VM's OS disk: how long a grant lasts, and revoking it, including a grant a
 * killed run left behind. A disk with an active SAS cannot be attached, started or deleted with its VM,
 * and its SAS lets anyone holding it read the disk, so a grant lives no longer than its copy needs and
 * every run that touches the disk revokes what an earlier run left.
 */

export { ASSUMED_COPY_BYTES_PER_SECOND };

/** Added to the copy time the rate gives: the grant's own latency, polling, a busy storage account. */
const ACCESS_MARGIN_SECONDS = 10 * 60;
/** The shortest grant: small disks still get time for a slow start. */
export const MIN_ACCESS_SECONDS = 30 * 60;

/**
 * Seconds of read access for a disk of `diskSizeBytes`: its copy time at the assumed rate plus a
 * margin, at least MIN_ACCESS_SECONDS and at most `maxSeconds` (the run's time limit and an hour), which
 * is also what a disk of unknown size gets.
 */
export function accessSecondsFor(diskSizeBytes: number | undefined, maxSeconds: number): number {
  if (!diskSizeBytes || diskSizeBytes <= 0) return maxSeconds;
  const copySeconds = Math.ceil(diskSizeBytes / ASSUMED_COPY_BYTES_PER_SECOND);
  return Math.min(maxSeconds, Math.max(MIN_ACCESS_SECONDS, copySeconds + ACCESS_MARGIN_SECONDS));
}

export async function revokeDiskAccess(azure: AzureContext, diskId: string, vmName: string): Promise<void> {
  const disk = parseDiskId(diskId);
  await callAzure(
    `Revoking read access to the OS disk '${disk.name}' of VM '${vmName}'`,
    () => azure.compute(disk.subscriptionId).disks.beginRevokeAccessAndWait(disk.resourceGroup, disk.name, { updateIntervalInMs: azure.pollIntervalMs }),
    { subject: vmName },
  );
}

export interface LeftoverGrantOptions {
  diskId: string;
  vmName: string;
  /** The store image saved from the disk: while a run holds its lease, that run is using (or revoking) the grant. */
  image?: BlobClient;
  reporter: Reporter;
  signal?: AbortSignal;
}

/**
 * Revokes read access an earlier run left on a disk whose image is saved. A run still at work on the
 * image (it holds the image blob's lease until it has revoked) is waited for rather than cut short;
 * a killed run's lease lapses within seconds. Resolves whether a grant was revoked.
 */
export async function revokeLeftoverGrant(azure: AzureContext, options: LeftoverGrantOptions): Promise<boolean> {
  const disk = parseDiskId(options.diskId);
  const compute = azure.compute(disk.subscriptionId);
  const granted = async () => {
    const found = await callAzure(
      `Reading the OS disk '${disk.name}' of VM '${options.vmName}'`,
      () => compute.disks.get(disk.resourceGroup, disk.name, { abortSignal: options.signal }),
      { notFound: ErrorCodes.VmHasNoOsDisk, subject: options.vmName },
    );
    return found.diskState === 'ActiveSAS';
  };
  if (!(await granted())) return false;
  if (options.image && (await waitWhileLeased(options.image, azure.pollIntervalMs, options.signal)) && !(await granted())) return false;
  await revokeDiskAccess(azure, options.diskId, options.vmName);
  options.reporter.info(`Revoked the read access to OS disk '${disk.name}' of VM '${options.vmName}' that an earlier run left granted.`);
  return true;
}

/** Waits while a run holds the blob's lease; resolves whether it waited. */
async function waitWhileLeased(blob: BlobClient, pollIntervalMs: number, signal?: AbortSignal): Promise<boolean> {
  let waited = false;
  for (;;) {
    const properties = await callAzure(`Reading '${blob.name}' in the image store`, () => blob.getProperties({ abortSignal: signal }).catch((error: unknown) => {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }));
    if (properties?.leaseState !== 'leased') return waited;
    waited = true;
    await sleep(Math.max(250, Math.min(2000, pollIntervalMs)), signal);
  }
}
