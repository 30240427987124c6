import { ResourceManagementClient } from '@azure/arm-resources';
import { perSubscriptionClient } from '../azure/azureContext';

/** The Resource Manager deployments client of a run, one per subscription (only MakeGoldenImageVMs bundles it: it is large). */
export const resourcesClient = perSubscriptionClient(
  (credential, subscriptionId, options) => new ResourceManagementClient(credential, subscriptionId, options),
);
