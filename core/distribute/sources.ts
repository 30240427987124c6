import { sameRegion } from './regions';

/**
 * Where a copy of an image reads from. A page blob serves about 60 MiB/s in total to every copy reading
 * it, about what one server-side copy runs at, so copies that share a blob slow each other down: 40 labs
 * copied from one store blob take 40 times one copy. A lab whose copy has finished holds the same VHD, so
 * it can serve the next lab: with one reader per source the number of sources doubles with every round of
 * copies (a tree), and N labs take about log2(N + 1) copies' time instead of N.
 * https://learn.microsoft.com/azure/storage/blobs/scalability-targets-premium-page-blobs
 */

/** `tree`: copies also read finished copies in other labs; `flat`: every copy reads the factory's store. */
export type FanOut = 'tree' | 'flat';
export const FAN_OUT_MODES: readonly FanOut[] = ['tree', 'flat'];

/** Copies reading one source at once in a tree: one keeps each at its own rate. */
export const READERS_PER_SOURCE = 1;

export interface SourceCandidate {
  /** `store`, or the lab id (lower case) whose staging blob it is. */
  key: string;
  /** The factory's image store, always there; else a lab's finished copy. */
  store: boolean;
  /** The region of the blob's storage account. */
  location: string;
  /** Copies reading it now. */
  readers: number;
}

export interface SourceChoice {
  /** Copies one source serves at once. */
  readersPerSource?: number;
  /**
   * Whether a source in another region may serve now. Not while the destination's region holds the image
   * or a copy of it is on its way there: a copy across regions is several times slower than one within,
   * so one copy per image crosses into a region and the region's other labs copy from it.
   */
  mayCross?: boolean;
}

/**
 * The source a copy into a lab in `destinationLocation` should read now, or undefined when none may:
 * every source already has `readersPerSource` readers, or only sources elsewhere are free and the copy
 * may not cross. Waiting for one to free up (or for a new finished copy) then copies no later than sharing
 * a busy blob would, and does not slow the copies under way. Among free sources: one in the destination's
 * region first (no cross-region traffic), then the fewest readers, then a lab's copy before the store
 * (the store serves every image's first copies), then by key, so the choice is the same for the same facts.
 */
export function chooseSource(candidates: readonly SourceCandidate[], destinationLocation: string, choice: SourceChoice = {}): SourceCandidate | undefined {
  const readersPerSource = choice.readersPerSource ?? READERS_PER_SOURCE;
  const free = candidates.filter((c) => c.readers < readersPerSource && (choice.mayCross !== false || sameRegion(c.location, destinationLocation)));
  const rank = (c: SourceCandidate) => [sameRegion(c.location, destinationLocation) ? 0 : 1, c.readers, c.store ? 1 : 0] as const;
  return [...free].sort((a, b) => {
    const [ra, rb] = [rank(a), rank(b)];
    for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i] - rb[i];
    return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
  })[0];
}
