import type { CatalogTemplate } from '../../core/catalog/model';
import type { HeldImage, LabGalleryAccess, RegionReplica, SourceImage } from '../../core/catalog/route';
import { imagePathKey } from '../../core/config/imagePaths';
import { imageGeneration } from '../../core/marketplace';
import type { GoldenTemplate, LabConfig } from '../../core/config/labsConfig';

/** Small builders of catalog scenario states: templates, labs, source images and the images labs hold. */
export const NOW = new Date('2026-12-03T12:00:00.000Z');
export const SUB_A = '7d2f5b8a-3c41-4e0f-9a6b-21c8d4e7f310';
export const SUB_B = 'c1a9e4f2-6b83-4d57-8e20-94f3b7a1d6c8';

export function template(imagePath: string, osType: 'Windows' | 'Linux', sku: string, extra: Partial<GoldenTemplate> = {}): CatalogTemplate {
  return {
    template: { imagePath, file: `/config/GoldenImages/${imagePath}`, osType, galleryImageReference: { publisher: 'P', offer: 'O', sku, version: 'latest' }, ...extra },
    facts: { artifacts: [], generation: imageGeneration({ offer: 'O', sku }), securityType: 'Standard' },
  };
}

export const TEMPLATES = [
  template('WindowsServer/Server2022.json', 'Windows', '2022-datacenter', { notes: 'Server 2022' }),
  template('Linux/Ubuntu.json', 'Linux', '22_04-lts-gen2'),
];

export function lab(index: number, labName: string, imagePaths: string[], subscriptionId = SUB_A): LabConfig {
  return { index, labName, subscriptionId, imagePaths, templates: [] };
}

export function source(imagePath: string, day: string, extra: Partial<SourceImage> = {}): SourceImage {
  const base = imagePath.replace(/\.json$/, '').replace(/\//g, '_');
  return { name: `${base}-${day}`, version: day, imagePath, createdUtc: dayTime(day), sizeBytes: 1048576, osType: 'Windows', ...extra };
}

export function held(imagePath: string, day: string, extra: Partial<HeldImage> = {}): HeldImage {
  const base = imagePath.replace(/\.json$/, '').replace(/\//g, '_');
  return { name: `${base}-${day}`, version: day, imagePath, createdUtc: dayTime(day), state: 'ready', ...extra };
}

function dayTime(day: string): string {
  return new Date(`${day.slice(0, 3)} ${day.slice(4, 6)} ${day.slice(7)} 06:00:00 UTC`).toISOString();
}


/** A gallery image version at the source: `2026.1201.060000` was saved on 1 December 2026 at 06:00 UTC. */
export function galleryVersion(imagePath: string, name: string, regions: Record<string, RegionReplica['state']>, extra: Partial<SourceImage> = {}): SourceImage {
  const [year, monthDay, time] = name.split('.');
  const created = `${year}-${monthDay.padStart(4, '0').slice(0, 2)}-${monthDay.padStart(4, '0').slice(2)}T${time.padStart(6, '0').replace(/(\d\d)(\d\d)(\d\d)/, '$1:$2:$3')}.000Z`;
  return {
    name,
    version: name,
    imagePath,
    createdUtc: created,
    sizeBytes: 2 * 1024 ** 3,
    osType: 'Windows',
    generation: 'V2',
    securityType: 'TrustedLaunch',
    replication: Object.entries(regions).map(([region, state]) => ({ region, state })),
    ...extra,
  };
}

/** The version a lab's VMs can be made from: a source version as a lab on the gallery route holds it. */
export function galleryHeld(image: SourceImage, extra: Partial<HeldImage> = {}): HeldImage {
  return { name: image.name, version: image.version, imagePath: image.imagePath, createdUtc: image.createdUtc, state: 'ready', ...extra };
}

export function access(region: string, enabled: string[], extra: Partial<LabGalleryAccess> = {}): LabGalleryAccess {
  return { region, attachment: 'attached', enabled: new Set(enabled.map(imagePathKey)), ...extra };
}
