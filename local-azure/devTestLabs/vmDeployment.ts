import { knownVmSize } from '../../core/azure/vmSizes';
import { defaultSecurityType, imageGeneration, type MarketplaceImage } from '../compute/marketplace';
import { createDiskBlob } from '../compute/diskBlobs';
import { ArmError } from '../http';
import { findByName, same } from '../ids';
import type { ArmRequest } from '../resourceManager/context';
import type { OperationError, ResourceOperation } from '../resourceManager/deploymentState';
import { conflict, parentResourceNotFound } from '../resourceManager/errors';
import type { EvaluatedResource } from '../resourceManager/templates';
import { DTL_API_VERSIONS } from './routes';
import { labId, labVmId } from './ids';
import type { Lab, LabVm, LabVmArtifact } from './state';

/**
 * A lab VM created by a Resource Manager deployment, checked as DevTest Labs checks it, then brought up
 * as DevTest Labs brings one up: Creating (the VM starts), its artifacts applied one after another,
 * Succeeded and running; the deployment's operation ends there. A generalizing artifact (Windows
 * sysprep, Linux deprovision) then shuts the VM down (stopped) and deallocates it. Each phase takes
 * the scenario's time, and faults on its operation id make it fail: `VirtualMachines_Provision`,
 * `VirtualMachines_ApplyArtifacts`.
 */

/** The public artifact repository of every lab, and its artifacts that generalize a VM for imaging. */
export const PUBLIC_ARTIFACT_SOURCE = 'public repo';
const PUBLIC_ARTIFACTS: Record<string, { osType: 'Windows' | 'Linux'; generalizes: boolean }> = {
  'windows-sysprep': { osType: 'Windows', generalizes: true },
  'linux-deprovision': { osType: 'Linux', generalizes: true },
  'windows-chocolatey': { osType: 'Windows', generalizes: false },
  'linux-apt-package': { osType: 'Linux', generalizes: false },
};

const WINDOWS_NAME = /^(?=.*[A-Za-z-])[A-Za-z0-9][A-Za-z0-9-]{0,13}[A-Za-z0-9]$|^[A-Za-z]$/;
const LINUX_NAME = /^(?=.*[A-Za-z-])[A-Za-z0-9][A-Za-z0-9-]{0,60}[A-Za-z0-9]$|^[A-Za-z]$/;

