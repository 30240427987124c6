import type { Scenario } from '../../../local-azure/scenario';

/** An empty factory lab and the sample configuration's target labs, with VM phases short enough for tests. */
export const SUB = '7d2f5b8a-3c41-4e0f-9a6b-21c8d4e7f310';
export const LAB = 'ImageFactory';

export function emptyFactory(settings: Scenario['settings'] = {}): Scenario {
  return {
    labs: [
      { subscriptionId: SUB, resourceGroup: 'ImageFactory-rg', name: LAB, location: 'westus2' },
      { subscriptionId: SUB, resourceGroup: 'Engineering-Dev-rg', name: 'Engineering-Dev', location: 'westus2' },
      { subscriptionId: SUB, resourceGroup: 'Engineering-Test-rg', name: 'Engineering-Test', location: 'westus2' },
      { subscriptionId: 'c1a9e4f2-6b83-4d57-8e20-94f3b7a1d6c8', resourceGroup: 'Training-rg', name: 'Training', location: 'westus2' },
    ],
    settings: { vmCreateDurationMs: 300, artifactDurationMs: 200, vmShutdownDurationMs: 200, lroDurationMs: 100, lroRetryAfterSeconds: 0, ...settings },
  };
}
