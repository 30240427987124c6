import type { LabRef } from '../azure/labs';
import { labSelects } from '../config/imagePaths';
import type { LabConfig } from '../config/labsConfig';
import { ErrorCodes, FactoryError } from '../errors';
import type { FactoryImage } from '../factoryImages';
import type { Issue } from '../report';
import { type CopySource, crossesRegion, storeSource } from './regions';
import { type LeftOut, type RetentionSettings, leftOutByRetention } from './retention';
import { VHD_ROUTE_FIX, vhdRouteRefusal } from '../vhdRoute';

/**
 * The distribution plan: a pure function of the configuration and of what was observed in Azure (the
 * store's images, each target lab with its custom images and leftover staging blobs). Everything a
 * run will do, and everything it will not do and why, is decided here, so a dry run prints exactly
 * what a real run does, and a run restarted after a kill resumes from what it observes.
 */

/** What the plan reads of a labs.json lab. */
export type ConfiguredLab = Pick<LabConfig, 'index' | 'subscriptionId' | 'labName' | 'resourceGroup' | 'imagePaths'>;

/** A custom image as a lab's list shows it, reduced to what the plan reads. */
export interface ObservedCustomImage {
  name: string;
  id?: string;
  provisioningState?: string;
  /** How retention ranks it (customImageRanking), when this factory made it; absent for any other image. */
  ranking?: { imagePath: string; time?: number };
  /** Its staging blob may still be in the lab (stagingTag.ts): the lab's blobs are read even with no job there. */
  stagingLeft?: boolean;
}

/** A blob in a target lab that an earlier run copied to create a custom image from. */
export interface ObservedStagingBlob {
  blobName: string;
  imageName: string;
  /** `pending`, `success`, `failed`, `aborted`, or undefined when the blob was not made by a copy. */
  copyStatus?: string;
  copyId?: string;
}

export type LabObservation =
  /** `stagingBlobs` are read only in a lab with a job (none is the same as not read). */
  | { lab: LabRef; customImages: readonly ObservedCustomImage[]; stagingBlobs?: readonly ObservedStagingBlob[] }
  | { error: FactoryError };

export interface PlanInput {
  factory: LabRef;
  images: readonly FactoryImage[];
  labs: readonly ConfiguredLab[];
  /** What was read of each lab that selects at least one image, keyed by configuredLabKey. */
  observations: ReadonlyMap<string, LabObservation>;
  /** RetireImages' settings: no image is copied that retention would delete right after. */
  retention: RetentionSettings;
}

/** How a job starts, given what an earlier, interrupted run left in the lab. */
export type JobStart =
  /** Nothing there: copy the VHD, create the image. */
  | 'copy'
  /** An earlier run's copy is still running: follow it, then create. */
  | 'follow-copy'
  /** An earlier run's copy finished: create the image from it. */
  | 'reuse-copy'
  /** An earlier run's copy failed or was aborted: delete it, copy again. */
  | 'recopy'
  /** An earlier run's custom image is still being created: wait for it. */
  | 'wait-image'
  /** An earlier run's custom image ended Failed: delete it, then create it again. */
  | 'redo-image';

export interface DistributionJob {
  /** `<lab id>|<image name>`, lower case: one job per image per lab. */
  key: string;
  image: FactoryImage;
  /** The destination: the VHD is copied into this lab's storage account, in its region (`lab.location`). */
  lab: LabRef;
  /** Where the VHD is copied from, with its region. */
  source: CopySource;
  /** The copy runs between two regions, more slowly (regions.ts). */
  crossesRegion: boolean;
  start: JobStart;
  /** The staging blob an earlier run left, when there is one. */
  staging?: ObservedStagingBlob;
}

export type PlannedCell =
  | { state: 'job'; job: DistributionJob }
  | { state: 'exists'; customImageId?: string; madeByFactory: boolean }
  /** Not copied: RetireImages would delete it from the lab right after (why, in its words). */
  | ({ state: 'left-out' } & LeftOut)
  | { state: 'error'; code: string };

export interface PlannedLab {
  /** The first labs.json entry naming this lab; an entry naming a lab already planned adds its images to it. */
  config: ConfiguredLab;
  /** Set when the lab was found and can receive images. */
  lab?: LabRef;
  /** Image name (as in the store) -> what happens to that image in this lab; only images the lab selects. */
  cells: Map<string, PlannedCell>;
  /** Why this lab gets nothing, when it was found unusable. */
  error?: Issue;
}

export interface LeftoverStagingBlob {
  lab: LabRef;
  blob: ObservedStagingBlob;
}

