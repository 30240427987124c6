import { imagePathKey, labSelects, normalizeImagePath } from '../config/imagePaths';
import type { LabConfig } from '../config/labsConfig';
import { decideRetention, parseTime, type RankedImage, type RetentionDecision } from '../retire/rule';
import type { ObservedDefinition, ObservedVersion } from './gallery';

/**
 * The retention rule (core/retire/rule.ts) on the gallery route, for both of its users: RetireImages
 * deletes the versions and disables the lab images it does not keep, and DistributeImages enables and
 * replicates only what it would keep, so that no copy is undone by the next retirement. The gallery is
 * one scope, as the VHD route's image store is: per ImagePath the `imagesToSave` newest finished versions
 * the factory made stay, and every version of a template no longer in GoldenImages goes. A lab is a scope
 * of its own: a lab keeps an image enabled while it selects the image's path and the template is there.
 */
export interface GalleryRetentionSettings {
  /** RetireImages' ImagesToSave. */
  imagesToSave: number;
  /** ImagePaths of the templates in GoldenImages. */
  templatePaths: readonly string[];
}

/** A version as the rule ranks it: named `definition/version`, by its ImagePath and when the factory saved it. */
export interface RankedVersion extends RankedImage {
  definitionName: string;
  versionName: string;
}

export type VersionDecision = RetentionDecision<RankedVersion>;

/** The versions of a definition that the factory `factoryLabId` made (tagged with it and an ImagePath). */
export function factoryVersions(definition: ObservedDefinition, factoryLabId: string): ObservedVersion[] {
  return definition.versions.filter((v) => v.factoryLabId === factoryLabId.toLowerCase() && v.imagePath);
}

export function rankedVersion(definitionName: string, version: Pick<ObservedVersion, 'name' | 'imagePath' | 'createdUtc'>): RankedVersion {
  return {
    name: `${definitionName}/${version.name}`,
    definitionName,
    versionName: version.name,
    imagePath: normalizeImagePath(version.imagePath ?? ''),
    // Snap tags each version with the time it saved the VM (ImageFactoryCreated); without it, unranked.
    time: parseTime(version.createdUtc),
  };
}

/**
 * The factory's finished versions of a definition: Succeeded, or Updating (a finished version another run
 * is adding a region to; its regions change on top of it). These are what labs are served from.
 */
export function finishedFactoryVersions(definition: ObservedDefinition, factoryLabId: string): ObservedVersion[] {
  return factoryVersions(definition, factoryLabId).filter((v) => v.provisioningState === 'Succeeded' || v.provisioningState === 'Updating');
}

/**
 * The rule's verdict on every finished version the factory made in the gallery. A version still being
 * made is not ranked: it is neither deleted nor counted.
 */
export function decideGalleryVersions(
  definitions: readonly ObservedDefinition[],
  factoryLabId: string,
  labs: readonly Pick<LabConfig, 'labName' | 'imagePaths'>[],
  settings: GalleryRetentionSettings,
): VersionDecision[] {
  const versions = definitions.flatMap((definition) =>
    finishedFactoryVersions(definition, factoryLabId).map((v) => rankedVersion(definition.name, v)),
  );
  return decideRetention(versions, {
    imagesToSave: settings.imagesToSave,
    templateKeys: new Set(settings.templatePaths.map(imagePathKey)),
    coveredBy: (imagePath) => labs.filter((lab) => labSelects(lab.imagePaths, imagePath)).map((lab) => lab.labName),
  });
}

/**
 * The rule's verdict for one lab on each image it could hold enabled, by definition name (lower case):
 * `versions` holds one version per definition, the one the lab would serve.
 */
export function decideForLab(lab: Pick<LabConfig, 'labName' | 'imagePaths'>, versions: readonly RankedVersion[], settings: GalleryRetentionSettings): Map<string, VersionDecision> {
  const selects = (imagePath: string) => labSelects(lab.imagePaths, imagePath);
  const decisions = decideRetention(versions, {
    imagesToSave: settings.imagesToSave,
    templateKeys: new Set(settings.templatePaths.map(imagePathKey)),
    selects,
    coveredBy: (imagePath) => (selects(imagePath) ? [lab.labName] : []),
  });
  return new Map(decisions.map((decision) => [decision.image.definitionName.toLowerCase(), decision]));
}

/** The verdicts by `definition/version` (lower case). */
export function byVersion(decisions: readonly VersionDecision[]): Map<string, VersionDecision> {
  return new Map(decisions.map((decision) => [decision.image.name.toLowerCase(), decision]));
}
