import { same } from '../ids';
import type { Scenario } from '../scenario';
import { DeploymentsState } from './deploymentState';

/**
 * The Resource Manager slice of the local Azure's state: subscriptions and resource groups. A resource
 * group exists where some service keeps a resource: each service slice that has resource groups is a
 * ResourceGroupHolder, asked in turn.
 */

export interface Subscription {
  subscriptionId: string;
  displayName: string;
}

export interface ResourceGroupHolder {
  hasResourceGroup(subscriptionId: string, resourceGroup: string): boolean;
}

export class ResourceManagerState {
  readonly subscriptions: Subscription[];
  readonly deployments = new DeploymentsState();

  /**
   * @param impliedSubscriptionIds subscriptions that exist because resources are in them (the labs'),
   *   added after the scenario's own.
   */
  constructor(
    scenarioSubscriptions: Scenario['subscriptions'],
    impliedSubscriptionIds: readonly string[],
    private readonly holders: readonly ResourceGroupHolder[],
  ) {
    const subscriptions = new Map<string, Subscription>();
    for (const sub of scenarioSubscriptions ?? []) {
      subscriptions.set(sub.subscriptionId.toLowerCase(), { subscriptionId: sub.subscriptionId, displayName: sub.displayName ?? sub.subscriptionId });
    }
    for (const subscriptionId of impliedSubscriptionIds) {
      if (!subscriptions.has(subscriptionId.toLowerCase())) {
        subscriptions.set(subscriptionId.toLowerCase(), { subscriptionId, displayName: `Subscription ${subscriptionId.slice(0, 8)}` });
      }
    }
    this.subscriptions = [...subscriptions.values()];
  }

  findSubscription(subscriptionId: string): Subscription | undefined {
    return this.subscriptions.find((s) => same(s.subscriptionId, subscriptionId));
  }

  resourceGroupExists(subscriptionId: string, resourceGroup: string): boolean {
    return this.holders.some((holder) => holder.hasResourceGroup(subscriptionId, resourceGroup));
  }
}
