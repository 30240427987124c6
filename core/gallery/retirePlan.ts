import { labSelects } from '../config/imagePaths';
import { markdownCell as md } from '../format';
import type { LabObservation } from './distributePlan';
import type { ObservedGallery } from './gallery';
import { compareVersions, regionKey } from './naming';

/**
 * RetireImages on the gallery route, decided from the gallery, labs.json and each lab alone: per image
 * definition the `ImagesToSave` newest finished versions made by the factory stay and older ones go
 * (never the last, never a version the factory did not make, never one still being made); a kept
 * version's replicas in regions no lab selecting it is in go (only when every lab could be read); and
 * each lab's factory images it no longer selects are disabled.
 */

export interface GalleryRetirePlan {
  deletions: { definitionName: string; versionName: string }[];
  regionRemovals: { definitionName: string; versionName: string; regions: string[]; removed: string[] }[];
  disables: { lab: LabObservation; definitionName: string }[];
  /** Regions are left alone when a lab could not be read: its region might still be needed. */
  regionsKept: boolean;
}

export function planGalleryRetire(input: {
  gallery: ObservedGallery;
  factoryLabId: string;
  imagesToSave: number;
  labs: readonly LabObservation[];
  galleryLocation: string;
}): GalleryRetirePlan {
  const { gallery, factoryLabId } = input;
  const plan: GalleryRetirePlan = { deletions: [], regionRemovals: [], disables: [], regionsKept: input.labs.some((l) => l.error) };
  const ours = (definition: ObservedGallery['definitions'][number]) =>
    definition.versions.filter((v) => v.factoryLabId === factoryLabId.toLowerCase() && v.imagePath).sort((a, b) => compareVersions(b.name, a.name));
  for (const definition of gallery.definitions) {
    // Updating: a finished version another run is adding a region to (its regions change on top of it).
    const finished = ours(definition).filter((v) => v.provisioningState === 'Succeeded' || v.provisioningState === 'Updating');
    const kept = finished.slice(0, Math.max(1, input.imagesToSave));
    for (const version of finished.slice(kept.length)) plan.deletions.push({ definitionName: definition.name, versionName: version.name });
    if (plan.regionsKept) continue;
    for (const version of kept) {
      const wanted = new Set([regionKey(input.galleryLocation)]);
      for (const lab of input.labs) if (lab.lab && labSelects(lab.config.imagePaths, version.imagePath!)) wanted.add(regionKey(lab.lab.location));
      const removed = version.regions.filter((r) => !wanted.has(r));
      if (removed.length) plan.regionRemovals.push({ definitionName: definition.name, versionName: version.name, regions: version.regions.filter((r) => wanted.has(r)), removed });
    }
  }
  const factoryDefinitions = gallery.definitions.filter((d) => ours(d).length > 0);
  for (const lab of input.labs) {
    if (!lab.lab || !lab.attached.some((a) => a.galleryId.toLowerCase() === (gallery.id ?? '').toLowerCase())) continue;
    for (const definition of factoryDefinitions) {
      const state = lab.images.find((i) => i.definitionName.toLowerCase() === definition.name.toLowerCase())?.enableState;
      const imagePath = ours(definition)[0].imagePath!;
      if (state === 'Enabled' && !labSelects(lab.config.imagePaths, imagePath)) plan.disables.push({ lab, definitionName: definition.name });
    }
  }
  return plan;
}

export function describeGalleryRetirePlan(plan: GalleryRetirePlan, galleryName: string): string[] {
  const lines = [
    `Plan (gallery route, gallery '${galleryName}'): delete ${plan.deletions.length} version(s), drop ${plan.regionRemovals.reduce((n, r) => n + r.removed.length, 0)} region(s), disable ${plan.disables.length} image(s) in labs.`,
  ];
  for (const d of plan.deletions) lines.push(`  delete  version '${d.definitionName}/${d.versionName}' (older than the ones kept)`);
  for (const r of plan.regionRemovals) lines.push(`  drop    ${r.removed.join(', ')} from '${r.definitionName}/${r.versionName}': no lab that selects it is there`);
  for (const d of plan.disables) lines.push(`  disable '${d.definitionName}' in lab '${d.lab.config.labName}': the lab no longer selects it`);
  if (plan.regionsKept) lines.push('  keep    every region: a lab could not be read, so its region might still be needed');
  return lines;
}

export function galleryRetireSummary(plan: GalleryRetirePlan, galleryName: string, failed: ReadonlySet<string>, dryRun: boolean): string {
  const mark = (key: string) => (dryRun ? '📝 to do' : failed.has(key) ? '❌ failed' : '✅ done');
  const lines = [`### Images retired from gallery ${md(galleryName)}${dryRun ? ' (dry run: nothing was changed)' : ''}`, ''];
  if (!plan.deletions.length && !plan.regionRemovals.length && !plan.disables.length) lines.push('Nothing to retire.');
  else {
    lines.push('| Change | Image | Outcome |', '|---|---|---|');
    for (const d of plan.deletions) lines.push(`| delete version | ${md(`${d.definitionName}/${d.versionName}`)} | ${mark(`delete:${d.definitionName}/${d.versionName}`)} |`);
    for (const r of plan.regionRemovals) lines.push(`| drop ${md(r.removed.join(', '))} | ${md(`${r.definitionName}/${r.versionName}`)} | ${mark(`regions:${r.definitionName}/${r.versionName}`)} |`);
    for (const d of plan.disables) lines.push(`| disable in ${md(d.lab.config.labName)} | ${md(d.definitionName)} | ${mark(`disable:${d.lab.config.index}/${d.definitionName}`)} |`);
  }
  return `${lines.join('\n')}\n`;
}
