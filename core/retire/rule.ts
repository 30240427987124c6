import { imagePathKey, normalizeImagePath } from '../config/imagePaths';
import { getTag, isFactoryCustomImage, Tags } from '../factoryImages';

/**
 * The retention rule, one place for both of its users: RetireImages deletes what it does not keep, and
 * DistributeImages copies only what it would keep, so that no copy is undone by the next retirement.
 *
 * Within one scope (the store, the factory lab, a target lab), images are grouped by ImagePath key; a
 * group whose template is gone goes everywhere (as the PowerShell factory's RetireImages did), even
 * where a folder entry of ImagePaths still covers its path; in a target lab a group whose path the lab
 * no longer selects goes; otherwise the `imagesToSave` newest stay and the rest go. An image whose time
 * is unknown cannot be ranked: it stays and takes no place.
 */

export type DeleteReason = 'older' | 'template-removed' | 'not-selected' | 'being-deleted';
export type KeepReason = 'newest' | 'unknown-time' | 'not-ready';

/** What the rule knows of an image. */
export interface RankedImage {
  name: string;
  /** Normalized (`normalizeImagePath`). */
  imagePath: string;
  /** Milliseconds since the epoch; undefined when no usable time is known. */
  time?: number;
}

export interface RetentionRules {
  imagesToSave: number;
  /** ImagePath keys (`imagePathKey`) of the templates in GoldenImages. */
  templateKeys: ReadonlySet<string>;
  /** For a target lab: whether it selects a path. Absent for the factory's own scopes. */
  selects?: (imagePath: string) => boolean;
  /** The labs whose ImagePaths entries still cover a path, named when its template is gone. */
  coveredBy: (imagePath: string) => string[];
}

export type RetentionDecision<T extends RankedImage> =
  | { image: T; keep: true; reason: KeepReason; detail: string }
  | { image: T; keep: false; reason: DeleteReason; detail: string };

/** The rule's verdict on every image of one scope, groups in key order, newest first within each. */
export function decideRetention<T extends RankedImage>(images: readonly T[], rules: RetentionRules): RetentionDecision<T>[] {
  const groups = new Map<string, T[]>();
  for (const image of images) {
    const key = imagePathKey(image.imagePath);
    const group = groups.get(key);
    if (group) group.push(image);
    else groups.set(key, [image]);
  }
  const decisions: RetentionDecision<T>[] = [];
  for (const key of [...groups.keys()].sort()) {
    const group = groups.get(key)!.sort(newestFirst);
    const imagePath = group[0].imagePath;

    let groupReason: { reason: DeleteReason; detail: string } | undefined;
    if (!rules.templateKeys.has(key)) {
      const covering = rules.coveredBy(imagePath);
      const folderNote = covering.length > 0 ? `; retired though ${describeLabs(covering)} still list(s) a folder that held it` : '';
      groupReason = { reason: 'template-removed', detail: `its template ${imagePath} is no longer in GoldenImages${folderNote}` };
    } else if (rules.selects && !rules.selects(imagePath)) {
      groupReason = { reason: 'not-selected', detail: `labs.json no longer selects ${imagePath} for this lab` };
    }

    if (groupReason) {
      for (const image of group) decisions.push({ image, keep: false, ...groupReason });
      continue;
    }

    let rank = 0;
    for (const image of group) {
      if (image.time === undefined) {
        decisions.push({ image, keep: true, reason: 'unknown-time', detail: 'its creation time is unknown, so it is not ranked' });
      } else if (rank < rules.imagesToSave) {
        rank++;
        decisions.push({ image, keep: true, reason: 'newest', detail: `newest ${rank} of ${rules.imagesToSave}` });
      } else {
        decisions.push({ image, keep: false, reason: 'older', detail: `older than the ${rules.imagesToSave} newest of ${imagePath}` });
      }
    }
  }
  return decisions;
}

/** A custom image as a lab lists it: what the rule reads of it. */
export interface ListedCustomImage {
  tags?: Record<string, string>;
  creationDate?: Date | string;
}

/**
 * The ImagePath and time the rule ranks a custom image by, or undefined when the factory `factoryLabId`
 * did not make it (the rule never touches such an image). The time is when the factory saved the image
 * (its ImageFactoryCreated tag), else the custom image's creation date.
 */
export function customImageRanking(image: ListedCustomImage, factoryLabId: string): { imagePath: string; time?: number } | undefined {
  return isFactoryCustomImage(image.tags, factoryLabId) ? customImageFacts(image) : undefined;
}

/** The ImagePath and time of a custom image the factory's retention counts (its own, or the PowerShell factory's). */
export function customImageFacts(image: ListedCustomImage): { imagePath: string; time?: number } {
  return {
    imagePath: normalizeImagePath(getTag(image.tags, Tags.ImagePath) ?? ''),
    time: parseTime(getTag(image.tags, Tags.ImageFactoryCreated)) ?? parseTime(image.creationDate),
  };
}

/**
 * Newest first; an unknown time counts as newest (it is never ranked out). Ties go by name, the later
 * name first: images saved the same day get suffixes A, B, ... Z, AA, ... in the order they were made,
 * so a longer name is later, and among names of one length the greater one.
 */
function newestFirst(a: RankedImage, b: RankedImage): number {
  const ta = a.time ?? Number.POSITIVE_INFINITY;
  const tb = b.time ?? Number.POSITIVE_INFINITY;
  if (ta !== tb) return tb - ta;
  if (a.name.length !== b.name.length) return b.name.length - a.name.length;
  const na = a.name.toLowerCase();
  const nb = b.name.toLowerCase();
  if (na !== nb) return na < nb ? 1 : -1;
  return a.name < b.name ? 1 : a.name > b.name ? -1 : 0;
}

export function parseTime(value: Date | string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const time = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isFinite(time) ? time : undefined;
}

export function isoTime(time: number | undefined): string | undefined {
  return time === undefined ? undefined : new Date(time).toISOString();
}

function describeLabs(labels: string[]): string {
  return labels.length === 1 ? labels[0] : `${labels.length} labs (${labels.join(', ')})`;
}
