import type { AzureContext } from '../azure/azureContext';
import { callAzure } from '../azure/azureErrors';
import type { LabRef } from '../azure/labs';
import { ErrorCodes, isAbortError, isFactoryError } from '../errors';
import { type FactoryImage, isStagingBlob, stagingBlobName } from '../factoryImages';
import { runPool } from '../pool';
import { customImageRanking, type ListedCustomImage } from '../retire/rule';
import { type SasCache, uploadUri } from './job';
import { type ConfiguredLab, type LabObservation, type ObservedCustomImage, type ObservedStagingBlob, configuredLabKey, selectedImages } from './plan';

/**
 * Reads what the plan needs of each target lab, once: the lab itself (from its subscription's lab
 * list, read once per subscription), its custom images (one paged list) and the staging blobs an
 * earlier run may have left in its storage (one blob listing, a data-plane call). A lab that cannot be
 * read becomes an error for that lab alone.
 */
export interface ObserveOptions {
  signal?: AbortSignal;
  /** Labs read at once. */
  concurrency: number;
  /** Upload URIs asked for while reading a lab are kept here for the jobs. */
  sas: SasCache;
  /** The factory lab's resource id: which custom images are the factory's. */
  factoryLabId: string;
}

export async function observeLabs(
  azure: AzureContext,
  labs: readonly ConfiguredLab[],
  images: readonly FactoryImage[],
  options: ObserveOptions,
): Promise<Map<string, LabObservation>> {
  const observations = new Map<string, LabObservation>();
  const stagingNames = new Map(images.map((image) => [stagingBlobName(image.imageName).toLowerCase(), image.imageName]));
  // Labs of one subscription share its lab list: the directory asks for it once, whoever asks first.
  const results = await runPool(
    labs,
    options.concurrency,
    async (lab, _index, signal) => {
      observations.set(configuredLabKey(lab), await observeLab(azure, lab, images, stagingNames, options, signal));
    },
    { signal: options.signal },
  );
  for (const result of results) if (result.status === 'rejected') throw result.reason;
  options.signal?.throwIfAborted();
  return observations;
}

async function observeLab(
  azure: AzureContext,
  config: ConfiguredLab,
  images: readonly FactoryImage[],
  stagingNames: ReadonlyMap<string, string>,
  options: ObserveOptions,
  signal: AbortSignal,
): Promise<LabObservation> {
  let lab: LabRef;
  try {
    lab = await azure.labs.find(config.subscriptionId, config.labName, { resourceGroup: config.resourceGroup, signal });
    const customImages = await listCustomImages(azure, lab, options.factoryLabId, signal);
    // The lab's blob container is reached through an upload URI; ask for one a job is likely to use.
    const wanted = selectedImages(config, images);
    const present = new Set(customImages.filter((ci) => (ci.provisioningState ?? 'Succeeded') === 'Succeeded').map((ci) => ci.name.toLowerCase()));
    const first = wanted.find((image) => !present.has(image.imageName.toLowerCase())) ?? wanted[0];
    if (first) await uploadUri(options.sas, azure.labs.storage(lab), stagingBlobName(first.imageName), signal);
    const stagingBlobs = await listStagingBlobs(azure, lab, stagingNames, signal);
    return { lab, customImages, stagingBlobs };
  } catch (error) {
    if (isAbortError(error) || signal.aborted) throw error;
    if (isFactoryError(error)) return { error };
    throw error;
  }
}

/** A listed custom image, reduced to what the plan reads of it. */
export function observedCustomImage(image: ListedCustomImage & { name: string; id?: string; provisioningState?: string }, factoryLabId: string): ObservedCustomImage {
  return { name: image.name, id: image.id, provisioningState: image.provisioningState, ranking: customImageRanking(image, factoryLabId) };
}

async function listCustomImages(azure: AzureContext, lab: LabRef, factoryLabId: string, signal: AbortSignal): Promise<ObservedCustomImage[]> {
  return callAzure(
    `Listing the custom images of lab '${lab.name}' (subscription ${lab.subscriptionId})`,
    async () => {
      const images: ObservedCustomImage[] = [];
      for await (const image of azure.devTestLabs(lab.subscriptionId).customImages.list(lab.resourceGroup, lab.name, { abortSignal: signal })) {
        if (!image.name) continue;
        images.push(observedCustomImage({ ...image, name: image.name }, factoryLabId));
      }
      return images;
    },
    { subject: lab.name, notFound: ErrorCodes.LabNotFound },
  );
}

async function listStagingBlobs(
  azure: AzureContext,
  lab: LabRef,
  stagingNames: ReadonlyMap<string, string>,
  signal: AbortSignal,
): Promise<ObservedStagingBlob[]> {
  const container = await azure.labs.storage(lab).containerClient({ signal });
  return callAzure(
    `Listing the blobs of lab '${lab.name}' (subscription ${lab.subscriptionId})`,
    async () => {
      const blobs: ObservedStagingBlob[] = [];
      for await (const blob of container.listBlobsFlat({ includeMetadata: true, includeCopy: true, abortSignal: signal })) {
        if (!isStagingBlob(blob.metadata)) continue;
        blobs.push({
          blobName: blob.name,
          // A staging blob of an image no longer in the store keeps its blob name; no job will claim it.
          imageName: stagingNames.get(blob.name.toLowerCase()) ?? blob.name,
          copyStatus: blob.properties.copyStatus,
          copyId: blob.properties.copyId,
        });
      }
      return blobs;
    },
    { subject: lab.name },
  );
}
