import * as fs from 'node:fs';
import { checkMarketplace } from './compute/marketplaceVersions';
import { ComputeState } from './compute/state';
import { checkLabsScenario } from './devTestLabs/scenario';
import { DevTestLabsState } from './devTestLabs/state';
import { checkFaults, type FaultRule } from './faults';
import { checkGalleriesScenario } from './galleries/scenario';
import { GalleriesState } from './galleries/state';
import { checkIdentityScenario } from './identity/scenario';
import { IdentityState } from './identity/state';
import { checkSubscriptionsScenario } from './resourceManager/scenario';
import { ResourceManagerState } from './resourceManager/state';
import type { Scenario, ScenarioSettings } from './scenario';
import { checkAlone, Checker, ScenarioError } from './scenarioChecker';
import { checkSettings, DEFAULT_SETTINGS, type Settings } from './settings';
import { StorageState } from './storage/state';

/**
 * The local Azure's resources, in memory, as a scenario starts them and the API calls change them: one
 * slice per service, each with its resources, lookups and scenario loading in the service's folder.
 * A service whose resources make resources of another (a lab its storage account and its VMs' compute
 * resources) is given that service's slice.
 */
export class AzureState {
  readonly settings: Settings;
  readonly faults: FaultRule[];
  readonly identity: IdentityState;
  readonly resourceManager: ResourceManagerState;
  readonly compute: ComputeState;
  readonly storage: StorageState;
  readonly devTestLabs: DevTestLabsState;
  readonly galleries: GalleriesState;

  constructor(scenario: Scenario) {
    const checked = validateScenario(scenario, 'scenario');
    this.settings = { ...DEFAULT_SETTINGS, ...checked.settings };
    this.faults = checked.faults ?? [];
    this.identity = new IdentityState(checked);
    this.compute = new ComputeState(checked.marketplace);
    this.storage = new StorageState();
    this.devTestLabs = new DevTestLabsState(checked.labs, { compute: this.compute, storage: this.storage });
    this.galleries = new GalleriesState(checked.galleries);
    this.resourceManager = new ResourceManagerState(
      checked.subscriptions,
      [...this.devTestLabs.labs, ...this.galleries.galleries].map((resource) => resource.subscriptionId),
      [this.devTestLabs, this.compute, this.galleries],
    );
  }

  updateSettings(settings: ScenarioSettings): void {
    Object.assign(this.settings, checkAlone('settings', (c) => checkSettings(c, settings, 'settings')));
  }
}

export function loadScenarioFile(file: string): Scenario {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ScenarioError(file, [`cannot be read: ${(error as Error).message}`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ScenarioError(file, [`is not JSON: ${(error as Error).message}`]);
  }
  return validateScenario(raw, file);
}

/** Checks a scenario, each service its own part, and reports every problem at once, each with its JSON path. */
export function validateScenario(raw: unknown, source = 'scenario'): Scenario {
  const problems: string[] = [];
  const c = new Checker(problems);
  const root = c.object(raw, '$', ['$schema', 'description', 'tenantId', 'principals', 'managedIdentities', 'subscriptions', 'labs', 'galleries', 'settings', 'faults', 'marketplace']);
  if (!root) throw new ScenarioError(source, problems);
  checkIdentityScenario(c, root);
  const subscriptionIds = checkSubscriptionsScenario(c, root.subscriptions);
  checkLabsScenario(c, root.labs, subscriptionIds);
  if (root.galleries !== undefined) checkGalleriesScenario(c, root.galleries);
  if (root.settings !== undefined) checkSettings(c, root.settings, '$.settings');
  if (root.faults !== undefined) checkFaults(c, root.faults, '$.faults');
  if (root.marketplace !== undefined) checkMarketplace(c, root.marketplace, '$.marketplace');
  if (problems.length) throw new ScenarioError(source, problems);
  return root as unknown as Scenario;
}
