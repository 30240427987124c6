import { ArmError, ok, type Reply } from '../http';
import { findByName } from '../ids';
import type { ArmRequest } from '../resourceManager/context';
import { page } from '../resourceManager/paging';
import { invalidRequestContent } from '../resourceManager/errors';
import { checkTags, optionalObject, optionalString, requiredObject } from '../resourceManager/requestBody';
import { checkVersionName } from './names';
import { regionDisplayName } from './regions';
import { newReplica, replicationEnd, versionSizeGB } from './replication';
import { checkNotBusy, checkSameLocation, resolveImage, resolveVersion } from './resolve';
import { regionKey, type GalleryImageVersion } from './state';
import { checkReplicaCount, checkStorageAccountType, readTargetRegions, type TargetRegion } from './targetRegions';
import { readVersionSource } from './versionSource';
import { galleryImageVersionView } from './views';

/**
 * Gallery image versions: get (with `$expand=ReplicationStatus`), list, create from a VM or its managed
 * disks, update (tags, target regions: a region added is copied, one dropped goes), delete. Create and
 * update last until every target region holds its replicas.
 */

function expandsReplication(request: ArmRequest): boolean {
  return /replicationstatus/i.test(request.url.searchParams.get('$expand') ?? '');
}

export function getVersion(request: ArmRequest): Reply {
  return ok(galleryImageVersionView(resolveVersion(request), { expandReplicationStatus: expandsReplication(request) }));
}

export function listVersions(request: ArmRequest): Reply {
  const image = resolveImage(request, { asParent: true });
  return page(request, image.versions, (v) => galleryImageVersionView(v));
}

function startVersionOperation(request: ArmRequest, version: GalleryImageVersion, status: number): Reply {
  const { context } = request;
  const op = context.operations.startFor(request, version.image.gallery, 'Microsoft.Compute', {
    durationMs: Math.max(context.state.settings.lroDurationMs, replicationEnd(version) - Date.now()),
    failure: { code: 'InternalOperationError', message: `Replicating gallery image version '${version.name}' failed.` },
    complete: () => {
      version.replicas = version.replicas.filter((r) => !r.removing);
      version.provisioningState = 'Succeeded';
      return galleryImageVersionView(version);
    },
    onFailure: () => {
      version.provisioningState = 'Failed';
    },
  });
  return { status, headers: context.operations.startHeaders(op), body: galleryImageVersionView(version) };
}

/** Applies new target regions: new ones start copying, dropped ones go when the update ends, changed counts copy again. */
function applyTargetRegions(request: ArmRequest, version: GalleryImageVersion, regions: TargetRegion[]): void {
  const settings = request.context.state.settings;
  const size = versionSizeGB(version);
  const wanted = new Map(regions.map((r) => [regionKey(r.name), r]));
  for (const replica of version.replicas) {
    const next = wanted.get(regionKey(replica.name));
    if (!next) {
      replica.removing = true;
      continue;
    }
    replica.removing = false;
    if (next.regionalReplicaCount !== replica.regionalReplicaCount || next.storageAccountType !== replica.storageAccountType) {
      Object.assign(replica, newReplica(next, size, settings));
    }
    replica.excludeFromLatest = next.excludeFromLatest;
  }
  for (const region of regions) {
    if (!version.replicas.some((r) => regionKey(r.name) === regionKey(region.name))) version.replicas.push(newReplica(region, size, settings));
  }
}

/** `safetyProfile` of a request: its two settable flags (booleans when given). */
function readSafetyProfile(raw: unknown): { allowDeletionOfReplicatedLocations?: boolean; blockDeletionBeforeEndOfLife?: boolean } | undefined {
  const safety = optionalObject(raw, 'properties.safetyProfile');
  if (!safety) return undefined;
  const flag = (name: string) => {
    const value = safety[name];
    if (value !== undefined && typeof value !== 'boolean') throw invalidRequestContent(`properties.safetyProfile.${name} must be a boolean.`);
    return value as boolean | undefined;
  };
  return { allowDeletionOfReplicatedLocations: flag('allowDeletionOfReplicatedLocations'), blockDeletionBeforeEndOfLife: flag('blockDeletionBeforeEndOfLife') };
}

