import { AbortError } from '@azure/abort-controller';
import { AnonymousCredential, type BlobBeginCopyFromUrlPollState, BlobClient, type BlobGetPropertiesResponse } from '@azure/storage-blob';
import { ErrorCodes, FactoryError, isAbortError } from '../errors';
import { type Reporter, silentReporter } from '../report';
import { isAzureError, toFactoryErrorOrRethrow } from './azureErrors';
import { maskSas, withoutQuery } from './labs';
import { retryAfterMs, sleep } from './retryPolicy';
import { storagePipeline, type StorageRetrySettings } from './storageClients';

/**
 * Server-side blob copies. A VHD is a page blob of tens or hundreds of GB; Copy Blob is the only copy
 * that keeps it a page blob and it runs asynchronously, so we start it and follow x-ms-copy-status.
 * Polling adapts to the copy rate: a copy expected to end in 3 s is looked at after about 3 s, one
 * with an hour to go every 30 s (the longest wait, so progress stays visible).
 */
export interface CopyProgress {
  copiedBytes: number;
  totalBytes: number;
}

export interface CopyBlobOptions {
  metadata?: Record<string, string>;
  signal?: AbortSignal;
  onProgress?: (progress: CopyProgress) => void;
  /** Shortest wait between two looks at the copy. Default 100 ms. */
  minPollMs?: number;
  /** Longest wait between two looks at the copy. Default 30 000 ms. */
  maxPollMs?: number;
  /** Told of throttling and cancellation, and masks the source SAS. */
  reporter?: Reporter;
  /** The destination's lease (a run's claim): the copy, and its abort on cancel, go under it. */
  leaseId?: string;
  /** The source's ETag: the copy reads that very blob, or is refused (412). */
  sourceIfMatch?: string;
}

/**
 * A server-side copy within a region is assumed to go no slower than this (Azure's are usually several
 * times faster): what a time budget sized to a copy (a disk grant, a SAS) is computed from.
 */
export const ASSUMED_COPY_BYTES_PER_SECOND = 20 * 1024 * 1024;

export const MIN_POLL_MS = 100;
export const MAX_POLL_MS = 30_000;
/** First wait when nothing is known about the copy's rate yet. */
const FIRST_POLL_MS = 250;
/** Consecutive busy answers while following one copy before giving up. */
const MAX_THROTTLED_POLLS = 30;

/** A blob client for a SAS URL (an upload URI), with the run's storage retries (`AzureContext.storageRetryOptions`). */
export function sasBlobClient(url: string, retryOptions?: StorageRetrySettings): BlobClient {
  return new BlobClient(url, storagePipeline(new AnonymousCredential(), retryOptions));
}

export async function copyBlob(destination: BlobClient, sourceUrl: string, options: CopyBlobOptions = {}): Promise<{ copyId: string; totalBytes: number }> {
  const reporter = options.reporter ?? silentReporter;
  maskSas(sourceUrl, reporter);
  maskSas(destination.url, reporter);
  options.signal?.throwIfAborted();
  let copyId: string | undefined;
  try {
    // The poller's first poll is the Copy Blob request itself; we follow the copy with our own loop.
    const conditions = options.leaseId ? { leaseId: options.leaseId } : undefined;
    const sourceConditions = options.sourceIfMatch ? { ifMatch: options.sourceIfMatch } : undefined;
    const poller = await destination.beginCopyFromURL(sourceUrl, { metadata: options.metadata, abortSignal: options.signal, conditions, sourceConditions });
    copyId = (poller.getOperationState() as BlobBeginCopyFromUrlPollState).copyId;
  } catch (error) {
    throw toCopyError(error, `Starting the copy into ${withoutQuery(destination.url)}`, options.signal);
  }
  if (!copyId) {
    throw copyFailed(destination, 'the storage account did not return a copy id');
  }
  // The rate is measured between two looks at the copy, not from the request's start: the Copy Blob
  // round trip would count as copy time and make a fast copy look slow, so it is waited on far too long.
  const { totalBytes } = await follow(destination, copyId, undefined, options);
  return { copyId, totalBytes };
}

