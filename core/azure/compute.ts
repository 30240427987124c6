import { ComputeManagementClient } from '@azure/arm-compute';
import { perSubscriptionClient } from './azureContext';

/** The run's Compute client for a subscription (disks, galleries, marketplace images), with its retries and pacing. */
export const computeClient = perSubscriptionClient(
  (credential, subscriptionId, options) =>
    new ComputeManagementClient(credential, subscriptionId, { endpoint: options.endpoint, credentials: { scopes: options.credentialScopes } }),
);
