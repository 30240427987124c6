import { DevTestLabsClient } from '@azure/arm-devtestlabs';
import type { TokenCredential } from '@azure/core-auth';
import { bearerTokenAuthenticationPolicyName, type Pipeline } from '@azure/core-rest-pipeline';
import { type Reporter, silentReporter } from '../report';
import { createCredential } from './credentials';
import { LabSharedGalleries } from './labSharedGalleries';
import { LabDirectory } from './labs';
import { ArmPacer } from './armPacing';
import { armRetryPolicy, type ArmRetryOptions } from './retryPolicy';
import { scopeFor, type ServiceConnection } from './serviceConnection';
import type { StorageRetrySettings } from './storageClients';

/**
 * Everything a task needs to talk to Azure for one service connection: one credential, one client per
 * subscription and API, retries that wait for throttling, and the lab directory.
 */
export interface AzureContextOptions {
  reporter?: Reporter;
  /** Retries of transient failures (5xx, dropped connections) per request. Default 6. */
  maxRetries?: number;
  /** Interval between polls of a long-running operation when Azure names none (Retry-After wins). Default 2000 ms. */
  pollIntervalMs?: number;
  /** First back-off after a transient failure. Default 1000 ms. */
  retryDelayInMs?: number;
  /** Longest back-off after a transient failure. Default 30 000 ms. */
  maxRetryDelayInMs?: number;
  /** Longest total wait for throttling per request. Default 15 minutes. */
  maxThrottleWaitMs?: number;
  /** A credential to use instead of the one the service connection describes. */
  credential?: TokenCredential;
}

export interface AzureContext {
  readonly connection: ServiceConnection;
  readonly credential: TokenCredential;
  readonly reporter: Reporter;
  /** Pass as `updateIntervalInMs` to begin...AndWait long-running operations. */
  readonly pollIntervalMs: number;
  /** Cached per subscription, retries configured. */
  devTestLabs(subscriptionId: string): DevTestLabsClient;
  /**
   * Another Resource Manager client (in a module of its own, so that only the tasks that use it bundle
   * it: see `perSubscriptionClient`), made with the connection's endpoint and scopes, with the run's
   * retries and pacing on its pipeline.
   */
  armClient<T extends { pipeline: Pipeline }>(create: (credential: TokenCredential, options: ArmClientOptions) => T): T;
  readonly labs: LabDirectory;
  /** Labs' shared galleries (DevTest Labs 2018-10-15-preview), through the DevTest Labs clients. */
  readonly sharedGalleries: LabSharedGalleries;
  /** Retries of the run's blob clients: pass to `sasBlobClient` for SAS URLs (upload URIs, disk access). */
  readonly storageRetryOptions: StorageRetrySettings;
}

/** What a generated Resource Manager client needs to reach the connection's cloud (`$host` is some clients' name for the endpoint). */
export interface ArmClientOptions {
  endpoint: string;
  $host: string;
  credentialScopes: string[];
}

export const DEFAULT_POLL_INTERVAL_MS = 2000;

/**
 * Storage retries: the blob SDK retries 500 and 503 (Azure Storage's "server busy") with exponential
 * back-off; five tries from 1 s capped at 30 s ride out a busy account for about 15 s, as data-plane
 * calls are short. Throttling is waited out as the account asks, within the same total wait as
 * Resource Manager's (storageClients.ts).
 */
export function storageRetryOptions(
  options: Pick<AzureContextOptions, 'retryDelayInMs' | 'maxRetryDelayInMs' | 'maxThrottleWaitMs' | 'reporter'> = {},
): StorageRetrySettings {
  return {
    maxTries: 5,
    retryDelayInMs: options.retryDelayInMs ?? 1000,
    maxRetryDelayInMs: options.maxRetryDelayInMs ?? 30_000,
    maxThrottleWaitMs: options.maxThrottleWaitMs,
    reporter: options.reporter,
  };
}

