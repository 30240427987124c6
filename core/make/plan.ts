import { knownVmSize, type VmGeneration } from '../azure/vmSizes';
import { imageGeneration, labVmSecurityType } from '../marketplace';
import type { GoldenTemplate } from '../config/goldenImages';
import { imagePathKey, normalizeImagePath } from '../config/imagePaths';
import { ErrorCodes } from '../errors';
import { getTag, type OsType, Tags } from '../factoryImages';
import type { StoredImage } from '../imageStore';
import type { Issue } from '../report';
import type { SecurityType } from '../vhdRoute';
import { isLatest, latestKey, type LatestVersions } from './baseImages';
import { vmNameFor } from './naming';
import { FILLED_PARAMETERS, hasParameter, type LoadedTemplate, REQUIRED_PARAMETERS } from './templates';

/**
 * What MakeGoldenImageVMs will do for each selected template, decided from the templates, the factory
 * lab's VMs, its deployments and its image store alone, so it is printed before anything changes and
 * tested without Azure. A template is rebuilt only when no image of its content and base image is
 * stored and no VM of it waits in the factory; a VM an earlier run left half-made is waited for rather
 * than made twice, and a stale one (another template version, or failed) is replaced.
 */

export interface MakeTemplate {
  template: GoldenTemplate;
  loaded: LoadedTemplate;
}

export interface MakeVmFacts {
  name: string;
  tags?: Record<string, string>;
  provisioningState?: string;
  /** `deallocated`, `running`, ...; undefined when the lab did not say. */
  powerState?: string;
}

export interface FactoryDeployment {
  name: string;
  provisioningState?: string;
}

export interface MakeOptions {
  /** Size for templates that set none. */
  defaultSize: string;
  includeSysprep: boolean;
  /** What the administrator credentials inputs hold. */
  credentials: { password: boolean; sshKey: boolean };
  /** The newest marketplace version of each `latest` SKU (baseImages.ts); a SKU not in it stays `latest`. */
  latestVersions?: LatestVersions;
}

/** The VM a `make` creates: its name, size, generation and what is deployed. */
export interface VmSpec {
  vmName: string;
  /** The template's ImagePath, normalized: the VM's ImagePath tag. */
  imagePath: string;
  deploymentName: string;
  size: string;
  sizeFrom: 'template' | 'input';
  generation: VmGeneration;
  /** What Azure makes the VM: Trusted Launch when Generation 2 (labVmSecurityType). */
  securityType: SecurityType;
  osType: OsType;
  baseImage: string;
  /** Whether the stage appends the generalizing artifact. */
  generalize: boolean;
  /** Whether the VM ends deallocated (the stage's artifact or the template's own). */
  endsDeallocated: boolean;
}

export type MakeAction =
  /** `reason`: why an earlier VM or image of the same template version does not do (its base image changed). */
  | { kind: 'make'; item: MakeTemplate; vm: VmSpec; replaces: string[]; staleDeployments: string[]; reason?: string }
  /** A VM an earlier run started for this template version: wait for it as if this run had made it. */
  | { kind: 'adopt'; item: MakeTemplate; vm: VmSpec; deployment?: string }
  | { kind: 'skip'; item: MakeTemplate; reason: 'stored' | 'waiting'; detail: string }
  | { kind: 'invalid'; item: MakeTemplate; issue: Issue };

export interface MakePlan {
  actions: MakeAction[];
  /** Finished deployments of the factory's that nothing waits for (left by a run that was stopped): deleted. */
  staleDeployments: string[];
}

/** Deployments MakeGoldenImageVMs makes are named so: a rerun knows its own, and deletes them when done. */
export const DEPLOYMENT_PREFIX = 'imagefactory-';

export function deploymentNameFor(vmName: string): string {
  return `${DEPLOYMENT_PREFIX}${vmName}`;
}

/** The base image as recorded (tag ImageFactoryBaseImage): `latest` resolved to the concrete version when known. */
export function baseImageOf(template: GoldenTemplate, latestVersions?: LatestVersions): string {
  const r = template.galleryImageReference;
  const version = (isLatest(r) && latestVersions?.get(latestKey(r))) || r.version;
  return `${r.publisher}/${r.offer}/${r.sku}/${version}`;
}

