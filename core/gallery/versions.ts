import type { ComputeManagementClient, GalleryImageVersion } from '@azure/arm-compute';
import type { AzureContext } from '../azure/azureContext';
import { computeClient } from '../azure/compute';
import { callAzure } from '../azure/azureErrors';
import { sleep } from '../azure/retryPolicy';
import { ErrorCodes, FactoryError } from '../errors';
import type { GalleryRef } from './gallery';

/**
 * Waiting for an image version: its replication is followed region by region through
 * `$expand=ReplicationStatus` until the version is Succeeded or Failed, with progress as it goes.
 */

export interface WaitOptions {
  signal?: AbortSignal;
  /** Overall replication progress of the version, 0..100. */
  onProgress?: (percent: number) => void;
}

export function versionClient(azure: AzureContext, gallery: GalleryRef): ComputeManagementClient['galleryImageVersions'] {
  return computeClient(azure, gallery.subscriptionId).galleryImageVersions;
}

export async function waitForVersion(azure: AzureContext, gallery: GalleryRef, definition: string, version: string, options: WaitOptions = {}): Promise<GalleryImageVersion> {
  const client = versionClient(azure, gallery);
  const label = `image version '${definition}/${version}' of gallery '${gallery.name}'`;
  for (;;) {
    const current = await callAzure(`Reading ${label}`, () => client.get(gallery.resourceGroup, gallery.name, definition, version, { expand: 'ReplicationStatus', abortSignal: options.signal }), { subject: version });
    const summary = current.replicationStatus?.summary ?? [];
    if (summary.length) options.onProgress?.(summary.reduce((sum, region) => sum + (region.progress ?? 0), 0) / summary.length);
    if (current.provisioningState === 'Succeeded') return current;
    if (current.provisioningState === 'Failed') {
      const failed = summary.filter((region) => region.state === 'Failed').map((region) => `${region.region}: ${region.details ?? 'failed'}`);
      throw new FactoryError(ErrorCodes.GalleryVersionFailed, `The ${label} ended Failed${failed.length ? ` (${failed.join('; ')})` : ''}.`, {
        fix: 'Run SnapImagesFromVMs again: a failed version is deleted and made again from the same VM.',
        subject: version,
      });
    }
    await sleep(azure.pollIntervalMs, options.signal);
  }
}

/** Deletes a version and waits until it is gone. */
export async function deleteVersion(azure: AzureContext, gallery: GalleryRef, definition: string, version: string, signal?: AbortSignal): Promise<void> {
  await callAzure(
    `Deleting image version '${definition}/${version}' of gallery '${gallery.name}'`,
    () => versionClient(azure, gallery).delete(gallery.resourceGroup, gallery.name, definition, version, { updateIntervalInMs: azure.pollIntervalMs, abortSignal: signal }),
    { subject: version },
  );
}