export function createAzureContext(connection: ServiceConnection, options: AzureContextOptions = {}): AzureContext {
  const reporter = options.reporter ?? silentReporter;
  const retry = retryOptions(options, reporter);
  const credential = options.credential ?? createCredential(connection, { reporter, retry });
  const endpoint = connection.cloud.resourceManagerUrl;
  const scopes = [scopeFor(connection.cloud.resourceManagerAudience)];
  // Resource Manager's buckets are the principal's: every client of the run shares one pacer.
  const pacer = new ArmPacer(reporter);
  const context: AzureContext = {
    connection,
    credential,
    reporter,
    pollIntervalMs: options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    storageRetryOptions: storageRetryOptions({ ...options, reporter }),
    // The clients default to public Azure: request URLs from `endpoint` (and `$host`, the DevTest Labs
    // client's own name for it) and token scopes must come from the connection.
    devTestLabs: perSubscription((subscriptionId) => {
      const client = new DevTestLabsClient(credential, subscriptionId, { endpoint, $host: endpoint, credentialScopes: scopes });
      useArmRetries(client.pipeline, retry, pacer);
      return client;
    }),
    armClient: (create) => {
      const client = create(credential, { endpoint, $host: endpoint, credentialScopes: scopes });
      useArmRetries(client.pipeline, retry, pacer);
      return client;
    },
    labs: undefined as unknown as LabDirectory,
    sharedGalleries: undefined as unknown as LabSharedGalleries,
  };
  (context as { labs: LabDirectory }).labs = new LabDirectory(context);
  (context as { sharedGalleries: LabSharedGalleries }).sharedGalleries = new LabSharedGalleries(context, endpoint);
  return context;
}

/**
 * A Resource Manager client of one API, one per subscription and run, that lives in its own module:
 * a task bundles an SDK client only if its code calls that module (the Compute client alone is about
 * 450 KB of each bundle).
 */
export function perSubscriptionClient<T extends { pipeline: Pipeline }>(
  create: (credential: TokenCredential, subscriptionId: string, options: ArmClientOptions) => T,
): (azure: AzureContext, subscriptionId: string) => T {
  const runs = new WeakMap<AzureContext, (subscriptionId: string) => T>();
  return (azure, subscriptionId) => {
    let client = runs.get(azure);
    if (!client) {
      client = perSubscription((id) => azure.armClient((credential, options) => create(credential, id, options)));
      runs.set(azure, client);
    }
    return client(subscriptionId);
  };
}

/** One client per subscription for the whole run (subscription ids compared without case). */
function perSubscription<T>(make: (subscriptionId: string) => T): (subscriptionId: string) => T {
  const clients = new Map<string, T>();
  return (subscriptionId) => {
    const key = subscriptionId.toLowerCase();
    let client = clients.get(key);
    if (!client) {
      client = make(subscriptionId);
      clients.set(key, client);
    }
    return client;
  };
}

function retryOptions(options: AzureContextOptions, reporter: Reporter): ArmRetryOptions {
  return {
    maxRetries: options.maxRetries,
    retryDelayInMs: options.retryDelayInMs,
    maxRetryDelayInMs: options.maxRetryDelayInMs,
    maxThrottleWaitMs: options.maxThrottleWaitMs,
    reporter,
  };
}

/**
 * Replaces the SDK's retry policy with ours (see retryPolicy.ts for why), and signs each attempt
 * rather than each request: the clients add their token policy before the retry phase, so a request
 * retried after a long throttling wait would be sent again with a token that has since expired. Each
 * attempt is also paced to the principal's token buckets (armPacing.ts).
 */
export function useArmRetries(pipeline: Pipeline, options: ArmRetryOptions, pacer?: ArmPacer): void {
  pipeline.removePolicy({ name: 'defaultRetryPolicy' });
  pipeline.addPolicy(armRetryPolicy(options), { phase: 'Retry' });
  if (pacer) pipeline.addPolicy(pacer.policy(), { afterPhase: 'Retry' });
  const signing = pipeline.getOrderedPolicies().find((policy) => policy.name === bearerTokenAuthenticationPolicyName);
  if (signing) {
    pipeline.removePolicy({ name: signing.name });
    pipeline.addPolicy(signing, { phase: 'Sign' });
  }
}
