import { ArmError } from '../http';
import { invalidRequestContent } from '../resourceManager/errors';
import { requiredObject } from '../resourceManager/requestBody';
import { regionKey, type Replica } from './state';

/** A version's `publishingProfile.targetRegions`, checked as Compute checks them. */

const STORAGE_ACCOUNT_TYPES = ['Standard_LRS', 'Standard_ZRS', 'Premium_LRS', 'PremiumV2_LRS'];
const MAX_REPLICAS = 100;

export type TargetRegion = Omit<Replica, 'startedAt' | 'doneAt' | 'removing'>;

function invalidParameter(target: string, message: string): ArmError {
  return new ArmError(400, 'InvalidParameter', message, {}, [{ code: 'InvalidParameter', target, message }]);
}

export function checkReplicaCount(value: unknown, target: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_REPLICAS) {
    throw invalidParameter(target, `'${target}' must be a whole number from 1 to ${MAX_REPLICAS}.`);
  }
  return value;
}

export function checkStorageAccountType(value: unknown, target: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !STORAGE_ACCOUNT_TYPES.includes(value)) throw invalidParameter(target, `'${target}' must be one of ${STORAGE_ACCOUNT_TYPES.join(', ')}.`);
  return value;
}

/**
 * The target regions of a request; the version's own region must be one of them (its first copy is
 * made there). Defaults of a region: the profile's replica count and storage type.
 */
export function readTargetRegions(
  raw: unknown,
  defaults: { location: string; replicaCount: number; storageAccountType: string },
  existing: readonly TargetRegion[] = [],
): TargetRegion[] {
  if (raw === undefined) return [{ name: defaults.location, regionalReplicaCount: defaults.replicaCount, storageAccountType: defaults.storageAccountType }];
  if (!Array.isArray(raw)) throw invalidRequestContent('properties.publishingProfile.targetRegions must be an array.');
  const seen = new Set<string>();
  const regions = raw.map((item, i) => {
    const target = `galleryImageVersion.properties.publishingProfile.targetRegions[${i}]`;
    const entry = requiredObject(item, target);
    if (typeof entry.name !== 'string' || entry.name.trim() === '') throw invalidParameter(`${target}.name`, `Required parameter '${target}.name' is missing (null).`);
    const key = regionKey(entry.name);
    if (seen.has(key)) throw invalidParameter(`${target}.name`, `The region '${entry.name}' is listed more than once in the target regions.`);
    seen.add(key);
    const before = existing.find((r) => regionKey(r.name) === key);
    const storageAccountType = checkStorageAccountType(entry.storageAccountType, `${target}.storageAccountType`);
    // A region's storage type is not updatable (GalleryRP: "This property is not updatable"); left out, it stays.
    if (before && storageAccountType !== undefined && storageAccountType !== before.storageAccountType) {
      throw new ArmError(400, 'PropertyChangeNotAllowed', `Changing property '${target}.storageAccountType' is not allowed.`, {}, [
        { code: 'PropertyChangeNotAllowed', target: `${target}.storageAccountType`, message: `the region's replicas are ${before.storageAccountType}` },
      ]);
    }
    const region: TargetRegion = {
      name: key,
      regionalReplicaCount: checkReplicaCount(entry.regionalReplicaCount, `${target}.regionalReplicaCount`) ?? defaults.replicaCount,
      storageAccountType: storageAccountType ?? before?.storageAccountType ?? defaults.storageAccountType,
    };
    if (typeof entry.excludeFromLatest === 'boolean') region.excludeFromLatest = entry.excludeFromLatest;
    return region;
  });
  if (!seen.has(regionKey(defaults.location))) {
    throw invalidParameter(
      'galleryImageVersion.properties.publishingProfile.targetRegions',
      `The target regions must include the region of the gallery image version, '${defaults.location}'.`,
    );
  }
  return regions;
}
