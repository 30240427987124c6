import { randomUUID } from 'node:crypto';
import type { BlobClient } from '@azure/storage-blob';
import { sleep } from './retryPolicy';

/**
 * A run's claim on a blob it is making (a staging blob in a lab, an image in the factory store): a
 * blob lease whose id is the run's id, renewed while the run works. Two pipelines can run the same
 * task at once; the claim is how each tells work another live run has in flight (leased: wait for
 * it, touch nothing) from work a killed run left (the lease lapsed within CLAIM_SECONDS: take it
 * over). Storage itself enforces it: a write, copy or delete without the lease id is refused.
 */

/** Azure's shortest fixed lease: a killed run's claim lapses this soon. */
export const CLAIM_SECONDS = 15;
/** Renewed three times per lease period, so one slow request does not lose the claim. */
const RENEW_MS = (CLAIM_SECONDS * 1000) / 3;

/** A run's id: a GUID, as a lease id must be. */
export function newRunId(): string {
  return randomUUID();
}

export interface TakeClaimOptions {
  /** Metadata of the placeholder made when the blob does not exist yet. */
  metadata: Record<string, string>;
  signal?: AbortSignal;
}

export interface ClaimTaken {
  claim: BlobClaim;
  /** The blob did not exist: this run made it, empty, so nobody else has worked on it. */
  created: boolean;
}

export class BlobClaim {
  private timer?: NodeJS.Timeout;
  private released = false;

  private constructor(
    private readonly blob: BlobClient,
    readonly leaseId: string,
  ) {
    this.timer = setInterval(() => {
      // A renewal that fails is tried again at the next tick; a lost claim shows as a refused write.
      this.blob.getBlobLeaseClient(this.leaseId).renewLease().catch(() => undefined);
    }, RENEW_MS);
    this.timer.unref();
  }

  /**
   * Claims `blob` for the run `runId`: makes it (empty, with `metadata`) when it does not exist, then
   * leases it. Resolves undefined while another run's lease is on it.
   */
  static async take(blob: BlobClient, runId: string, options: TakeClaimOptions): Promise<ClaimTaken | undefined> {
    let created = false;
    try {
      await blob.getBlockBlobClient().upload('', 0, {
        metadata: options.metadata,
        conditions: { ifNoneMatch: '*' },
        abortSignal: options.signal,
      });
      created = true;
    } catch (error) {
      // It exists (a pending copy into it is refused with 409 as well): the lease decides.
      if (!isStatus(error, 409, 412)) throw error;
    }
    try {
      await blob.getBlobLeaseClient(runId).acquireLease(CLAIM_SECONDS, { abortSignal: options.signal });
    } catch (error) {
      if (isStatus(error, 409)) return undefined;
      // The holder deleted it between the two calls (its work is done): start over, making it anew.
      if (isStatus(error, 404) && !created) return BlobClaim.take(blob, runId, options);
      throw error;
    }
    return { claim: new BlobClaim(blob, runId), created };
  }

  /**
   * Waits until this run holds the claim on `blob`; `onWait` is told once when another run holds it.
   * Polls every `pollMs`, a few times per lease period.
   */
  static async wait(
    blob: BlobClient,
    runId: string,
    options: TakeClaimOptions & { pollMs: number; onWait?: () => void },
  ): Promise<ClaimTaken & { waited: boolean }> {
    let waited = false;
    for (;;) {
      const taken = await BlobClaim.take(blob, runId, options);
      if (taken) return { ...taken, waited };
      if (!waited) options.onWait?.();
      waited = true;
      await sleep(options.pollMs, options.signal);
    }
  }

  /** The request conditions of a write under this claim. */
  get conditions(): { leaseId: string } {
    return { leaseId: this.leaseId };
  }

  /** Stops renewing: the blob was deleted (which ends its lease) or the claim is being released. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Gives the claim up, so another run can take the blob at once; a blob already gone is fine. */
  async release(): Promise<void> {
    this.stop();
    if (this.released) return;
    this.released = true;
    try {
      await this.blob.getBlobLeaseClient(this.leaseId).releaseLease();
    } catch (error) {
      if (!isStatus(error, 404, 409)) throw error;
    }
  }
}

function isStatus(error: unknown, ...statuses: number[]): boolean {
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' && statuses.includes(status);
}
