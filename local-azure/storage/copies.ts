import { copiedAt, replan, type PlannedCopy, type Rates } from './sourceThroughput';

/**
 * Server-side copies as Azure runs them: asynchronous, at the rate their source blob serves them
 * (shared by every copy reading it, sourceThroughput.ts), slower between regions. Azurite copies instantly, so each copy's
 * visible state is derived from the clock and its plan, and from the events that end it early (an
 * injected failure, the source SAS expiring or being revoked, an abort). No timer runs per copy.
 */
export type CopyStatus = 'pending' | 'success' | 'aborted' | 'failed';

export interface CopyState {
  copyId: string;
  source: string;
  status: CopyStatus;
  copiedBytes: number;
  totalBytes: number;
  /** `<copied>/<total>`, as in `x-ms-copy-progress`. */
  progress: string;
  completedAt?: Date;
  description?: string;
}

export interface CopyRecord extends PlannedCopy {
  readonly key: string;
  readonly copyId: string;
  /** The source URL as the client gave it. */
  readonly source: string;
  readonly startedAtMs: number;
  /** The disk whose read grant authorizes the source, so revoking the grant fails the copy. */
  readonly sourceDisk?: string;
  /** The source blob (`account/container/blob`): copies reading the same one share its throughput. */
  readonly sourceKey?: string;
  /** The destination's lease the copy was started under: Azure ends a copy whatever the lease, Azurite needs its id. */
  readonly leaseId?: string;
  /** Set once the destination has been emptied after a failure or abort. */
  emptied?: Promise<void>;
}

export interface StartCopy {
  key: string;
  copyId: string;
  source: string;
  totalBytes: number;
  sourceDisk?: string;
  /** The source blob, when the front knows it: copies of one source share its throughput. */
  sourceKey?: string;
  leaseId?: string;
  /** The source SAS stops working at this time; a copy still running then fails. */
  sourceExpiresAtMs?: number;
  /** Source and destination accounts are in different regions: the copy runs at the cross-region rate. */
  crossesRegion?: boolean;
  /** An injected failure: the copy fails once this share of the bytes is copied. */
  failAfterPercent?: number;
  failDescription?: string;
}

/**
 * A copy between regions runs at this share of `copyRateMBps` unless the scenario sets
 * `crossRegionCopyRateMBps`. Azure publishes no rate for Copy Blob (best effort, on spare bandwidth);
 * between regions the link's latency and bandwidth bound it, which the model takes as a quarter.
 */
export const CROSS_REGION_COPY_FRACTION = 1 / 4;

export const SOURCE_AUTH_FAILED_DESCRIPTION =
  '403 AuthenticationFailed "Server failed to authenticate the request. The copy source SAS is no longer valid."';

/** What a copy reports when its source blob is deleted or replaced while it reads it. */
export const SOURCE_GONE_DESCRIPTION = '404 BlobNotFound "Copy failed when reading the source."';

/** One Copy Blob, as the copy log keeps it. */
export interface CopyLogEntry {
  /** `account/container/blob` of the destination. */
  destination: string;
  /** `account/container/blob` of the source, when it is a blob of this service. */
  source?: string;
  /** The permissions (`sp`) and expiry (`se`) of the source's SAS, when it had one. */
  sourceSas?: { permissions: string; expiresAt?: string };
  copyId: string;
  startedAt: string;
}

export class CopyTracker {
  private readonly history: CopyLogEntry[] = [];
  private readonly records = new Map<string, CopyRecord>();
  /** Copies by source blob, while they may still be running. */
  private readonly bySource = new Map<string, Set<CopyRecord>>();
  private readonly rates: Rates;

  /**
   * @param copyRateMBps the rate of a copy on its own
   * @param emptyDestination replaces a destination with an empty blob, metadata kept: what a failed or
   *   aborted copy leaves in Azure.
   * @param sourceBlobMBps what one source blob serves to all copies reading it; default `copyRateMBps`.
   * @param crossRegionCopyRateMBps the rate of a copy on its own between regions; default
   *   `copyRateMBps` × CROSS_REGION_COPY_FRACTION.
   */
  constructor(
    copyRateMBps: number,
    private readonly emptyDestination: (key: string) => Promise<void>,
    private readonly now: () => number = Date.now,
    sourceBlobMBps: number = copyRateMBps,
    crossRegionCopyRateMBps: number = copyRateMBps * CROSS_REGION_COPY_FRACTION,
  ) {
    if (!(copyRateMBps > 0)) throw new RangeError(`copyRateMBps must be positive, got ${copyRateMBps}`);
    if (!(sourceBlobMBps > 0)) throw new RangeError(`sourceBlobMBps must be positive, got ${sourceBlobMBps}`);
    if (!(crossRegionCopyRateMBps > 0)) throw new RangeError(`crossRegionCopyRateMBps must be positive, got ${crossRegionCopyRateMBps}`);
    this.rates = {
      perCopyBytesPerMs: bytesPerMs(copyRateMBps),
      crossRegionPerCopyBytesPerMs: bytesPerMs(crossRegionCopyRateMBps),
      perSourceBytesPerMs: bytesPerMs(sourceBlobMBps),
    };
  }

