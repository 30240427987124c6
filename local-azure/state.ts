import { createHash, X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import { closestMatch } from '../core/config/suggest';
import type { FaultKind, FaultRule } from './faults';
import type {
  Scenario,
  ScenarioCustomImage,
  ScenarioFederatedCredential,
  ScenarioLab,
  ScenarioManagedIdentity,
  ScenarioPrincipal,
  ScenarioSettings,
  ScenarioVhd,
  ScenarioVm,
} from './scenario';

/** The local Azure's resources, in memory, as a scenario starts them and the API calls change them. */

export interface Settings {
  copyRateMBps: number;
  lroDurationMs: number;
  customImageDurationMs: number;
  lroRetryAfterSeconds: number;
  tokenLifetimeSeconds: number;
  pageSize: number;
}

export const DEFAULT_SETTINGS: Readonly<Settings> = {
  copyRateMBps: 1024,
  lroDurationMs: 200,
  customImageDurationMs: 500,
  lroRetryAfterSeconds: 1,
  tokenLifetimeSeconds: 3600,
  pageSize: 100,
};

export const DEFAULT_TENANT_ID = '5f0d8a8c-6a3e-4c1b-9e2d-7b4a1c3e5d6f';
export const DEFAULT_CLIENT_ID = '3c9a6e12-4b7d-4f0e-8a21-6d5c4b3a2f10';
export const DEFAULT_CLIENT_SECRET = 'local-azure-factory-secret';
/** Subject of the default federated credential: an Azure DevOps service connection `LocalAzure`. */
export const DEFAULT_FEDERATED_SUBJECT = 'sc://LocalOrg/ImageFactory/LocalAzure';
export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';
/** The managed identities of a machine whose scenario names none. */
export const DEFAULT_MANAGED_IDENTITIES: readonly ScenarioManagedIdentity[] = [
  { type: 'SystemAssigned', clientId: '7d4e2a91-3c5b-4f60-9a18-2b6c4d8e0f13', displayName: 'agent (system-assigned)' },
  { type: 'UserAssigned', clientId: '1f8b3c6d-9e2a-4d75-8c41-5a0e7b2d9f64', displayName: 'image-factory-identity' },
];
export const MANAGED_IDENTITY_TYPES = ['SystemAssigned', 'UserAssigned'] as const;

export type PowerState = 'deallocated' | 'stopped' | 'running' | 'starting' | 'deallocating' | 'stopping';
export const POWER_STATES: readonly PowerState[] = ['deallocated', 'stopped', 'running', 'starting', 'deallocating', 'stopping'];
const VM_PROVISIONING_STATES = ['Succeeded', 'Failed', 'Creating', 'Updating', 'Deleting'];
const IMAGE_PROVISIONING_STATES = ['Succeeded', 'Failed', 'Creating', 'Deleting'];
const FAULT_KINDS: readonly FaultKind[] = ['status', 'reset', 'slowLro', 'lroFailed', 'copyFailed'];
const GIB = 1024 * 1024 * 1024;

export interface FederatedCredential {
  /** undefined: the local OIDC issuer. */
  issuer?: string;
  subject: string;
  audiences: string[];
}

export interface Principal {
  clientId: string;
  clientSecret?: string;
  /** PEM certificates whose keys sign its client assertions. */
  certificates: string[];
  displayName: string;
  objectId: string;
  federatedCredentials: FederatedCredential[];
  /** Set for a managed identity of the machine: it gets tokens only from the identity endpoint. */
  managedIdentity?: ScenarioManagedIdentity['type'];
}

export interface Subscription {
  subscriptionId: string;
  displayName: string;
}

export interface Lab {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  storageAccount: string;
  denyAccess: boolean;
  tags: Record<string, string>;
  createdDate: string;
  uniqueIdentifier: string;
  vms: LabVm[];
  customImages: CustomImage[];
}

export interface DiskGrant {
  expiresAt: number;
}

/** Whether the VM's OS disk has a read SAS that has not ended. */
export function diskGrantActive(vm: LabVm): boolean {
  return !!vm.diskGrant && vm.diskGrant.expiresAt > Date.now();
}

export interface LabVm {
  name: string;
  tags: Record<string, string>;
  osType: 'Windows' | 'Linux';
  powerState: PowerState;
  provisioningState: string;
  notes?: string;
  createdDate: string;
  size: string;
  uniqueIdentifier: string;
  /** The Microsoft.Compute side: resource group `<lab>-<vm>-<digits>`, VM and OS disk in it. */
  computeResourceGroup: string;
  computeVmId: string;
  diskName: string;
  diskUniqueId: string;
  diskSizeGB: number;
  diskGrant?: DiskGrant;
}

export interface CustomImage {
  name: string;
  tags: Record<string, string>;
  osType: 'Windows' | 'Linux' | 'None';
  creationDate: string;
  provisioningState: string;
  author?: string;
  description?: string;
  uniqueIdentifier: string;
  vhd?: { imageName?: string; sysPrep?: boolean; osType: string };
  vm?: { sourceVmId?: string; windowsOsInfo?: { windowsOsState?: string }; linuxOsInfo?: { linuxOsState?: string } };
  managedImageId?: string;
}

/** A scenario file that does not describe a valid starting state; `problems` lists each, with its JSON path. */
export class ScenarioError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source} is not a valid scenario:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ScenarioError';
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

