import type { LabRef, LabStorage } from '../azure/labs';
import type { DistributionJob } from './plan';
import { regionKey } from '../azure/regions';
import { sameRegion } from './regions';
import { type FanOut, READERS_PER_SOURCE, type SourceCandidate, chooseSource } from './sources';

/**
 * The run's copy sources, image by image: the factory's store blob and, in a tree, every lab's staging
 * blob whose copy finished and was verified (a published source). A copy takes a reader's place on the
 * source sources.ts picks; while every source is busy it waits (dispatch.ts starts another job meanwhile).
 * A copy into a region its image is on its way to (another job copies it there) waits for that copy
 * rather than cross regions too. A published source serves until its holder's job is done, and on after
 * that while it is useful: copies of its image into its region are still to start and the region has
 * fewer idle sources than its share of the run's slots. Then no copy starts on it, and the holder
 * deletes the blob once the copies reading it have ended. The run waits for those deletions (drain), so
 * every staging blob is gone when it ends.
 */
export interface LabCopySource {
  /** The lab id, lower case. */
  readonly key: string;
  readonly lab: LabRef;
  /** The image the blob holds. */
  readonly imageName: string;
  readonly storage: LabStorage;
  readonly blobName: string;
  /** The verified blob's ETag: a copy reads this very blob (x-ms-source-if-match) or fails. */
  readonly etag: string;
  readers: number;
  open: boolean;
}

export interface SourceLease {
  /** The lab copy to read; undefined for the store. */
  readonly source?: LabCopySource;
  release(): void;
}

export interface SourceBoardOptions {
  /** Copies one source serves at once. */
  readersPerSource?: number;
  /** maxConcurrentJobs: no more copies than this start at once, so no more idle sources are useful. */
  slots?: number;
}

export class SourceBoard {
  private readonly storeReaders = new Map<string, number>();
  private readonly labSources = new Map<string, Map<string, LabCopySource>>();
  private readonly listeners = new Set<() => void>();
  private readonly pending = new Set<Promise<void>>();
  private readonly said = new Set<string>();
  /** Per image and region (groupKey): the jobs whose copy has not started, which a source may still serve. */
  private readonly unstarted = new Map<string, Set<string>>();
  private unstartedTotal = 0;
  /** Per image and region: the jobs whose copy into that region is under way. */
  private readonly coming = new Map<string, Set<string>>();
  /** Per image and region: jobs in a slot waiting for a source (acquire), and those started to wait for one (mayPrepare). */
  private readonly acquiring = new Map<string, number>();
  private readonly preparing = new Map<string, Set<string>>();
  /** Counts every change; a look that found nothing to start needs no repeat until it moves. */
  private version = 0;
  private closing = false;
  private readonly readersPerSource: number;
  private readonly slots: number;
  /** Copies finished, by what they read. */
  readonly finished = { fromStore: 0, fromLabs: 0 };

  constructor(
    readonly mode: FanOut,
    /** The factory lab's region, where the store is. */
    private readonly storeLocation: string,
    options: SourceBoardOptions = {},
  ) {
    this.readersPerSource = options.readersPerSource ?? READERS_PER_SOURCE;
    this.slots = options.slots ?? 1;
  }

  /** The run's jobs that will copy, so that a source knows whether any copy may still read it. */
  expect(jobs: readonly DistributionJob[]): void {
    for (const job of jobs) {
      const group = setOf(this.unstarted, groupKey(job.image.imageName, job.lab.location));
      if (group.has(jobKey(job))) continue;
      group.add(jobKey(job));
      this.unstartedTotal++;
    }
  }

  /** `job` needs no source any more (its copy is done, or it ended). */
  copied(job: DistributionJob): void {
    if (this.started(job)) this.changed();
  }

  /**
   * Whether `source` may still be read once its own job is done: copies read it, or it is still useful
   * (see the class). If not, it is retired at once, and its blob goes with its job.
   */
  mayOutlive(source: LabCopySource): boolean {
    if (source.readers > 0 || this.useful(source)) return true;
    source.open = false;
    return false;
  }

