import type { GalleryImageVersion } from '@azure/arm-compute';
import type { AzureContext } from '../azure/azureContext';
import { callAzure } from '../azure/azureErrors';
import type { LabRef } from '../azure/labs';
import { imagePathKey, normalizeImagePath } from '../config/imagePaths';
import { isAbortError, isFactoryError } from '../errors';
import type { OsType } from '../factoryImages';
import { observeLabs } from '../gallery/distribute';
import { type LabObservation, servedVersions } from '../gallery/distributePlan';
import { type GalleryRef, galleryRefFor, type GalleryTarget, type ObservedDefinition, type ObservedGallery, type ObservedVersion, observeGallery } from '../gallery/gallery';
import { regionKey } from '../azure/regions';
import { planGalleryRetire, type GalleryRetirePlan } from '../gallery/retirePlan';
import { versionClient } from '../gallery/versions';
import { labReadConcurrency, runPool } from '../pool';
import type { ReadOutcome } from '../retire/plan';
import { parseSecurityType } from '../vhdRoute';
import type { CatalogRouteReader, HeldImage, LabGalleryAccess, LabHoldings, RegionReplica, RouteReadOptions, RouteState, SourceImage } from './route';

export interface GalleryRouteOptions extends GalleryTarget {
  /** The factory lab's subscription, which holds the gallery. */
  subscriptionId: string;
  labName: string;
}

const GIB = 1024 ** 3;

/**
 * The gallery route's reader: the gallery's versions made by the factory are the source; a lab holds the
 * versions its VMs can be made from (the image enabled in the lab, the version replicated to the lab's
 * region). It reads what DistributeImages and RetireImages read (the gallery, then each lab through
 * `observeLabs`) and runs RetireImages' gallery plan, so a mark "retention removes" on the page is what
 * the next RetireImages run with the same ImagesToSave and galleryName deletes, drops or disables.
 */
export function galleryRouteReader(azure: AzureContext, options: GalleryRouteOptions): CatalogRouteReader {
  return {
    route: 'gallery',
    async read(readOptions: RouteReadOptions): Promise<RouteState> {
      const { configuration, signal } = readOptions;
      const factory = await azure.labs.find(options.subscriptionId, options.labName, { signal });
      const ref = galleryRefFor(factory, options);
      const sourceLabel = `Azure Compute Gallery '${ref.name}' in resource group ${ref.resourceGroup}`;
      const concurrency = labReadConcurrency(readOptions.maxConcurrentJobs);

      const gallery = await readGallery(azure, ref, factory.id, readOptions.maxConcurrentJobs, signal);
      const labs = await observeLabs(azure, configuration.labs, ref.name, concurrency, signal);
      const plan = gallery.ok
        ? planGalleryRetire({
            gallery: gallery.value.observed,
            factoryLabId: factory.id,
            retention: { imagesToSave: readOptions.imagesToSave, templatePaths: configuration.templates.map((template) => template.imagePath) },
            labs,
            galleryLocation: gallery.value.observed.location ?? factory.location,
          })
        : undefined;
      const sourceImages = gallery.ok ? gallery.value.images : [];
      const retiring = retiringVersions(plan);

      return {
        route: 'gallery',
        sourceLabel,
        source: gallery.ok ? { ok: true, value: sourceImages.map((entry) => entry.image) } : gallery,
        // By `definition/version`: versions of one run share their name across definitions.
        sourceRetiring: retiring,
        labs: labs.map((observation) => labHoldings(observation, { ref, id: gallery.ok ? gallery.value.observed.id : undefined }, sourceImages, retiring, plan)),
      };
    },
  };
}

interface GalleryVersionImage {
  definitionName: string;
  image: SourceImage;
}

/** The gallery and, for each version the factory made, its replication per region and size. */
async function readGallery(
  azure: AzureContext,
  ref: GalleryRef,
  factoryLabId: string,
  concurrency: number,
  signal: AbortSignal,
): Promise<ReadOutcome<{ observed: ObservedGallery; images: GalleryVersionImage[] }>> {
  try {
    const observed = await observeGallery(azure, ref, signal);
    if (!observed.id) return { ok: false, reason: 'it does not exist in that resource group; SnapImagesFromVMs with the same galleryName and galleryResourceGroup makes it.' };
    const ours = observed.definitions.flatMap((definition) => servedVersions(definition, factoryLabId).map((version) => ({ definition, version })));
    const details = await runPool(
      ours,
      Math.max(1, concurrency),
      ({ definition, version }, _index, poolSignal) =>
        callAzure(
          `Reading image version '${definition.name}/${version.name}' of gallery '${ref.name}'`,
          () => versionClient(azure, ref).get(ref.resourceGroup, ref.name, definition.name, version.name, { expand: 'ReplicationStatus', abortSignal: poolSignal }),
          { subject: version.name },
        ),
      { signal },
    );
    const images = ours.map(({ definition, version }, index) => {
      const result = details[index];
      if (result.status === 'rejected') throw result.reason;
      if (result.status !== 'fulfilled') signal.throwIfAborted();
      return { definitionName: definition.name, image: sourceImage(definition, version, result.status === 'fulfilled' ? result.value : undefined) };
    });
    return { ok: true, value: { observed, images } };
  } catch (error) {
    if (isAbortError(error) || !isFactoryError(error)) throw error;
    return { ok: false, reason: error.message };
  }
}