export interface DistributionPlan {
  factory: LabRef;
  /** The store's images, by name. */
  images: FactoryImage[];
  labs: PlannedLab[];
  jobs: DistributionJob[];
  /** Staging blobs no job will use (their image is in the lab already, or no longer wanted): deleted. */
  leftovers: LeftoverStagingBlob[];
  /** Errors and warnings found while planning; each names the lab and, where it applies, the image. */
  issues: Issue[];
  retention: RetentionSettings;
}

/** The key a labs.json entry is known by: subscription and lab name, without regard to case. */
export function configuredLabKey(lab: Pick<ConfiguredLab, 'subscriptionId' | 'labName'>): string {
  return `${lab.subscriptionId.toLowerCase()}/${lab.labName.toLowerCase()}`;
}

/** The images of the store that a lab's ImagePaths select. */
export function selectedImages(lab: Pick<ConfiguredLab, 'imagePaths'>, images: readonly FactoryImage[]): FactoryImage[] {
  return images.filter((image) => labSelects(lab.imagePaths, image.imagePath));
}

/** The labs worth reading: those that select at least one of the store's images, each once. */
export function labsToRead(labs: readonly ConfiguredLab[], images: readonly FactoryImage[]): ConfiguredLab[] {
  const seen = new Set<string>();
  const result: ConfiguredLab[] = [];
  for (const lab of labs) {
    const key = configuredLabKey(lab);
    if (seen.has(key) || selectedImages(lab, images).length === 0) continue;
    seen.add(key);
    result.push(lab);
  }
  return result;
}

export { sameRegion } from './regions';

const imageKey = (name: string) => name.toLowerCase();

export function planDistribution(input: PlanInput): DistributionPlan {
  const images = [...input.images].sort((a, b) => a.imageName.localeCompare(b.imageName));
  const plan: DistributionPlan = { factory: input.factory, images, labs: [], jobs: [], leftovers: [], issues: [], retention: input.retention };

  // labs.json lists each lab once (the validator sees to it); entries naming the same lab are merged all the same,
  // so that no image is ever planned twice into one lab.
  const byKey = new Map<string, { planned: PlannedLab; wanted: Map<string, FactoryImage>; imagePaths: string[] }>();
  const scope = planScope(plan);
  for (const config of input.labs) {
    const key = configuredLabKey(config);
    let entry = byKey.get(key);
    if (!entry) {
      entry = { planned: { config, cells: new Map() }, wanted: new Map(), imagePaths: [] };
      byKey.set(key, entry);
      plan.labs.push(entry.planned);
    }
    entry.imagePaths.push(...config.imagePaths);
    for (const image of selectedImages(config, images)) entry.wanted.set(scope.imageKey(image), image);
  }

  for (const [key, { planned, wanted, imagePaths }] of byKey) {
    if (wanted.size === 0) continue;
    const observation = input.observations.get(key);
    const error = labError(planned.config, observation, [...wanted.values()]);
    if (error || !observation || !('lab' in observation)) {
      planned.error = error ?? {
        severity: 'error',
        code: ErrorCodes.Internal,
        message: `Lab '${planned.config.labName}' (subscription ${planned.config.subscriptionId}) was not read before planning.`,
      };
      plan.issues.push(planned.error);
      for (const image of wanted.values()) planned.cells.set(image.imageName, { state: 'error', code: planned.error.code });
      continue;
    }
    planned.lab = observation.lab;
    planLab(scope, planned, observation, [...wanted.values()], imagePaths);
  }
  for (const [imageName, labNames] of scope.refusedIn) plan.issues.push(refusedImageIssue(images.find((i) => i.imageName === imageName)!, labNames));
  return plan;
}

/** One error per image the VHD route cannot carry, naming every lab it was meant for. */
function refusedImageIssue(image: FactoryImage, labNames: readonly string[]): Issue {
  const refusal = vhdRouteRefusal(image)!;
  return {
    severity: 'error',
    code: ErrorCodes.StoredImageGeneration2,
    message:
      `Image '${image.imageName}' (ImagePath '${image.imagePath}') is not distributed to ${describeCount(labNames.length, 'lab')} ` +
      `(${labNames.join(', ')}): its metadata says ${refusal.reason}.`,
    fix: `Delete '${image.imageName}.vhd' from the factory's image store (RetireImages does once it is old enough). ${VHD_ROUTE_FIX}`,
  };
}

/** Why a lab can receive no images, if it cannot. A lab in any region can: its copies cross regions. */
function labError(config: ConfiguredLab, observation: LabObservation | undefined, wanted: readonly FactoryImage[]): Issue | undefined {
  if (!observation || !('error' in observation)) return undefined;
  return {
    severity: 'error',
    code: observation.error.code,
    message:
      `Lab '${config.labName}' (subscription ${config.subscriptionId}, labs.json entry ${config.index + 1}) cannot receive ` +
      `its ${wanted.length === 1 ? 'image' : `${wanted.length} images`}: ${observation.error.message}`,
    fix: observation.error.fix,
  };
}

