import { regionDisplayName } from './regions';
import { replicationStatus } from './replication';
import {
  galleryId,
  galleryImageId,
  galleryImageVersionId,
  galleryUniqueName,
  type Gallery,
  type GalleryImage,
  type GalleryImageVersion,
  type VersionDisk,
} from './state';

/** Gallery resources as Compute returns them, in the shapes of the Compute gallery REST API examples. */

export function galleryView(gallery: Gallery): Record<string, unknown> {
  const properties: Record<string, unknown> = {
    identifier: { uniqueName: galleryUniqueName(gallery) },
    provisioningState: gallery.provisioningState,
  };
  if (gallery.description !== undefined) properties.description = gallery.description;
  return {
    properties,
    location: gallery.location,
    tags: { ...gallery.tags },
    name: gallery.name,
    id: galleryId(gallery),
    type: 'Microsoft.Compute/galleries',
  };
}

export function galleryImageView(image: GalleryImage): Record<string, unknown> {
  const properties: Record<string, unknown> = {
    osType: image.osType,
    osState: image.osState,
    hyperVGeneration: image.hyperVGeneration,
    identifier: { ...image.identifier },
    architecture: image.architecture,
    provisioningState: image.provisioningState,
  };
  if (image.features.length) properties.features = image.features.map((f) => ({ ...f }));
  if (image.description !== undefined) properties.description = image.description;
  return {
    properties,
    location: image.location,
    tags: { ...image.tags },
    name: image.name,
    id: galleryImageId(image),
    type: 'Microsoft.Compute/galleries/images',
  };
}

function diskView(disk: VersionDisk): Record<string, unknown> {
  const view: Record<string, unknown> = { sizeInGB: disk.sizeGB, hostCaching: disk.hostCaching, source: { id: disk.sourceId } };
  if (disk.lun !== undefined) view.lun = disk.lun;
  return view;
}

export function galleryImageVersionView(version: GalleryImageVersion, options: { expandReplicationStatus?: boolean } = {}): Record<string, unknown> {
  const publishingProfile: Record<string, unknown> = {
    targetRegions: version.replicas
      .filter((r) => !r.removing)
      .map((r) => ({ name: regionDisplayName(r.name), regionalReplicaCount: r.regionalReplicaCount, storageAccountType: r.storageAccountType, excludeFromLatest: r.excludeFromLatest ?? false })),
    replicaCount: version.replicaCount,
    excludeFromLatest: version.excludeFromLatest,
    publishedDate: version.publishedDate,
    storageAccountType: version.storageAccountType,
  };
  if (version.endOfLifeDate) publishingProfile.endOfLifeDate = version.endOfLifeDate;
  const storageProfile: Record<string, unknown> = { osDiskImage: diskView(version.osDisk) };
  if (version.source) storageProfile.source = { ...version.source };
  if (version.dataDisks.length) storageProfile.dataDiskImages = version.dataDisks.map(diskView);
  const properties: Record<string, unknown> = {
    publishingProfile,
    storageProfile,
    safetyProfile: {
      allowDeletionOfReplicatedLocations: version.allowDeletionOfReplicatedLocations,
      reportedForPolicyViolation: false,
      blockDeletionBeforeEndOfLife: version.blockDeletionBeforeEndOfLife,
    },
    provisioningState: version.provisioningState,
  };
  if (options.expandReplicationStatus) properties.replicationStatus = replicationStatus(version, regionDisplayName);
  return {
    properties,
    location: version.location,
    tags: { ...version.tags },
    name: version.name,
    id: galleryImageVersionId(version),
    type: 'Microsoft.Compute/galleries/images/versions',
  };
}