  /** A reader's place on the best source for `job`'s copy, waiting while all are busy; `excluded` lab sources failed it. */
  async acquire(job: DistributionJob, signal: AbortSignal, excluded: ReadonlySet<string> = new Set(), storeOnly = false): Promise<SourceLease> {
    const group = groupKey(job.image.imageName, job.lab.location);
    for (;;) {
      signal.throwIfAborted();
      const lease = this.tryAcquire(job, excluded, storeOnly);
      if (lease) return lease;
      // A job already in a slot goes before one the dispatcher would start for the same source (reserve).
      this.acquiring.set(group, (this.acquiring.get(group) ?? 0) + 1);
      try {
        await this.nextChange(signal);
      } finally {
        this.acquiring.set(group, this.acquiring.get(group)! - 1);
      }
    }
  }

  /** A reader's place for `job`'s copy if one is free now and no job in a slot waits for it (dispatch.ts), else undefined. */
  reserve(job: DistributionJob): SourceLease | undefined {
    if ((this.acquiring.get(groupKey(job.image.imageName, job.lab.location)) ?? 0) > 0) return undefined;
    return this.tryAcquire(job, new Set(), false);
  }

  /**
   * Whether `job` may start before a source is free for it, when a slot would otherwise stand idle: while
   * copies of its image into its region are under way, each of which soon frees its source and becomes
   * one, a job that starts now has claimed its blob and asked for its URLs by then, off the tree's
   * critical path. No more such jobs than those copies will free places for.
   */
  mayPrepare(job: DistributionJob): boolean {
    if (this.mode !== 'tree') return false;
    const group = groupKey(job.image.imageName, job.lab.location);
    const promised = 2 * (this.coming.get(group)?.size ?? 0);
    const preparing = setOf(this.preparing, group);
    if (preparing.size >= promised) return false;
    preparing.add(jobKey(job));
    return true;
  }

  /** `job`'s copy has landed or will not: its region no longer waits for it. */
  arrived(job: DistributionJob): void {
    const group = groupKey(job.image.imageName, job.lab.location);
    this.preparing.get(group)?.delete(jobKey(job));
    if (this.coming.get(group)?.delete(jobKey(job))) this.changed();
  }

  /** The count of changes so far; `changedSince` waits for the next one after it. */
  get changes(): number {
    return this.version;
  }

  async changedSince(version: number, signal: AbortSignal): Promise<void> {
    while (this.version === version) await this.nextChange(signal);
  }

  /** Offers a lab's verified copy to the other copies of its image. */
  publish(job: DistributionJob, source: Omit<LabCopySource, 'key' | 'lab' | 'imageName' | 'readers' | 'open'>): LabCopySource {
    const published: LabCopySource = { ...source, key: job.lab.id.toLowerCase(), lab: job.lab, imageName: job.image.imageName, readers: 0, open: true };
    const image = imageKey(job.image.imageName);
    if (!this.labSources.has(image)) this.labSources.set(image, new Map());
    this.labSources.get(image)!.set(published.key, published);
    this.changed();
    return published;
  }

  /**
   * `source`'s own job is done. With `keepWhileUseful` (its custom image says its blob may outlive the
   * job: stagingTag.ts) it serves on while useful; then no copy starts on it. Resolves once the copies
   * reading it have ended.
   */
  async retire(source: LabCopySource, keepWhileUseful = false): Promise<void> {
    while (keepWhileUseful && source.open && !this.closing && this.useful(source)) await this.nextChange();
    source.open = false;
    this.changed();
    while (source.readers > 0) await this.nextChange();
  }

  /** No job starts any more (the run's jobs have ended, or it was cancelled): every source retires. */
  close(): void {
    this.closing = true;
    this.changed();
  }