/** PATCH, and PUT on a version that exists: only tags, the publishing profile and the safety profile may change. */
function updateExisting(request: ArmRequest, version: GalleryImageVersion, body: Record<string, unknown>): Reply {
  checkNotBusy('gallery image version', version.name, version.provisioningState);
  const properties = optionalObject(body.properties, 'properties') ?? {};
  const storage = optionalObject(properties.storageProfile, 'properties.storageProfile');
  if (storage) {
    const osId = (optionalObject(optionalObject(storage.osDiskImage, 'osDiskImage')?.source, 'source')?.id as string | undefined) ?? undefined;
    const vmId = optionalObject(storage.source, 'source')?.virtualMachineId as string | undefined;
    const changed =
      (osId !== undefined && osId.toLowerCase() !== version.osDisk.sourceId.toLowerCase()) ||
      (vmId !== undefined && vmId.toLowerCase() !== (version.source?.virtualMachineId ?? '').toLowerCase());
    if (changed) {
      throw new ArmError(400, 'PropertyChangeNotAllowed', "Changing property 'galleryImageVersion.properties.storageProfile' is not allowed.", {}, [
        { code: 'PropertyChangeNotAllowed', target: 'galleryImageVersion.properties.storageProfile', message: 'cannot change once the version exists' },
      ]);
    }
  }
  const tags = body.tags === undefined ? undefined : checkTags(body.tags);
  const safety = readSafetyProfile(properties.safetyProfile);
  const profile = optionalObject(properties.publishingProfile, 'properties.publishingProfile');
  if (profile) {
    if (typeof profile.excludeFromLatest === 'boolean') version.excludeFromLatest = profile.excludeFromLatest;
    const eol = optionalString(profile.endOfLifeDate, 'properties.publishingProfile.endOfLifeDate');
    if (eol !== undefined) version.endOfLifeDate = eol;
    if (profile.targetRegions !== undefined) {
      const regions = readTargetRegions(
        profile.targetRegions,
        {
          location: version.location,
          replicaCount: checkReplicaCount(profile.replicaCount, 'galleryImageVersion.properties.publishingProfile.replicaCount') ?? version.replicaCount,
          storageAccountType: checkStorageAccountType(profile.storageAccountType, 'galleryImageVersion.properties.publishingProfile.storageAccountType') ?? version.storageAccountType,
        },
        version.replicas.filter((r) => !r.removing),
      );
      const dropped = version.replicas.filter((r) => !r.removing && !regions.some((n) => regionKey(n.name) === regionKey(r.name)));
      if (dropped.length && !(safety?.allowDeletionOfReplicatedLocations ?? version.allowDeletionOfReplicatedLocations)) {
        throw new ArmError(
          409,
          'OperationNotAllowed',
          `Removing the replicated region(s) ${dropped.map((r) => regionDisplayName(r.name)).join(', ')} from gallery image version '${version.name}' is not allowed: its safetyProfile.allowDeletionOfReplicatedLocations is false.`,
        );
      }
      applyTargetRegions(request, version, regions);
    }
  }
  // Applied once every check has passed: a refused update changes nothing.
  if (tags) version.tags = tags;
  if (safety?.allowDeletionOfReplicatedLocations !== undefined) version.allowDeletionOfReplicatedLocations = safety.allowDeletionOfReplicatedLocations;
  if (safety?.blockDeletionBeforeEndOfLife !== undefined) version.blockDeletionBeforeEndOfLife = safety.blockDeletionBeforeEndOfLife;
  version.provisioningState = 'Updating';
  return startVersionOperation(request, version, 200);
}

