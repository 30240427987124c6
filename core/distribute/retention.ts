import { imagePathKey, labSelects, normalizeImagePath } from '../config/imagePaths';
import type { FactoryImage } from '../factoryImages';
import { type DeleteReason, decideRetention, parseTime, type RankedImage } from '../retire/rule';

/**
 * Which copies retention would undo. A lab that holds, or is about to hold, more images of a path than
 * RetireImages keeps loses the older ones at the next retirement; copying them is work thrown away. So
 * the plan asks RetireImages' own rule about the lab as it will be once the run is done (its factory
 * images plus every image the run would copy) and leaves out what the rule would delete.
 */
export interface RetentionSettings {
  /** RetireImages' ImagesToSave. */
  imagesToSave: number;
  /** ImagePaths of the templates in GoldenImages. */
  templatePaths: readonly string[];
}

export interface LeftOut {
  reason: DeleteReason;
  /** Why, in the rule's words, e.g. `older than the 2 newest of Windows/Datacenter.json`. */
  detail: string;
}

/** A custom image of the lab the rule ranks: one this factory made, already there (Succeeded). */
export interface HeldImage {
  name: string;
  imagePath: string;
  time?: number;
}

interface Ranked extends RankedImage {
  /** Set for an image the run would copy. */
  copy?: FactoryImage;
}

/**
 * The images of `toCopy` that retention would delete from the lab right after, by image name (lower
 * case). `held` are the lab's own factory images; an image of `toCopy` with the name of a held one
 * counts once.
 */
export function leftOutByRetention(
  imagePaths: readonly string[],
  labLabel: string,
  held: readonly HeldImage[],
  toCopy: readonly FactoryImage[],
  settings: RetentionSettings,
): Map<string, LeftOut> {
  const copying = new Set(toCopy.map((image) => image.imageName.toLowerCase()));
  const images: Ranked[] = held.filter((image) => !copying.has(image.name.toLowerCase()));
  for (const copy of toCopy) {
    // The custom image carries the store image's time as its ImageFactoryCreated tag.
    images.push({ name: copy.imageName, imagePath: normalizeImagePath(copy.imagePath), time: parseTime(copy.createdUtc), copy });
  }
  const selects = (imagePath: string) => labSelects(imagePaths, imagePath);
  const decisions = decideRetention(images, {
    imagesToSave: settings.imagesToSave,
    templateKeys: new Set(settings.templatePaths.map(imagePathKey)),
    selects,
    coveredBy: (imagePath) => (selects(imagePath) ? [labLabel] : []),
  });
  const leftOut = new Map<string, LeftOut>();
  for (const decision of decisions) {
    if (decision.keep || !decision.image.copy) continue;
    leftOut.set(decision.image.name.toLowerCase(), { reason: decision.reason, detail: decision.detail });
  }
  return leftOut;
}
