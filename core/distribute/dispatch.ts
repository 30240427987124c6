import { type SourceBoard, type SourceLease, groupKey } from './fanOut';
import type { DistributionJob } from './plan';

/**
 * Which job a free slot starts. Jobs are taken in the run's order (scheduleOrder), but a job whose copy
 * has no free source now is passed over for the next that has one: a slot spent waiting for a source
 * would be a slot not copying. Only a slot that would stand idle starts a job to wait for a source soon
 * free; when none can start, it waits for the board's next change (a copy finished, a source freed). Jobs of one image into one region can all
 * start or none (they want the same sources), so the look is per such group, not per job.
 */
export interface TakenJob {
  job: DistributionJob;
  /** The source place the job's copy is to take; undefined for a job that copies nothing or waits for its source. */
  lease?: SourceLease;
}

interface Group {
  /** The group's jobs with their places in the run's order, in that order. */
  jobs: { job: DistributionJob; rank: number }[];
  /** The first job not taken yet. */
  next: number;
}

export class JobQueue {
  private readonly groups: Group[];
  private waiting: number;
  /** The board's change count at the last look that found nothing to start. */
  private fruitlessAt = -1;

  constructor(
    ordered: readonly DistributionJob[],
    private readonly board: SourceBoard,
    private readonly needsSource: (job: DistributionJob) => boolean,
  ) {
    const byKey = new Map<string, Group>();
    ordered.forEach((job, rank) => {
      // A job that copies nothing can always start: each is a group of its own.
      const key = needsSource(job) ? groupKey(job.image.imageName, job.lab.location) : `#${rank}`;
      const group = byKey.get(key) ?? { jobs: [], next: 0 };
      group.jobs.push({ job, rank });
      byKey.set(key, group);
    });
    this.groups = [...byKey.values()];
    this.waiting = ordered.length;
  }

  /** Jobs not taken yet. */
  get size(): number {
    return this.waiting;
  }

  /** The first job that can start now, waiting while none can; undefined once every job is taken. */
  async take(signal: AbortSignal): Promise<TakenJob | undefined> {
    for (;;) {
      signal.throwIfAborted();
      if (this.waiting === 0) return undefined;
      const version = this.board.changes;
      if (version !== this.fruitlessAt) {
        const taken = this.look();
        if (taken) return taken;
        this.fruitlessAt = version;
      }
      await this.board.changedSince(version, signal);
    }
  }

  /**
   * The first group, by the place of the job it would start next, whose next job can start now; failing
   * that, the first whose next job may start to wait for a source soon free (board.mayPrepare), since the
   * slot would stand idle otherwise.
   */
  private look(): TakenJob | undefined {
    const open = this.groups.filter((g) => g.next < g.jobs.length).sort((a, b) => a.jobs[a.next].rank - b.jobs[b.next].rank);
    for (const group of open) {
      const { job } = group.jobs[group.next];
      const lease = this.needsSource(job) ? this.board.reserve(job) : undefined;
      if (this.needsSource(job) && !lease) continue;
      return this.takeNext(group, lease);
    }
    const early = open.find((group) => this.board.mayPrepare(group.jobs[group.next].job));
    return early && this.takeNext(early, undefined);
  }

  private takeNext(group: Group, lease: SourceLease | undefined): TakenJob {
    const { job } = group.jobs[group.next++];
    this.waiting--;
    return { job, lease };
  }
}
