import type { LabSharedGallery, LabSharedImage } from '../azure/labSharedGalleries';
import type { LabRef } from '../azure/labs';
import { labSelects } from '../config/imagePaths';
import type { LabConfig } from '../config/labsConfig';
import { ErrorCodes } from '../errors';
import { markdownCell as md } from '../format';
import type { Issue } from '../report';
import { regionKey } from '../azure/regions';
import { compareVersions } from './naming';
import type { ObservedDefinition, ObservedGallery, ObservedVersion } from './gallery';
import { byVersion, decideForLab, decideGalleryVersions, finishedFactoryVersions, type GalleryRetentionSettings, rankedVersion } from './retention';

/**
 * DistributeImages on the gallery route, decided from labs.json, the gallery and each lab alone: a lab
 * that selects one of the gallery's images gets the gallery attached if it has none (another gallery
 * attached is an error, and the lab is left alone), exactly the factory's images its ImagePaths select
 * enabled, and the newest version of each replicated to its region. Adding a lab's region to a version
 * is the copy; one update per version adds every missing region at once. What RetireImages would undo
 * right after (retention.ts: a version it would delete, an image it would disable in a lab) is left out,
 * and the plan says so.
 */

export interface GalleryImageToServe {
  definitionName: string;
  imagePath: string;
  /** The newest Succeeded version made by the factory. */
  versionName: string;
  /** Its ImageFactoryCreated tag: when the factory saved it. */
  createdUtc?: string;
  /** Regions the version lists (normalized), and those whose replicas are complete. */
  regions: string[];
  completedRegions: string[];
}

export interface LabObservation {
  config: LabConfig;
  lab?: LabRef;
  /** Why the lab could not be read. */
  error?: Issue;
  attached: LabSharedGallery[];
  /** The lab's shared images, when our gallery is attached. */
  images: LabSharedImage[];
}

export type CellState = 'enable' | 'in-place' | 'disable' | 'blocked' | 'left-out';

export interface LabPlan {
  config: LabConfig;
  lab?: LabRef;
  error?: Issue;
  attach: boolean;
  /** By definition name: what the run does with each factory image for this lab. */
  cells: Map<string, CellState>;
}

export interface RegionAddition {
  definitionName: string;
  versionName: string;
  /** Every region the version will list: its own and the new ones. */
  regions: string[];
  added: string[];
}

/** An image the run does not enable or replicate, for one lab or (no `labName`) for all, as RetireImages would undo it. */
export interface GalleryLeftOut {
  definitionName: string;
  versionName: string;
  labName?: string;
  /** Why, in the rule's words, e.g. `its template Linux/Ubuntu.json is no longer in GoldenImages`. */
  detail: string;
}

export interface GalleryDistributionPlan {
  galleryName: string;
  retention: GalleryRetentionSettings;
  leftOut: GalleryLeftOut[];
  images: GalleryImageToServe[];
  labs: LabPlan[];
  regionAdditions: RegionAddition[];
  /** Versions still replicating to a region a lab needs: waited for. */
  waits: { definitionName: string; versionName: string }[];
  issues: Issue[];
}

const same = (a: string | undefined, b: string | undefined) => !!a && !!b && a.toLowerCase() === b.toLowerCase();

/** The versions of a definition the factory serves labs from: its own (with an ImagePath), finished or being updated. */
export function servedVersions(definition: ObservedDefinition, factoryLabId: string): ObservedVersion[] {
  return finishedFactoryVersions(definition, factoryLabId);
}

/** The factory's images in the gallery: per definition it made, its newest Succeeded version. */
export function imagesToServe(gallery: ObservedGallery, factoryLabId: string, completed: ReadonlyMap<string, string[]>): GalleryImageToServe[] {
  const images: GalleryImageToServe[] = [];
  for (const definition of gallery.definitions) {
    const newest = servedVersions(definition, factoryLabId).sort((a, b) => compareVersions(b.name, a.name))[0];
    if (!newest) continue;
    images.push({
      definitionName: definition.name,
      imagePath: newest.imagePath!,
      versionName: newest.name,
      createdUtc: newest.createdUtc,
      regions: newest.regions,
      completedRegions: completed.get(`${definition.name}/${newest.name}`.toLowerCase()) ?? [],
    });
  }
  return images.sort((a, b) => a.definitionName.localeCompare(b.definitionName));
}

