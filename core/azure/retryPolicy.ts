import { AbortError } from '@azure/abort-controller';
import { isRestError, type PipelinePolicy, type PipelineRequest, RestError } from '@azure/core-rest-pipeline';
import type { AbortSignalLike } from '@azure/abort-controller';
import type { Reporter } from '../report';

/**
 * Retries for Resource Manager requests, with two separate budgets:
 *
 * - Throttling (429, or 503 with Retry-After) is Azure asking us to slow down, not a failure. The
 *   wait Azure names is honoured exactly and does not use up the transient budget; a long copy run
 *   with many labs should get slower under throttling, never fail. Only the total time spent waiting
 *   is bounded (`maxThrottleWaitMs`), so a subscription that stays throttled still ends with one
 *   clear error instead of hanging.
 * - Transient failures (5xx, 408, dropped connections) are retried `maxRetries` times with jittered
 *   exponential back-off. The SDK's own default (3 retries from 1 s) gives up within ~7 s, shorter
 *   than a typical Resource Manager hiccup; 6 retries from 1 s capped at 30 s wait about a minute in
 *   total, after which an outage is real and the next run picks up where this one stopped.
 *
 * The SDK's default retry policy would spend its single budget of 3 on 429s and then fail a run that
 * only needed to wait, and does not retry a 429 that carries no Retry-After at all.
 */
export interface ArmRetryOptions {
  /** Retries of transient failures. Default 6. */
  maxRetries?: number;
  /** First back-off after a transient failure. Default 1000 ms. */
  retryDelayInMs?: number;
  /** Longest back-off after a transient failure. Default 30 000 ms. */
  maxRetryDelayInMs?: number;
  /** Longest total wait for throttling per request before giving up. Default 15 minutes. */
  maxThrottleWaitMs?: number;
  reporter?: Reporter;
}

export const DEFAULT_MAX_RETRIES = 6;
export const DEFAULT_RETRY_DELAY_MS = 1000;
export const DEFAULT_MAX_RETRY_DELAY_MS = 30_000;
export const DEFAULT_MAX_THROTTLE_WAIT_MS = 15 * 60_000;
/** A throttled request waits at least this long even when Retry-After says 0, so a loop cannot spin. */
const MIN_THROTTLE_WAIT_MS = 100;

export const armRetryPolicyName = 'imageFactoryArmRetryPolicy';

/** What the retry policy did for a request, for error messages ("after 7 attempts"). */
export interface RetryRecord {
  attempts: number;
  throttledWaitMs: number;
  /** HTTP status of the last answer, to tell a retried failure from one made up later (a failed long-running operation). */
  lastStatus?: number;
}

const records = new WeakMap<object, RetryRecord>();

export function retryRecordOf(request: PipelineRequest | undefined): RetryRecord | undefined {
  return request ? records.get(request) : undefined;
}

export function armRetryPolicy(options: ArmRetryOptions = {}): PipelinePolicy {
  return {
    name: armRetryPolicyName,
    sendRequest: (request, next) => sendWithRetries(request, () => next(request), options),
  };
}

/** What the retry loop needs of a request: where it goes, for messages, and its cancellation. */
interface RetriedRequest {
  method: string;
  url: string;
  abortSignal?: AbortSignalLike;
}

interface Answer {
  status: number;
  headers: { get(name: string): string | undefined };
}

/**
 * Sends a request with `send` until it gets an answer that is not throttling or a transient failure,
 * within the two budgets. A failure the pipeline throws (a RestError) is judged by its response.
 */
