import { ASSUMED_COPY_BYTES_PER_SECOND } from '../azure/blobCopy';
import type { LabRef } from '../azure/labs';
import { regionKey } from '../azure/regions';

/**
 * Regions on the VHD route. DevTest Labs makes a custom image only from a VHD in the lab's own storage
 * account, which is in the lab's region, so every copy lands in its destination lab's region; its source
 * may be anywhere, since Azure's server-side Copy Blob works across regions. Such a copy is slower (it
 * runs on spare bandwidth over the link between the regions), so whatever is sized to a copy's duration
 * (the SAS URLs it uses) is sized from whether it crosses regions.
 */

/** Where a job's VHD is copied from: a VHD in a lab's storage account (the factory's image store). */
export interface CopySource {
  /** The lab whose storage account holds the VHD. */
  lab: LabRef;
  /** That storage account's region: its lab's location. */
  region: string;
}

/** The factory's image store as a copy source. */
export function storeSource(factory: LabRef): CopySource {
  return { lab: factory, region: factory.location };
}

/** Whether two regions, as Azure writes them, are the same place (regionKey). */
export function sameRegion(a: string, b: string): boolean {
  return regionKey(a) === regionKey(b);
}

/** Whether a copy from `source` into `lab`'s storage crosses regions; a lab of unknown region is taken to. */
export function crossesRegion(source: Pick<CopySource, 'region'>, lab: Pick<LabRef, 'location'>): boolean {
  return !lab.location || !sameRegion(source.region, lab.location);
}

/**
 * A copy across regions is assumed to go no slower than a quarter of the in-region rate. Azure publishes
 * no rate for Copy Blob (it is best effort, on spare bandwidth); between regions the link's latency and
 * bandwidth bound it, so the budget is several times the in-region one.
 */
export const ASSUMED_CROSS_REGION_COPY_BYTES_PER_SECOND = ASSUMED_COPY_BYTES_PER_SECOND / 4;

/** Added to a copy's assumed duration: the start's latency, polling, a busy storage account. */
const COPY_MARGIN_MS = 10 * 60_000;

/** How long a copy of `sizeBytes` may take, at the assumed rate for its route: what a SAS it uses must outlast. */
export function copyBudgetMs(sizeBytes: number, acrossRegions: boolean): number {
  const rate = acrossRegions ? ASSUMED_CROSS_REGION_COPY_BYTES_PER_SECOND : ASSUMED_COPY_BYTES_PER_SECOND;
  return Math.ceil((Math.max(0, sizeBytes) / rate) * 1000) + COPY_MARGIN_MS;
}
