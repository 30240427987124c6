import type { LabRef, LabStorage } from '../azure/labs';
import type { DistributionJob } from './plan';
import { type FanOut, READERS_PER_SOURCE, type SourceCandidate, chooseSource } from './sources';

/**
 * The run's copy sources, image by image: the factory's store blob and, in a tree, every lab's staging
 * blob whose copy finished and was verified (a published source). A copy takes a reader's place on the
 * source sources.ts picks, and waits while every source is busy. A published source stays until its
 * holder retires it (its own custom image is done, made or failed): from then on no copy starts on it,
 * and the holder deletes the blob once the copies reading it have ended. The run waits for those
 * deletions (drain), so every staging blob is gone when it ends.
 */
export interface LabCopySource {
  /** The lab id, lower case. */
  readonly key: string;
  readonly lab: LabRef;
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

export class SourceBoard {
  private readonly storeReaders = new Map<string, number>();
  private readonly labSources = new Map<string, Map<string, LabCopySource>>();
  private readonly listeners = new Set<() => void>();
  private readonly pending = new Set<Promise<void>>();
  private readonly said = new Set<string>();
  /** Per image: copies not yet done, which a published copy may still serve. */
  private readonly toCopy = new Map<string, number>();
  private readonly done = new Set<string>();
  /** Copies finished, by what they read. */
  readonly finished = { fromStore: 0, fromLabs: 0 };

  constructor(
    readonly mode: FanOut,
    /** The factory lab's region, where the store is. */
    private readonly storeLocation: string,
    private readonly readersPerSource = READERS_PER_SOURCE,
  ) {}

  /** The run's jobs that will copy, so that a copy knows whether any other may still read it. */
  expect(jobs: readonly DistributionJob[]): void {
    for (const job of jobs) this.toCopy.set(imageKey(job), (this.toCopy.get(imageKey(job)) ?? 0) + 1);
  }

  /** `job` needs no source any more (its copy is done, or it ended). */
  copied(job: DistributionJob): void {
    if (this.done.has(job.key)) return;
    this.done.add(job.key);
    this.toCopy.set(imageKey(job), Math.max(0, (this.toCopy.get(imageKey(job)) ?? 0) - 1));
  }

  /**
   * Whether `source` may still be read once its own job is done: copies read it, or copies of its image
   * are still to be made. If not, it is retired at once, and its blob goes with its job.
   */
  mayOutlive(source: LabCopySource, job: DistributionJob): boolean {
    if (source.readers > 0 || (this.toCopy.get(imageKey(job)) ?? 0) > 0) return true;
    source.open = false;
    return false;
  }

  /** A reader's place on the best source for `job`'s copy, waiting while all are busy; `excluded` lab sources failed it. */
  async acquire(job: DistributionJob, signal: AbortSignal, excluded: ReadonlySet<string> = new Set(), storeOnly = false): Promise<SourceLease> {
    for (;;) {
      signal.throwIfAborted();
      const lease = this.tryAcquire(job, excluded, storeOnly);
      if (lease) return lease;
      await this.nextChange(signal);
    }
  }

  /** Offers a lab's verified copy to the other copies of its image. */
  publish(job: DistributionJob, source: Omit<LabCopySource, 'key' | 'lab' | 'readers' | 'open'>): LabCopySource {
    const published: LabCopySource = { ...source, key: job.lab.id.toLowerCase(), lab: job.lab, readers: 0, open: true };
    const image = imageKey(job);
    if (!this.labSources.has(image)) this.labSources.set(image, new Map());
    this.labSources.get(image)!.set(published.key, published);
    this.changed();
    return published;
  }

  /** No copy starts on `source` any more; resolves once the copies reading it have ended. */
  async retire(source: LabCopySource): Promise<void> {
    source.open = false;
    this.changed();
    while (source.readers > 0) await this.nextChange();
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
    const image = imageKey(job);
    const own = job.lab.id.toLowerCase();
    const labs = this.mode === 'tree' ? [...(this.labSources.get(image)?.values() ?? [])].filter((s) => s.open && s.key !== own && !excluded.has(s.key)) : [];
    const storeReaders = this.storeReaders.get(image) ?? 0;
    const candidates: SourceCandidate[] = [
      { key: 'store', store: true, location: this.storeLocation, readers: storeReaders },
      ...labs.map((s) => ({ key: s.key, store: false, location: s.lab.location, readers: s.readers })),
    ];
    // Flat: everything reads the store, however many at once, as before fan-out.
    const chosen = this.mode === 'flat' || storeOnly ? candidates[0] : chooseSource(candidates, job.lab.location, this.readersPerSource);
    if (!chosen) return undefined;
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

  private changed(): void {
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

function imageKey(job: DistributionJob): string {
  return job.image.imageName.toLowerCase();
}

function once(f: () => unknown): () => void {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    f();
  };
}
