import { createDiskBlob } from '../compute/diskBlobs';
import { defaultMarketplaceImage, type MarketplaceImage } from '../compute/marketplace';
import { bootsItsOs, type OsType, type VmSource } from '../compute/state';
import { ArmError, ok, type Reply } from '../http';
import { findByName, same } from '../ids';
import type { ArmRequest } from '../resourceManager/context';
import { conflict, invalidRequestContent } from '../resourceManager/errors';
import { checkTags, optionalString, requiredObject } from '../resourceManager/requestBody';
import { customImageId } from './ids';
import { resolveLab } from './labs';
import type { Lab, NewLabVm } from './state';
import { labVmView } from './views';

/**
 * DevTest Labs VirtualMachines_CreateOrUpdate: a lab VM from a marketplace image
 * (`galleryImageReference`) or from one of the lab's custom images (`customImageId`), as a long-running
 * operation. The VM boots when the operation ends: a VM whose firmware cannot boot the OS on its disk
 * (a Generation 1 custom image of a Generation 2 disk, every VHD route image of a Gen2 VM) never
 * reports ready, so the operation fails with OSProvisioningTimedOut and the VM stays Failed, as Compute
 * ends a VM whose guest never finishes provisioning.
 * Source: https://learn.microsoft.com/rest/api/dtl/virtual-machines/create-or-update and
 * https://learn.microsoft.com/troubleshoot/azure/virtual-machines/windows/troubleshoot-deployment-new-vm-windows.
 */

const VM_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,61}[A-Za-z0-9]$|^[A-Za-z0-9]$/;

export async function createOrUpdateVm(request: ArmRequest): Promise<Reply> {
  const lab = resolveLab(request, { asParent: true });
  const name = request.params.name;
  if (!VM_NAME.test(name)) {
    throw new ArmError(400, 'InvalidResourceName', `The virtual machine name '${name}' is not valid: it must be 1-63 letters, digits or hyphens, not starting or ending with a hyphen.`);
  }
  const body = requiredObject(request.body, 'labVirtualMachine');
  const properties = requiredObject(body.properties, 'properties');
  const tags = body.tags === undefined ? {} : checkTags(body.tags);
  const notes = optionalString(properties.notes, 'properties.notes');

  const existing = findByName(lab.vms, name);
  if (existing) {
    const state = existing.compute.provisioningState;
    if (state !== 'Succeeded' && state !== 'Failed') throw conflict(`The virtual machine '${existing.name}' in lab '${lab.name}' is in provisioning state ${state}; wait until that operation finishes.`);
    // An existing VM keeps its image and disk; a PUT updates what describes it.
    existing.tags = tags;
    if (notes !== undefined) existing.notes = notes;
    return ok(labVmView(lab, existing));
  }

  const made = madeFrom(lab, properties);
  const { context } = request;
  const vm = context.state.devTestLabs.makeVm(lab, {
    name,
    tags,
    notes,
    size: optionalString(properties.size, 'properties.size'),
    powerState: 'starting',
    provisioningState: 'Creating',
    ...made,
  });
  await createDiskBlob(context.blob, vm.compute.osDisk);
  lab.vms.push(vm);

  const op = context.operations.startFor(request, lab, 'Microsoft.DevTestLab', {
    durationMs: context.state.settings.lroDurationMs,
    failure: { code: 'ResourceDeploymentFailure', message: `Creating virtual machine '${name}' in lab '${lab.name}' failed.` },
    complete: () => {
      vm.compute.powerState = 'running';
      if (!bootsItsOs(vm.compute)) {
        throw new ArmError(
          400,
          'OSProvisioningTimedOut',
          `OS provisioning for VM '${name}' did not finish in the allotted time: its ${vm.compute.hyperVGeneration === 'V1' ? 'Generation 1 (BIOS)' : 'Generation 2 (UEFI)'} firmware cannot boot the OS on its disk, which was installed for ${vm.compute.osDisk.bootGeneration === 'V2' ? 'Generation 2 (UEFI, GPT disk)' : 'Generation 1 (BIOS, MBR disk)'}. Make the image with the generation of the VM it came from.`,
        );
      }
      vm.compute.provisioningState = 'Succeeded';
      return undefined;
    },
    onFailure: () => {
      vm.compute.provisioningState = 'Failed';
    },
  });
  return { status: 201, headers: context.operations.startHeaders(op), body: labVmView(lab, vm) };
}

/** What a new lab VM is made from, with what that decides: OS type, generation and disk size. */
function madeFrom(lab: Lab, properties: Record<string, unknown>): Pick<NewLabVm, 'osType' | 'source' | 'customImageId' | 'diskSizeGB'> {
  const { customImageId: imageId, galleryImageReference: reference } = properties;
  if ((imageId === undefined) === (reference === undefined)) {
    throw invalidRequestContent('give exactly one of properties.customImageId (a custom image of the lab) and properties.galleryImageReference (a marketplace image).');
  }
  if (imageId !== undefined) {
    if (typeof imageId !== 'string') throw invalidRequestContent('properties.customImageId must be the id of a custom image of the lab.');
    // DevTest Labs writes its ids in lower case; any casing names the same image.
    const image = lab.customImages.find((candidate) => same(customImageId(lab, candidate), imageId));
    if (!image) throw new ArmError(400, 'InvalidParameter', `The custom image '${imageId}' is not a custom image of lab '${lab.name}'.`);
    if (image.provisioningState !== 'Succeeded') {
      throw conflict(`The custom image '${image.name}' in lab '${lab.name}' is in provisioning state ${image.provisioningState}; only a Succeeded custom image can make VMs.`);
    }
    if (image.osType === 'None') throw new ArmError(400, 'InvalidParameter', `The custom image '${image.name}' has no OS (osType None), so it cannot make a VM.`);
    const source: VmSource = { kind: 'image', imageId: image.managedImageId!, hyperVGeneration: image.hyperVGeneration, bootGeneration: image.bootGeneration };
    return { osType: image.osType, source, customImageId: customImageId(lab, image), diskSizeGB: image.sizeGB };
  }
  const image = galleryImage(requiredObject(reference, 'properties.galleryImageReference'));
  return { osType: image.osType, source: { kind: 'marketplace', image }, diskSizeGB: 127 };
}

function galleryImage(reference: Record<string, unknown>): MarketplaceImage {
  const field = (key: string) => {
    const value = reference[key];
    if (typeof value !== 'string' || value === '') throw invalidRequestContent(`properties.galleryImageReference.${key} is required.`);
    return value;
  };
  const osType = field('osType');
  if (osType !== 'Windows' && osType !== 'Linux') throw invalidRequestContent(`properties.galleryImageReference.osType must be 'Windows' or 'Linux'; got ${JSON.stringify(osType)}.`);
  const version = typeof reference.version === 'string' ? reference.version : defaultMarketplaceImage(osType as OsType).version;
  return { publisher: field('publisher'), offer: field('offer'), sku: field('sku'), osType: osType as OsType, version };
}
