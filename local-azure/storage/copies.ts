/**
 * Server-side copies as Azure runs them: asynchronous, at a steady rate. Azurite copies instantly, so
 * each copy's visible state is derived from the clock (started at, bytes, rate) and from the events
 * that end it early (an injected failure, the source SAS expiring or being revoked, an abort). No
 * timer runs per copy.
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

interface CopyEnd {
  atMs: number;
  status: 'aborted' | 'failed';
  copiedBytes: number;
  description?: string;
}

export interface CopyRecord {
  readonly key: string;
  readonly copyId: string;
  /** The source URL as the client gave it. */
  readonly source: string;
  readonly totalBytes: number;
  readonly startedAtMs: number;
  /** The disk whose read grant authorizes the source, so revoking the grant fails the copy. */
  readonly sourceDisk?: string;
  /** The destination's lease the copy was started under: Azure ends a copy whatever the lease, Azurite needs its id. */
  readonly leaseId?: string;
  ends: CopyEnd[];
  /** Set once the destination has been emptied after a failure or abort. */
  emptied?: Promise<void>;
}

export interface StartCopy {
  key: string;
  copyId: string;
  source: string;
  totalBytes: number;
  sourceDisk?: string;
  leaseId?: string;
  /** The source SAS stops working at this time; a copy still running then fails. */
  sourceExpiresAtMs?: number;
  /** An injected failure: the copy fails once this share of the bytes is copied. */
  failAfterPercent?: number;
  failDescription?: string;
}

export const SOURCE_AUTH_FAILED_DESCRIPTION =
  '403 AuthenticationFailed "Server failed to authenticate the request. The copy source SAS is no longer valid."';

export class CopyTracker {
  private readonly records = new Map<string, CopyRecord>();
  private readonly bytesPerMs: number;

  /**
   * @param emptyDestination replaces a destination with an empty blob, metadata kept: what a failed or
   *   aborted copy leaves in Azure.
   */
  constructor(
    copyRateMBps: number,
    private readonly emptyDestination: (key: string) => Promise<void>,
    private readonly now: () => number = Date.now,
  ) {
    if (!(copyRateMBps > 0)) throw new RangeError(`copyRateMBps must be positive, got ${copyRateMBps}`);
    this.bytesPerMs = (copyRateMBps * 1024 * 1024) / 1000;
  }

  start(copy: StartCopy): CopyRecord {
    const startedAtMs = this.now();
    const ends: CopyEnd[] = [];
    if (copy.failAfterPercent !== undefined) {
      const percent = Math.min(100, Math.max(0, copy.failAfterPercent));
      const copiedBytes = Math.floor((copy.totalBytes * percent) / 100);
      ends.push({
        atMs: startedAtMs + copiedBytes / this.bytesPerMs,
        status: 'failed',
        copiedBytes,
        description: copy.failDescription,
      });
    }
    if (copy.sourceExpiresAtMs !== undefined) {
      ends.push({
        atMs: copy.sourceExpiresAtMs,
        status: 'failed',
        copiedBytes: this.copiedAt(copy.totalBytes, startedAtMs, copy.sourceExpiresAtMs),
        description: SOURCE_AUTH_FAILED_DESCRIPTION,
      });
    }
    const record: CopyRecord = {
      key: copy.key,
      copyId: copy.copyId,
      source: copy.source,
      totalBytes: copy.totalBytes,
      startedAtMs,
      sourceDisk: copy.sourceDisk,
      leaseId: copy.leaseId,
      ends,
    };
    this.records.set(copy.key, record);
    return record;
  }

  get(key: string): CopyRecord | undefined {
    return this.records.get(key);
  }

  /** Copies whose destinations lie under this prefix (`account/container/`). */
  under(prefix: string): CopyRecord[] {
    return [...this.records.values()].filter((r) => r.key.startsWith(prefix));
  }

  forget(key: string): void {
    this.records.delete(key);
  }

  forgetUnder(prefix: string): void {
    for (const key of [...this.records.keys()]) if (key.startsWith(prefix)) this.records.delete(key);
  }

  state(record: CopyRecord, atMs = this.now()): CopyState {
    const completesAtMs = record.startedAtMs + record.totalBytes / this.bytesPerMs;
    let first: CopyEnd | undefined;
    for (const end of record.ends) if (end.atMs < completesAtMs && (!first || end.atMs < first.atMs)) first = end;
    const base = { copyId: record.copyId, source: record.source, totalBytes: record.totalBytes };
    if (first && first.atMs <= atMs) {
      return {
        ...base,
        status: first.status,
        copiedBytes: first.copiedBytes,
        progress: `${first.copiedBytes}/${record.totalBytes}`,
        completedAt: new Date(first.atMs),
        description: first.description,
      };
    }
    if (completesAtMs <= atMs) {
      return {
        ...base,
        status: 'success',
        copiedBytes: record.totalBytes,
        progress: `${record.totalBytes}/${record.totalBytes}`,
        completedAt: new Date(completesAtMs),
      };
    }
    const copiedBytes = this.copiedAt(record.totalBytes, record.startedAtMs, atMs);
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
    record.ends.push({ atMs, status, copiedBytes: state.copiedBytes, description });
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

  private copiedAt(totalBytes: number, startedAtMs: number, atMs: number): number {
    return Math.min(totalBytes, Math.max(0, Math.floor((atMs - startedAtMs) * this.bytesPerMs)));
  }
}
