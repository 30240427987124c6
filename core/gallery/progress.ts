/**
 * Replication's overall progress on the gallery route: each version weighs the same, its share the
 * mean of its regions' progress as Compute reports it. Told only when the whole percent changes.
 */
export class ReplicationProgress {
  private readonly percents: number[];
  private last = -1;

  constructor(
    jobCount: number,
    private readonly onProgress?: (percent: number, activity: string) => void,
  ) {
    this.percents = new Array(jobCount).fill(0);
  }

  update(job: number, percent: number): void {
    this.percents[job] = Math.max(0, Math.min(100, percent));
    this.emit();
  }

  finish(job: number): void {
    this.update(job, 100);
  }

  private emit(): void {
    if (!this.onProgress || this.percents.length === 0) return;
    const percent = Math.floor(this.percents.reduce((a, b) => a + b, 0) / this.percents.length);
    if (percent === this.last) return;
    this.last = percent;
    this.onProgress(percent, `Replicating image versions (${percent} %)`);
  }
}