  /** Work the run must finish before it ends (a retired source's deletion), which no job waits for. */
  defer(work: Promise<void>): void {
    const tracked = work.catch(() => undefined).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  /** Waits for every deferred piece of work, including any deferred meanwhile. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** True the first time it is asked about `key` in this run: for what is said once per run. */
  firstTime(key: string): boolean {
    if (this.said.has(key)) return false;
    this.said.add(key);
    return true;
  }

  private tryAcquire(job: DistributionJob, excluded: ReadonlySet<string>, storeOnly: boolean): SourceLease | undefined {
    const image = imageKey(job.image.imageName);
    const own = job.lab.id.toLowerCase();
    const labs = this.mode === 'tree' ? [...(this.labSources.get(image)?.values() ?? [])].filter((s) => s.open && s.key !== own && !excluded.has(s.key)) : [];
    const storeReaders = this.storeReaders.get(image) ?? 0;
    const candidates: SourceCandidate[] = [
      { key: 'store', store: true, location: this.storeLocation, readers: storeReaders },
      ...labs.map((s) => ({ key: s.key, store: false, location: s.lab.location, readers: s.readers })),
    ];
    // Flat: everything reads the store, however many at once, as before fan-out.
    const chosen =
      this.mode === 'flat' || storeOnly
        ? candidates[0]
        : chooseSource(candidates, job.lab.location, { readersPerSource: this.readersPerSource, mayCross: !this.onItsWay(job, labs) });
    if (!chosen) return undefined;
    if (this.mode === 'tree') this.onTheWay(job);
    if (chosen.store) {
      this.storeReaders.set(image, storeReaders + 1);
      return {
        release: once(() => {
          this.storeReaders.set(image, (this.storeReaders.get(image) ?? 1) - 1);
          this.changed();
        }),
      };
    }
    const source = labs.find((s) => s.key === chosen.key)!;
    source.readers++;
    return {
      source,
      release: once(() => {
        source.readers--;
        this.changed();
      }),
    };
  }

  /**
   * Whether a published source is worth keeping: copies of its image into its region are still to start,
   * and the region's other idle sources of it are fewer than the region's share of the run's slots (by
   * the copies it still has to start). More would never all be read at once.
   */
  private useful(source: LabCopySource): boolean {
    const image = imageKey(source.imageName);
    const waiting = this.unstarted.get(groupKey(image, source.lab.location))?.size ?? 0;
    if (waiting === 0) return false;
    const share = Math.max(1, Math.ceil((this.slots * waiting) / Math.max(1, this.unstartedTotal)));
    let idle = sameRegion(this.storeLocation, source.lab.location) && (this.storeReaders.get(image) ?? 0) === 0 ? 1 : 0;
    for (const other of this.labSources.get(image)?.values() ?? []) {
      if (other !== source && other.open && other.readers === 0 && sameRegion(other.lab.location, source.lab.location)) idle++;
    }
    return idle < Math.min(share, waiting);
  }

  /** Whether `job`'s region holds its image (a published copy there, or the store) or another job's copy is under way there. */
  private onItsWay(job: DistributionJob, labs: readonly LabCopySource[]): boolean {
    const region = job.lab.location;
    if (sameRegion(this.storeLocation, region) || labs.some((s) => sameRegion(s.lab.location, region))) return true;
    const others = this.coming.get(groupKey(job.image.imageName, region));
    return !!others && others.size > (others.has(jobKey(job)) ? 1 : 0);
  }

  /** `job`'s copy is starting: its region's other copies wait for it, and it no longer counts as one to start. */
  private onTheWay(job: DistributionJob): void {
    const group = groupKey(job.image.imageName, job.lab.location);
    setOf(this.coming, group).add(jobKey(job));
    this.preparing.get(group)?.delete(jobKey(job));
    this.started(job);
  }

  /** Takes `job` off its group's copies to start; true if it was on it. */
  private started(job: DistributionJob): boolean {
    const removed = this.unstarted.get(groupKey(job.image.imageName, job.lab.location))?.delete(jobKey(job)) ?? false;
    if (removed) this.unstartedTotal--;
    return removed;
  }

  private changed(): void {
    this.version++;
    for (const listener of [...this.listeners]) listener();
  }

  private nextChange(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        this.listeners.delete(done);
        signal?.removeEventListener('abort', aborted);
        resolve();
      };
      const aborted = () => {
        this.listeners.delete(done);
        reject(signal!.reason ?? new Error('aborted'));
      };
      this.listeners.add(done);
      signal?.addEventListener('abort', aborted, { once: true });
    });
  }
}

function imageKey(imageName: string): string {
  return imageName.toLowerCase();
}

/** An image and a region, as jobs of one group (dispatch.ts) share it. */
export function groupKey(imageName: string, location: string): string {
  return `${imageName.toLowerCase()}|${regionKey(location)}`;
}

/** The set kept under `key`, made empty the first time. */
function setOf(map: Map<string, Set<string>>, key: string): Set<string> {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  return set;
}

function jobKey(job: DistributionJob): string {
  return job.key.toLowerCase();
}

function once(f: () => unknown): () => void {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    f();
  };
}
