// The model behind the DistributeImages benchmark: what the local Azure is set to, what those settings stand
// for in Azure, and lower bounds on a distribution's makespan under Azure's limits.
//
// Sizes are Azure's; time is compressed by TIME_FACTOR: every rate is Azure's divided by it, so a copy takes
// TIME_FACTOR times as long as in Azure. The custom image is Azure's shortest step (its long-running operation
// names a 1 s Retry-After), so it stands for TIME_FACTOR⁻¹ seconds of Azure. Resource Manager's token buckets
// are Azure's, not scaled: against compressed time they are that much stricter than in Azure.

/** Azure, as the model assumes it. */
export const AZURE = {
  /** A Windows OS disk as a fixed VHD. */
  vhdGiB: 128,
  /** A page blob serves about 60 MiB/s in total to everything reading it; a copy on its own gets all of it. */
  blobMiBps: 60,
  /**
   * A copy between regions: a quarter of the in-region rate, as the local Azure's default and the product's own
   * assumption (Azure publishes no rate: Copy Blob runs best effort, on spare bandwidth).
   */
  crossRegionMiBps: 15,
};

/** A copy takes this many seconds in the model per second in Azure. */
export const TIME_FACTOR = 3 / ((AZURE.vhdGiB * 1024) / AZURE.blobMiBps); // a 128 GiB copy: 36.4 min in Azure, 3 s here

export const MODEL = {
  copyRateMBps: AZURE.blobMiBps / TIME_FACTOR,
  sourceBlobMBps: AZURE.blobMiBps / TIME_FACTOR,
  crossRegionCopyRateMBps: AZURE.crossRegionMiBps / TIME_FACTOR,
  /** The custom image is made just before the first poll its Retry-After allows. */
  customImageDurationMs: 900,
  lroRetryAfterSeconds: 1,
  lroDurationMs: 200,
};

const MiB = 1024 * 1024;
/** Seconds of a copy of `bytes` at `mbps` (MiB/s, as the local Azure's settings are). */
export const copyMs = (bytes, mbps) => (1000 * bytes) / (mbps * MiB);
/** A custom image is seen made no sooner than the first poll Azure allows. */
export const imageMs = (settings) => Math.max(settings.customImageDurationMs, 1000 * settings.lroRetryAfterSeconds);
/** What a time in the model stands for in Azure, in minutes. */
export const azureMinutes = (ms) => ms / TIME_FACTOR / 60_000;

/**
 * Rounds of copies until `labs` labs hold an image that starts in one blob, when every blob holding it serves
 * `perBlob` copies at the full per-copy rate and at most `c` copies run at once: the blobs holding it at most
 * double (perBlob 1) each round, and grow by c at most once c is reached.
 */
export function treeRounds(labs, c, perBlob = 1) {
  let holding = 1;
  let rounds = 0;
  while (holding < labs + 1) {
    holding += Math.min(holding * perBlob, c);
    rounds++;
  }
  return rounds;
}

/**
 * The makespan of one image's tree alone, copied to `labs` labs with `c` slots: every copy starts as soon as
 * a slot and a free source allow, each source serving `perBlob` copies at a time, each finished copy a new
 * source, a copy taking `dc` and then its custom image `di` with the slot still held (maxConcurrentJobs counts
 * jobs). Starting every copy as early as possible holds at least as many finished copies at every moment as
 * any other schedule of the same jobs (by induction over the moments a copy ends), so no schedule of the
 * image ends sooner; with other images sharing the slots, none ends sooner either. With `sources` > 1 it is
 * the images' trees pooled (any copy may read any image's blob): a relaxation, so no real schedule of those
 * images beats it either.
 */
export function treeMakespanMs(labs, c, dc, di, perBlob = 1, sources = 1) {
  let t = 0;
  let freeReaders = perBlob * sources;
  let freeSlots = c;
  let remaining = labs;
  let last = 0;
  const events = [];
  while (remaining > 0) {
    const n = Math.min(freeReaders, freeSlots, remaining);
    for (let i = 0; i < n; i++) events.push({ at: t + dc, copy: true }, { at: t + dc + di, copy: false });
    if (n > 0) last = t + dc + di;
    freeReaders -= n;
    freeSlots -= n;
    remaining -= n;
    if (remaining === 0 || events.length === 0) break;
    events.sort((a, b) => a.at - b.at);
    t = events[0].at;
    while (events.length && events[0].at === t) {
      const event = events.shift();
      if (event.copy) freeReaders += 1 + perBlob;
      else freeSlots++;
    }
  }
  return last;
}