export class AzureState {
  readonly tenantId: string;
  readonly principals: Principal[];
  readonly managedIdentities: Principal[];
  readonly subscriptions: Subscription[];
  readonly labs: Lab[];
  readonly settings: Settings;
  readonly faults: FaultRule[];
  private readonly vhds = new Map<Lab, ScenarioVhd[]>();

  constructor(scenario: Scenario) {
    const checked = validateScenario(scenario, 'scenario');
    this.tenantId = checked.tenantId ?? DEFAULT_TENANT_ID;
    this.principals = (checked.principals ?? [{ clientId: DEFAULT_CLIENT_ID, clientSecret: DEFAULT_CLIENT_SECRET, displayName: 'factory' }]).map(
      toPrincipal,
    );
    this.managedIdentities = (checked.managedIdentities ?? DEFAULT_MANAGED_IDENTITIES).map(toManagedIdentity);
    this.settings = { ...DEFAULT_SETTINGS, ...checked.settings };
    this.faults = checked.faults ?? [];
    this.labs = checked.labs.map((scenarioLab) => {
      const lab = toLab(scenarioLab);
      this.vhds.set(lab, scenarioLab.vhds ?? []);
      return lab;
    });
    const subscriptions = new Map<string, Subscription>();
    for (const sub of checked.subscriptions ?? []) {
      subscriptions.set(sub.subscriptionId.toLowerCase(), { subscriptionId: sub.subscriptionId, displayName: sub.displayName ?? sub.subscriptionId });
    }
    for (const lab of this.labs) {
      if (!subscriptions.has(lab.subscriptionId.toLowerCase())) {
        subscriptions.set(lab.subscriptionId.toLowerCase(), { subscriptionId: lab.subscriptionId, displayName: `Subscription ${lab.subscriptionId.slice(0, 8)}` });
      }
    }
    this.subscriptions = [...subscriptions.values()];
  }

  /** The VHDs the scenario puts in the lab's `uploads` container at start. */
  vhdsOf(lab: Lab): ScenarioVhd[] {
    return this.vhds.get(lab) ?? [];
  }

  /** The principal a service connection signs in as by default: the first. */
  get defaultPrincipal(): Principal {
    return this.principals[0];
  }

  /** A service principal that signs in at the token endpoint. */
  findPrincipal(clientId: string): Principal | undefined {
    return this.principals.find((p) => p.clientId.toLowerCase() === clientId.toLowerCase());
  }

  /** Whoever a token is for: a service principal or a managed identity. */
  findPrincipalByObjectId(objectId: string): Principal | undefined {
    return [...this.principals, ...this.managedIdentities].find((p) => p.objectId.toLowerCase() === objectId.toLowerCase());
  }

  /** The machine's system-assigned identity, or its user-assigned identity with `clientId` (or `objectId`). */
  findManagedIdentity(id: { clientId?: string; objectId?: string }): Principal | undefined {
    const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
    if (id.clientId) return this.managedIdentities.find((p) => p.managedIdentity === 'UserAssigned' && same(p.clientId, id.clientId!));
    if (id.objectId) return this.managedIdentities.find((p) => p.managedIdentity === 'UserAssigned' && same(p.objectId, id.objectId!));
    return this.managedIdentities.find((p) => p.managedIdentity === 'SystemAssigned');
  }

  /** Registers one more certificate on a service principal (a certificate credential made at start). */
  addCertificate(clientId: string, certificatePem: string): void {
    const principal = this.findPrincipal(clientId);
    if (!principal) throw new Error(`The scenario has no principal ${clientId}.`);
    principal.certificates.push(certificatePem);
  }

  findSubscription(subscriptionId: string): Subscription | undefined {
    return this.subscriptions.find((s) => s.subscriptionId.toLowerCase() === subscriptionId.toLowerCase());
  }

  /** Resource groups exist where labs are and where lab VMs keep their compute resources. */
  resourceGroupExists(subscriptionId: string, resourceGroup: string): boolean {
    return this.labs.some(
      (lab) =>
        same(lab.subscriptionId, subscriptionId) &&
        (same(lab.resourceGroup, resourceGroup) || lab.vms.some((vm) => same(vm.computeResourceGroup, resourceGroup))),
    );
  }