export async function sendWithRetries<T extends Answer>(request: RetriedRequest, send: () => Promise<T>, options: ArmRetryOptions): Promise<T> {
  const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
  const retryDelayInMs = options.retryDelayInMs ?? DEFAULT_RETRY_DELAY_MS;
  const maxRetryDelayInMs = options.maxRetryDelayInMs ?? DEFAULT_MAX_RETRY_DELAY_MS;
  const maxThrottleWaitMs = options.maxThrottleWaitMs ?? DEFAULT_MAX_THROTTLE_WAIT_MS;
  const record: RetryRecord = { attempts: 0, throttledWaitMs: 0 };
  records.set(request, record);
  let transientRetries = 0;
  for (;;) {
    record.attempts++;
    let answer: T | undefined;
    let error: RestError | undefined;
    try {
      answer = await send();
    } catch (e) {
      if (!isRestError(e)) throw e;
      error = e;
      // The request the error names is the one callers hold; the retries are told under it too.
      if (e.request && e.request !== request) records.set(e.request, record);
    }
    const response: Answer | undefined = answer ?? error?.response;
    record.lastStatus = response?.status;
    if (request.abortSignal?.aborted) throw new AbortError('The operation was aborted.');

    const throttleWait = throttlingDelay(response, retryDelayInMs, maxRetryDelayInMs, record.attempts);
    if (throttleWait !== undefined) {
      if (record.throttledWaitMs + throttleWait > maxThrottleWaitMs) return finish(answer, error);
      record.throttledWaitMs += throttleWait;
      options.reporter?.debug(
        `Azure throttled ${describeRequest(request)} (HTTP ${response!.status}); waiting ${formatMs(throttleWait)} before trying again.`,
      );
      await sleep(throttleWait, request.abortSignal);
      continue;
    }
    if (isTransient(response, error) && transientRetries < maxRetries) {
      const wait = backoffDelay(transientRetries, retryDelayInMs, maxRetryDelayInMs);
      transientRetries++;
      options.reporter?.debug(
        `${describeRequest(request)} failed (${response ? `HTTP ${response.status}` : error?.code ?? error?.message}); ` +
          `retry ${transientRetries} of ${maxRetries} in ${formatMs(wait)}.`,
      );
      await sleep(wait, request.abortSignal);
      continue;
    }
    return finish(answer, error);
  }
}

function finish<T>(answer: T | undefined, error: RestError | undefined): T {
  if (error) throw error;
  return answer!;
}

/** How long Azure asks us to wait, for a throttled answer; undefined when the answer is not throttling. */
export function throttlingDelay(
  response: Answer | undefined,
  retryDelayInMs = DEFAULT_RETRY_DELAY_MS,
  maxRetryDelayInMs = DEFAULT_MAX_RETRY_DELAY_MS,
  attempt = 1,
): number | undefined {
  if (!response || (response.status !== 429 && response.status !== 503)) return undefined;
  const asked = retryAfterMs(response.headers);
  if (asked !== undefined) return Math.max(MIN_THROTTLE_WAIT_MS, asked);
  // A 429 without Retry-After is still throttling; a bare 503 is an ordinary transient failure.
  return response.status === 429 ? backoffDelay(attempt - 1, retryDelayInMs, maxRetryDelayInMs) : undefined;
}

/** Retry-After in milliseconds from `retry-after-ms`, `x-ms-retry-after-ms` or `Retry-After` (seconds or HTTP date). */
export function retryAfterMs(headers: { get(name: string): string | undefined }): number | undefined {
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const value = Number(headers.get(name));
    if (headers.get(name) !== undefined && Number.isFinite(value) && value >= 0) return value;
  }
  const raw = headers.get('retry-after');
  if (raw === undefined || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(raw);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

const TRANSIENT_NETWORK_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EAI_AGAIN', 'REQUEST_SEND_ERROR']);

function isTransient(response: Answer | undefined, error: RestError | undefined): boolean {
  if (response) return response.status === 408 || (response.status >= 500 && response.status !== 501 && response.status !== 505);
  return error?.code !== undefined && TRANSIENT_NETWORK_CODES.has(error.code);
}

/** Exponential back-off with jitter (80-100 % of the nominal delay), so parallel jobs do not retry in lockstep. */
export function backoffDelay(retry: number, retryDelayInMs: number, maxRetryDelayInMs: number, random: () => number = Math.random): number {
  const nominal = Math.min(maxRetryDelayInMs, retryDelayInMs * 2 ** Math.min(retry, 30));
  return Math.round(nominal * (0.8 + 0.2 * random()));
}

function describeRequest(request: RetriedRequest): string {
  try {
    const url = new URL(request.url);
    return `${request.method} ${url.pathname}`;
  } catch {
    return request.method;
  }
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms >= 10_000 ? 0 : 1)} s` : `${ms} ms`;
}

/** Waits `ms`, or throws AbortError as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignalLike): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortError('The operation was aborted.'));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortError('The operation was aborted.'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