export function planGalleryDistribution(input: {
  gallery: ObservedGallery;
  factoryLabId: string;
  images: GalleryImageToServe[];
  labs: LabObservation[];
  retention: GalleryRetentionSettings;
}): GalleryDistributionPlan {
  const { gallery, retention } = input;
  const issues: Issue[] = [];
  const leftOut: GalleryLeftOut[] = [];
  // A version the rule deletes from the gallery is served to no lab.
  const versionVerdicts = byVersion(decideGalleryVersions(gallery.definitions, input.factoryLabId, input.labs.map((l) => l.config), retention));
  const images = input.images.filter((image) => {
    const verdict = versionVerdicts.get(`${image.definitionName}/${image.versionName}`.toLowerCase());
    if (verdict && !verdict.keep) leftOut.push({ definitionName: image.definitionName, versionName: image.versionName, detail: verdict.detail });
    return !verdict || verdict.keep;
  });
  const served = images.map((image) => rankedVersion(image.definitionName, { name: image.versionName, imagePath: image.imagePath, createdUtc: image.createdUtc }));
  const wantedRegions = new Map<string, Set<string>>();
  const labs: LabPlan[] = input.labs.map((observation): LabPlan => {
    const { config, lab } = observation;
    const cells = new Map<string, CellState>();
    const plan: LabPlan = { config, lab, attach: false, cells };
    if (observation.error || !lab) {
      plan.error = observation.error;
      if (observation.error) issues.push(observation.error);
      return plan;
    }
    const selected = images.filter((image) => labSelects(config.imagePaths, image.imagePath));
    const ours = observation.attached.find((a) => same(a.galleryId, gallery.id));
    const other = observation.attached.find((a) => !same(a.galleryId, gallery.id));
    // A lab that selects none of the gallery's images is not this route's: its own gallery, if any, is no conflict.
    if (!ours && selected.length === 0) return plan;
    if (!ours && other) {
      plan.error = {
        severity: 'error',
        code: ErrorCodes.LabHasOtherGallery,
        message: `Lab '${config.labName}' (subscription ${config.subscriptionId}) has the gallery '${other.name}' (${other.galleryId}) attached, so gallery '${gallery.ref.name}' cannot be attached: a lab holds one gallery. The lab was left unchanged.`,
        fix: `Detach '${other.name}' from the lab if it is not needed, or publish into that gallery (galleryName, galleryResourceGroup).`,
      };
      issues.push(plan.error);
      for (const image of selected) cells.set(image.definitionName, 'blocked');
      return plan;
    }
    const verdicts = decideForLab(config, served, retention);
    for (const image of images) {
      const state = observation.images.find((i) => same(i.definitionName, image.definitionName))?.enableState ?? 'Disabled';
      const verdict = verdicts.get(image.definitionName.toLowerCase());
      if (selected.includes(image) && verdict && !verdict.keep) {
        // Selected through a folder entry, but RetireImages would disable it here right after.
        cells.set(image.definitionName, 'left-out');
        leftOut.push({ definitionName: image.definitionName, versionName: image.versionName, labName: config.labName, detail: verdict.detail });
      } else if (selected.includes(image)) {
        cells.set(image.definitionName, state === 'Enabled' && image.completedRegions.includes(regionKey(lab.location)) ? 'in-place' : 'enable');
        const key = `${image.definitionName}/${image.versionName}`;
        if (!wantedRegions.has(key)) wantedRegions.set(key, new Set());
        wantedRegions.get(key)!.add(regionKey(lab.location));
      } else if (state === 'Enabled') {
        cells.set(image.definitionName, 'disable');
      }
    }
    // Attached only for an image to enable: a lab holds one gallery, so an idle attachment would keep out its own.
    plan.attach = !ours && [...cells.values()].includes('enable');
    return plan;
  });

  const regionAdditions: RegionAddition[] = [];
  const waits: GalleryDistributionPlan['waits'] = [];
  for (const image of images) {
    const wanted = [...(wantedRegions.get(`${image.definitionName}/${image.versionName}`) ?? [])];
    const added = wanted.filter((region) => !image.regions.includes(region));
    if (added.length) regionAdditions.push({ definitionName: image.definitionName, versionName: image.versionName, regions: [...image.regions, ...added], added });
    else if (wanted.some((region) => !image.completedRegions.includes(region))) waits.push({ definitionName: image.definitionName, versionName: image.versionName });
  }
  return { galleryName: gallery.ref.name, retention, leftOut, images, labs, regionAdditions, waits, issues };
}