export function deployLabVm(request: ArmRequest, resource: EvaluatedResource, operation: ResourceOperation, options: { failure?: OperationError }): void {
  const { context } = request;
  const { subscriptionId, resourceGroupName } = request.params;
  const [labName, vmName, ...rest] = resource.name.split('/');
  if (!labName || !vmName || rest.length > 0) {
    throw new ArmError(400, 'InvalidTemplate', `The resource name '${resource.name}' of type '${resource.type}' must be '<lab name>/<VM name>'.`);
  }
  operation.resourceName = resource.name;
  operation.targetId = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroupName}/providers/Microsoft.DevTestLab/labs/${labName}/virtualmachines/${vmName}`;
  if (!(DTL_API_VERSIONS as readonly string[]).includes(resource.apiVersion)) {
    throw new ArmError(400, 'NoRegisteredProviderFound', `No registered resource provider found for location and API version '${resource.apiVersion}' of type '${resource.type}'. The supported api-versions are '${DTL_API_VERSIONS.join(', ')}'.`);
  }
  const lab = context.state.devTestLabs.findLab(subscriptionId, resourceGroupName, labName);
  if (!lab) throw parentResourceNotFound('Microsoft.DevTestLab/labs', labName);
  if (resource.location !== undefined && !same(resource.location.replace(/\s/g, ''), lab.location)) {
    throw new ArmError(400, 'LocationNotAvailableForResourceType', `The lab VM '${vmName}' must be in the lab's location '${lab.location}', not '${resource.location}'.`);
  }
  const p = resource.properties;
  const reference = checkReference(p.galleryImageReference);
  const osType = reference.osType.toLowerCase() === 'windows' ? 'Windows' : 'Linux';
  const namePattern = osType === 'Windows' ? WINDOWS_NAME : LINUX_NAME;
  if (!namePattern.test(vmName)) {
    throw new ArmError(
      400,
      'InvalidVmName',
      `The virtual machine name '${vmName}' is not valid: a ${osType} VM name is 1-${osType === 'Windows' ? 15 : 62} letters, digits or hyphens, not all digits, and does not start or end with a hyphen.`,
    );
  }
  if (findByName(lab.vms, vmName)) throw conflict(`The lab '${lab.name}' already has a virtual machine named '${vmName}'.`, 'VmNameAlreadyExists');
  const size = text(p.size, 'size');
  const known = knownVmSize(size);
  if (!known) throw new ArmError(400, 'InvalidVmSize', `The VM size '${size}' is not available in location '${lab.location}'.`);
  const hyperVGeneration = imageGeneration(reference);
  if (!known.generations.includes(hyperVGeneration)) {
    throw new ArmError(400, 'BadRequest', `The selected VM size '${size}' cannot boot Hypervisor Generation '${hyperVGeneration.slice(1)}' (image SKU '${reference.sku}').`);
  }
  checkCredentials(p, osType);
  const artifacts = checkArtifacts(p.artifacts, lab, osType);
  const dataDisks = checkDataDisks(p.dataDiskParameters);

  const vm = context.state.devTestLabs.addDeployedVm(lab, {
    name: vmName,
    tags: resource.tags ?? {},
    notes: typeof p.notes === 'string' ? p.notes : undefined,
    osType,
    size,
    imageReference: reference,
    artifacts: artifacts.map(({ artifactId }) => ({ artifactId, status: 'Pending' })),
    securityType: defaultSecurityType(hyperVGeneration),
    dataDisks,
  });
  operation.targetId = labVmId(lab, vm);
  provision(request, lab, vm, operation, { failure: options.failure, generalizes: artifacts.some((a) => a.generalizes) });
}

interface Phases {
  failure?: OperationError;
  generalizes: boolean;
}

/** Runs the VM's phases as long-running operations of DevTest Labs, each starting when the one before ends. */
function provision(request: ArmRequest, lab: Lab, vm: LabVm, operation: ResourceOperation, phases: Phases): void {
  const { context } = request;
  const { settings } = context.state;
  const path = new URL(labVmId(lab, vm), context.baseUrl()).pathname;
  const stillThere = () => lab.vms.includes(vm);
  const fail = (error: OperationError) => {
    if (stillThere()) vm.compute.provisioningState = 'Failed';
    Object.assign(operation, { state: 'Failed', endTime: new Date(), statusCode: 'Conflict', error });
  };
  const start = (operationId: string, durationMs: number, complete: () => void | Promise<void>, failure: OperationError, onFailed?: () => void) => {
    context.operations.start({
      provider: 'Microsoft.DevTestLab',
      subscriptionId: lab.subscriptionId,
      location: lab.location,
      operationId,
      path,
      apiVersion: DTL_API_VERSIONS[0],
      durationMs,
      failure,
      complete: async () => {
        if (!stillThere()) throw new ArmError(404, 'ResourceNotFound', `The virtual machine '${vm.name}' was deleted while it was being created.`);
        await complete();
        return undefined;
      },
      onFailure: (error) => {
        onFailed?.();
        fail(error);
      },
    });
  };

  const applyArtifacts = () => {
    const artifacts = vm.artifacts ?? [];
    if (artifacts.length === 0) return succeed();
    for (const artifact of artifacts) artifact.status = 'Installing';
    const names = artifacts.map((a) => artifactName(a)).join(', ');
    start(
      'VirtualMachines_ApplyArtifacts',
      settings.artifactDurationMs * artifacts.length,
      () => {
        for (const artifact of artifacts) artifact.status = 'Succeeded';
        succeed();
      },
      {
        code: 'ResourceDeploymentFailure',
        message: `The resource operation completed with terminal provisioning state 'Failed'. Artifact deployment failed on virtual machine '${vm.name}' of lab '${lab.name}': the artifact ${names} exited with code 1.`,
      },
      () => {
        for (const artifact of artifacts) if (artifact.status === 'Installing') artifact.status = 'Failed';
      },
    );
  };
  const succeed = () => {
    vm.compute.provisioningState = 'Succeeded';
    Object.assign(operation, { state: 'Succeeded', endTime: new Date(), statusCode: 'OK' });
    if (phases.generalizes) {
      vm.compute.powerState = 'stopping';
      start('VirtualMachines_Shutdown', settings.vmShutdownDurationMs, () => {
        vm.compute.powerState = 'stopped';
        start('VirtualMachines_Deallocate', settings.lroDurationMs, () => {
          vm.compute.powerState = 'deallocated';
        }, { code: 'InternalServerError', message: `Deallocating virtual machine '${vm.name}' failed.` });
      }, { code: 'InternalServerError', message: `Virtual machine '${vm.name}' did not shut down after its generalizing artifact.` });
    }
  };

  if (phases.failure) {
    // A deployment made to fail: the resource provider gives up while creating the VM.
    start('VirtualMachines_Provision', settings.vmCreateDurationMs, () => fail(phases.failure!), phases.failure);
    return;
  }
  start(
    'VirtualMachines_Provision',
    settings.vmCreateDurationMs,
    async () => {
      // The OS disk's bytes exist once the VM is created; a disk grant exports them.
      for (const disk of [vm.compute.osDisk, ...vm.compute.dataDisks.map((d) => d.disk)]) await createDiskBlob(context.blob, disk);
      vm.compute.powerState = 'running';
      applyArtifacts();
    },
    { code: 'InternalServerError', message: `Creating virtual machine '${vm.name}' in lab '${lab.name}' failed.` },
  );
}

