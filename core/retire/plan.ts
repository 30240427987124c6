import { imagePathKey, labSelects, normalizeImagePath } from '../config/imagePaths';
import { isFactoryCustomImage } from '../factoryImages';
import { isPowerShellFactoryImage } from './powerShellImages';
import { customImageFacts, type DeleteReason, decideRetention, isoTime, type KeepReason, parseTime, type RankedImage, type RetentionRules } from './rule';

export type { DeleteReason, KeepReason } from './rule';

/**
 * The retention plan: a pure function of the configuration and of what was read from Azure, so every
 * rule that decides what is deleted is tested without Azure, and a re-run computes the same plan from
 * what the previous run left.
 *
 * Scopes are the factory image store, the factory lab and the labs of labs.json. In each scope the
 * factory's images are decided by the retention rule (rule.ts), which DistributeImages follows too,
 * so that it never copies what retention would delete.
 */

/** A custom image as listed in a lab. */
export interface ObservedCustomImage {
  name: string;
  tags?: Record<string, string>;
  creationDate?: Date | string;
  provisioningState?: string;
}

/** A complete image of the factory store (StoredImage satisfies this). */
export interface ObservedStoreImage {
  blobName: string;
  imageName: string;
  imagePath: string;
  createdUtc: string;
}

export type ReadOutcome<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface StoreObservation {
  /** e.g. "factory image store of lab 'Factory'". */
  label: string;
  read: ReadOutcome<{ images: ObservedStoreImage[]; incomplete: number; otherBlobs: number }>;
}

export interface LabObservation {
  /** The lab's identity (its resource id, or subscription/name when it could not be found), compared without case. */
  key: string;
  /** e.g. "lab 'Dev' (subscription 0000...)". */
  label: string;
  /** The lab's ImagePaths from labs.json; absent for the factory lab when it is not a target. */
  imagePaths?: readonly string[];
  read: ReadOutcome<ObservedCustomImage[]>;
}

export interface RetirePlanInput {
  /** Resource id of the factory lab; custom images tagged with another factory's id are not ours. */
  factoryLabId: string;
  /** Take the PowerShell image factory's custom images (powerShellImages.ts) as this factory's. */
  includePowerShellImages: boolean;
  imagesToSave: number;
  /** ImagePaths of the templates that exist in GoldenImages. */
  templatePaths: readonly string[];
  store: StoreObservation;
  /** The factory lab first (whether or not labs.json lists it), then every lab of labs.json once. */
  labs: readonly LabObservation[];
}

export interface PlannedImage {
  /** Custom image name, or image name for a stored VHD. */
  name: string;
  imagePath: string;
  /** Creation time used for ordering (ISO 8601), when known. */
  created?: string;
  detail: string;
}

export interface PlannedDeletion extends PlannedImage {
  scopeKey: string;
  reason: DeleteReason;
  target: { kind: 'blob'; blobName: string } | { kind: 'customImage'; name: string };
}

export interface KeptImage extends PlannedImage {
  reason: KeepReason;
}

export interface ScopePlan {
  kind: 'store' | 'lab';
  key: string;
  label: string;
  /** Why the scope is left as it is, when it could not be read completely. */
  unreadable?: string;
  keep: KeptImage[];
  delete: PlannedDeletion[];
  /** Custom images or blobs that are not this factory's images: never touched. */
  notOurs: number;
  /** Store copies still pending or failed: SnapImagesFromVMs' to finish or clean up. */
  incomplete: number;
}

export interface RetirePlan {
  imagesToSave: number;
  scopes: ScopePlan[];
  deletions: PlannedDeletion[];
}

export const STORE_SCOPE_KEY = 'store';

interface Candidate extends RankedImage {
  /** Made by the PowerShell image factory; said in the plan, since it carries no ImageFactory tag. */
  powerShell?: boolean;
  target: PlannedDeletion['target'];
}