/** Follows a copy already pending on `destination`; a blob with no copy in flight is returned as it is. */
export async function followCopy(destination: BlobClient, options: CopyBlobOptions = {}): Promise<{ totalBytes: number }> {
  maskSas(destination.url, options.reporter ?? silentReporter);
  return follow(destination, undefined, undefined, options);
}

interface Sample {
  copiedBytes: number;
  at: number;
}

async function follow(
  destination: BlobClient,
  copyId: string | undefined,
  baseline: Sample | undefined,
  options: CopyBlobOptions,
): Promise<{ totalBytes: number }> {
  const { signal, onProgress } = options;
  const reporter = options.reporter ?? silentReporter;
  const minMs = options.minPollMs ?? MIN_POLL_MS;
  const maxMs = options.maxPollMs ?? MAX_POLL_MS;
  let knownCopyId = copyId;
  let firstLook: Sample | undefined;
  let delayMs: number | undefined;
  let throttled = 0;
  try {
    for (;;) {
      signal?.throwIfAborted();
      let properties: BlobGetPropertiesResponse;
      try {
        properties = await destination.getProperties({ abortSignal: signal });
        throttled = 0;
      } catch (error) {
        const wait = busyWait(error, delayMs ?? FIRST_POLL_MS, maxMs);
        if (wait !== undefined && ++throttled <= MAX_THROTTLED_POLLS) {
          reporter.debug(`The storage account is busy; looking at the copy into ${blobNameOf(destination)} again in ${wait} ms.`);
          await sleep(wait, signal);
          continue;
        }
        throw toCopyError(error, `Following the copy into ${withoutQuery(destination.url)}`, signal);
      }

      if (copyId && properties.copyId && properties.copyId !== copyId) {
        throw copyFailed(destination, 'another copy into the same blob replaced this one');
      }
      knownCopyId = properties.copyId ?? knownCopyId;
      const progress = parseCopyProgress(properties.copyProgress);
      const totalBytes = progress?.totalBytes ?? properties.contentLength ?? 0;
      switch (properties.copyStatus) {
        case undefined:
        case 'success':
          onProgress?.({ copiedBytes: totalBytes, totalBytes });
          return { totalBytes };
        case 'failed':
        case 'aborted':
          throw copyFailed(destination, properties.copyStatusDescription || `the copy ended ${properties.copyStatus}`);
        case 'pending': {
          const copiedBytes = progress?.copiedBytes ?? 0;
          onProgress?.({ copiedBytes, totalBytes });
          const sample = { copiedBytes, at: Date.now() };
          if (!baseline) baseline = sample;
          if (!firstLook) firstLook = sample;
          delayMs = nextPollDelay(
            {
              copiedBytes,
              totalBytes,
              bytesPerMs: copyRate(baseline, firstLook, sample),
              observedMs: sample.at - baseline.at,
              previousDelayMs: delayMs,
            },
            { minMs, maxMs },
          );
          await sleep(delayMs, signal);
          break;
        }
        default:
          throw copyFailed(destination, `the storage account reports copy status '${String(properties.copyStatus)}'`);
      }
    }
  } catch (error) {
    if (!(signal?.aborted && (isAbortError(error) || !(error instanceof FactoryError)))) throw error;
    if (knownCopyId) {
      try {
        await destination.abortCopyFromURL(knownCopyId, { conditions: options.leaseId ? { leaseId: options.leaseId } : undefined });
        reporter.debug(`Aborted the copy into ${blobNameOf(destination)}.`);
      } catch (abortError) {
        // Already ended (or never started): nothing is left copying, which is what the cancel wants.
        reporter.debug(`Aborting the copy into ${blobNameOf(destination)} found nothing to abort: ${messageOf(abortError)}`);
      }
    }
    throw new AbortError('The copy was cancelled.');
  }
}

export interface PollState {
  copiedBytes: number;
  totalBytes: number;
  /** Observed copy rate; undefined until the copy has been seen to advance. */
  bytesPerMs?: number;
  /** How long the rate has been observed for. */
  observedMs?: number;
  previousDelayMs?: number;
}

