import * as tl from 'azure-pipelines-task-lib/task';
import { type AzureContext, type AzureContextOptions, createAzureContext } from '../../core/azure/azureContext';
import type { EndpointReader } from '../../core/azure/endpoint';
import { readServiceConnection } from '../../core/azure/serviceConnection';
import type { TaskContext } from './taskContext';

/**
 * The Azure context for the service connection chosen in the task's input `inputName`. Pipeline
 * variables (the OIDC request URL and the job's access token for workload identity federation) are
 * read through task-lib, like the connection itself.
 */
export function connectAzure(ctx: TaskContext, inputName = 'azureSubscription', options: Omit<AzureContextOptions, 'reporter'> = {}): AzureContext {
  const connectionId = ctx.input(inputName, true);
  const endpoints: EndpointReader = {
    url: (id) => ctx.endpoints.url(id),
    authScheme: (id) => ctx.endpoints.authScheme(id),
    authParameter: (id, key) => ctx.endpoints.authParameter(id, key),
    data: (id, key) => ctx.endpoints.data(id, key),
    variable: (name) => ctx.endpoints.variable?.(name) ?? tl.getVariable(name),
  };
  const connection = readServiceConnection(endpoints, connectionId);
  ctx.reporter.debug(
    `Service connection '${connection.connectionId}': ${connection.scheme}, tenant ${connection.tenantId}, ` +
      `Resource Manager ${connection.cloud.resourceManagerUrl}, authority ${connection.cloud.authorityHost}.`,
  );
  return createAzureContext(connection, { ...options, reporter: ctx.reporter });
}