export function planRetirement(input: RetirePlanInput): RetirePlan {
  const { imagesToSave } = input;
  if (!Number.isInteger(imagesToSave) || imagesToSave < 1) {
    throw new RangeError(`imagesToSave must be a whole number of at least 1, not ${imagesToSave}`);
  }
  const templateKeys = new Set(input.templatePaths.map(imagePathKey));
  const targets = input.labs.filter((lab) => lab.imagePaths !== undefined);
  const coveringLabs = (imagePath: string): string[] =>
    targets.filter((lab) => labSelects(lab.imagePaths ?? [], imagePath)).map((lab) => lab.label);

  const scopes: ScopePlan[] = [];

  const storeScope = emptyScope('store', STORE_SCOPE_KEY, input.store.label);
  if (!input.store.read.ok) {
    storeScope.unreadable = input.store.read.reason;
  } else {
    const { images, incomplete, otherBlobs } = input.store.read.value;
    storeScope.notOurs = otherBlobs;
    storeScope.incomplete = incomplete;
    const candidates = images.map<Candidate>((image) => ({
      name: image.imageName,
      imagePath: normalizeImagePath(image.imagePath),
      time: parseTime(image.createdUtc),
      target: { kind: 'blob', blobName: image.blobName },
    }));
    decideGroups(storeScope, candidates, { imagesToSave, templateKeys, coveredBy: coveringLabs });
  }
  scopes.push(storeScope);

  for (const lab of input.labs) {
    const scope = emptyScope('lab', lab.key, lab.label);
    scopes.push(scope);
    if (!lab.read.ok) {
      scope.unreadable = lab.read.reason;
      continue;
    }
    const candidates: Candidate[] = [];
    for (const image of lab.read.value) {
      const powerShell = input.includePowerShellImages && isPowerShellFactoryImage(image.name, image.tags);
      if (!powerShell && !isFactoryCustomImage(image.tags, input.factoryLabId)) {
        scope.notOurs++;
        continue;
      }
      const { imagePath, time: created } = customImageFacts(image);
      const state = (image.provisioningState ?? 'Succeeded').toLowerCase();
      if (state === 'deleting') {
        // A deletion already under way (a run stopped half-way): finish it rather than count the image.
        scope.delete.push({
          scopeKey: scope.key,
          name: image.name,
          imagePath,
          created: isoTime(created),
          reason: 'being-deleted',
          detail: 'already being deleted; waiting for it to go',
          target: { kind: 'customImage', name: image.name },
        });
      } else if (state !== 'succeeded') {
        scope.keep.push({
          name: image.name,
          imagePath,
          created: isoTime(created),
          reason: 'not-ready',
          detail: `provisioning state ${image.provisioningState}: left alone and not counted`,
        });
      } else {
        candidates.push({ name: image.name, imagePath, time: created, powerShell, target: { kind: 'customImage', name: image.name } });
      }
    }
    const imagePaths = lab.imagePaths;
    decideGroups(scope, candidates, {
      imagesToSave,
      templateKeys,
      selects: imagePaths && ((imagePath) => labSelects(imagePaths, imagePath)),
      coveredBy: imagePaths ? (imagePath) => (labSelects(imagePaths, imagePath) ? [lab.label] : []) : coveringLabs,
    });
  }

  return { imagesToSave, scopes, deletions: scopes.flatMap((scope) => scope.delete) };
}

function decideGroups(scope: ScopePlan, candidates: Candidate[], rules: RetentionRules): void {
  for (const decision of decideRetention(candidates, rules)) {
    const { image } = decision;
    const detail = image.powerShell ? `${decision.detail} (made by the PowerShell image factory)` : decision.detail;
    if (decision.keep) {
      scope.keep.push({ name: image.name, imagePath: image.imagePath, created: isoTime(image.time), reason: decision.reason, detail });
    } else {
      scope.delete.push({
        scopeKey: scope.key,
        name: image.name,
        imagePath: image.imagePath,
        created: isoTime(image.time),
        reason: decision.reason,
        detail,
        target: image.target,
      });
    }
  }
}

function emptyScope(kind: ScopePlan['kind'], key: string, label: string): ScopePlan {
  return { kind, key, label, keep: [], delete: [], notOurs: 0, incomplete: 0 };
}

const REASON_TEXT: Record<DeleteReason, string> = {
  older: 'older',
  'template-removed': 'template removed',
  'not-selected': 'not selected',
  'being-deleted': 'being deleted',
};

/** The plan as printed before acting: per scope, what goes and why, what stays, what is left alone. */
export function formatRetirementPlan(plan: RetirePlan): string[] {
  const lines: string[] = [`Retirement plan: keep the ${plan.imagesToSave} newest image(s) of each ImagePath.`];
  for (const scope of plan.scopes) {
    const title = scope.label.charAt(0).toUpperCase() + scope.label.slice(1);
    if (scope.unreadable) {
      // Why is reported as an error of its own (IF5001), with what to do.
      lines.push(`${title}: could not be read completely; left as it is.`);
      continue;
    }
    const parts = [`${scope.delete.length} to delete`, `${scope.keep.length} to keep`];
    const foreign = scope.kind === 'store' ? 'blob(s) that are not factory images' : 'custom image(s) not made by this factory';
    parts.push(`${scope.notOurs} ${foreign} left alone`);
    if (scope.incomplete > 0) parts.push(`${scope.incomplete} incomplete copy(ies) left alone`);
    lines.push(`${title}: ${parts.join(', ')}.`);
    const rows = [
      ...scope.delete.map((entry) => ({ entry, verb: 'delete' })),
      ...scope.keep.map((entry) => ({ entry, verb: 'keep  ' })),
    ].sort((a, b) => imagePathKey(a.entry.imagePath).localeCompare(imagePathKey(b.entry.imagePath)) || (b.entry.created ?? '').localeCompare(a.entry.created ?? ''));
    for (const { entry, verb } of rows) {
      lines.push(`  ${verb} ${entry.name} [${entry.imagePath}, ${entry.created ?? 'time unknown'}]: ${entry.detail}`);
    }
  }
  return lines;
}

export function deleteReasonText(reason: DeleteReason): string {
  return REASON_TEXT[reason];
}