/**
 * How long to wait before looking at a pending copy again. With a known rate: until a little after
 * the copy is expected to end, but never more than twice as long as the rate has been observed, since
 * a rate seen over a few milliseconds (request latency, a copy warming up) can be off by far. Without
 * a rate: start short and double. Always within [minMs, maxMs]; looks at a copy thus thin out
 * geometrically and end near its expected end.
 */
export function nextPollDelay(state: PollState, bounds: { minMs?: number; maxMs?: number } = {}): number {
  const minMs = bounds.minMs ?? MIN_POLL_MS;
  const maxMs = Math.max(minMs, bounds.maxMs ?? MAX_POLL_MS);
  let delay: number;
  if (state.bytesPerMs && state.bytesPerMs > 0 && state.totalBytes > 0) {
    const remainingMs = Math.max(0, state.totalBytes - state.copiedBytes) / state.bytesPerMs;
    // Far from the end, look a little early and correct the estimate; close to it, look just after. The last look
    // then lands about minMs after the end, where looking at 105 % of the estimate would be 5 % of the copy late.
    delay = remainingMs > 10 * minMs ? remainingMs * 0.9 : remainingMs + minMs;
    if (state.observedMs !== undefined) delay = Math.min(delay, Math.max(FIRST_POLL_MS, 2 * state.observedMs));
  } else {
    delay = state.previousDelayMs ? state.previousDelayMs * 2 : FIRST_POLL_MS;
  }
  return Math.round(Math.min(maxMs, Math.max(minMs, delay)));
}

/**
 * The copy rate: between the first and the latest look once they are far enough apart to leave out
 * the start's latency, else since the copy started; undefined while no progress has been seen.
 */
function copyRate(start: Sample, firstLook: Sample, latest: Sample): number | undefined {
  const span = (from: Sample) => {
    const ms = latest.at - from.at;
    return ms > 0 && latest.copiedBytes > from.copiedBytes ? (latest.copiedBytes - from.copiedBytes) / ms : undefined;
  };
  return (latest.at - firstLook.at >= FIRST_POLL_MS ? span(firstLook) : undefined) ?? span(start);
}

/** `x-ms-copy-progress` is `<copied>/<total>` in bytes. */
export function parseCopyProgress(value: string | undefined): CopyProgress | undefined {
  const match = value ? /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value) : null;
  if (!match) return undefined;
  return { copiedBytes: Number(match[1]), totalBytes: Number(match[2]) };
}

/**
 * For a busy answer (503 without Retry-After, which the storage SDK has already retried a few times):
 * how long to wait before looking at the copy again, which goes on meanwhile. Undefined for any other
 * failure: throttling (429, 503 with Retry-After) was waited out in the client's pipeline, within its
 * bound, so an answer like that here means the bound was reached.
 */
function busyWait(error: unknown, currentDelayMs: number, maxMs: number): number | undefined {
  const e = error as { statusCode?: number; response?: { headers?: { get(name: string): string | undefined } } };
  if (e?.statusCode !== 503 || (e.response?.headers && retryAfterMs(e.response.headers) !== undefined)) return undefined;
  return Math.max(MIN_POLL_MS, Math.min(maxMs, currentDelayMs * 2));
}

function toCopyError(error: unknown, what: string, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted || isAbortError(error)) return error;
  if (isAzureError(error)) return toFactoryErrorOrRethrow(error, what);
  return error;
}

function copyFailed(destination: BlobClient, reason: string): FactoryError {
  return new FactoryError(ErrorCodes.CopyFailed, `Copying into ${withoutQuery(destination.url)} failed: ${reason}.`, {
    fix: 'Run again: the next run starts the copy over. If it keeps failing, check that the source disk or image is still there and readable.',
    subject: blobNameOf(destination),
  });
}

function blobNameOf(destination: BlobClient): string {
  try {
    return destination.name || withoutQuery(destination.url);
  } catch {
    return withoutQuery(destination.url);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