  start(copy: StartCopy): CopyRecord {
    const startedAtMs = this.now();
    const record: CopyRecord = {
      key: copy.key,
      copyId: copy.copyId,
      source: copy.source,
      totalBytes: copy.totalBytes,
      startedAtMs,
      sourceDisk: copy.sourceDisk,
      sourceKey: copy.sourceKey,
      leaseId: copy.leaseId,
      failAtBytes:
        copy.failAfterPercent === undefined ? undefined : Math.floor((copy.totalBytes * Math.min(100, Math.max(0, copy.failAfterPercent))) / 100),
      failDescription: copy.failDescription,
      expiresAtMs: copy.sourceExpiresAtMs,
      crossesRegion: copy.crossesRegion,
      expiryDescription: SOURCE_AUTH_FAILED_DESCRIPTION,
      plan: [],
      finish: { atMs: Infinity, status: 'success', copiedBytes: copy.totalBytes },
    };
    const previous = this.records.get(copy.key);
    if (previous) this.stopReading(previous, startedAtMs);
    this.records.set(copy.key, record);
    this.history.push({
      destination: copy.key,
      source: copy.sourceKey,
      sourceSas: sasOf(copy.source),
      copyId: copy.copyId,
      startedAt: new Date(startedAtMs).toISOString(),
    });
    // A destination that other copies read as their source is replaced: they fail, as in Azure.
    this.failReadersOf(copy.key, SOURCE_GONE_DESCRIPTION);
    this.readers(record).add(record);
    this.replanSource(record, startedAtMs);
    return record;
  }

  log(): CopyLogEntry[] {
    return this.history.map((entry) => ({ ...entry }));
  }

  /** Fails every pending copy that reads the blob `sourceKey` (it was deleted or replaced). */
  failReadersOf(sourceKey: string, description: string): void {
    for (const record of [...(this.bySource.get(sourceKey) ?? [])]) {
      if (record.key !== sourceKey) this.end(record, 'failed', description);
    }
  }

  get(key: string): CopyRecord | undefined {
    return this.records.get(key);
  }

  /** Copies whose destinations lie under this prefix (`account/container/`). */
  under(prefix: string): CopyRecord[] {
    return [...this.records.values()].filter((r) => r.key.startsWith(prefix));
  }

  forget(key: string): void {
    const record = this.records.get(key);
    if (record) this.stopReading(record, this.now());
    this.records.delete(key);
  }

  forgetUnder(prefix: string): void {
    for (const key of [...this.records.keys()]) if (key.startsWith(prefix)) this.forget(key);
  }

  state(record: CopyRecord, atMs = this.now()): CopyState {
    const base = { copyId: record.copyId, source: record.source, totalBytes: record.totalBytes };
    const { finish } = record;
    if (finish.atMs <= atMs) {
      return {
        ...base,
        status: finish.status,
        copiedBytes: finish.copiedBytes,
        progress: `${finish.copiedBytes}/${record.totalBytes}`,
        completedAt: new Date(finish.atMs),
        description: finish.description,
      };
    }
    const copiedBytes = Math.floor(copiedAt(record, atMs));
    return { ...base, status: 'pending', copiedBytes, progress: `${copiedBytes}/${record.totalBytes}` };
  }

  isPending(record: CopyRecord): boolean {
    return this.state(record).status === 'pending';
  }

  /** Ends a pending copy now (abort, revoked source). Returns false when it was no longer pending. */
  end(record: CopyRecord, status: 'aborted' | 'failed', description?: string): boolean {
    const atMs = this.now();
    const state = this.state(record, atMs);
    if (state.status !== 'pending') return false;
    record.finish = { atMs, status, copiedBytes: state.copiedBytes, description };
    // The copies still reading its source get its share of the throughput from now on.
    this.replanSource(record, atMs);
    return true;
  }

  /** Brings Azurite's blob in line with a failed or aborted copy; done once, when first observed. */
  async settle(record: CopyRecord): Promise<void> {
    const status = this.state(record).status;
    if (status !== 'failed' && status !== 'aborted') return;
    record.emptied ??= this.emptyDestination(record.key).catch((error: unknown) => {
      record.emptied = undefined; // the next observer tries again
      throw error;
    });
    await record.emptied;
  }

  /** Pending copies whose source is read through a grant on this disk. */
  pendingFromDisk(diskName: string): CopyRecord[] {
    const atMs = this.now();
    const diskKey = diskName.toLowerCase();
    return [...this.records.values()].filter(
      (r) => r.sourceDisk?.toLowerCase() === diskKey && this.state(r, atMs).status === 'pending',
    );
  }

  /** A copy whose destination is deleted or replaced stops reading its source at once. */
  private stopReading(record: CopyRecord, atMs: number): void {
    if (record.finish.atMs > atMs) {
      record.finish = { atMs, status: 'aborted', copiedBytes: Math.floor(copiedAt(record, atMs)) };
      this.replanSource(record, atMs);
    }
  }

  /** The copies reading the same source as `record` (a copy with no known source reads alone). */
  private readers(record: CopyRecord): Set<CopyRecord> {
    const key = record.sourceKey ?? `copy ${record.key} ${record.copyId}`;
    let readers = this.bySource.get(key);
    if (!readers) {
      readers = new Set();
      this.bySource.set(key, readers);
    }
    return readers;
  }

  private replanSource(record: CopyRecord, atMs: number): void {
    const readers = this.readers(record);
    // Copies that have ended no longer share anything, and their plans are final.
    for (const r of readers) if (r.finish.atMs <= atMs) readers.delete(r);
    replan([...readers], atMs, this.rates);
    if (readers.size === 0) this.bySource.delete(record.sourceKey ?? `copy ${record.key} ${record.copyId}`);
  }
}

function sasOf(url: string): CopyLogEntry['sourceSas'] {
  try {
    const query = new URL(url).searchParams;
    const permissions = query.get('sp');
    return permissions === null ? undefined : { permissions, expiresAt: query.get('se') ?? undefined };
  } catch {
    return undefined;
  }
}

function bytesPerMs(mbps: number): number {
  return (mbps * 1024 * 1024) / 1000;
}
