import { compareVersionNames } from '../galleries/names';
import { replicatedTo } from '../galleries/replication';
import { galleryImageVersionId, imageSecurityType, type GalleryImage, type GalleryImageVersion } from '../galleries/state';
import { ArmError, type Reply } from '../http';
import { findByName, same } from '../ids';
import type { ArmRequest } from '../resourceManager/context';
import { conflict, invalidRequestContent } from '../resourceManager/errors';
import { checkTags, optionalString, requiredObject } from '../resourceManager/requestBody';
import { resolveLab } from './labs';
import { computeGallery } from './sharedGalleries';
import { enableState, sharedImageId } from './sharedGalleryViews';
import type { Lab } from './state';
import { labVmView } from './views';

/**
 * DevTest Labs VirtualMachines_CreateOrUpdate from an image of the lab's shared gallery (`sharedImageId`,
 * optionally `sharedImageVersion`; default the latest). As in Azure the request is accepted at once and
 * the VM then provisions, or fails: when the version has no complete replica in the lab's region, or the
 * VM size cannot run the image's Hyper-V generation or security type, the VM ends `Failed`.
 */

/** Sizes that run Generation 1 only (and so no Trusted Launch): the A-series and the first D-series. */
const GENERATION_1_ONLY_SIZE = /^(Basic_A\d+|Standard_A\d+m?(_v2)?|Standard_D\d+)$/i;
const VM_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,13}[A-Za-z0-9]$|^[A-Za-z0-9]$/;

function latest(image: GalleryImage): GalleryImageVersion | undefined {
  return image.versions
    .filter((v) => !v.excludeFromLatest && (v.provisioningState === 'Succeeded' || v.provisioningState === 'Updating'))
    .sort((a, b) => compareVersionNames(b.name, a.name))[0];
}

function resolveSharedImage(request: ArmRequest, lab: Lab, id: string): GalleryImage {
  const shared = lab.sharedGallery;
  const image = shared && findByName(computeGallery(request, shared)?.images ?? [], id.split('/').pop() ?? '');
  if (!shared || !image || !same(sharedImageId(lab, shared, image.name), id)) {
    throw new ArmError(400, 'InvalidSharedImageId', `'${id}' is not an image of the shared gallery of lab '${lab.name}'${shared ? ` ('${shared.name}')` : ' (the lab has no shared gallery)'}.`);
  }
  if (enableState(shared, image.name) !== 'Enabled') {
    throw new ArmError(400, 'SharedImageNotEnabled', `The shared image '${image.name}' is not enabled in lab '${lab.name}'; enable it (sharedImages enableState Enabled) first.`);
  }
  return image;
}

/** Why a VM of `size` from `version` of `image` cannot run in `lab`, or undefined when it can. */
function provisioningProblem(lab: Lab, image: GalleryImage, version: GalleryImageVersion, size: string): { code: string; message: string } | undefined {
  if (!replicatedTo(version, lab.location)) {
    return {
      code: 'GalleryImageVersionNotReplicated',
      message: `The gallery image version '${image.name}/${version.name}' has no complete replica in region '${lab.location}' of lab '${lab.name}'; add the region to its target regions and wait for replication.`,
    };
  }
  if (version.hyperVGeneration !== image.hyperVGeneration) {
    return { code: 'HyperVGenerationMismatch', message: `The version's disks are Hyper-V generation ${version.hyperVGeneration}, its image definition says ${image.hyperVGeneration}.` };
  }
  if (version.securityType === 'TrustedLaunch' && !imageSecurityType(image).startsWith('TrustedLaunch')) {
    return { code: 'SecurityTypeMismatch', message: `The version's disks are Trusted Launch, its image definition's SecurityType is ${imageSecurityType(image)}.` };
  }
  if (image.hyperVGeneration === 'V2' && GENERATION_1_ONLY_SIZE.test(size)) {
    return { code: 'BadRequest', message: `The VM size '${size}' cannot boot a Hyper-V generation 2 image ('${image.name}'). Choose a size that supports generation 2, such as Standard_D2s_v3.` };
  }
  return undefined;
}

export function createVmFromSharedImage(request: ArmRequest): Reply {
  const lab = resolveLab(request, { asParent: true });
  const name = request.params.name;
  if (!VM_NAME.test(name)) throw new ArmError(400, 'InvalidResourceName', `The virtual machine name '${name}' is not valid: 1-15 letters, digits and hyphens, not starting or ending with a hyphen.`);
  if (findByName(lab.vms, name)) throw conflict(`Lab '${lab.name}' already has a virtual machine named '${name}'.`);
  const body = requiredObject(request.body, 'labVirtualMachine');
  const properties = requiredObject(body.properties, 'properties');
  const size = optionalString(properties.size, 'properties.size');
  if (!size) throw invalidRequestContent('properties.size is required.');
  const id = optionalString(properties.sharedImageId, 'properties.sharedImageId');
  if (!id) {
    throw invalidRequestContent('properties.sharedImageId is required: an image of the lab\'s shared gallery.');
  }
  const image = resolveSharedImage(request, lab, id);
  const versionName = optionalString(properties.sharedImageVersion, 'properties.sharedImageVersion');
  const version = versionName ? findByName(image.versions, versionName) : latest(image);
  if (!version) throw new ArmError(400, 'InvalidSharedImageVersion', `The shared image '${image.name}' has no ${versionName ? `version '${versionName}'` : 'version to use'}.`);
  const tags = body.tags === undefined ? {} : checkTags(body.tags);
  const { context } = request;
  const vm = context.state.devTestLabs.addCreatingVm(
    lab,
    {
      name,
      tags,
      osType: image.osType,
      size,
      diskSizeGB: version.osDisk.sizeGB,
      securityType: imageSecurityType(image).startsWith('TrustedLaunch') ? 'TrustedLaunch' : 'Standard',
      dataDisks: version.dataDisks.map((d) => ({ lun: d.lun ?? 0, diskSizeGB: d.sizeGB })),
      // The VM's generation is the definition's; its disk boots what the version's source booted.
      source: { kind: 'image', imageId: galleryImageVersionId(version), hyperVGeneration: image.hyperVGeneration, bootGeneration: version.bootGeneration },
    },
    { sharedImageId: id, sharedImageVersion: version.name },
  );
  const op = context.operations.startFor(request, lab, 'Microsoft.DevTestLab', {
    durationMs: context.state.settings.lroDurationMs,
    failure: { code: 'VmProvisioningFailed', message: `Creating virtual machine '${name}' in lab '${lab.name}' failed.` },
    complete: () => {
      // The VM boots from the region's replica: it must be there, and the size must run the image.
      const problem = provisioningProblem(lab, image, version, size);
      if (problem) throw new ArmError(400, problem.code, problem.message);
      vm.compute.provisioningState = 'Succeeded';
      vm.compute.powerState = 'running';
      return undefined;
    },
    onFailure: () => {
      vm.compute.provisioningState = 'Failed';
      vm.compute.powerState = 'deallocated';
    },
  });
  return { status: 201, headers: context.operations.startHeaders(op), body: labVmView(lab, vm) };
}
