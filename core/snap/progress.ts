import type { CopyProgress } from '../azure/blobCopy';
import { formatBytes } from '../format';

/**
 * The copies' overall progress, as one line: bytes copied of the total known so far, and a percent
 * (each VM weighs the same, as a disk's size is known only once its copy starts). Told only when the
 * line changes, so a long copy does not repeat the same line at every look.
 */
export class SnapProgress {
  private readonly copied: number[];
  private readonly totals: number[];
  private readonly finished: boolean[];
  private last = '';

  constructor(
    jobCount: number,
    private readonly onProgress?: (percent: number, activity: string) => void,
  ) {
    this.copied = new Array(jobCount).fill(0);
    this.totals = new Array(jobCount).fill(0);
    this.finished = new Array(jobCount).fill(false);
  }

  update(job: number, progress: CopyProgress): void {
    this.totals[job] = progress.totalBytes;
    this.copied[job] = Math.min(progress.copiedBytes, progress.totalBytes);
    this.emit();
  }

  /** The job ended (saved or failed): its share is done. */
  finish(job: number): void {
    this.finished[job] = true;
    this.copied[job] = this.totals[job];
    this.emit();
  }

  private emit(): void {
    const jobs = this.copied.length;
    if (!this.onProgress || jobs === 0) return;
    let share = 0;
    for (let job = 0; job < jobs; job++) {
      share += this.finished[job] ? 1 : this.totals[job] > 0 ? this.copied[job] / this.totals[job] : 0;
    }
    const percent = Math.floor((share / jobs) * 100);
    const copied = this.copied.reduce((a, b) => a + b, 0);
    const total = this.totals.reduce((a, b) => a + b, 0);
    const activity = `Copying OS disks into the image store: ${formatBytes(copied)} of ${formatBytes(total)} copied (${percent} %)`;
    if (activity === this.last) return;
    this.last = activity;
    this.onProgress(percent, activity);
  }
}