export function createOrUpdateVersion(request: ArmRequest): Reply {
  const image = resolveImage(request, { asParent: true });
  const name = request.params.galleryImageVersionName;
  checkVersionName(name);
  const body = requiredObject(request.body, 'galleryImageVersion');
  const existing = findByName(image.versions, name);
  if (existing) return updateExisting(request, existing, body);
  checkNotBusy('gallery image', image.name, image.provisioningState === 'Updating' ? 'Succeeded' : image.provisioningState);
  const location = optionalString(body.location, 'location');
  if (!location) throw new ArmError(400, 'LocationRequired', 'The location property is required for this definition.');
  checkSameLocation('gallery image version', location, image.location);
  const properties = requiredObject(body.properties, 'properties');
  const storage = requiredObject(properties.storageProfile, 'properties.storageProfile');
  const source = readVersionSource(request, image, storage);
  const profile = optionalObject(properties.publishingProfile, 'properties.publishingProfile') ?? {};
  const replicaCount = checkReplicaCount(profile.replicaCount, 'galleryImageVersion.properties.publishingProfile.replicaCount') ?? 1;
  const storageAccountType = checkStorageAccountType(profile.storageAccountType, 'galleryImageVersion.properties.publishingProfile.storageAccountType') ?? 'Standard_LRS';
  const regions = readTargetRegions(profile.targetRegions, { location: image.location, replicaCount, storageAccountType });
  const tags = body.tags === undefined ? {} : checkTags(body.tags);
  const safety = readSafetyProfile(properties.safetyProfile);
  const settings = request.context.state.settings;
  const version: GalleryImageVersion = {
    image,
    name,
    location: image.location,
    tags,
    replicaCount,
    storageAccountType,
    excludeFromLatest: profile.excludeFromLatest === true,
    publishedDate: new Date().toISOString(),
    endOfLifeDate: optionalString(profile.endOfLifeDate, 'properties.publishingProfile.endOfLifeDate'),
    // Compute's documentation names no default; the strict one: regions cannot be taken away unless asked for.
    allowDeletionOfReplicatedLocations: safety?.allowDeletionOfReplicatedLocations ?? false,
    blockDeletionBeforeEndOfLife: safety?.blockDeletionBeforeEndOfLife ?? false,
    ...source,
    replicas: [],
    provisioningState: 'Creating',
  };
  const size = versionSizeGB(version);
  version.replicas = regions.map((region) => newReplica(region, size, settings));
  image.versions.push(version);
  return startVersionOperation(request, version, 201);
}

export function updateVersion(request: ArmRequest): Reply {
  const version = resolveVersion(request);
  return updateExisting(request, version, requiredObject(request.body, 'galleryImageVersion'));
}

export function deleteVersion(request: ArmRequest): Reply {
  const image = resolveImage(request, { asParent: true });
  const version = findByName(image.versions, request.params.galleryImageVersionName);
  if (!version) return { status: 204 };
  if (version.provisioningState === 'Deleting') throw new ArmError(409, 'OperationNotAllowed', `The gallery image version '${version.name}' is already being deleted.`);
  if (version.blockDeletionBeforeEndOfLife && (!version.endOfLifeDate || Date.parse(version.endOfLifeDate) > Date.now())) {
    throw new ArmError(409, 'OperationNotAllowed', `The gallery image version '${version.name}' cannot be deleted before its end of life (${version.endOfLifeDate ?? 'not set'}): safetyProfile.blockDeletionBeforeEndOfLife is true.`);
  }
  const { context } = request;
  const previous = version.provisioningState;
  version.provisioningState = 'Deleting';
  const op = context.operations.startFor(request, image.gallery, 'Microsoft.Compute', {
    durationMs: context.state.settings.lroDurationMs,
    complete: () => {
      const index = image.versions.indexOf(version);
      if (index >= 0) image.versions.splice(index, 1);
      return undefined;
    },
    onFailure: () => {
      version.provisioningState = previous;
    },
  });
  return { status: 202, headers: context.operations.startHeaders(op) };
}