/** The plan as lines of log. */
export function describeGalleryPlan(plan: GalleryDistributionPlan): string[] {
  const count = (state: CellState) => plan.labs.reduce((n, lab) => n + [...lab.cells.values()].filter((s) => s === state).length, 0);
  const lines = [
    `Plan (gallery route, gallery '${plan.galleryName}'): ${plan.images.length} image(s), ${plan.labs.length} lab(s): ` +
      `${plan.labs.filter((l) => l.attach).length} gallery attachment(s), ${count('enable')} image(s) to enable, ${count('in-place')} in place, ` +
      `${count('disable')} to disable, ${plan.regionAdditions.reduce((n, r) => n + r.added.length, 0)} region(s) to add, ${count('blocked')} blocked` +
      `${plan.leftOut.length ? `, ${plan.leftOut.length} left out because RetireImages (ImagesToSave ${plan.retention.imagesToSave}) would undo them` : ''}.`,
  ];
  for (const left of plan.leftOut) {
    lines.push(`  leave out '${left.definitionName}/${left.versionName}'${left.labName ? ` in lab '${left.labName}'` : ' everywhere'}: RetireImages would remove it right after (${left.detail})`);
  }
  for (const addition of plan.regionAdditions) lines.push(`  replicate '${addition.definitionName}/${addition.versionName}' to ${addition.added.join(', ')}`);
  for (const wait of plan.waits) lines.push(`  wait      for '${wait.definitionName}/${wait.versionName}' to finish replicating`);
  for (const lab of plan.labs) {
    const where = `lab '${lab.config.labName}'${lab.lab ? ` (${lab.lab.location})` : ''}`;
    if (lab.error) {
      lines.push(`  ${where}: [${lab.error.code}] nothing, see the error below.`);
      continue;
    }
    if (lab.attach) lines.push(`  attach    gallery '${plan.galleryName}' to ${where}`);
    for (const [definition, state] of lab.cells) lines.push(`  ${state.padEnd(9)} '${definition}' in ${where}`);
  }
  return lines;
}

export type CellResult = 'enabled' | 'in place' | 'disabled' | 'failed' | 'blocked' | 'planned' | 'cancelled' | 'left out';

const CELL_TEXT: Record<CellResult, string> = {
  enabled: '✅ enabled',
  'in place': '☑️ in place',
  disabled: '➖ disabled',
  failed: '❌ failed',
  blocked: '⛔ blocked',
  planned: '📝 to do',
  cancelled: '⏹️ cancelled',
  'left out': '⏭️ left out',
};

/** Labs by images, each cell an outcome, then the run's issues: the pipeline's summary tab. */
export function gallerySummaryMarkdown(plan: GalleryDistributionPlan, results: ReadonlyMap<string, CellResult> | undefined, issues: readonly Issue[], dryRun: boolean): string {
  const lines = [`### Images distributed from gallery ${md(plan.galleryName)}${dryRun ? ' (dry run: nothing was changed)' : ''}`, ''];
  const names = plan.images.map((i) => i.definitionName);
  if (names.length && plan.labs.length) {
    lines.push(`| Lab | ${names.map((n) => md(n)).join(' | ')} |`, `|---|${names.map(() => '---').join('|')}|`);
    for (const lab of plan.labs) {
      const cells = names.map((name) => {
        const state = lab.cells.get(name);
        if (!state) return '';
        const result = results?.get(cellKey(lab, name)) ?? (state === 'in-place' ? 'in place' : state === 'blocked' ? 'blocked' : state === 'left-out' ? 'left out' : 'planned');
        return CELL_TEXT[result];
      });
      lines.push(`| ${md(lab.config.labName)} | ${cells.join(' | ')} |`);
    }
  }
  if (plan.leftOut.length) {
    lines.push('', `**Left out** (RetireImages, ImagesToSave ${plan.retention.imagesToSave}, would remove them right after):`, '');
    for (const left of plan.leftOut) lines.push(`- ${md(`${left.definitionName}/${left.versionName}`)}${left.labName ? ` in ${md(left.labName)}` : ''}: ${md(left.detail)}`);
  }
  if (issues.length) {
    lines.push('', '**Issues**', '');
    for (const issue of issues) lines.push(`- ${issue.severity === 'error' ? '❌' : '⚠️'} ${md(`[${issue.code}] ${issue.message}`)}`);
  }
  return `${lines.join('\n')}\n`;
}

export function cellKey(lab: Pick<LabPlan, 'config'>, definitionName: string): string {
  return `${lab.config.index}/${definitionName.toLowerCase()}`;
}