export function planMake(
  items: readonly MakeTemplate[],
  lab: { vms: readonly MakeVmFacts[]; deployments: readonly FactoryDeployment[]; images: readonly StoredImage[] },
  options: MakeOptions,
): MakePlan {
  const taken = new Set(lab.vms.map((vm) => vm.name.toLowerCase()));
  const deployments = new Map(lab.deployments.map((d) => [d.name.toLowerCase(), d]));
  const claimed = new Set<string>();
  const actions: MakeAction[] = [];

  for (const item of [...items].sort((a, b) => compareText(a.template.imagePath, b.template.imagePath))) {
    const { template, loaded } = item;
    const key = imagePathKey(template.imagePath);
    const baseImage = baseImageOf(template, options.latestVersions);
    const invalid = checkTemplate(item, options);
    if (invalid) {
      actions.push({ kind: 'invalid', item, issue: invalid });
      continue;
    }
    const stored = lab.images.find((i) => imagePathKey(i.imagePath) === key && i.templateHash === loaded.hash && i.baseImage === baseImage);
    if (stored) {
      actions.push({ kind: 'skip', item, reason: 'stored', detail: `image '${stored.imageName}' was made from this template version (${loaded.hash}) and base image ${baseImage}` });
      continue;
    }
    const ofTemplate = lab.vms.filter((vm) => getTag(vm.tags, Tags.ImagePath) !== undefined && imagePathKey(getTag(vm.tags, Tags.ImagePath)!) === key && getTag(vm.tags, Tags.FactoryIgnore) === undefined);
    const current = ofTemplate.filter((vm) => getTag(vm.tags, Tags.TemplateHash) === loaded.hash && getTag(vm.tags, Tags.BaseImage) === baseImage && vm.provisioningState?.toLowerCase() !== 'failed');
    const waiting = current.find((vm) => vm.provisioningState?.toLowerCase() === 'succeeded' && vm.powerState === 'deallocated');
    if (waiting) {
      actions.push({ kind: 'skip', item, reason: 'waiting', detail: `VM '${waiting.name}' of this template version waits in the factory for SnapImagesFromVMs` });
      continue;
    }
    const spec = (vmName: string): VmSpec => vmSpec(item, vmName, options);
    if (current.length > 0) {
      const vm = current[0];
      const deployment = deployments.get(deploymentNameFor(vm.name).toLowerCase());
      if (deployment) claimed.add(deployment.name.toLowerCase());
      actions.push({ kind: 'adopt', item, vm: { ...spec(vm.name), endsDeallocated: true }, deployment: deployment?.name });
      continue;
    }
    // The stale VMs of the template are deleted first, so their names are free for the new one.
    const replaces = ofTemplate.map((vm) => vm.name);
    const free = new Set(replaces.map((n) => n.toLowerCase()));
    const vmName = vmNameFor(template.imagePath, template.osType, new Set([...taken].filter((n) => !free.has(n))));
    taken.add(vmName.toLowerCase());
    const stale = replaces.map((name) => deployments.get(deploymentNameFor(name).toLowerCase())).filter((d): d is FactoryDeployment => !!d);
    for (const d of stale) claimed.add(d.name.toLowerCase());
    actions.push({ kind: 'make', item, vm: spec(vmName), replaces, staleDeployments: stale.map((d) => d.name), reason: baseImageChange(item, baseImage, ofTemplate, lab.images) });
  }
  // Running deployments may be another run's, still at work: only finished ones are cleared away.
  const staleDeployments = lab.deployments
    .filter((d) => !claimed.has(d.name.toLowerCase()) && d.name.toLowerCase().startsWith(DEPLOYMENT_PREFIX) && !/^(running|accepted)$/i.test(d.provisioningState ?? ''))
    .map((d) => d.name);
  return { actions, staleDeployments };
}

/** When a VM or image of this template version exists from another base image: the change, for the plan. */
function baseImageChange(item: MakeTemplate, baseImage: string, vms: readonly MakeVmFacts[], images: readonly StoredImage[]): string | undefined {
  const key = imagePathKey(item.template.imagePath);
  const earlier =
    vms.map((vm) => (getTag(vm.tags, Tags.TemplateHash) === item.loaded.hash ? getTag(vm.tags, Tags.BaseImage) : undefined)).find((b) => b !== undefined && b !== baseImage) ??
    images.find((i) => imagePathKey(i.imagePath) === key && i.templateHash === item.loaded.hash && i.baseImage !== undefined && i.baseImage !== baseImage)?.baseImage;
  return earlier ? `the base image changed from ${earlier} to ${baseImage}` : undefined;
}

function vmSpec(item: MakeTemplate, vmName: string, options: MakeOptions): VmSpec {
  const { template, loaded } = item;
  const { size, from } = sizeOf(item, options);
  const generation = imageGeneration(template.galleryImageReference);
  return {
    vmName,
    imagePath: normalizeImagePath(template.imagePath),
    deploymentName: deploymentNameFor(vmName),
    size,
    sizeFrom: from,
    generation,
    securityType: labVmSecurityType(generation),
    osType: template.osType,
    baseImage: baseImageOf(template, options.latestVersions),
    generalize: options.includeSysprep && !loaded.generalizes,
    endsDeallocated: options.includeSysprep || loaded.generalizes,
  };
}

/** The template's own size (written out, or its `size` parameter's default), else the input's. */
function sizeOf(item: MakeTemplate, options: MakeOptions): { size: string; from: 'template' | 'input' } {
  if (item.template.size) return { size: item.template.size, from: 'template' };
  const parameter = hasParameter(item.loaded, FILLED_PARAMETERS.size);
  const declared = parameter ? (item.loaded.json.parameters as Record<string, { defaultValue?: unknown }>)[parameter] : undefined;
  if (typeof declared?.defaultValue === 'string' && !declared.defaultValue.startsWith('[')) return { size: declared.defaultValue, from: 'template' };
  return { size: options.defaultSize, from: 'input' };
}

