/**
 * How fast copies run when they read the same source blob. A page blob serves about 60 MiB/s in total
 * to everything reading it (Azure's scalability target for a single page blob), so copies that read one
 * source at the same time share that throughput equally, each also capped at the rate of a copy on its
 * own (lower for a copy into another region, which a slower copy leaves to the others); when one ends,
 * the others speed up. Each copy's progress is a piecewise-linear plan made at
 * every change to the set of copies reading its source (a start, an abort, a delete), from that moment
 * on; what was planned before stays, so what a client saw earlier is never rewritten.
 * https://learn.microsoft.com/azure/storage/blobs/scalability-targets-premium-page-blobs
 */

/** From `atMs` on, the copy advances `bytesPerMs` from `copiedBytes`. */
export interface Segment {
  atMs: number;
  copiedBytes: number;
  bytesPerMs: number;
}

export interface Finish {
  atMs: number;
  status: 'success' | 'aborted' | 'failed';
  copiedBytes: number;
  description?: string;
}

/** What the planner needs of a copy, and what it writes back: its plan and how it ends. */
export interface PlannedCopy {
  readonly totalBytes: number;
  /** An injected failure: the copy fails once this many bytes are through. */
  readonly failAtBytes?: number;
  readonly failDescription?: string;
  /** The source SAS stops working at this time; a copy still running then fails. */
  readonly expiresAtMs?: number;
  readonly expiryDescription?: string;
  /** The copy runs into a storage account in another region than its source's: its own rate is the cross-region one. */
  readonly crossesRegion?: boolean;
  plan: Segment[];
  finish: Finish;
}

export interface Rates {
  /** The rate of a copy on its own. */
  perCopyBytesPerMs: number;
  /** The rate of a copy on its own between storage accounts in different regions. */
  crossRegionPerCopyBytesPerMs: number;
  /** What one source blob serves to all copies reading it. */
  perSourceBytesPerMs: number;
}

/** Bytes through at `atMs`, by the copy's plan. */
export function copiedAt(copy: PlannedCopy, atMs: number): number {
  if (atMs >= copy.finish.atMs) return copy.finish.copiedBytes;
  let segment = copy.plan[0];
  for (const s of copy.plan) if (s.atMs <= atMs) segment = s;
  if (!segment || atMs < segment.atMs) return 0;
  return Math.min(copy.totalBytes, segment.copiedBytes + (atMs - segment.atMs) * segment.bytesPerMs);
}

/**
 * Plans, from `atMs`, the copies of one source still running then: keeps each plan up to `atMs` and
 * simulates the rest, sharing the source's throughput among those still running at each moment.
 */
export function replan(copies: readonly PlannedCopy[], atMs: number, rates: Rates): void {
  const running = copies.filter((c) => c.finish.atMs > atMs);
  const bytes = new Map<PlannedCopy, number>();
  for (const copy of running) {
    bytes.set(copy, copiedAt(copy, atMs));
    copy.plan = copy.plan.filter((s) => s.atMs < atMs);
  }
  let t = atMs;
  let active = running;
  while (active.length > 0) {
    const shared = shares(active, rates);
    let next = Infinity;
    const ends = new Map<PlannedCopy, Finish>();
    for (const copy of active) {
      const rate = shared.get(copy)!;
      const done = bytes.get(copy)!;
      copy.plan.push({ atMs: t, copiedBytes: done, bytesPerMs: rate });
      const candidates: Finish[] = [{ atMs: t + (copy.totalBytes - done) / rate, status: 'success', copiedBytes: copy.totalBytes }];
      if (copy.failAtBytes !== undefined && copy.failAtBytes < copy.totalBytes) {
        const at = t + Math.max(0, copy.failAtBytes - done) / rate;
        candidates.push({ atMs: at, status: 'failed', copiedBytes: copy.failAtBytes, description: copy.failDescription });
      }
      if (copy.expiresAtMs !== undefined) {
        const at = Math.max(t, copy.expiresAtMs);
        candidates.push({ atMs: at, status: 'failed', copiedBytes: Math.min(copy.totalBytes, done + (at - t) * rate), description: copy.expiryDescription });
      }
      // The earliest end wins; a failure at the very moment the last byte is through does not.
      const first = candidates.reduce((a, b) => (b.atMs < a.atMs ? b : a));
      ends.set(copy, first);
      next = Math.min(next, first.atMs);
    }
    for (const copy of active) bytes.set(copy, Math.min(copy.totalBytes, bytes.get(copy)! + (next - t) * shared.get(copy)!));
    const stillRunning: PlannedCopy[] = [];
    for (const copy of active) {
      const end = ends.get(copy)!;
      if (end.atMs <= next) copy.finish = { ...end, copiedBytes: Math.floor(end.copiedBytes) };
      else stillRunning.push(copy);
    }
    active = stillRunning;
    t = next;
  }
}

/**
 * Each running copy's share of its source's throughput, fairly: no copy above its own rate, and what
 * a slower copy (one into another region) leaves unused goes to the others in equal parts.
 */
function shares(copies: readonly PlannedCopy[], rates: Rates): Map<PlannedCopy, number> {
  const own = (copy: PlannedCopy) => (copy.crossesRegion ? rates.crossRegionPerCopyBytesPerMs : rates.perCopyBytesPerMs);
  const byOwnRate = [...copies].sort((a, b) => own(a) - own(b));
  const result = new Map<PlannedCopy, number>();
  let left = rates.perSourceBytesPerMs;
  for (let i = 0; i < byOwnRate.length; i++) {
    const fair = left / (byOwnRate.length - i);
    if (own(byOwnRate[i]) >= fair) {
      // The source is the limit from here on: the rest, as fast or faster on their own, share what is left.
      for (const copy of byOwnRate.slice(i)) result.set(copy, fair);
      break;
    }
    result.set(byOwnRate[i], own(byOwnRate[i]));
    left -= own(byOwnRate[i]);
  }
  return result;
}
