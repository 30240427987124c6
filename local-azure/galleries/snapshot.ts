import { replicaDone } from './replication';
import { galleryId, galleryImageVersionId, type GalleriesState } from './state';

/** The galleries as GET /__local/state shows them: what a test asserts on. */
export interface GallerySnapshot {
  id: string;
  name: string;
  resourceGroup: string;
  location: string;
  provisioningState: string;
  images: {
    name: string;
    osType: string;
    hyperVGeneration: string;
    identifier: { publisher: string; offer: string; sku: string };
    features: { name: string; value: string }[];
    tags: Record<string, string>;
    versions: {
      name: string;
      id: string;
      tags: Record<string, string>;
      provisioningState: string;
      hyperVGeneration: string;
      securityType: string;
      dataDiskLuns: number[];
      /** Regions (as named when added) and whether their replicas are complete. */
      regions: { name: string; completed: boolean; replicaCount: number; storageAccountType: string }[];
    }[];
  }[];
}

export function galleriesSnapshot(state: GalleriesState): GallerySnapshot[] {
  return state.galleries.map((gallery) => ({
    id: galleryId(gallery),
    name: gallery.name,
    resourceGroup: gallery.resourceGroup,
    location: gallery.location,
    provisioningState: gallery.provisioningState,
    images: gallery.images.map((image) => ({
      name: image.name,
      osType: image.osType,
      hyperVGeneration: image.hyperVGeneration,
      identifier: { ...image.identifier },
      features: image.features.map((f) => ({ ...f })),
      tags: { ...image.tags },
      versions: image.versions.map((version) => ({
        name: version.name,
        id: galleryImageVersionId(version),
        tags: { ...version.tags },
        provisioningState: version.provisioningState,
        hyperVGeneration: version.hyperVGeneration,
        securityType: version.securityType,
        dataDiskLuns: version.dataDisks.map((d) => d.lun ?? 0),
        regions: version.replicas
          .filter((r) => !r.removing)
          .map((r) => ({ name: r.name, completed: replicaDone(r), replicaCount: r.regionalReplicaCount, storageAccountType: r.storageAccountType })),
      })),
    })),
  }));
}