function checkTemplate(item: MakeTemplate, options: MakeOptions): Issue | undefined {
  const { template, loaded } = item;
  const at = `The template '${template.imagePath}'`;
  const missing = REQUIRED_PARAMETERS.filter((name) => !hasParameter(loaded, name));
  if (missing.length > 0) {
    return issue(ErrorCodes.TemplateParameterMissing, `${at} does not declare the parameter(s) ${missing.map((m) => `'${m}'`).join(', ')}, which MakeGoldenImageVMs fills with the factory lab's name and the VM's name.`, `Declare "parameters": { "labName": { "type": "string" }, "newVMName": { "type": "string" } } and name the lab VM "[concat(parameters('labName'), '/', parameters('newVMName'))]".`);
  }
  const { size, from } = sizeOf(item, options);
  const known = knownVmSize(size);
  if (!known) {
    return issue(ErrorCodes.VmSizeUnknown, `${at} would make a VM of size '${size}' (from ${from === 'input' ? "the input 'vmSize'" : 'the template'}), which Azure does not offer.`, "Use a VM size Azure offers, such as Standard_D2s_v5, in the template or in the input 'vmSize'.");
  }
  const generation = imageGeneration(template.galleryImageReference);
  if (!known.generations.includes(generation)) {
    return issue(ErrorCodes.VmGenerationUnsupported, `${at} uses SKU '${template.galleryImageReference.sku}', a Generation ${generation.slice(1)} image, which a VM of size '${size}' cannot boot.`, 'Choose a size that supports the image generation (the v3 and later D, E and F sizes boot both), or a Generation 1 SKU.');
  }
  if (hasParameter(loaded, FILLED_PARAMETERS.password) && !options.credentials.password) {
    return issue(ErrorCodes.VmCredentialsMissing, `${at} needs the administrator's password (parameter 'password'), and the input 'machinePassword' is empty.`, "Set 'machinePassword' to a secret pipeline variable holding the VMs' administrator password: $(FactoryAdminPassword).");
  }
  if (hasParameter(loaded, FILLED_PARAMETERS.sshKey) && !options.credentials.sshKey) {
    return issue(ErrorCodes.VmCredentialsMissing, `${at} needs the administrator's SSH public key (parameter 'sshKey'), and the input 'machineSshPublicKey' is empty.`, "Set 'machineSshPublicKey' to the OpenSSH public key (ssh-ed25519 AAAA...) the VMs' administrator signs in with.");
  }
  return undefined;
}

function issue(code: string, message: string, fix: string): Issue {
  return { severity: 'error', code, message, fix };
}

/** The plan as lines to print before anything changes. */
export function describeMakePlan(plan: MakePlan): string[] {
  const count = (kind: MakeAction['kind']) => plan.actions.filter((a) => a.kind === kind).length;
  const lines = [`Plan: make ${count('make')} VM(s), wait for ${count('adopt')} an earlier run started, skip ${count('skip')}, ${count('invalid')} cannot be made.`];
  for (const action of plan.actions) {
    const path = normalizeImagePath(action.item.template.imagePath);
    switch (action.kind) {
      case 'make':
        lines.push(
          `  make    '${path}' as VM '${action.vm.vmName}' (${action.vm.osType}, ${action.vm.size}, Generation ${action.vm.generation.slice(1)}${action.vm.securityType === 'TrustedLaunch' ? ', Trusted Launch' : ''}, ${action.vm.baseImage}${isLatest(action.item.template.galleryImageReference) && !action.vm.baseImage.endsWith('/latest') ? ' (latest)' : ''}${action.vm.generalize ? `, then ${action.vm.osType === 'Windows' ? 'sysprep' : 'deprovision'}` : ''})` +
            (action.replaces.length ? `, replacing the stale VM(s) ${action.replaces.map((n) => `'${n}'`).join(', ')}` : '') +
            (action.reason ? `: ${action.reason}` : ''),
        );
        break;
      case 'adopt':
        lines.push(`  wait    '${path}': VM '${action.vm.vmName}' was started by an earlier run${action.deployment ? ` (deployment '${action.deployment}')` : ''}`);
        break;
      case 'skip':
        lines.push(`  skip    '${path}': ${action.detail}`);
        break;
      case 'invalid':
        lines.push(`  error   '${path}': [${action.issue.code}] ${action.issue.message}`);
        break;
    }
  }
  for (const name of plan.staleDeployments) lines.push(`  delete  deployment '${name}': left by an earlier run`);
  return lines;
}

function compareText(a: string, b: string): number {
  return a.localeCompare(b, 'en', { sensitivity: 'base' });
}