  labsIn(subscriptionId: string, resourceGroup?: string): Lab[] {
    return this.labs.filter(
      (lab) => same(lab.subscriptionId, subscriptionId) && (resourceGroup === undefined || same(lab.resourceGroup, resourceGroup)),
    );
  }

  findLab(subscriptionId: string, resourceGroup: string, name: string): Lab | undefined {
    return this.labs.find((lab) => same(lab.subscriptionId, subscriptionId) && same(lab.resourceGroup, resourceGroup) && same(lab.name, name));
  }

  findLabByName(name: string, subscriptionId?: string): Lab | undefined {
    return this.labs.find((lab) => same(lab.name, name) && (subscriptionId === undefined || same(lab.subscriptionId, subscriptionId)));
  }

  findLabByAccount(account: string): Lab | undefined {
    return this.labs.find((lab) => lab.storageAccount === account.toLowerCase());
  }

  /** The lab VM whose compute VM or OS disk lives in `resourceGroup` under that name. */
  findCompute(
    subscriptionId: string,
    resourceGroup: string,
    kind: 'virtualMachine' | 'disk',
    name: string,
  ): { lab: Lab; vm: LabVm } | undefined {
    for (const lab of this.labs) {
      if (!same(lab.subscriptionId, subscriptionId)) continue;
      for (const vm of lab.vms) {
        if (!same(vm.computeResourceGroup, resourceGroup)) continue;
        if (kind === 'virtualMachine' ? same(vm.name, name) : same(vm.diskName, name)) return { lab, vm };
      }
    }
    return undefined;
  }

  addVm(lab: Lab, vm: ScenarioVm): LabVm {
    const problems: string[] = [];
    const checked = checkVm(new Checker(problems), vm, 'vm');
    if (findByName(lab.vms, vm.name)) problems.push(`vm.name: lab ${lab.name} already has a VM named ${vm.name}`);
    if (problems.length) throw new ScenarioError('VM', problems);
    const labVm = toLabVm(lab, checked ?? vm);
    lab.vms.push(labVm);
    return labVm;
  }

  addCustomImage(lab: Lab, image: ScenarioCustomImage): CustomImage {
    const problems: string[] = [];
    const checked = checkCustomImage(new Checker(problems), image, 'customImage');
    if (findByName(lab.customImages, image.name)) problems.push(`customImage.name: lab ${lab.name} already has a custom image named ${image.name}`);
    if (problems.length) throw new ScenarioError('custom image', problems);
    const custom = toCustomImage(lab, checked ?? image);
    lab.customImages.push(custom);
    return custom;
  }

  updateSettings(settings: ScenarioSettings): void {
    const problems: string[] = [];
    const checked = checkSettings(new Checker(problems), settings, 'settings');
    if (problems.length) throw new ScenarioError('settings', problems);
    Object.assign(this.settings, checked);
  }

  /** Accounts of the blob service: one per lab. */
  labAccounts(): string[] {
    return this.labs.map((lab) => lab.storageAccount);
  }
}

export function validateFaultRules(raw: unknown, source = 'faults'): FaultRule[] {
  const problems: string[] = [];
  const rules = checkFaults(new Checker(problems), raw, source);
  if (problems.length) throw new ScenarioError(source, problems);
  return rules ?? [];
}

export function checkVhd(vhd: ScenarioVhd, source = 'vhd'): ScenarioVhd {
  const problems: string[] = [];
  const checked = checkVhdEntry(new Checker(problems), vhd, source);
  if (problems.length || !checked) throw new ScenarioError(source, problems);
  return checked;
}

export function vhdSizeBytes(vhd: ScenarioVhd): number {
  return vhd.sizeBytes ?? GIB;
}

// ---- resource ids -------------------------------------------------------------------------------

/** Lab ids as DevTest Labs writes them: provider and `resourcegroups` in lower case, names as created. */
export function labId(lab: Lab): string {
  return `/subscriptions/${lab.subscriptionId}/resourcegroups/${lab.resourceGroup}/providers/microsoft.devtestlab/labs/${lab.name}`;
}

export function labVmId(lab: Lab, vm: LabVm): string {
  return `${labId(lab)}/virtualmachines/${vm.name}`;
}

export function customImageId(lab: Lab, image: CustomImage): string {
  return `${labId(lab)}/customimages/${image.name}`;
}

export function diskId(lab: Lab, vm: LabVm): string {
  return `/subscriptions/${lab.subscriptionId}/resourceGroups/${vm.computeResourceGroup}/providers/Microsoft.Compute/disks/${vm.diskName}`;
}

