import type { HyperVGeneration, SecurityType } from '../compute/marketplace';
import type { OsType } from '../compute/state';
import { findByName, same, stableGuid } from '../ids';
import type { ScenarioGallery } from '../scenario';

/**
 * The Azure Compute Gallery slice of the local Azure's state: galleries, their image definitions and the
 * image versions of each definition, with each version's replicas per region. A version is made from
 * managed disks (Compute's slice); it keeps what it copied of them, so deleting the source afterwards
 * leaves the version whole, as in Azure.
 */

export type GalleryProvisioningState = 'Creating' | 'Updating' | 'Succeeded' | 'Failed' | 'Deleting';

export interface Gallery {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  tags: Record<string, string>;
  description?: string;
  provisioningState: GalleryProvisioningState;
  images: GalleryImage[];
}

export interface GalleryImageFeature {
  name: string;
  value: string;
  /** The first image version that has the feature, when an update added or changed it (features.ts). */
  startsAtVersion?: string;
}

export interface GalleryImage {
  gallery: Gallery;
  name: string;
  location: string;
  tags: Record<string, string>;
  description?: string;
  osType: OsType;
  osState: 'Generalized' | 'Specialized';
  hyperVGeneration: HyperVGeneration;
  identifier: { publisher: string; offer: string; sku: string };
  features: GalleryImageFeature[];
  architecture: string;
  provisioningState: GalleryProvisioningState;
  versions: GalleryImageVersion[];
}

/** A copy of one disk of the version's source, as it was when the version was made. */
export interface VersionDisk {
  sourceId: string;
  sizeGB: number;
  hostCaching: string;
  lun?: number;
}

/** One target region: its replicas are being made until `doneAt`. */
export interface Replica {
  /** The region as the request named it (`westus2` or `West US 2`); compared by `regionKey`. */
  name: string;
  regionalReplicaCount: number;
  storageAccountType: string;
  excludeFromLatest?: boolean;
  startedAt: number;
  doneAt: number;
  /** Set while an update takes the region away: it goes when the update ends. */
  removing?: boolean;
}

export interface GalleryImageVersion {
  image: GalleryImage;
  name: string;
  location: string;
  tags: Record<string, string>;
  replicaCount: number;
  storageAccountType: string;
  excludeFromLatest: boolean;
  publishedDate: string;
  endOfLifeDate?: string;
  /** `safetyProfile`: whether an update may take regions away, and whether delete waits for the end of life. */
  allowDeletionOfReplicatedLocations: boolean;
  blockDeletionBeforeEndOfLife: boolean;
  source?: { id?: string; virtualMachineId?: string };
  osDisk: VersionDisk;
  dataDisks: VersionDisk[];
  /** Generation and security type of the source: a VM made from the version has them. */
  hyperVGeneration: HyperVGeneration;
  /** What the OS on the source disk boots with (as Compute's disk records it). */
  bootGeneration: HyperVGeneration;
  securityType: SecurityType;
  replicas: Replica[];
  provisioningState: GalleryProvisioningState;
}

/** Region names compare without case and spaces: `West US 2` is `westus2`. */
export function regionKey(region: string): string {
  return region.toLowerCase().replace(/\s+/g, '');
}

export class GalleriesState {
  readonly galleries: Gallery[] = [];

  constructor(scenarioGalleries: readonly ScenarioGallery[] = []) {
    for (const item of scenarioGalleries) {
      this.galleries.push({
        subscriptionId: item.subscriptionId,
        resourceGroup: item.resourceGroup,
        name: item.name,
        location: item.location ?? 'westus2',
        tags: { ...item.tags },
        description: item.description,
        provisioningState: 'Succeeded',
        images: [],
      });
    }
  }

  findGallery(subscriptionId: string, resourceGroup: string, name: string): Gallery | undefined {
    return this.galleries.find((g) => same(g.subscriptionId, subscriptionId) && same(g.resourceGroup, resourceGroup) && same(g.name, name));
  }

  galleriesIn(subscriptionId: string, resourceGroup?: string): Gallery[] {
    return this.galleries.filter((g) => same(g.subscriptionId, subscriptionId) && (resourceGroup === undefined || same(g.resourceGroup, resourceGroup)));
  }

  findGalleryById(id: string): Gallery | undefined {
    return this.galleries.find((g) => same(galleryId(g), id));
  }

  findImage(gallery: Gallery, name: string): GalleryImage | undefined {
    return findByName(gallery.images, name);
  }

  removeGallery(gallery: Gallery): void {
    const index = this.galleries.indexOf(gallery);
    if (index >= 0) this.galleries.splice(index, 1);
  }

  /** Galleries of a scenario make their resource groups exist. */
  hasResourceGroup(subscriptionId: string, resourceGroup: string): boolean {
    return this.galleries.some((g) => same(g.subscriptionId, subscriptionId) && same(g.resourceGroup, resourceGroup));
  }
}

export function galleryId(gallery: Gallery): string {
  return `/subscriptions/${gallery.subscriptionId}/resourceGroups/${gallery.resourceGroup}/providers/Microsoft.Compute/galleries/${gallery.name}`;
}

export function galleryImageId(image: GalleryImage): string {
  return `${galleryId(image.gallery)}/images/${image.name}`;
}

export function galleryImageVersionId(version: GalleryImageVersion): string {
  return `${galleryImageId(version.image)}/versions/${version.name}`;
}

/** Compute's `identifier.uniqueName` of a gallery: the subscription and the name in capitals. */
export function galleryUniqueName(gallery: Gallery): string {
  return `${gallery.subscriptionId}-${gallery.name.toUpperCase()}`;
}

export function galleryUniqueId(gallery: Gallery): string {
  return stableGuid(`gallery:${galleryId(gallery)}`.toLowerCase());
}

/** The image definition's security type, from its `SecurityType` feature (`Standard` without one). */
export function imageSecurityType(image: GalleryImage): string {
  return image.features.find((f) => same(f.name, 'SecurityType'))?.value ?? 'Standard';
}
