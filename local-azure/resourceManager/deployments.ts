import { createHash, randomUUID } from 'node:crypto';
import { ArmError, ok, type Reply } from '../http';
import { deployLabVm } from '../devTestLabs/vmDeployment';
import type { ArmRequest } from './context';
import {
  type Deployment,
  deploymentEndTime,
  deploymentError,
  deploymentState,
  MAX_DEPLOYMENTS_PER_RESOURCE_GROUP,
  type OperationError,
  type ResourceOperation,
} from './deploymentState';
import { invalidRequestContent, resourceGroupNotFound } from './errors';
import { page } from './paging';
import { checkTags, optionalObject, requiredObject } from './requestBody';
import type { RouteSpec } from './routes';
import { invalidTemplate } from './templateExpressions';
import { type EvaluatedResource, evaluateTemplate } from './templates';

/**
 * Microsoft.Resources/deployments at resource group scope: create or update (a long-running operation
 * that ends when every resource it creates has been provisioned), get, list, list operations, cancel and
 * delete. Each resource type the local Azure deploys has a deployer in the folder of its service.
 */

export const DEPLOYMENT_API_VERSIONS = ['2021-04-01', '2022-09-01', '2024-03-01', '2025-03-01'] as const;

/** Starts the resource's creation; reports on `operation` as it goes. Throwing an ArmError fails the operation at once. */
export type ResourceDeployer = (request: ArmRequest, resource: EvaluatedResource, operation: ResourceOperation, options: { failure?: OperationError }) => void;

const DEPLOYERS: Record<string, ResourceDeployer> = {
  'microsoft.devtestlab/labs/virtualmachines': deployLabVm,
};

const GROUP = '/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}';
const DEPLOYMENTS = `${GROUP}/providers/Microsoft.Resources/deployments`;
const DEPLOYMENT = `${DEPLOYMENTS}/{deploymentName}`;
const NAME = /^[-\w.()]{1,64}$/;

function route(method: RouteSpec['method'], path: string, operationId: string, action: string, handler: RouteSpec['handler']): RouteSpec {
  return { method, path, operationId, action: `Microsoft.Resources/${action}`, apiVersions: DEPLOYMENT_API_VERSIONS, handler };
}

export const deploymentRoutes: RouteSpec[] = [
  route('GET', `${DEPLOYMENTS}`, 'Deployments_ListByResourceGroup', 'deployments/read', listDeployments),
  route('PUT', DEPLOYMENT, 'Deployments_CreateOrUpdate', 'deployments/write', createDeployment),
  route('GET', DEPLOYMENT, 'Deployments_Get', 'deployments/read', (r) => ok(deploymentView(r, resolveDeployment(r)))),
  route('DELETE', DEPLOYMENT, 'Deployments_Delete', 'deployments/delete', deleteDeployment),
  route('POST', `${DEPLOYMENT}/cancel`, 'Deployments_Cancel', 'deployments/cancel/action', cancelDeployment),
  route('GET', `${DEPLOYMENT}/operationStatuses/{operationName}`, 'Deployments_OperationStatus', 'deployments/operationstatuses/read', deploymentStatus),
  // The SDK lists operations without the provider segment; ARM answers both.
  route('GET', `${DEPLOYMENT}/operations`, 'DeploymentOperations_List', 'deployments/operations/read', listOperations),
  route('GET', `${GROUP}/deployments/{deploymentName}/operations`, 'DeploymentOperations_List', 'deployments/operations/read', listOperations),
  route('GET', '/subscriptions/{subscriptionId}/operationresults/{operationName}', 'Deployments_DeleteResult', 'deployments/read', deleteResult),
];

function deploymentId(d: Pick<Deployment, 'subscriptionId' | 'resourceGroup' | 'name'>): string {
  return `/subscriptions/${d.subscriptionId}/resourceGroups/${d.resourceGroup}/providers/Microsoft.Resources/deployments/${d.name}`;
}

function checkGroup(request: ArmRequest): void {
  const { subscriptionId, resourceGroupName } = request.params;
  if (!request.context.state.resourceManager.resourceGroupExists(subscriptionId, resourceGroupName)) throw resourceGroupNotFound(resourceGroupName);
}

function resolveDeployment(request: ArmRequest): Deployment {
  checkGroup(request);
  const { subscriptionId, resourceGroupName, deploymentName } = request.params;
  const deployment = request.context.state.resourceManager.deployments.find(subscriptionId, resourceGroupName, deploymentName);
  if (!deployment) throw new ArmError(404, 'DeploymentNotFound', `Deployment '${deploymentName}' could not be found.`);
  return deployment;
}