export function computeVmId(lab: Lab, vm: LabVm): string {
  return `/subscriptions/${lab.subscriptionId}/resourceGroups/${vm.computeResourceGroup}/providers/Microsoft.Compute/virtualMachines/${vm.name}`;
}

export function storageAccountId(lab: Lab): string {
  return `/subscriptions/${lab.subscriptionId}/resourceGroups/${lab.resourceGroup}/providers/Microsoft.Storage/storageAccounts/${lab.storageAccount}`;
}

export function same(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

export function findByName<T extends { name: string }>(items: readonly T[], name: string): T | undefined {
  return items.find((item) => same(item.name, name));
}

/** A stable GUID derived from `seed`, so the same scenario gives the same ids on every start. */
export function stableGuid(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function stableDigits(seed: string, count: number): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return (BigInt(`0x${hex.slice(0, 15)}`) % 10n ** BigInt(count)).toString().padStart(count, '0');
}

/** A storage account name in the style DevTest Labs picks: `a` + the lab name's letters + digits. */
export function defaultStorageAccount(subscriptionId: string, resourceGroup: string, labName: string): string {
  const letters = labName.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 13);
  return `a${letters}${stableDigits(`${subscriptionId}/${resourceGroup}/${labName}`.toLowerCase(), 10)}`;
}

// ---- scenario to state --------------------------------------------------------------------------

function toPrincipal(principal: ScenarioPrincipal): Principal {
  return {
    clientId: principal.clientId,
    clientSecret: principal.clientSecret,
    certificates: principal.certificatePem ? [principal.certificatePem] : [],
    displayName: principal.displayName ?? principal.clientId,
    objectId: principal.objectId ?? stableGuid(`oid:${principal.clientId.toLowerCase()}`),
    federatedCredentials: (principal.federatedCredentials ?? [{ subject: DEFAULT_FEDERATED_SUBJECT }]).map((fc: ScenarioFederatedCredential) => ({
      issuer: fc.issuer,
      subject: fc.subject,
      audiences: fc.audiences ?? [TOKEN_EXCHANGE_AUDIENCE],
    })),
  };
}

function toManagedIdentity(identity: ScenarioManagedIdentity): Principal {
  const clientId = identity.clientId ?? DEFAULT_MANAGED_IDENTITIES.find((d) => d.type === identity.type)!.clientId!;
  return {
    clientId,
    certificates: [],
    displayName: identity.displayName ?? `${identity.type === 'SystemAssigned' ? 'system' : 'user'}-assigned identity ${clientId}`,
    objectId: identity.objectId ?? stableGuid(`oid:${clientId.toLowerCase()}`),
    federatedCredentials: [],
    managedIdentity: identity.type,
  };
}

function toLab(scenarioLab: ScenarioLab): Lab {
  const lab: Lab = {
    subscriptionId: scenarioLab.subscriptionId,
    resourceGroup: scenarioLab.resourceGroup,
    name: scenarioLab.name,
    location: scenarioLab.location ?? 'westus2',
    storageAccount: scenarioLab.storageAccount ?? defaultStorageAccount(scenarioLab.subscriptionId, scenarioLab.resourceGroup, scenarioLab.name),
    denyAccess: scenarioLab.denyAccess ?? false,
    tags: { ...scenarioLab.tags },
    createdDate: '2024-01-15T09:30:00.0000000+00:00',
    uniqueIdentifier: stableGuid(`lab:${scenarioLab.subscriptionId}/${scenarioLab.resourceGroup}/${scenarioLab.name}`.toLowerCase()),
    vms: [],
    customImages: [],
  };
  for (const vm of scenarioLab.vms ?? []) lab.vms.push(toLabVm(lab, vm));
  for (const image of scenarioLab.customImages ?? []) lab.customImages.push(toCustomImage(lab, image));
  return lab;
}

function toLabVm(lab: Lab, vm: ScenarioVm): LabVm {
  const seed = `${labId(lab)}/${vm.name}`.toLowerCase();
  const computeResourceGroup = `${lab.name}-${vm.name}-${stableDigits(`rg:${seed}`, 6)}`;
  return {
    name: vm.name,
    tags: { ...vm.tags },
    osType: vm.osType ?? 'Windows',
    powerState: (vm.powerState ?? 'deallocated') as PowerState,
    provisioningState: vm.provisioningState ?? 'Succeeded',
    notes: vm.notes,
    createdDate: vm.createdDate ?? new Date().toISOString(),
    size: vm.size ?? 'Standard_DS2_v2',
    uniqueIdentifier: stableGuid(`vm:${seed}`),
    computeResourceGroup,
    computeVmId: stableGuid(`vmid:${seed}`),
    diskName: `${vm.name}_OsDisk_1_${createHash('sha256').update(`disk:${seed}`).digest('hex').slice(0, 32)}`,
    diskUniqueId: stableGuid(`disk:${seed}`),
    diskSizeGB: vm.diskSizeGB ?? 1,
  };
}

