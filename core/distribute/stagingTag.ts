import type { AzureContext } from '../azure/azureContext';
import type { LabRef } from '../azure/labs';
import { Tags, getTag } from '../factoryImages';
import type { Reporter } from '../report';

/**
 * A lab's staging blob that other labs' copies read outlives the job that made it, so a kill can leave
 * it after its custom image is made, in a lab the next run has no job in and would not look into. The
 * custom image says so: it is made with the tag `ImageFactoryStagingBlob` while its blob may still be
 * there, the tag is removed once the blob is deleted, and the next run reads the blobs of every lab
 * with such a tag (observe.ts), deletes what is left there, then removes the tag.
 */

/** Whether a custom image's tags say its staging blob may still be in the lab. */
export function hasStagingTag(tags: Record<string, string> | undefined): boolean {
  return getTag(tags, Tags.StagingBlob) !== undefined;
}

/**
 * Removes the staging tag from the lab's custom image of `imageName`, if it has one; a failure is only logged.
 * `knownTags`: the image's tags but that one, when the caller made it (no need to read them first).
 */
export async function clearStagingTag(azure: AzureContext, lab: LabRef, imageName: string, reporter: Reporter, knownTags?: Record<string, string>): Promise<void> {
  const client = azure.devTestLabs(lab.subscriptionId).customImages;
  try {
    let tags = knownTags;
    if (!tags) {
      const image = await client.get(lab.resourceGroup, lab.name, imageName);
      if (!hasStagingTag(image.tags)) return;
      tags = Object.fromEntries(Object.entries(image.tags ?? {}).filter(([name]) => name.toLowerCase() !== Tags.StagingBlob.toLowerCase()));
    }
    await client.update(lab.resourceGroup, lab.name, imageName, { tags });
  } catch (error) {
    // Gone (its creation failed) is fine; otherwise the next run looks into the lab again, finds nothing, and tries again.
    if ((error as { statusCode?: number }).statusCode === 404) return;
    reporter.debug(`Could not remove the tag ${Tags.StagingBlob} of image '${imageName}' in lab '${lab.name}': ${error instanceof Error ? error.message : String(error)}`);
  }
}
