import { type AzureContext, type AzureContextOptions, createAzureContext } from '../../core/azure/azureContext';
import { readServiceConnection } from '../../core/azure/serviceConnection';
import { ErrorCodes, FactoryError } from '../../core/errors';
import type { TaskContext } from './taskContext';

/**
 * The Azure context for the service connection chosen in the task's input `inputName`. Pipeline
 * variables (the OIDC request URL and the job's access token for workload identity federation) are
 * read through task-lib, like the connection itself, secrets masked before anything prints them
 * (endpoints.ts).
 */
export function connectAzure(ctx: TaskContext, inputName = 'azureSubscription', options: Omit<AzureContextOptions, 'reporter'> = {}): AzureContext {
  const connectionId = ctx.input(inputName, true);
  const connection = readServiceConnection(ctx.endpoints, connectionId);
  ctx.reporter.debug(
    `Service connection '${connection.connectionId}': ${connection.scheme}, tenant ${connection.tenantId}, ` +
      `Resource Manager ${connection.cloud.resourceManagerUrl}, authority ${connection.cloud.authorityHost}.`,
  );
  return createAzureContext(connection, { ...options, reporter: ctx.reporter });
}

/** The factory lab's subscription: the `SubscriptionId` input, else the service connection's. */
export function factorySubscriptionId(azure: AzureContext, inputSubscriptionId: string | undefined): string {
  const subscriptionId = inputSubscriptionId ?? azure.connection.subscriptionId;
  if (!subscriptionId) {
    throw new FactoryError(ErrorCodes.InputInvalid, `The factory lab's subscription is not known: 'SubscriptionId' is empty and the service connection names none.`, {
      fix: "Set 'SubscriptionId' to the id of the subscription that holds the factory lab.",
      subject: 'SubscriptionId',
    });
  }
  return subscriptionId;
}
