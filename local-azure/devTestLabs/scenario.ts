import { defaultMarketplaceImage, imageGeneration, SECURITY_TYPES, securityTypeProblem, type SecurityType } from '../compute/marketplace';
import { POWER_STATES } from '../compute/state';
import type { ScenarioCustomImage, ScenarioVm } from '../scenario';
import { checkUnique, GUID, type Checker } from '../scenarioChecker';
import { checkBlobDataRolesScenario, checkVhdScenario } from '../storage/scenario';
import { defaultStorageAccount } from './ids';

/** The DevTest Labs part of a scenario: `labs`, with their VMs, custom images and VHDs. */

/** Custom image names DevTest Labs accepts. */
export const CUSTOM_IMAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
export const CUSTOM_IMAGE_NAME_HINT = 'must be 1-100 letters, digits, _ . or -, starting with a letter or digit';

const VM_PROVISIONING_STATES = ['Succeeded', 'Failed', 'Creating', 'Updating', 'Deleting'];
const IMAGE_PROVISIONING_STATES = ['Succeeded', 'Failed', 'Creating', 'Deleting'];

/** @param subscriptionIds the scenario's subscriptions (lower case), or undefined when it lists none. */
export function checkLabsScenario(c: Checker, raw: unknown, subscriptionIds: ReadonlySet<string> | undefined): void {
  if (raw === undefined) c.problem('$.labs', 'is required (an empty list is fine)');
  const labKeys = new Set<string>();
  const accounts = new Set<string>();
  c.array(raw, '$.labs')?.forEach((item, i) => {
    const path = `$.labs[${i}]`;
    const lab = c.object(item, path, ['subscriptionId', 'resourceGroup', 'name', 'location', 'storageAccount', 'denyAccess', 'blobDataRoles', 'tags', 'vms', 'customImages', 'vhds', 'sharedGallery']);
    if (!lab) return;
    const sub = c.string(lab.subscriptionId, `${path}.subscriptionId`, { required: true, pattern: GUID, hint: 'must be a GUID' });
    if (sub && subscriptionIds && !subscriptionIds.has(sub.toLowerCase())) {
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
    checkBlobDataRolesScenario(c, lab.blobDataRoles, `${path}.blobDataRoles`);
    c.stringMap(lab.tags, `${path}.tags`);
    const vmNames = new Set<string>();
    c.array(lab.vms, `${path}.vms`)?.forEach((vm, j) => {
      checkVmScenario(c, vm, `${path}.vms[${j}]`);
      checkUnique(c, vmNames, vm, `${path}.vms[${j}].name`, 'VM', (name) => name.toLowerCase());
    });
    const imageNames = new Set<string>();
    c.array(lab.customImages, `${path}.customImages`)?.forEach((image, j) => {
      checkCustomImageScenario(c, image, `${path}.customImages[${j}]`);
      checkUnique(c, imageNames, image, `${path}.customImages[${j}].name`, 'custom image', (name) => name.toLowerCase());
    });
    if (lab.sharedGallery !== undefined) {
      const shared = c.object(lab.sharedGallery, `${path}.sharedGallery`, ['name', 'galleryId', 'allowAllImages']);
      if (shared) {
        c.string(shared.name, `${path}.sharedGallery.name`, { required: true, pattern: /^[A-Za-z0-9_.-]{1,80}$/, hint: 'must be 1-80 letters, digits, _ . -' });
        c.string(shared.galleryId, `${path}.sharedGallery.galleryId`, {
          required: true,
          pattern: /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/galleries\/[^/]+$/i,
          hint: 'must be a Compute gallery id',
        });
        c.string(shared.allowAllImages, `${path}.sharedGallery.allowAllImages`, { oneOf: ['Enabled', 'Disabled'] });
      }
    }
    const vhdNames = new Set<string>();
    c.array(lab.vhds, `${path}.vhds`)?.forEach((vhd, j) => {
      checkVhdScenario(c, vhd, `${path}.vhds[${j}]`);
      // Blob names are case-sensitive.
      checkUnique(c, vhdNames, vhd, `${path}.vhds[${j}].name`, 'VHD', (name) => name);
    });
  });
}

export function checkVmScenario(c: Checker, raw: unknown, path: string): ScenarioVm | undefined {
  const vm = c.object(raw, path, ['name', 'tags', 'osType', 'powerState', 'provisioningState', 'notes', 'diskSizeGB', 'createdDate', 'size', 'imageReference', 'securityType', 'dataDisks']);
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
  const reference = checkImageReference(c, vm.imageReference, `${path}.imageReference`);
  const securityType = c.string(vm.securityType, `${path}.securityType`, { oneOf: SECURITY_TYPES }) as SecurityType | undefined;
  const image = vm.imageReference === undefined ? defaultMarketplaceImage(vm.osType === 'Linux' ? 'Linux' : 'Windows') : reference;
  if (image && securityType) {
    const problem = securityTypeProblem(imageGeneration(image), securityType);
    if (problem) c.problem(`${path}.securityType`, `${problem} (SKU ${image.sku})`);
  }
  const luns = new Set<number>();
  c.array(vm.dataDisks, `${path}.dataDisks`)?.forEach((item, j) => {
    const disk = c.object(item, `${path}.dataDisks[${j}]`, ['lun', 'diskSizeGB']);
    if (!disk) return;
    if (disk.lun === undefined) c.problem(`${path}.dataDisks[${j}].lun`, 'is required');
    const lun = c.number(disk.lun, `${path}.dataDisks[${j}].lun`, { integer: true, min: 0, max: 63 });
    c.number(disk.diskSizeGB, `${path}.dataDisks[${j}].diskSizeGB`, { integer: true, min: 1, max: 32767 });
    if (lun !== undefined && luns.has(lun)) c.problem(`${path}.dataDisks[${j}].lun`, `LUN ${lun} is used twice`);
    if (lun !== undefined) luns.add(lun);
  });
  return c.problems.length === before ? (vm as unknown as ScenarioVm) : undefined;
}

function checkImageReference(c: Checker, raw: unknown, path: string): { offer: string; sku: string } | undefined {
  if (raw === undefined) return undefined;
  const reference = c.object(raw, path, ['publisher', 'offer', 'sku', 'version']);
  if (!reference) return undefined;
  const publisher = c.string(reference.publisher, `${path}.publisher`, { required: true });
  const offer = c.string(reference.offer, `${path}.offer`, { required: true });
  const sku = c.string(reference.sku, `${path}.sku`, { required: true });
  c.string(reference.version, `${path}.version`);
  return publisher && offer && sku ? { offer, sku } : undefined;
}

export function checkCustomImageScenario(c: Checker, raw: unknown, path: string): ScenarioCustomImage | undefined {
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
