import { ErrorCodes, FactoryError } from '../errors';
import type { AzureContext } from './azureContext';
import type { LabRef } from './labs';

/**
 * The factory lab a task works on, found by name in the given subscription or the service connection's,
 * and announced in the log.
 */
export async function findFactoryLab(azure: AzureContext, options: { labName: string; subscriptionId?: string; signal?: AbortSignal }): Promise<LabRef> {
  const subscriptionId = options.subscriptionId ?? azure.connection.subscriptionId;
  if (!subscriptionId) {
    throw new FactoryError(ErrorCodes.ServiceConnectionInvalid, `The service connection '${azure.connection.connectionId}' names no subscription, so the factory lab '${options.labName}' cannot be found.`, {
      fix: 'Use an Azure Resource Manager service connection scoped to the subscription of the factory lab.',
      subject: azure.connection.connectionId,
    });
  }
  const lab = await azure.labs.find(subscriptionId, options.labName, { signal: options.signal });
  azure.reporter.info(`Factory lab '${lab.name}' (resource group '${lab.resourceGroup}', subscription ${lab.subscriptionId}, ${lab.location}).`);
  return lab;
}
