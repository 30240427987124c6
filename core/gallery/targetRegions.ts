import type { TargetRegion } from '@azure/arm-compute';
import type { AzureContext } from '../azure/azureContext';
import { callAzure } from '../azure/azureErrors';
import { sleep } from '../azure/retryPolicy';
import type { GalleryRef } from './gallery';
import { regionKey } from '../azure/regions';
import { versionClient, waitForVersion } from './versions';

/**
 * Changing the target regions of an image version when other runs may change them too. Compute has no
 * ETag or If-Match on image versions (GalleryRP 2025-03-03) and an update replaces the whole list, so
 * a list read at plan time would drop a region another run added since. Instead each change is made
 * to the version as it is now: read it (waiting while another update or creation runs, as Compute
 * takes one operation on a version at a time), add or take away only this run's regions, keep every
 * other entry as it is (its replica count and storage type), and send it at once; an update refused
 * because another one started in between (409) is tried again the same way.
 */

export interface RegionChange {
  definitionName: string;
  versionName: string;
  /** Regions this run needs (normalized); those already listed are left as they are. */
  add?: readonly string[];
  /** Regions this run takes away; one that is not listed any more is fine. */
  remove?: readonly string[];
}

const BUSY = new Set(['Creating', 'Updating']);

/** Makes the change; resolves whether an update was sent (false: the version already had it). */
export async function changeTargetRegions(azure: AzureContext, gallery: GalleryRef, change: RegionChange, signal?: AbortSignal): Promise<boolean> {
  const client = versionClient(azure, gallery);
  const label = `image version '${change.definitionName}/${change.versionName}'`;
  const add = (change.add ?? []).map(regionKey);
  const remove = new Set((change.remove ?? []).map(regionKey));
  for (;;) {
    const current = await callAzure(`Reading ${label}`, () => client.get(gallery.resourceGroup, gallery.name, change.definitionName, change.versionName, { abortSignal: signal }), { subject: change.versionName });
    if (BUSY.has(current.provisioningState ?? '')) {
      await waitForVersion(azure, gallery, change.definitionName, change.versionName, { signal });
      continue;
    }
    const listed = current.publishingProfile?.targetRegions ?? [];
    const kept = listed.filter((region) => !remove.has(regionKey(region.name)));
    const missing = add.filter((region) => !listed.some((r) => regionKey(r.name) === region));
    if (kept.length === listed.length && missing.length === 0) return false;
    const profile = current.publishingProfile;
    const targetRegions: TargetRegion[] = [
      ...kept.map(({ name, regionalReplicaCount, storageAccountType, excludeFromLatest }) => ({ name, regionalReplicaCount, storageAccountType, excludeFromLatest })),
      ...missing.map((name) => ({ name, regionalReplicaCount: profile?.replicaCount, storageAccountType: profile?.storageAccountType })),
    ];
    try {
      const poller = client.update(
        gallery.resourceGroup,
        gallery.name,
        change.definitionName,
        change.versionName,
        {
          publishingProfile: { targetRegions },
          // The factory's own versions: taking a region away needs it allowed (versions made before it was set at creation).
          ...(kept.length < listed.length ? { safetyProfile: { allowDeletionOfReplicatedLocations: true } } : {}),
        },
        { updateIntervalInMs: azure.pollIntervalMs, abortSignal: signal },
      );
      await callAzure(`Changing the regions of ${label}`, () => poller.submitted(), { subject: change.versionName });
      return true;
    } catch (error) {
      if (!isConflict(error)) throw error;
      // Another run's update started between the read and ours: read it again.
      await sleep(azure.pollIntervalMs, signal);
    }
  }
}

function isConflict(error: unknown): boolean {
  const e = error as { statusCode?: number; cause?: { statusCode?: number } };
  return e?.statusCode === 409 || e?.cause?.statusCode === 409;
}