/**
 * What planning every lab shares. A plan over thousands of labs holds a job per image per lab until the
 * run ends, so what is the same for all of them is made once: the store as a copy source, and the
 * lower-case name of each image (a job key is the lab's and the image's).
 */
interface PlanScope {
  plan: DistributionPlan;
  /** Image name -> the labs it was meant for, for images the VHD route cannot carry. */
  refusedIn: Map<string, string[]>;
  source: CopySource;
  imageKey(image: FactoryImage): string;
}

function planScope(plan: DistributionPlan): PlanScope {
  const keys = new Map(plan.images.map((image) => [image, imageKey(image.imageName)]));
  return { plan, refusedIn: new Map(), source: storeSource(plan.factory), imageKey: (image) => keys.get(image) ?? imageKey(image.imageName) };
}

/** Decides each wanted image of a usable lab from what the lab already holds. */
function planLab(
  scope: PlanScope,
  planned: PlannedLab,
  observation: Extract<LabObservation, { lab: LabRef }>,
  wanted: readonly FactoryImage[],
  /** Every ImagePaths entry of the labs.json entries naming this lab. */
  imagePaths: readonly string[],
): void {
  const { plan, refusedIn, source } = scope;
  const lab = observation.lab;
  const labKey = lab.id.toLowerCase();
  const customImages = new Map(observation.customImages.map((ci) => [imageKey(ci.name), ci]));
  const stagingBlobs = observation.stagingBlobs ?? [];
  const staging = new Map(stagingBlobs.map((blob) => [imageKey(blob.imageName), blob]));
  const used = new Set<ObservedStagingBlob>();
  const succeeded = (ci: ObservedCustomImage | undefined) => !!ci && (ci.provisioningState ?? 'Succeeded') === 'Succeeded';
  const leftOut = leftOutByRetention(
    imagePaths,
    `lab '${lab.name}'`,
    observation.customImages.flatMap((ci) => (ci.ranking && succeeded(ci) ? [{ name: ci.name, ...ci.ranking }] : [])),
    wanted.filter((image) => !vhdRouteRefusal(image) && !succeeded(customImages.get(scope.imageKey(image)))),
    plan.retention,
  );

  for (const image of [...wanted].sort((a, b) => a.imageName.localeCompare(b.imageName))) {
    const key = scope.imageKey(image);
    const existing = customImages.get(key);
    const blob = staging.get(key);
    const madeByFactory = !!existing?.ranking;
    const state = existing?.provisioningState ?? 'Succeeded';

    if (existing && state === 'Succeeded') {
      planned.cells.set(image.imageName, { state: 'exists', customImageId: existing.id, madeByFactory });
      continue;
    }
    if (vhdRouteRefusal(image)) {
      // A custom image made of it would give VMs that do not boot: nothing is copied.
      const labNames = refusedIn.get(image.imageName);
      if (labNames) labNames.push(lab.name);
      else refusedIn.set(image.imageName, [lab.name]);
      planned.cells.set(image.imageName, { state: 'error', code: ErrorCodes.StoredImageGeneration2 });
      continue;
    }
    const retired = leftOut.get(key);
    // An image an earlier run started creating is seen through (its VHD is still read); retention deletes it later.
    if (retired && !existing) {
      planned.cells.set(image.imageName, { state: 'left-out', ...retired });
      continue;
    }
    if (existing && !madeByFactory) {
      // Never delete or wait on what the factory did not make.
      const issue: Issue = {
        severity: 'error',
        code: ErrorCodes.CustomImageNameTaken,
        message:
          `Lab '${lab.name}' (subscription ${lab.subscriptionId}) holds a custom image '${existing.name}' in state ${state} ` +
          `that the factory did not make, so image '${image.imageName}' cannot be created there.`,
        fix: `Delete or rename the custom image '${existing.name}' in lab '${lab.name}', then run again.`,
      };
      plan.issues.push(issue);
      planned.cells.set(image.imageName, { state: 'error', code: issue.code });
      continue;
    }

    let start: JobStart;
    if (existing) start = state === 'Failed' ? 'redo-image' : 'wait-image';
    else if (!blob) start = 'copy';
    else if (blob.copyStatus === 'success') start = 'reuse-copy';
    else if (blob.copyStatus === 'pending') start = 'follow-copy';
    else start = 'recopy';
    const job: DistributionJob = {
      key: `${labKey}|${key}`,
      image,
      lab,
      source,
      crossesRegion: crossesRegion(source, lab),
      start,
    };
    if (blob) {
      job.staging = blob;
      used.add(blob);
    }
    plan.jobs.push(job);
    planned.cells.set(image.imageName, { state: 'job', job });
  }

  for (const blob of stagingBlobs) if (!used.has(blob)) plan.leftovers.push({ lab, blob });
}

export function describeCount(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