/**
 * Lower bounds on the makespan (ms) of a distribution, each a limit no schedule gets past:
 *   work        every slot runs its share: max(ceil(K/c) x (D_copy + D_image), sum of job times / c), a copy into
 *               a lab of another region counted at the cross-region rate; with tree fan-out only one copy per
 *               (image, other region) must cross (the rest copy from a lab there), flat copies all from the store;
 *               tree, also every image's jobs as one pooled tree (treeMakespanMs from all the images' blobs);
 *   image       per image: tree, its tree alone with all c slots (treeMakespanMs, every copy at the in-region
 *               rate) and, when it has labs in other regions, one cross-region copy then a custom image; flat,
 *               its store blob serves L x S bytes at B (L·S/B), plus the last custom image;
 *   tokens      Resource Manager's buckets: a subscription's accepted requests of a kind, past the bucket's size,
 *               come no faster than its refill; requests spread over S subscriptions, so at least
 *               (N/S - size) / refill for the kind's N requests (the busiest subscription has at least N/S).
 *   spec: { images: [{ bytes, labsByRegion: { region: n } }], factoryRegion, c, fanOut: 'tree' | 'flat',
 *           settings (the local Azure's), requests?: { reads, writes, deletes }, subscriptions?, buckets? }
 * Returns { boundMs, parts: { work, image, tokens }, dominant }.
 */
export function lowerBound(spec) {
  const { settings, c } = spec;
  const cross = settings.crossRegionCopyRateMBps ?? settings.copyRateMBps;
  const perBlob = (settings.sourceBlobMBps ?? settings.copyRateMBps) / settings.copyRateMBps;
  const di = imageMs(settings);
  let jobs = 0;
  let workMs = 0;
  let shortestJobMs = Infinity;
  let shortestCopyMs = Infinity;
  let imageBound = 0;
  for (const image of spec.images) {
    const dc = copyMs(image.bytes, settings.copyRateMBps);
    const dx = copyMs(image.bytes, Math.min(cross, settings.copyRateMBps));
    const regions = Object.entries(image.labsByRegion).filter(([, n]) => n > 0);
    const labs = regions.reduce((sum, [, n]) => sum + n, 0);
    const remote = regions.filter(([region]) => region !== spec.factoryRegion);
    const remoteLabs = remote.reduce((sum, [, n]) => sum + n, 0);
    const crossing = spec.fanOut === 'tree' ? remote.length : remoteLabs;
    jobs += labs;
    workMs += labs * (dc + di) + crossing * (dx - dc);
    shortestJobMs = Math.min(shortestJobMs, dc + di);
    shortestCopyMs = Math.min(shortestCopyMs, dc);
    const imageMsBound =
      spec.fanOut === 'tree'
        ? Math.max(treeMakespanMs(labs, c, dc, di, perBlob), remote.length ? dx + di : 0)
        : Math.max(copyMs(labs * image.bytes, settings.sourceBlobMBps ?? settings.copyRateMBps), remote.length ? dx : 0) + di;
    imageBound = Math.max(imageBound, imageMsBound);
  }
  let work = jobs ? Math.max(Math.ceil(jobs / c) * shortestJobMs, workMs / c) : 0;
  // Tree: every image's copies pooled into one tree from all the store's blobs, each copy at its fastest.
  if (spec.fanOut === 'tree' && jobs) work = Math.max(work, treeMakespanMs(jobs, c, shortestCopyMs, di, perBlob, spec.images.length));
  let tokens = 0;
  if (spec.requests && settings.armThrottling !== false) {
    const subs = spec.subscriptions ?? 1;
    const buckets = spec.buckets;
    for (const kind of ['reads', 'writes', 'deletes']) {
      const { size, refillPerSecond } = buckets[kind];
      tokens = Math.max(tokens, (1000 * (spec.requests[kind] / subs - size)) / refillPerSecond);
    }
  }
  const parts = { work, image: imageBound, tokens };
  const dominant = Object.entries(parts).reduce((a, b) => (b[1] > a[1] ? b : a))[0];
  return { boundMs: Math.max(work, imageBound, tokens), parts, dominant };
}

/** Resource Manager's token buckets as the local Azure's settings give them. */
export function bucketsOf(settings) {
  return {
    reads: { size: settings.armReadBucket, refillPerSecond: settings.armReadRefillPerSecond },
    writes: { size: settings.armWriteBucket, refillPerSecond: settings.armWriteRefillPerSecond },
    deletes: { size: settings.armDeleteBucket, refillPerSecond: settings.armDeleteRefillPerSecond },
  };
}

/** Region -> labs among `labs` of the workload's scenario (the factory not counted). */
export function labsByRegion(scenarioLabs, factoryName) {
  const counts = {};
  for (const lab of scenarioLabs) if (lab.name !== factoryName) counts[lab.location] = (counts[lab.location] ?? 0) + 1;
  return counts;
}
