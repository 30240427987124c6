import type { GalleryImage, GalleryImageVersion } from '@azure/arm-compute';
import type { AzureContext } from '../azure/azureContext';
import { computeClient } from '../azure/compute';
import { callAzure } from '../azure/azureErrors';
import { ErrorCodes, FactoryError } from '../errors';
import { getTag, Tags } from '../factoryImages';
import { regionKey } from '../azure/regions';

/**
 * The Azure Compute Gallery a run works with, as the gallery route's setting names it, and what it holds
 * as the factory sees it: image definitions with their OS type, generation and security type, and each
 * definition's versions with their tags, state and regions.
 */
export interface GalleryRef {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

/** The gallery as a run's inputs name it (galleryName, galleryResourceGroup). */
export interface GalleryTarget {
  galleryName: string;
  /** Default: the factory lab's resource group. */
  galleryResourceGroup?: string;
}

/** What every gallery-route run that changes Azure is given, besides what is its own. */
export interface GalleryRunOptions extends GalleryTarget {
  /** The folder with labs.json and GoldenImages. */
  configurationLocation: string;
  maxConcurrentJobs: number;
  dryRun: boolean;
  signal?: AbortSignal;
}

/** A gallery-route run that keeps RetireImages' retention in view. */
export interface GalleryRetentionOptions extends GalleryRunOptions {
  /** ImagesToSave: the newest versions of each ImagePath that RetireImages keeps (and DistributeImages serves). */
  imagesToSave: number;
}

/** The gallery a target names, in the factory lab's subscription (and resource group, unless it names one). */
export function galleryRefFor(factory: { subscriptionId: string; resourceGroup: string }, target: GalleryTarget): GalleryRef {
  return { subscriptionId: factory.subscriptionId, resourceGroup: target.galleryResourceGroup || factory.resourceGroup, name: target.galleryName };
}

export interface ObservedVersion {
  name: string;
  provisioningState: string;
  /** Target regions, normalized (`westus2`). */
  regions: string[];
  tags: Record<string, string>;
  sourceDiskId?: string;
  imagePath?: string;
  createdUtc?: string;
  /** Made by the factory lab with this id (lower case). */
  factoryLabId?: string;
}

export interface ObservedDefinition {
  name: string;
  osType?: string;
  hyperVGeneration: string;
  securityType: string;
  imagePath?: string;
  versions: ObservedVersion[];
}

export interface ObservedGallery {
  ref: GalleryRef;
  /** Undefined when the gallery does not exist yet. */
  location?: string;
  id?: string;
  definitions: ObservedDefinition[];
}

/** Gallery names as Compute accepts them (see docs/errors.md IF7001). */
const GALLERY_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$/;

export function checkGalleryName(name: string): void {
  if (!GALLERY_NAME.test(name) || /[.-]$/.test(name)) {
    throw new FactoryError(ErrorCodes.GalleryInputInvalid, `'${name}' is not a valid Azure Compute Gallery name.`, {
      fix: 'Use 1-80 letters, digits, underscores, periods or hyphens, starting with a letter or digit and not ending with a period or hyphen.',
      subject: 'galleryName',
    });
  }
}

export function galleryResourceId(ref: GalleryRef): string {
  return `/subscriptions/${ref.subscriptionId}/resourceGroups/${ref.resourceGroup}/providers/Microsoft.Compute/galleries/${ref.name}`;
}

export function securityTypeOf(image: Pick<GalleryImage, 'features'>): string {
  return image.features?.find((f) => f.name?.toLowerCase() === 'securitytype')?.value ?? 'Standard';
}

export function observedVersion(version: GalleryImageVersion): ObservedVersion {
  const tags = version.tags ?? {};
  return {
    name: version.name ?? '',
    provisioningState: version.provisioningState ?? 'Unknown',
    regions: (version.publishingProfile?.targetRegions ?? []).map((r) => regionKey(r.name)),
    tags,
    sourceDiskId: getTag(tags, Tags.ImageFactorySourceDisk),
    imagePath: getTag(tags, Tags.ImagePath),
    createdUtc: getTag(tags, Tags.ImageFactoryCreated),
    factoryLabId: getTag(tags, Tags.ImageFactory)?.toLowerCase(),
  };
}

/** The gallery of the route's inputs (its resource group defaulting to the factory lab's), which must exist. */
export async function existingGallery(
  azure: AzureContext,
  factory: { subscriptionId: string; resourceGroup: string },
  target: GalleryTarget,
  signal?: AbortSignal,
): Promise<ObservedGallery> {
  const ref = galleryRefFor(factory, target);
  const gallery = await observeGallery(azure, ref, signal);
  if (!gallery.id) {
    throw new FactoryError(ErrorCodes.GalleryNotFound, `Gallery '${ref.name}' does not exist in resource group '${ref.resourceGroup}' of subscription ${ref.subscriptionId}.`, {
      fix: 'Run SnapImagesFromVMs with the same galleryName and galleryResourceGroup first.',
      subject: ref.name,
    });
  }
  return gallery;
}

/** Reads the gallery, its definitions and their versions; a gallery that does not exist is empty. */
export async function observeGallery(azure: AzureContext, ref: GalleryRef, signal?: AbortSignal): Promise<ObservedGallery> {
  const client = computeClient(azure, ref.subscriptionId);
  const what = `Reading Azure Compute Gallery '${ref.name}' in resource group '${ref.resourceGroup}'`;
  return callAzure(
    what,
    async () => {
      let gallery;
      try {
        gallery = await client.galleries.get(ref.resourceGroup, ref.name, { abortSignal: signal });
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 404) return { ref, definitions: [] };
        throw error;
      }
      const definitions: ObservedDefinition[] = [];
      for await (const image of client.galleryImages.listByGallery(ref.resourceGroup, ref.name, { abortSignal: signal })) {
        const versions: ObservedVersion[] = [];
        for await (const version of client.galleryImageVersions.listByGalleryImage(ref.resourceGroup, ref.name, image.name!, { abortSignal: signal })) {
          versions.push(observedVersion(version));
        }
        definitions.push({
          name: image.name ?? '',
          osType: image.osType,
          hyperVGeneration: image.hyperVGeneration ?? 'V1',
          securityType: securityTypeOf(image),
          imagePath: getTag(image.tags, Tags.ImagePath),
          versions,
        });
      }
      return { ref, location: gallery.location, id: gallery.id, definitions };
    },
    { subject: ref.name },
  );
}
