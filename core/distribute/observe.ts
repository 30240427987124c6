import type { AzureContext } from '../azure/azureContext';
import { callAzure } from '../azure/azureErrors';
import type { LabRef } from '../azure/labs';
import { ErrorCodes, isAbortError, isFactoryError } from '../errors';
import { type FactoryImage, isStagingBlob, stagingBlobName } from '../factoryImages';
import { runPool } from '../pool';
import { customImageRanking, type ListedCustomImage } from '../retire/rule';
import { hasStagingTag } from './stagingTag';
import { type SasCache, uploadUri } from './job';
import { labSelects } from '../config/imagePaths';
import {
  type ConfiguredLab,
  type DistributionJob,
  type LabObservation,
  type ObservedCustomImage,
  type ObservedStagingBlob,
  configuredLabKey,
  selectedImages,
} from './plan';

/**
 * Reads what the plan needs of each target lab, in two passes. First every lab: the lab itself (from its
 * subscription's lab list, read once per subscription) and its custom images (one paged list), kept only
 * as far as the plan reads them. Then only the labs the plan gives a job: the staging blobs an earlier
 * run may have left in the lab's storage (one blob listing, a data-plane call). Storage is reached
 * through an upload URI, a Resource Manager write, so a lab with nothing to do costs none. A lab that
 * cannot be read becomes an error for that lab alone.
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

/** The first pass: each lab and its custom images. Observations carry no staging blobs yet. */
export async function observeLabs(
  azure: AzureContext,
  labs: readonly ConfiguredLab[],
  images: readonly FactoryImage[],
  options: ObserveOptions,
): Promise<Map<string, LabObservation>> {
  const observations = new Map<string, LabObservation>();
  // Labs of one subscription share its lab list: the directory asks for it once, whoever asks first.
  await eachLab(labs, options, async (config, signal) => {
    observations.set(configuredLabKey(config), await guarded(signal, async () => {
      const lab = await azure.labs.find(config.subscriptionId, config.labName, { resourceGroup: config.resourceGroup, signal });
      const wanted = new Set(selectedImages(config, images).map((image) => image.imageName.toLowerCase()));
      // What the plan reads: an image of a wanted name, and the factory's images of paths the lab selects (retention ranks them).
      const needed = (image: ObservedCustomImage) =>
        wanted.has(image.name.toLowerCase()) || (!!image.ranking && labSelects(config.imagePaths, image.ranking.imagePath));
      return { lab, customImages: await listCustomImages(azure, lab, options.factoryLabId, needed, signal) };
    }));
  });
  return observations;
}

/**
 * The blob each lab's first upload URI is asked for, by lab id (lower case): its first job's. Only this
 * is kept of the first plan while the second pass runs, not its jobs (a plan of thousands of labs holds
 * tens of thousands).
 */
export function firstJobBlobs(jobs: readonly DistributionJob[]): Map<string, string> {
  const firstBlob = new Map<string, string>();
  const names = new Map<string, string>();
  for (const job of jobs) {
    const lab = job.lab.id.toLowerCase();
    if (firstBlob.has(lab)) continue;
    let blobName = names.get(job.image.imageName);
    if (blobName === undefined) names.set(job.image.imageName, (blobName = stagingBlobName(job.image.imageName)));
    firstBlob.set(lab, blobName);
  }
  return firstBlob;
}

/**
 * The second pass, for the labs that have a job: their staging blobs, read through an upload URI asked
 * for the lab's first job (which reuses it; `firstBlob`, from firstJobBlobs). Replaces each such
 * observation with a complete one.
 */
export async function observeStagingBlobs(
  azure: AzureContext,
  observations: Map<string, LabObservation>,
  firstBlob: Map<string, string>,
  images: readonly FactoryImage[],
  options: ObserveOptions,
): Promise<void> {
  // A lab without a job is read all the same when one of its images' staging blob may be left.
  for (const observation of observations.values()) {
    const left = 'lab' in observation ? observation.customImages.find((image) => image.stagingLeft) : undefined;
    if (left && 'lab' in observation && !firstBlob.has(observation.lab.id.toLowerCase())) firstBlob.set(observation.lab.id.toLowerCase(), stagingBlobName(left.name));
  }
  const stagingNames = new Map(images.map((image) => [stagingBlobName(image.imageName).toLowerCase(), image.imageName]));
  const entries = [...observations].filter(
    (entry): entry is [string, Extract<LabObservation, { lab: LabRef }>] => 'lab' in entry[1] && firstBlob.has(entry[1].lab.id.toLowerCase()),
  );
  await eachLab(entries, options, async ([key, observation], signal) => {
    observations.set(key, await guarded(signal, async () => {
      const { lab } = observation;
      await uploadUri(options.sas, azure.labs.storage(lab), firstBlob.get(lab.id.toLowerCase())!, signal);
      return { ...observation, stagingBlobs: await listStagingBlobs(azure, lab, stagingNames, signal) };
    }));
  });
}

async function eachLab<T>(items: readonly T[], options: ObserveOptions, read: (item: T, signal: AbortSignal) => Promise<void>): Promise<void> {
  const results = await runPool(items, options.concurrency, (item, _index, signal) => read(item, signal), { signal: options.signal });
  for (const result of results) if (result.status === 'rejected') throw result.reason;
  options.signal?.throwIfAborted();
}

/** A lab's read, its FactoryErrors made an observation of that lab. */
async function guarded(signal: AbortSignal, read: () => Promise<LabObservation>): Promise<LabObservation> {
  try {
    return await read();
  } catch (error) {
    if (isAbortError(error) || signal.aborted) throw error;
    if (isFactoryError(error)) return { error };
    throw error;
  }
}

/** A listed custom image, reduced to what the plan reads of it. */
export function observedCustomImage(image: ListedCustomImage & { name: string; id?: string; provisioningState?: string }, factoryLabId: string): ObservedCustomImage {
  const ranking = customImageRanking(image, factoryLabId);
  return { name: image.name, id: image.id, provisioningState: image.provisioningState, ranking, stagingLeft: !!ranking && hasStagingTag(image.tags) };
}

async function listCustomImages(
  azure: AzureContext,
  lab: LabRef,
  factoryLabId: string,
  needed: (image: ObservedCustomImage) => boolean,
  signal: AbortSignal,
): Promise<ObservedCustomImage[]> {
  return callAzure(
    `Listing the custom images of lab '${lab.name}' (subscription ${lab.subscriptionId})`,
    async () => {
      const images: ObservedCustomImage[] = [];
      for await (const image of azure.devTestLabs(lab.subscriptionId).customImages.list(lab.resourceGroup, lab.name, { abortSignal: signal })) {
        if (!image.name) continue;
        const observed = observedCustomImage({ ...image, name: image.name }, factoryLabId);
        if (needed(observed)) images.push(observed);
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
