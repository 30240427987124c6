import { markdownCell as md } from '../format';
import type { LabObservation } from './distributePlan';
import type { ObservedGallery } from './gallery';
import { regionKey } from '../azure/regions';
import { compareVersions } from './naming';
import { decideForLab, decideGalleryVersions, factoryVersions, type GalleryRetentionSettings, rankedVersion } from './retention';

/**
 * RetireImages on the gallery route, decided from the gallery, labs.json and each lab alone, by the
 * retention rule (retention.ts): the versions the rule does not keep go (older than the `ImagesToSave`
 * newest of their ImagePath, or of a template no longer in GoldenImages; never a version the factory did
 * not make, never one still being made); a kept version's replicas in regions no lab keeping it is in go
 * (only when every lab could be read); and each lab's factory images the rule no longer keeps there are
 * disabled.
 */

export interface GalleryRetirePlan {
  /** `detail`: why, in the rule's words. */
  deletions: { definitionName: string; versionName: string; detail: string }[];
  regionRemovals: { definitionName: string; versionName: string; regions: string[]; removed: string[] }[];
  disables: { lab: LabObservation; definitionName: string; detail: string }[];
  /** Regions are left alone when a lab could not be read: its region might still be needed. */
  regionsKept: boolean;
}

export function planGalleryRetire(input: {
  gallery: ObservedGallery;
  factoryLabId: string;
  retention: GalleryRetentionSettings;
  labs: readonly LabObservation[];
  galleryLocation: string;
}): GalleryRetirePlan {
  const { gallery, factoryLabId, retention } = input;
  const plan: GalleryRetirePlan = { deletions: [], regionRemovals: [], disables: [], regionsKept: input.labs.some((l) => l.error) };
  const decisions = decideGalleryVersions(gallery.definitions, factoryLabId, input.labs.map((l) => l.config), retention);
  for (const decision of decisions) {
    if (!decision.keep) plan.deletions.push({ definitionName: decision.image.definitionName, versionName: decision.image.versionName, detail: decision.detail });
  }
  const readLabs = input.labs.filter((lab) => lab.lab);
  if (!plan.regionsKept) {
    for (const { image: version, keep } of decisions) {
      if (!keep) continue;
      const wanted = new Set([regionKey(input.galleryLocation)]);
      for (const lab of readLabs) if (decideForLab(lab.config, [version], retention).get(version.definitionName.toLowerCase())?.keep) wanted.add(regionKey(lab.lab!.location));
      const regions = gallery.definitions.find((d) => d.name === version.definitionName)!.versions.find((v) => v.name === version.versionName)!.regions;
      const removed = regions.filter((r) => !wanted.has(r));
      if (removed.length) plan.regionRemovals.push({ definitionName: version.definitionName, versionName: version.versionName, regions: regions.filter((r) => wanted.has(r)), removed });
    }
  }
  // Each definition the factory made, by the version a lab serves (its newest): what a lab may keep enabled.
  const served = gallery.definitions.flatMap((definition) => {
    const newest = factoryVersions(definition, factoryLabId).sort((a, b) => compareVersions(b.name, a.name))[0];
    return newest ? [rankedVersion(definition.name, newest)] : [];
  });
  for (const lab of readLabs) {
    if (!lab.attached.some((a) => a.galleryId.toLowerCase() === (gallery.id ?? '').toLowerCase())) continue;
    const verdicts = decideForLab(lab.config, served, retention);
    for (const version of served) {
      const state = lab.images.find((i) => i.definitionName.toLowerCase() === version.definitionName.toLowerCase())?.enableState;
      const verdict = verdicts.get(version.definitionName.toLowerCase());
      if (state === 'Enabled' && verdict && !verdict.keep) plan.disables.push({ lab, definitionName: version.definitionName, detail: verdict.detail });
    }
  }
  return plan;
}

export function describeGalleryRetirePlan(plan: GalleryRetirePlan, galleryName: string): string[] {
  const lines = [
    `Plan (gallery route, gallery '${galleryName}'): delete ${plan.deletions.length} version(s), drop ${plan.regionRemovals.reduce((n, r) => n + r.removed.length, 0)} region(s), disable ${plan.disables.length} image(s) in labs.`,
  ];
  for (const d of plan.deletions) lines.push(`  delete  version '${d.definitionName}/${d.versionName}': ${d.detail}`);
  for (const r of plan.regionRemovals) lines.push(`  drop    ${r.removed.join(', ')} from '${r.definitionName}/${r.versionName}': no lab that selects it is there`);
  for (const d of plan.disables) lines.push(`  disable '${d.definitionName}' in lab '${d.lab.config.labName}': ${d.detail}`);
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
