/** Request counts by operation, for benchmarks and for tests of how many calls a task makes. */
export class Metrics {
  private counts = new Map<string, number>();
  /** Requests Resource Manager refused with 429 for its token buckets, by operation (also in `counts`). */
  private throttledCounts = new Map<string, number>();
  private startedAt = Date.now();

  count(operation: string): void {
    this.counts.set(operation, (this.counts.get(operation) ?? 0) + 1);
  }

  throttled(operation: string): void {
    this.throttledCounts.set(operation, (this.throttledCounts.get(operation) ?? 0) + 1);
  }

  snapshot(): { since: string; total: number; byOperation: Record<string, number>; throttled: Record<string, number> } {
    const sorted = (map: Map<string, number>) => Object.fromEntries([...map.entries()].sort(([a], [b]) => a.localeCompare(b)));
    const total = [...this.counts.values()].reduce((sum, n) => sum + n, 0);
    return { since: new Date(this.startedAt).toISOString(), total, byOperation: sorted(this.counts), throttled: sorted(this.throttledCounts) };
  }

  reset(): void {
    this.counts.clear();
    this.throttledCounts.clear();
    this.startedAt = Date.now();
  }
}
