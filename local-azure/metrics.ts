/** Request counts by operation, for benchmarks and for tests of how many calls a task makes. */
export class Metrics {
  private counts = new Map<string, number>();
  private startedAt = Date.now();

  count(operation: string): void {
    this.counts.set(operation, (this.counts.get(operation) ?? 0) + 1);
  }

  snapshot(): { since: string; total: number; byOperation: Record<string, number> } {
    const byOperation = Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
    const total = [...this.counts.values()].reduce((sum, n) => sum + n, 0);
    return { since: new Date(this.startedAt).toISOString(), total, byOperation };
  }

  reset(): void {
    this.counts.clear();
    this.startedAt = Date.now();
  }
}