function createDeployment(request: ArmRequest): Reply {
  checkGroup(request);
  const { subscriptionId, resourceGroupName, deploymentName } = request.params;
  if (!NAME.test(deploymentName)) {
    throw new ArmError(400, 'InvalidDeploymentName', `The deployment name '${deploymentName}' is not valid: it must be 1-64 letters, digits, '-', '_', '.', '(' or ')'.`);
  }
  const { state } = request.context;
  const deployments = state.resourceManager.deployments;
  const existing = deployments.find(subscriptionId, resourceGroupName, deploymentName);
  if (existing && deploymentState(existing) === 'Running') {
    throw new ArmError(409, 'DeploymentActive', `The deployment '${deploymentName}' is still active; wait until it finishes, or cancel it, before deploying under this name again.`);
  }
  if (!existing && deployments.inGroup(subscriptionId, resourceGroupName).length >= MAX_DEPLOYMENTS_PER_RESOURCE_GROUP) {
    throw new ArmError(
      409,
      'DeploymentQuotaExceeded',
      `Creating the deployment '${deploymentName}' would exceed the quota of '${MAX_DEPLOYMENTS_PER_RESOURCE_GROUP}' deployments for resource group '${resourceGroupName}'. Delete deployments from the history to make room.`,
    );
  }
  const body = requiredObject(request.body, 'deployment');
  const properties = requiredObject(body.properties, 'properties');
  const tags = body.tags === undefined ? {} : checkTags(body.tags);
  if (properties.templateLink !== undefined || properties.parametersLink !== undefined) {
    throw invalidTemplate('Linked templates (templateLink, parametersLink) are not supported by the local Azure; send the template itself');
  }
  if (properties.mode !== 'Incremental' && properties.mode !== 'Complete') throw invalidRequestContent("properties.mode is required: 'Incremental' or 'Complete'.");
  if (properties.mode === 'Complete') throw invalidTemplate("Complete mode deployments are not supported by the local Azure; use 'Incremental'");
  if (properties.template === undefined) throw invalidRequestContent('properties.template is required.');
  optionalObject(properties.parameters, 'properties.parameters');

  const location = groupLocation(request);
  const evaluated = evaluateTemplate(properties.template, properties.parameters, {
    subscriptionId,
    resourceGroup: { id: `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroupName}`, name: resourceGroupName, location },
  });
  for (const [i, resource] of evaluated.resources.entries()) {
    if (!DEPLOYERS[resource.type.toLowerCase()]) {
      throw invalidTemplate(`The resource type '${resource.type}' at 'resources[${i}]' is not supported by the local Azure, which deploys ${Object.keys(DEPLOYERS).join(', ')}`);
    }
  }

  const deployment: Deployment = {
    subscriptionId,
    resourceGroup: resourceGroupName,
    name: deploymentName,
    correlationId: randomUUID(),
    templateHash: templateHash(properties.template),
    parameters: evaluated.shownParameters,
    startTime: new Date(),
    operations: [],
    tags,
  };
  deployments.put(deployment);
  const fault = request.context.faults.take(request.operationId, request.url.pathname, ['lroFailed']);
  const failure = fault ? { code: fault.code ?? 'InternalServerError', message: `The deployment '${deploymentName}' failed in the resource provider.` } : undefined;
  for (const resource of evaluated.resources) {
    const operation: ResourceOperation = {
      operationId: randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase(),
      resourceType: resource.type,
      resourceName: resource.name,
      targetId: '',
      state: 'Running',
      startTime: new Date(),
      statusCode: 'Created',
    };
    deployment.operations.push(operation);
    try {
      DEPLOYERS[resource.type.toLowerCase()](request, resource, operation, { failure });
    } catch (error) {
      if (!(error instanceof ArmError)) throw error;
      Object.assign(operation, { state: 'Failed', endTime: new Date(), statusCode: statusName(error.status), error: { code: error.code, message: error.message } });
    }
  }
  return {
    status: existing ? 200 : 201,
    headers: { 'Azure-AsyncOperation': `${request.context.baseUrl()}${deploymentId(deployment)}/operationStatuses/${deployment.correlationId}?api-version=${request.apiVersion}`, ...request.context.operations.retryAfter() },
    body: deploymentView(request, deployment),
  };
}

/** The resource group's location: that of the lab whose resource group it is. */
function groupLocation(request: ArmRequest): string {
  const { subscriptionId, resourceGroupName } = request.params;
  return request.context.state.devTestLabs.labsIn(subscriptionId, resourceGroupName)[0]?.location ?? 'westus2';
}

function templateHash(template: unknown): string {
  return BigInt(`0x${createHash('sha256').update(JSON.stringify(template)).digest('hex').slice(0, 16)}`).toString();
}

function deploymentStatus(request: ArmRequest): Reply {
  const deployment = resolveDeployment(request);
  if (deployment.correlationId !== request.params.operationName) throw new ArmError(404, 'OperationNotFound', `The operation '${request.params.operationName}' could not be found.`);
  const status = deploymentState(deployment);
  const body: Record<string, unknown> = { status };
  const error = deploymentError(deployment);
  if (error) body.error = error;
  if (status === 'Canceled') body.error = { code: 'DeploymentCanceled', message: `The deployment '${deployment.name}' was canceled.` };
  return { status: 200, headers: status === 'Running' ? request.context.operations.retryAfter() : {}, body };
}