function artifactName(artifact: LabVmArtifact): string {
  return `'${artifact.artifactId.split('/').pop()}'`;
}

function text(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new ArmError(400, 'InvalidParameter', `The lab VM property '${name}' is required and must be a string.`);
  return value;
}

function checkReference(value: unknown): MarketplaceImage {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ArmError(400, 'InvalidParameter', 'The lab VM needs properties.galleryImageReference (publisher, offer, sku, osType, version): the local Azure creates lab VMs from marketplace images only.');
  }
  const r = value as Record<string, unknown>;
  const reference = {
    publisher: text(r.publisher, 'galleryImageReference.publisher'),
    offer: text(r.offer, 'galleryImageReference.offer'),
    sku: text(r.sku, 'galleryImageReference.sku'),
    version: text(r.version, 'galleryImageReference.version'),
  };
  const osType = text(r.osType, 'galleryImageReference.osType');
  if (!/^(windows|linux)$/i.test(osType)) throw new ArmError(400, 'InvalidParameter', `galleryImageReference.osType must be 'Windows' or 'Linux', not '${osType}'.`);
  return { ...reference, osType: osType.toLowerCase() === 'windows' ? 'Windows' : 'Linux' };
}

/** Azure's rules for the administrator: a user name, and a complex password or (Linux) an SSH public key. */
function checkCredentials(p: Record<string, unknown>, osType: 'Windows' | 'Linux'): void {
  const userName = text(p.userName, 'userName');
  if (/^(administrator|admin|root|guest|user|test)$/i.test(userName) || userName.length > (osType === 'Windows' ? 20 : 64) || /[\\/"[\]:|<>+=;,?*@&\s]|\.$/.test(userName)) {
    throw new ArmError(400, 'InvalidParameter', `The administrator user name '${userName}' is not allowed: it is reserved, too long or has characters Azure refuses.`);
  }
  if (p.isAuthenticationWithSshKey === true) {
    if (osType !== 'Linux') throw new ArmError(400, 'InvalidParameter', 'SSH key authentication is for Linux VMs only.');
    const key = text(p.sshKey, 'sshKey');
    if (!/^(ssh-rsa|ssh-ed25519|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+( .*)?$/.test(key.trim())) {
      throw new ArmError(400, 'InvalidParameter', 'The value of sshKey is not an SSH public key in OpenSSH format (ssh-rsa AAAA...).');
    }
    return;
  }
  const password = typeof p.password === 'string' ? p.password : '';
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((c) => c.test(password)).length;
  if (password.length < (osType === 'Windows' ? 12 : 6) || password.length > 123 || classes < 3) {
    throw new ArmError(
      400,
      'InvalidParameter',
      `The supplied password must be between ${osType === 'Windows' ? 12 : 6}-123 characters long and must satisfy at least 3 of password complexity requirements from the following: 1) Contains an uppercase character 2) Contains a lowercase character 3) Contains a numeric digit 4) Contains a special character.`,
    );
  }
}

/**
 * `dataDiskParameters`: each entry attaches a new empty data disk (`attachNewDataDiskOptions`, its
 * `diskSizeGiB`), at LUNs 0, 1, ... in order. Attaching an existing lab disk is not something the
 * local Azure models, so it is refused rather than ignored.
 */
function checkDataDisks(value: unknown): { lun: number; diskSizeGB: number }[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ArmError(400, 'InvalidParameter', 'The lab VM property dataDiskParameters must be an array.');
  if (value.length > 64) throw new ArmError(400, 'InvalidParameter', `The lab VM asks for ${value.length} data disks; a VM has at most 64.`);
  return value.map((item, lun) => {
    const entry = (item ?? {}) as { attachNewDataDiskOptions?: { diskSizeGiB?: unknown }; existingLabDiskId?: unknown };
    if (entry.existingLabDiskId !== undefined) {
      throw new ArmError(400, 'InvalidParameter', `dataDiskParameters[${lun}].existingLabDiskId: the local Azure attaches new data disks only (attachNewDataDiskOptions).`);
    }
    const size = entry.attachNewDataDiskOptions?.diskSizeGiB;
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > 32767) {
      throw new ArmError(400, 'InvalidParameter', `dataDiskParameters[${lun}].attachNewDataDiskOptions.diskSizeGiB must be a whole number of GiB from 1 to 32767; got ${JSON.stringify(size)}.`);
    }
    return { lun, diskSizeGB: size };
  });
}

function checkArtifacts(value: unknown, lab: Lab, osType: 'Windows' | 'Linux'): { artifactId: string; generalizes: boolean }[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ArmError(400, 'InvalidParameter', 'The lab VM property artifacts must be an array.');
  const prefix = `${labId(lab)}/artifactsources/`.toLowerCase();
  return value.map((item, i) => {
    const id = (item as { artifactId?: unknown } | null)?.artifactId;
    if (typeof id !== 'string') throw new ArmError(400, 'InvalidParameter', `artifacts[${i}].artifactId is required.`);
    const normalized = id.toLowerCase();
    const parts = /^(.*\/artifactsources\/)([^/]+)\/artifacts\/([^/]+)$/.exec(normalized);
    if (!parts || parts[1] !== prefix) {
      throw new ArmError(400, 'InvalidArtifactId', `The artifact id '${id}' is not an artifact of lab '${lab.name}' (expected ${labId(lab)}/artifactSources/<source>/artifacts/<name>).`);
    }
    const artifact = parts[2] === PUBLIC_ARTIFACT_SOURCE ? PUBLIC_ARTIFACTS[parts[3]] : undefined;
    if (!artifact) throw new ArmError(404, 'ArtifactNotFound', `The artifact '${parts[3]}' was not found in artifact source '${parts[2]}' of lab '${lab.name}'.`);
    if (artifact.osType !== osType) {
      throw new ArmError(400, 'InvalidArtifactTargetOsType', `The artifact '${parts[3]}' targets ${artifact.osType}; it cannot be applied to the ${osType} VM.`);
    }
    return { artifactId: id, generalizes: artifact.generalizes };
  });
}
