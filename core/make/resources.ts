import { ResourceManagementClient } from '@azure/arm-resources';
import type { AzureContext } from '../azure/azureContext';

/**
 * The Resource Manager deployments client of a run, one per subscription. It lives here rather than in
 * the shared Azure context so that only MakeGoldenImageVMs bundles it (it is large).
 */
const clients = new WeakMap<AzureContext, Map<string, ResourceManagementClient>>();

export function resourcesClient(azure: AzureContext, subscriptionId: string): ResourceManagementClient {
  let bySubscription = clients.get(azure);
  if (!bySubscription) clients.set(azure, (bySubscription = new Map()));
  const key = subscriptionId.toLowerCase();
  let client = bySubscription.get(key);
  if (!client) {
    client = azure.armClient((credential, options) => new ResourceManagementClient(credential, subscriptionId, options));
    bySubscription.set(key, client);
  }
  return client;
}