function sourceImage(definition: ObservedDefinition, version: ObservedVersion, detail: GalleryImageVersion | undefined): SourceImage {
  const storage = detail?.storageProfile;
  const sizes = [storage?.osDiskImage?.sizeInGB, ...(storage?.dataDiskImages ?? []).map((disk) => disk.sizeInGB)].filter((size): size is number => typeof size === 'number');
  const published = detail?.publishingProfile?.publishedDate;
  const createdUtc = version.createdUtc ?? (published instanceof Date ? published.toISOString() : published) ?? '';
  return {
    name: version.name,
    version: version.name,
    imagePath: normalizeImagePath(version.imagePath!),
    createdUtc,
    ...(sizes.length ? { sizeBytes: sizes.reduce((sum, size) => sum + size, 0) * GIB } : {}),
    ...(definition.osType === 'Windows' || definition.osType === 'Linux' ? { osType: definition.osType as OsType } : {}),
    generation: definition.hyperVGeneration === 'V2' ? 'V2' : 'V1',
    securityType: parseSecurityType(definition.securityType),
    replication: replicationOf(version, detail),
  };
}

/** Each target region's replica; a region the status does not list yet is still replicating. */
function replicationOf(version: ObservedVersion, detail: GalleryImageVersion | undefined): RegionReplica[] {
  const summary = detail?.replicationStatus?.summary ?? [];
  return version.regions.map((region) => {
    const state = summary.find((entry) => entry.region && regionKey(entry.region) === region)?.state;
    return { region, state: state === 'Completed' ? 'completed' : state === 'Failed' ? 'failed' : 'replicating' };
  });
}

/**
 * What RetireImages' gallery plan deletes, by `definition/version` (lower case), with why in the plan's
 * words: older than the ImagesToSave newest of its ImagePath, or its template gone from GoldenImages.
 */
export function retiringVersions(plan: Pick<GalleryRetirePlan, 'deletions'> | undefined): Map<string, string> {
  return new Map((plan?.deletions ?? []).map((deletion) => [`${deletion.definitionName}/${deletion.versionName}`.toLowerCase(), deletion.detail]));
}

/** The gallery as a lab's attachment is matched against: its id once read, else the name it is attached as. */
interface GalleryIdentity {
  ref: GalleryRef;
  id?: string;
}

function labHoldings(
  observation: LabObservation,
  gallery: GalleryIdentity,
  images: readonly GalleryVersionImage[],
  retiring: ReadonlyMap<string, string>,
  plan: GalleryRetirePlan | undefined,
): LabHoldings {
  const { config, lab } = observation;
  if (observation.error || !lab) {
    const message = observation.error?.message ?? 'it was not read';
    const prefix = `Lab '${config.labName}': `;
    return { labIndex: config.index, read: { ok: false, reason: message.startsWith(prefix) ? message.slice(prefix.length) : message } };
  }
  const access = galleryAccess(observation, lab, gallery, images);
  const region = access.region;
  const held: HeldImage[] = [];
  if (access.attachment === 'attached') {
    for (const { definitionName, image } of images) {
      if (!access.enabled.has(imagePathKey(image.imagePath))) continue;
      const replica = image.replication?.find((entry) => entry.region === region);
      if (!replica) continue;
      const why =
        retiring.get(`${definitionName}/${image.name}`.toLowerCase()) ??
        (plan?.regionRemovals.some((r) => same(r.definitionName, definitionName) && same(r.versionName, image.name) && r.removed.includes(region))
          ? `its replica in ${region} is dropped: no lab that selects ${image.imagePath} is there`
          : plan?.disables.some((d) => d.lab.config.index === config.index && same(d.definitionName, definitionName))
            ? `labs.json no longer selects ${image.imagePath} for this lab: RetireImages disables it here`
            : undefined);
      held.push({
        name: image.name,
        version: image.version,
        imagePath: image.imagePath,
        createdUtc: image.createdUtc,
        state: replica.state === 'completed' ? 'ready' : replica.state === 'failed' ? 'failed' : 'creating',
        ...(why ? { retiring: why } : {}),
      });
    }
  }
  return { labIndex: config.index, read: { ok: true, value: held }, gallery: access };
}

function galleryAccess(observation: LabObservation, lab: LabRef, gallery: GalleryIdentity, images: readonly GalleryVersionImage[]): LabGalleryAccess {
  const region = regionKey(lab.location);
  // By id when the gallery was read (as DistributeImages decides); by the name it is attached as, when not.
  const ours = observation.attached.find((a) => (gallery.id ? same(a.galleryId, gallery.id) : same(a.name, gallery.ref.name)));
  const other = observation.attached.find((a) => a !== ours);
  if (!ours) {
    return other ? { region, attachment: 'other-gallery', otherGallery: other.name, enabled: new Set() } : { region, attachment: 'not-attached', enabled: new Set() };
  }
  const enabledDefinitions = observation.images.filter((image) => image.enableState === 'Enabled').map((image) => image.definitionName.toLowerCase());
  const enabled = new Set(images.filter((entry) => enabledDefinitions.includes(entry.definitionName.toLowerCase())).map((entry) => imagePathKey(entry.image.imagePath)));
  return { region, attachment: 'attached', enabled };
}

function same(a: string | undefined, b: string | undefined): boolean {
  return !!a && !!b && a.toLowerCase() === b.toLowerCase();
}
