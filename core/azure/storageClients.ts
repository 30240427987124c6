import type { TokenCredential } from '@azure/core-auth';
import {
  AnonymousCredential,
  newPipeline,
  type Pipeline,
  type RequestPolicy,
  type RequestPolicyFactory,
  type StorageRetryOptions,
  type WebResource,
} from '@azure/storage-blob';
import type { Reporter } from '../report';
import { sendWithRetries } from './retryPolicy';

/**
 * The pipeline of every blob client the core makes. The storage SDK retries 500 and 503 with its own
 * back-off, but not 429, and never waits as long as Retry-After asks: under throttling a run would fail
 * where it only had to slow down. So these clients also wait out throttling (429, or 503 with
 * Retry-After) exactly as long as the storage account asks, within a total wait per request, the way
 * Resource Manager requests do (retryPolicy.ts).
 */
export interface StorageRetrySettings extends StorageRetryOptions {
  /** Longest total wait for throttling per request. Default 15 minutes. */
  maxThrottleWaitMs?: number;
  /** Told of each wait. */
  reporter?: Reporter;
}

export function storagePipeline(credential: TokenCredential | AnonymousCredential, settings: StorageRetrySettings = {}, audience?: string): Pipeline {
  const { maxThrottleWaitMs, reporter, ...retryOptions } = settings;
  const pipeline = newPipeline(credential, { retryOptions, audience });
  // A custom policy joins a storage pipeline as a request policy factory. The SDK runs such policies
  // before its own retries and its signing, so a request sent again after a wait is signed afresh.
  pipeline.factories.unshift(throttlingPolicyFactory({ ...retryOptions, maxThrottleWaitMs, reporter }));
  return pipeline;
}

function throttlingPolicyFactory(settings: StorageRetrySettings): RequestPolicyFactory {
  const options = {
    // Transient failures are the storage SDK's own retries' to handle.
    maxRetries: 0,
    retryDelayInMs: settings.retryDelayInMs,
    maxRetryDelayInMs: settings.maxRetryDelayInMs,
    maxThrottleWaitMs: settings.maxThrottleWaitMs,
    reporter: settings.reporter,
  };
  return {
    create: (next: RequestPolicy): RequestPolicy => ({
      sendRequest: (request: WebResource) => sendWithRetries(request, () => next.sendRequest(request), options),
    }),
  };
}