function listDeployments(request: ArmRequest): Reply {
  checkGroup(request);
  const { subscriptionId, resourceGroupName } = request.params;
  return page(request, request.context.state.resourceManager.deployments.inGroup(subscriptionId, resourceGroupName), (d) => deploymentView(request, d));
}

function listOperations(request: ArmRequest): Reply {
  const deployment = resolveDeployment(request);
  return page(request, deployment.operations, (op) => operationView(deployment, op));
}

function cancelDeployment(request: ArmRequest): Reply {
  const deployment = resolveDeployment(request);
  if (deploymentState(deployment) !== 'Running') {
    throw new ArmError(409, 'DeploymentCannotBeCancelled', `The deployment '${deployment.name}' cannot be canceled: it is ${deploymentState(deployment)}.`);
  }
  // As in Azure, what the deployment had started stays as it is: canceling stops only the deployment.
  deployment.canceled = new Date();
  return { status: 204 };
}

function deleteDeployment(request: ArmRequest): Reply {
  checkGroup(request);
  const { subscriptionId, resourceGroupName, deploymentName } = request.params;
  const deployment = request.context.state.resourceManager.deployments.find(subscriptionId, resourceGroupName, deploymentName);
  if (!deployment) return { status: 204 };
  if (deploymentState(deployment) === 'Running') {
    throw new ArmError(409, 'DeploymentActive', `The deployment '${deployment.name}' is still running and cannot be deleted; cancel it first.`);
  }
  deployment.deletingUntil ??= Date.now() + request.context.state.settings.lroDurationMs;
  const token = Buffer.from(JSON.stringify([resourceGroupName, deployment.name, deployment.correlationId])).toString('base64url');
  return {
    status: 202,
    headers: { Location: `${request.context.baseUrl()}/subscriptions/${subscriptionId}/operationresults/${token}?api-version=${request.apiVersion}`, ...request.context.operations.retryAfter() },
  };
}

function deleteResult(request: ArmRequest): Reply {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(request.params.operationName, 'base64url').toString('utf8'));
  } catch {
    parts = undefined;
  }
  if (!Array.isArray(parts) || parts.length !== 3) throw new ArmError(404, 'OperationNotFound', `The operation '${request.params.operationName}' could not be found.`);
  const [group, name, correlationId] = parts as string[];
  const deployment = request.context.state.resourceManager.deployments.find(request.params.subscriptionId, group, name);
  if (deployment && deployment.correlationId === correlationId) return { status: 202, headers: { Location: request.url.toString(), ...request.context.operations.retryAfter() } };
  return { status: 204 };
}

function deploymentView(request: ArmRequest, d: Deployment): Record<string, unknown> {
  const state = deploymentState(d);
  const end = deploymentEndTime(d);
  const properties: Record<string, unknown> = {
    templateHash: d.templateHash,
    parameters: d.parameters,
    mode: 'Incremental',
    provisioningState: state,
    timestamp: (end ?? d.startTime).toISOString(),
    duration: isoDuration((end?.getTime() ?? Date.now()) - d.startTime.getTime()),
    correlationId: d.correlationId,
    providers: [...new Set(d.operations.map((op) => op.resourceType.split('/')[0]))].map((namespace) => ({ namespace, resourceTypes: [] })),
    dependencies: [],
    outputResources: d.operations.filter((op) => op.state === 'Succeeded' && op.targetId).map((op) => ({ id: op.targetId })),
  };
  const error = deploymentError(d);
  if (error) properties.error = error;
  if (state === 'Succeeded') properties.outputs = {};
  void request;
  return { id: deploymentId(d), name: d.name, type: 'Microsoft.Resources/deployments', tags: { ...d.tags }, properties };
}

function operationView(d: Deployment, op: ResourceOperation): Record<string, unknown> {
  const end = op.endTime;
  return {
    id: `${deploymentId(d)}/operations/${op.operationId}`,
    operationId: op.operationId,
    properties: {
      provisioningOperation: 'Create',
      provisioningState: op.state,
      timestamp: (end ?? op.startTime).toISOString(),
      duration: isoDuration((end?.getTime() ?? Date.now()) - op.startTime.getTime()),
      trackingId: d.correlationId,
      serviceRequestId: d.correlationId,
      statusCode: op.statusCode,
      statusMessage: op.error ? { status: 'Failed', error: op.error } : {},
      targetResource: { id: op.targetId || undefined, resourceType: op.resourceType, resourceName: op.resourceName },
    },
  };
}

function isoDuration(ms: number): string {
  return `PT${(Math.max(0, ms) / 1000).toFixed(3).replace(/\.?0+$/, '')}S`;
}

export function statusName(status: number): string {
  const names: Record<number, string> = { 400: 'BadRequest', 403: 'Forbidden', 404: 'NotFound', 409: 'Conflict', 500: 'InternalServerError' };
  return names[status] ?? String(status);
}
