import type { AzureContext } from '../azure/azureContext';
import { computeClient } from '../azure/compute';
import { callAzure } from '../azure/azureErrors';
import type { GalleryImageReference } from '../config/goldenImages';

/**
 * A template's base image names `latest` as its version, which would never change when the marketplace
 * publishes a newer one; so before planning, each `latest` SKU is resolved to its newest published
 * version, once per location and SKU, and that version is what the factory records and compares.
 * Compute lists versions sorted by name as text (`9.0` after `10.0`), so they are compared here.
 */

/** Resolved versions, keyed by `latestKey`; a SKU the marketplace does not list has none. */
export type LatestVersions = ReadonlyMap<string, string>;

export function isLatest(reference: GalleryImageReference): boolean {
  return reference.version.toLowerCase() === 'latest';
}

export function latestKey(reference: Omit<GalleryImageReference, 'version'>): string {
  return `${reference.publisher}/${reference.offer}/${reference.sku}`.toLowerCase();
}

export async function resolveLatestVersions(
  azure: AzureContext,
  options: { subscriptionId: string; location: string; references: readonly GalleryImageReference[]; signal?: AbortSignal },
): Promise<LatestVersions> {
  const distinct = new Map<string, GalleryImageReference>();
  for (const reference of options.references) if (isLatest(reference)) distinct.set(latestKey(reference), reference);
  const found = new Map<string, string>();
  await Promise.all(
    [...distinct].map(async ([key, r]) => {
      const listed = await callAzure(
        `Listing the versions of marketplace image ${r.publisher}/${r.offer}/${r.sku} in ${options.location}`,
        () =>
          computeClient(azure, options.subscriptionId)
            .virtualMachineImages.list(options.location, r.publisher, r.offer, r.sku, { abortSignal: options.signal })
            .catch((error: { statusCode?: number }) => {
              // An unknown SKU: left `latest`, and its deployment reports what Azure says of it.
              if (error.statusCode === 404) return [];
              throw error;
            }),
        { subject: `${r.publisher}/${r.offer}/${r.sku}` },
      );
      const newest = newestVersion(listed.map((v) => v.name));
      if (newest) found.set(key, newest);
    }),
  );
  return found;
}

/** The highest of marketplace versions (`major.minor.build`), compared part by part as numbers. */
export function newestVersion(versions: readonly string[]): string | undefined {
  return [...versions].sort(compareVersions).at(-1);
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
