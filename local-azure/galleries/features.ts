import { ArmError } from '../http';
import { same } from '../ids';
import { invalidRequestContent } from '../resourceManager/errors';
import { requiredObject } from '../resourceManager/requestBody';
import { isVersionName } from './names';
import type { GalleryImageFeature } from './state';

/**
 * An image definition's `features` and how an update may change them. Compute (GalleryRP 2024-03-03 and
 * later) lets an update change the features named in UPDATABLE_FEATURES when the request's properties say
 * `allowUpdateImage: true`, the flag that tells such an update apart from a create; `startsAtVersion` on a
 * feature names the first image version that has it. Any other feature, or any feature change without the
 * flag, is refused with PropertyChangeNotAllowed naming the feature as the target.
 */

/** The features Compute lets an update change (compared without case). */
export const UPDATABLE_FEATURES = ['SecurityType', 'DiskControllerTypes', 'IsAcceleratedNetworkSupported', 'IsHibernateSupported'];

export function readFeatures(value: unknown): GalleryImageFeature[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalidRequestContent('properties.features must be an array.');
  const features: GalleryImageFeature[] = [];
  for (const item of value) {
    const feature = requiredObject(item, 'properties.features[]');
    if (typeof feature.name !== 'string' || typeof feature.value !== 'string') throw invalidRequestContent('each of properties.features needs a name and a value (strings).');
    const read: GalleryImageFeature = { name: feature.name, value: feature.value };
    if (feature.startsAtVersion !== undefined) {
      if (typeof feature.startsAtVersion !== 'string') throw invalidRequestContent('properties.features[].startsAtVersion must be a string.');
      // It names an image version, so it has a version's form.
      if (!isVersionName(feature.startsAtVersion)) {
        throw invalidParameter(`The startsAtVersion '${feature.startsAtVersion}' of feature '${feature.name}' is not an image version name (Major.Minor.Patch).`);
      }
      read.startsAtVersion = feature.startsAtVersion;
    }
    features.push(read);
  }
  return features;
}

function invalidParameter(message: string): ArmError {
  return new ArmError(400, 'InvalidParameter', message, {}, [{ code: 'InvalidParameter', target: 'galleryImage.properties.features', message }]);
}

function changeNotAllowed(name: string): ArmError {
  return new ArmError(400, 'PropertyChangeNotAllowed', `Changing property '${name}' is not allowed.`, {}, undefined, name);
}

/** The names of the features an update adds, removes or gives another value or first version. */
function changedFeatureNames(before: readonly GalleryImageFeature[], after: readonly GalleryImageFeature[]): string[] {
  const changed: string[] = [];
  for (const feature of after) {
    const old = before.find((f) => same(f.name, feature.name));
    const startsElsewhere = feature.startsAtVersion !== undefined && feature.startsAtVersion !== old?.startsAtVersion;
    if (!old || !same(old.value, feature.value) || startsElsewhere) changed.push(feature.name);
  }
  for (const old of before) if (!after.some((f) => same(f.name, old.name))) changed.push(old.name);
  return changed;
}

/**
 * The features an existing definition has after an update that asks for `requested`, or the error
 * Compute gives. A feature the update repeats without `startsAtVersion` keeps the one it has.
 */
export function updatedFeatures(before: readonly GalleryImageFeature[], requested: readonly GalleryImageFeature[], allowUpdateImage: boolean): GalleryImageFeature[] {
  const changed = changedFeatureNames(before, requested);
  const refused = allowUpdateImage ? changed.find((name) => !UPDATABLE_FEATURES.some((u) => same(u, name))) : changed[0];
  if (refused !== undefined) throw changeNotAllowed(refused);
  return requested.map((feature) => {
    const old = before.find((f) => same(f.name, feature.name));
    const kept = feature.startsAtVersion === undefined && old && same(old.value, feature.value) ? old.startsAtVersion : undefined;
    return kept === undefined ? { ...feature } : { ...feature, startsAtVersion: kept };
  });
}