function toCustomImage(lab: Lab, image: ScenarioCustomImage): CustomImage {
  return {
    name: image.name,
    tags: { ...image.tags },
    osType: image.osType ?? 'Windows',
    creationDate: image.creationDate ?? new Date().toISOString(),
    provisioningState: image.provisioningState ?? 'Succeeded',
    author: image.author,
    description: image.description,
    uniqueIdentifier: stableGuid(`image:${labId(lab)}/${image.name}`.toLowerCase()),
    vhd: { osType: image.osType ?? 'Windows', sysPrep: false },
    managedImageId: `/subscriptions/${lab.subscriptionId}/resourceGroups/${lab.resourceGroup}/providers/Microsoft.Compute/images/${image.name}`,
  };
}

// ---- validation ---------------------------------------------------------------------------------

/** Custom image names DevTest Labs accepts. */
export const CUSTOM_IMAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
export const CUSTOM_IMAGE_NAME_HINT = 'must be 1-100 letters, digits, _ . or -, starting with a letter or digit';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

class Checker {
  constructor(readonly problems: string[]) {}

  problem(path: string, message: string): void {
    this.problems.push(`${path}: ${message}`);
  }

  object(value: unknown, path: string, allowed: readonly string[]): Record<string, unknown> | undefined {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.problem(path, 'must be an object');
      return undefined;
    }
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) {
        const near = closestMatch(key, allowed);
        this.problem(`${path}.${key}`, near ? `unknown field; did you mean "${near}"?` : `unknown field (known: ${allowed.join(', ')})`);
      }
    }
    return value as Record<string, unknown>;
  }

  array(value: unknown, path: string): unknown[] | undefined {
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) {
      this.problem(path, 'must be an array');
      return undefined;
    }
    return value;
  }

  string(value: unknown, path: string, options: { required?: boolean; pattern?: RegExp; hint?: string; oneOf?: readonly string[] } = {}): string | undefined {
    if (value === undefined) {
      if (options.required) this.problem(path, 'is required');
      return undefined;
    }
    if (typeof value !== 'string' || value === '') {
      this.problem(path, 'must be a non-empty string');
      return undefined;
    }
    if (options.oneOf && !options.oneOf.includes(value)) {
      this.problem(path, `must be one of ${options.oneOf.join(', ')} (got "${value}")`);
      return undefined;
    }
    if (options.pattern && !options.pattern.test(value)) {
      this.problem(path, `${options.hint ?? `must match ${options.pattern}`} (got "${value}")`);
      return undefined;
    }
    return value;
  }

  number(value: unknown, path: string, options: { min?: number; max?: number; integer?: boolean; above?: number } = {}): number | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.problem(path, 'must be a number');
      return undefined;
    }
    if (options.integer && !Number.isInteger(value)) this.problem(path, 'must be a whole number');
    else if (options.min !== undefined && value < options.min) this.problem(path, `must be at least ${options.min}`);
    else if (options.above !== undefined && value <= options.above) this.problem(path, `must be more than ${options.above}`);
    else if (options.max !== undefined && value > options.max) this.problem(path, `must be at most ${options.max}`);
    else return value;
    return undefined;
  }

  boolean(value: unknown, path: string): boolean | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') {
      this.problem(path, 'must be true or false');
      return undefined;
    }
    return value;
  }

  date(value: unknown, path: string): string | undefined {
    const text = this.string(value, path);
    if (text !== undefined && Number.isNaN(Date.parse(text))) {
      this.problem(path, `must be an ISO 8601 date (got "${text}")`);
      return undefined;
    }
    return text;
  }

  stringMap(value: unknown, path: string, keyPattern?: RegExp, keyHint?: string): Record<string, string> | undefined {
    if (value === undefined) return undefined;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.problem(path, 'must be an object of strings');
      return undefined;
    }
    for (const [key, item] of Object.entries(value)) {
      if (typeof item !== 'string') this.problem(`${path}.${key}`, 'must be a string');
      if (keyPattern && !keyPattern.test(key)) this.problem(`${path}.${key}`, keyHint ?? `name must match ${keyPattern}`);
    }
    return value as Record<string, string>;
  }
}

