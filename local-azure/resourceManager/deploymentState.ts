import type { TemplateValue } from './templateExpressions';

/**
 * Resource Manager deployments of a resource group: what each created and how each of its resource
 * operations went. A deployment's state follows from its operations: Running while any runs, Failed
 * when any failed, Succeeded when all did; each resource provider reports on its own operation.
 */

export type DeploymentState = 'Accepted' | 'Running' | 'Succeeded' | 'Failed' | 'Canceled';

export interface OperationError {
  code: string;
  message: string;
}

/** One resource operation of a deployment, as the provider that carries it out reports it. */
export interface ResourceOperation {
  operationId: string;
  resourceType: string;
  resourceName: string;
  targetId: string;
  state: 'Running' | 'Succeeded' | 'Failed';
  startTime: Date;
  endTime?: Date;
  /** HTTP status name of the provider's answer (`Created`, `Conflict`, `BadRequest`). */
  statusCode: string;
  error?: OperationError;
}

export interface Deployment {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  correlationId: string;
  templateHash: string;
  parameters: Record<string, { type: string; value?: TemplateValue }>;
  startTime: Date;
  operations: ResourceOperation[];
  canceled?: Date;
  /** Set by a delete: the deployment is gone once this time has passed. */
  deletingUntil?: number;
  tags: Record<string, string>;
}

/** Azure's limit: a resource group keeps the history of at most 800 deployments. */
export const MAX_DEPLOYMENTS_PER_RESOURCE_GROUP = 800;

export function deploymentState(deployment: Deployment): DeploymentState {
  if (deployment.canceled) return 'Canceled';
  if (deployment.operations.some((op) => op.state === 'Failed')) {
    return deployment.operations.some((op) => op.state === 'Running') ? 'Running' : 'Failed';
  }
  if (deployment.operations.some((op) => op.state === 'Running')) return 'Running';
  return 'Succeeded';
}

export function deploymentEndTime(deployment: Deployment): Date | undefined {
  if (deployment.canceled) return deployment.canceled;
  if (deployment.operations.some((op) => op.state === 'Running')) return undefined;
  const ends = deployment.operations.map((op) => op.endTime?.getTime() ?? deployment.startTime.getTime());
  return new Date(Math.max(deployment.startTime.getTime(), ...ends));
}

/** The error a failed deployment reports: ARM's summary with each failed operation's error as a detail. */
export function deploymentError(deployment: Deployment): { code: string; message: string; details: OperationError[] } | undefined {
  if (deploymentState(deployment) !== 'Failed') return undefined;
  return {
    code: 'DeploymentFailed',
    message:
      'At least one resource deployment operation failed. Please list deployment operations for details. Please see https://aka.ms/arm-deployment-operations for usage details.',
    details: deployment.operations.filter((op) => op.error).map((op) => ({ ...op.error! })),
  };
}

export class DeploymentsState {
  private readonly deployments: Deployment[] = [];

  /** The deployments of a resource group, without those whose delete has finished. */
  inGroup(subscriptionId: string, resourceGroup: string): Deployment[] {
    this.purgeDeleted();
    return this.deployments.filter((d) => sameText(d.subscriptionId, subscriptionId) && sameText(d.resourceGroup, resourceGroup));
  }

  find(subscriptionId: string, resourceGroup: string, name: string): Deployment | undefined {
    return this.inGroup(subscriptionId, resourceGroup).find((d) => sameText(d.name, name));
  }

  /** Adds a deployment, replacing a finished one of the same name (ARM keeps one history entry per name). */
  put(deployment: Deployment): void {
    const existing = this.find(deployment.subscriptionId, deployment.resourceGroup, deployment.name);
    if (existing) this.deployments.splice(this.deployments.indexOf(existing), 1);
    this.deployments.push(deployment);
  }

  all(): Deployment[] {
    this.purgeDeleted();
    return [...this.deployments];
  }

  private purgeDeleted(): void {
    const now = Date.now();
    for (let i = this.deployments.length - 1; i >= 0; i--) {
      const until = this.deployments[i].deletingUntil;
      if (until !== undefined && until <= now) this.deployments.splice(i, 1);
    }
  }
}

function sameText(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