/** Checks a scenario and reports every problem at once, each with its JSON path. */
export function validateScenario(raw: unknown, source = 'scenario'): Scenario {
  const problems: string[] = [];
  const c = new Checker(problems);
  const root = c.object(raw, '$', ['$schema', 'description', 'tenantId', 'principals', 'managedIdentities', 'subscriptions', 'labs', 'settings', 'faults']);
  if (!root) throw new ScenarioError(source, problems);
  c.string(root.tenantId, '$.tenantId', { pattern: GUID, hint: 'must be a GUID' });

  const principals = c.array(root.principals, '$.principals');
  if (principals && principals.length === 0) c.problem('$.principals', 'must name at least one principal (or be left out for the default)');
  const clientIds = new Set<string>();
  principals?.forEach((item, i) => {
    const path = `$.principals[${i}]`;
    const p = c.object(item, path, ['clientId', 'clientSecret', 'certificatePem', 'displayName', 'objectId', 'federatedCredentials']);
    if (!p) return;
    const clientId = c.string(p.clientId, `${path}.clientId`, { required: true, pattern: /^\S+$/, hint: 'must not contain spaces' });
    if (clientId) {
      if (clientIds.has(clientId.toLowerCase())) c.problem(`${path}.clientId`, `${clientId} is listed twice`);
      clientIds.add(clientId.toLowerCase());
    }
    c.string(p.clientSecret, `${path}.clientSecret`);
    c.string(p.displayName, `${path}.displayName`);
    c.string(p.objectId, `${path}.objectId`, { pattern: GUID, hint: 'must be a GUID' });
    const pem = c.string(p.certificatePem, `${path}.certificatePem`);
    if (pem) {
      try {
        new X509Certificate(pem);
      } catch (error) {
        c.problem(`${path}.certificatePem`, `is not a PEM certificate (${(error as Error).message})`);
      }
    }
    const federated = c.array(p.federatedCredentials, `${path}.federatedCredentials`);
    federated?.forEach((fc, j) => {
      const fpath = `${path}.federatedCredentials[${j}]`;
      const f = c.object(fc, fpath, ['issuer', 'subject', 'audiences']);
      if (!f) return;
      c.string(f.issuer, `${fpath}.issuer`, { pattern: /^https:\/\//, hint: 'must be an https URL' });
      c.string(f.subject, `${fpath}.subject`, { required: true });
      c.array(f.audiences, `${fpath}.audiences`)?.forEach((a, k) => c.string(a, `${fpath}.audiences[${k}]`, { required: true }));
    });
  });

  let systemAssigned = 0;
  c.array(root.managedIdentities, '$.managedIdentities')?.forEach((item, i) => {
    const path = `$.managedIdentities[${i}]`;
    const m = c.object(item, path, ['type', 'clientId', 'objectId', 'displayName']);
    if (!m) return;
    const type = c.string(m.type, `${path}.type`, { required: true, oneOf: MANAGED_IDENTITY_TYPES });
    if (type === 'SystemAssigned' && ++systemAssigned === 2) c.problem(`${path}.type`, 'a machine has at most one system-assigned identity');
    const clientId = c.string(m.clientId, `${path}.clientId`, { required: type === 'UserAssigned', pattern: GUID, hint: 'must be a GUID' });
    if (clientId) {
      if (clientIds.has(clientId.toLowerCase())) c.problem(`${path}.clientId`, `${clientId} is listed twice`);
      clientIds.add(clientId.toLowerCase());
    }
    c.string(m.objectId, `${path}.objectId`, { pattern: GUID, hint: 'must be a GUID' });
    c.string(m.displayName, `${path}.displayName`);
  });

  const subscriptionIds = new Set<string>();
  c.array(root.subscriptions, '$.subscriptions')?.forEach((item, i) => {
    const path = `$.subscriptions[${i}]`;
    const s = c.object(item, path, ['subscriptionId', 'displayName']);
    if (!s) return;
    const id = c.string(s.subscriptionId, `${path}.subscriptionId`, { required: true, pattern: GUID, hint: 'must be a GUID' });
    if (id) subscriptionIds.add(id.toLowerCase());
    c.string(s.displayName, `${path}.displayName`);
  });

  if (root.labs === undefined) c.problem('$.labs', 'is required (an empty list is fine)');
  const labKeys = new Set<string>();
  const accounts = new Set<string>();
  c.array(root.labs, '$.labs')?.forEach((item, i) => {
    const path = `$.labs[${i}]`;
    const lab = c.object(item, path, ['subscriptionId', 'resourceGroup', 'name', 'location', 'storageAccount', 'denyAccess', 'tags', 'vms', 'customImages', 'vhds']);
    if (!lab) return;
    const sub = c.string(lab.subscriptionId, `${path}.subscriptionId`, { required: true, pattern: GUID, hint: 'must be a GUID' });
    if (sub && root.subscriptions !== undefined && !subscriptionIds.has(sub.toLowerCase())) {
      c.problem(`${path}.subscriptionId`, `${sub} is not in $.subscriptions`);
    }
    const rg = c.string(lab.resourceGroup, `${path}.resourceGroup`, {
      required: true,
      pattern: /^[-\w.()]{0,89}[-\w()]$/,
      hint: 'must be 1-90 letters, digits, _ - . ( ) and not end with a dot',
    });
    const name = c.string(lab.name, `${path}.name`, { required: true, pattern: /^[A-Za-z0-9_-]{1,50}$/, hint: 'must be 1-50 letters, digits, _ or -' });
    if (sub && rg && name) {
      const key = `${sub}/${rg}/${name}`.toLowerCase();
      if (labKeys.has(key)) c.problem(`${path}.name`, `lab ${name} in resource group ${rg} is listed twice`);
      labKeys.add(key);
    }
    c.string(lab.location, `${path}.location`, { pattern: /^[a-z0-9]+$/, hint: 'must be a region name such as westus2' });
    const account =
      c.string(lab.storageAccount, `${path}.storageAccount`, { pattern: /^[a-z0-9]{3,24}$/, hint: 'must be 3-24 lower-case letters and digits' }) ??
      (sub && rg && name ? defaultStorageAccount(sub, rg, name) : undefined);
    if (account) {
      if (accounts.has(account)) c.problem(`${path}.storageAccount`, `storage account ${account} is used by two labs`);
      accounts.add(account);
    }
    c.boolean(lab.denyAccess, `${path}.denyAccess`);
    c.stringMap(lab.tags, `${path}.tags`);
    const vmNames = new Set<string>();
    c.array(lab.vms, `${path}.vms`)?.forEach((vm, j) => {
      checkVm(c, vm, `${path}.vms[${j}]`);
      checkUnique(c, vmNames, vm, `${path}.vms[${j}].name`, 'VM', (name) => name.toLowerCase());
    });
    const imageNames = new Set<string>();
    c.array(lab.customImages, `${path}.customImages`)?.forEach((image, j) => {
      checkCustomImage(c, image, `${path}.customImages[${j}]`);
      checkUnique(c, imageNames, image, `${path}.customImages[${j}].name`, 'custom image', (name) => name.toLowerCase());
    });
    const vhdNames = new Set<string>();
    c.array(lab.vhds, `${path}.vhds`)?.forEach((vhd, j) => {
      checkVhdEntry(c, vhd, `${path}.vhds[${j}]`);
      // Blob names are case-sensitive.
      checkUnique(c, vhdNames, vhd, `${path}.vhds[${j}].name`, 'VHD', (name) => name);
    });
  });

  if (root.settings !== undefined) checkSettings(c, root.settings, '$.settings');
  if (root.faults !== undefined) checkFaults(c, root.faults, '$.faults');
  if (problems.length) throw new ScenarioError(source, problems);
  return root as unknown as Scenario;
}

/** Names in one list must differ (by `key`); checked on the raw entry, so a bad entry still counts. */
function checkUnique(c: Checker, seen: Set<string>, entry: unknown, path: string, what: string, key: (name: string) => string): void {
  const name = entry && typeof entry === 'object' ? (entry as { name?: unknown }).name : undefined;
  if (typeof name !== 'string' || name === '') return;
  if (seen.has(key(name))) c.problem(path, `${what} ${name} is listed twice`);
  seen.add(key(name));
}

function checkVm(c: Checker, raw: unknown, path: string): ScenarioVm | undefined {
  const vm = c.object(raw, path, ['name', 'tags', 'osType', 'powerState', 'provisioningState', 'notes', 'diskSizeGB', 'createdDate', 'size']);
  if (!vm) return undefined;
  const before = c.problems.length;
  c.string(vm.name, `${path}.name`, {
    required: true,
    pattern: /^[A-Za-z0-9][A-Za-z0-9-]{0,61}[A-Za-z0-9]$|^[A-Za-z0-9]$/,
    hint: 'must be 1-63 letters, digits or hyphens, not starting or ending with a hyphen',
  });
  c.stringMap(vm.tags, `${path}.tags`);
  c.string(vm.osType, `${path}.osType`, { oneOf: ['Windows', 'Linux'] });
  c.string(vm.powerState, `${path}.powerState`, { oneOf: POWER_STATES });
  c.string(vm.provisioningState, `${path}.provisioningState`, { oneOf: VM_PROVISIONING_STATES });
  if (vm.notes !== undefined && typeof vm.notes !== 'string') c.problem(`${path}.notes`, 'must be a string');
  c.number(vm.diskSizeGB, `${path}.diskSizeGB`, { integer: true, min: 1, max: 4095 });
  c.date(vm.createdDate, `${path}.createdDate`);
  c.string(vm.size, `${path}.size`);
  return c.problems.length === before ? (vm as unknown as ScenarioVm) : undefined;
}

function checkCustomImage(c: Checker, raw: unknown, path: string): ScenarioCustomImage | undefined {
  const image = c.object(raw, path, ['name', 'tags', 'osType', 'creationDate', 'provisioningState', 'author', 'description']);
  if (!image) return undefined;
  const before = c.problems.length;
  c.string(image.name, `${path}.name`, { required: true, pattern: CUSTOM_IMAGE_NAME, hint: CUSTOM_IMAGE_NAME_HINT });
  c.stringMap(image.tags, `${path}.tags`);
  c.string(image.osType, `${path}.osType`, { oneOf: ['Windows', 'Linux'] });
  c.date(image.creationDate, `${path}.creationDate`);
  c.string(image.provisioningState, `${path}.provisioningState`, { oneOf: IMAGE_PROVISIONING_STATES });
  c.string(image.author, `${path}.author`);
  if (image.description !== undefined && typeof image.description !== 'string') c.problem(`${path}.description`, 'must be a string');
  return c.problems.length === before ? (image as unknown as ScenarioCustomImage) : undefined;
}

function checkVhdEntry(c: Checker, raw: unknown, path: string): ScenarioVhd | undefined {
  const vhd = c.object(raw, path, ['name', 'sizeBytes', 'metadata']);
  if (!vhd) return undefined;
  const before = c.problems.length;
  c.string(vhd.name, `${path}.name`, { required: true, pattern: /^[^\\?#]{1,1024}$/, hint: 'must be a blob name (1-1024 characters, no \\ ? #)' });
  const size = c.number(vhd.sizeBytes, `${path}.sizeBytes`, { integer: true, min: 512 });
  if (size !== undefined && size % 512 !== 0) c.problem(`${path}.sizeBytes`, `must be a multiple of 512 (a page blob), got ${size}`);
  c.stringMap(vhd.metadata, `${path}.metadata`, /^[A-Za-z_][A-Za-z0-9_]*$/, 'metadata names must be letters, digits and _ (not starting with a digit)');
  return c.problems.length === before ? (vhd as unknown as ScenarioVhd) : undefined;
}

function checkSettings(c: Checker, raw: unknown, path: string): ScenarioSettings | undefined {
  const s = c.object(raw, path, Object.keys(DEFAULT_SETTINGS));
  if (!s) return undefined;
  const before = c.problems.length;
  c.number(s.copyRateMBps, `${path}.copyRateMBps`, { above: 0 });
  c.number(s.lroDurationMs, `${path}.lroDurationMs`, { min: 0 });
  c.number(s.customImageDurationMs, `${path}.customImageDurationMs`, { min: 0 });
  c.number(s.lroRetryAfterSeconds, `${path}.lroRetryAfterSeconds`, { integer: true, min: 0 });
  c.number(s.tokenLifetimeSeconds, `${path}.tokenLifetimeSeconds`, { integer: true, min: 1 });
  c.number(s.pageSize, `${path}.pageSize`, { integer: true, min: 1 });
  return c.problems.length === before ? (s as ScenarioSettings) : undefined;
}

function checkFaults(c: Checker, raw: unknown, path: string): FaultRule[] | undefined {
  const rules = c.array(raw, path);
  if (!rules) return undefined;
  const before = c.problems.length;
  rules.forEach((item, i) => {
    const rpath = `${path}[${i}]`;
    const r = c.object(item, rpath, ['operation', 'kind', 'status', 'code', 'retryAfterSeconds', 'delayMs', 'failAfterPercent', 'count', 'probability', 'match']);
    if (!r) return;
    c.string(r.operation, `${rpath}.operation`, { required: true });
    const kind = c.string(r.kind, `${rpath}.kind`, { required: true, oneOf: FAULT_KINDS });
    const status = c.number(r.status, `${rpath}.status`, { integer: true, min: 400, max: 599 });
    if (kind === 'status' && status === undefined && r.status === undefined) c.problem(`${rpath}.status`, 'is required for kind "status"');
    c.string(r.code, `${rpath}.code`);
    c.number(r.retryAfterSeconds, `${rpath}.retryAfterSeconds`, { integer: true, min: 0 });
    c.number(r.delayMs, `${rpath}.delayMs`, { min: 0 });
    if (kind === 'slowLro' && r.delayMs === undefined) c.problem(`${rpath}.delayMs`, 'is required for kind "slowLro"');
    c.number(r.failAfterPercent, `${rpath}.failAfterPercent`, { min: 0, max: 100 });
    c.number(r.count, `${rpath}.count`, { integer: true, min: 1 });
    c.number(r.probability, `${rpath}.probability`, { min: 0, max: 1 });
    if (r.count === undefined && r.probability === undefined) c.problem(rpath, 'needs count or probability');
    c.string(r.match, `${rpath}.match`);
  });
  return c.problems.length === before ? (rules as FaultRule[]) : undefined;
}
