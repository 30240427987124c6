import { ArmError, ok, type Reply } from '../http';
import { findByName, same, stableGuid } from '../ids';
import type { ArmRequest } from '../resourceManager/context';
import { conflict, invalidRequestContent, resourceNotFound } from '../resourceManager/errors';
import { page } from '../resourceManager/paging';
import { checkTags, optionalString, requiredObject } from '../resourceManager/requestBody';
import { labId, labVmId, managedImageId } from './ids';
import { parseLabBlobUrl, resolveLab } from './labs';
import { CUSTOM_IMAGE_NAME, CUSTOM_IMAGE_NAME_HINT } from './scenario';
import type { CustomImage, Lab } from './state';
import { vhdBootGeneration, vhdProblem } from './vhdChecks';
import { customImageView } from './views';

/** DevTest Labs custom images: get, list, create from a VHD or a lab VM, update tags, delete. */

function resolveImage(request: ArmRequest): { lab: Lab; image: CustomImage } {
  const lab = resolveLab(request, { asParent: true });
  const image = findByName(lab.customImages, request.params.name);
  if (!image) throw resourceNotFound(`Microsoft.DevTestLab/labs/${lab.name}/customimages`, request.params.name, request.params.resourceGroupName);
  return { lab, image };
}

export function getCustomImage(request: ArmRequest): Reply {
  const { lab, image } = resolveImage(request);
  return ok(customImageView(lab, image));
}

export function listCustomImages(request: ArmRequest): Reply {
  const lab = resolveLab(request, { asParent: true });
  return page(request, lab.customImages, (image) => customImageView(lab, image));
}

interface CustomImageSource {
  vhd?: CustomImage['vhd'];
  vm?: CustomImage['vm'];
  osType: CustomImage['osType'];
  blob?: { account: string; container: string; blob: string };
  /** From a lab VM: what the image gets from its disk. A VHD's are read when the image is made. */
  disk?: Pick<CustomImage, 'hyperVGeneration' | 'bootGeneration' | 'sizeGB'>;
}

const GIB = 1024 * 1024 * 1024;

export async function createOrUpdateCustomImage(request: ArmRequest): Promise<Reply> {
  const lab = resolveLab(request, { asParent: true });
  const name = request.params.name;
  if (!CUSTOM_IMAGE_NAME.test(name)) {
    throw new ArmError(400, 'InvalidResourceName', `The custom image name '${name}' is not valid: it ${CUSTOM_IMAGE_NAME_HINT}.`);
  }
  const body = requiredObject(request.body, 'customImage');
  const properties = requiredObject(body.properties, 'properties');
  const tags = body.tags === undefined ? {} : checkTags(body.tags);
  const description = optionalString(properties.description, 'properties.description');
  const author = optionalString(properties.author, 'properties.author');

  const existing = findByName(lab.customImages, name);
  if (existing && (existing.provisioningState === 'Creating' || existing.provisioningState === 'Deleting')) {
    throw conflict(
      `The custom image '${existing.name}' in lab '${lab.name}' is ${existing.provisioningState === 'Creating' ? 'being created' : 'being deleted'} (provisioningState ${existing.provisioningState}); wait until that operation finishes.`,
    );
  }
  if (existing && existing.provisioningState === 'Succeeded') {
    // A made image keeps its source: only what describes it can change.
    refuseImmutableChange(existing, properties);
    existing.tags = tags;
    if (description !== undefined) existing.description = description;
    if (author !== undefined) existing.author = author;
    return ok(customImageView(lab, existing));
  }
  const source = await checkImageSource(request, lab, properties);

  const image: CustomImage = existing ?? {
    name,
    tags,
    osType: source.osType,
    creationDate: new Date().toISOString(),
    provisioningState: 'Creating',
    uniqueIdentifier: stableGuid(`image:${labId(lab)}/${name}/${Date.now()}`.toLowerCase()),
    hyperVGeneration: 'V1',
    bootGeneration: 'V1',
    sizeGB: 1,
  };
  Object.assign(image, { tags, osType: source.osType, vhd: source.vhd, vm: source.vm, description, author, provisioningState: 'Creating', ...source.disk });
  image.managedImageId = managedImageId(lab, name);
  if (!existing) lab.customImages.push(image);

  const { context } = request;
  const op = context.operations.startFor(request, lab, 'Microsoft.DevTestLab', {
    durationMs: context.state.settings.customImageDurationMs,
    failure: {
      code: 'ResourceDeploymentFailure',
      message: `The resource operation completed with terminal provisioning state 'Failed'. Creating custom image '${name}' in lab '${lab.name}' failed.`,
    },
    complete: async () => {
      // The VHD is read when the image is made, so it must still be there, and be a fixed VHD.
      if (source.blob) {
        const imageName = source.vhd?.imageName ?? source.blob.blob;
        const ends = await context.blob.readBlobEnds(source.blob.account, source.blob.container, source.blob.blob);
        if (!ends) throw vhdNotFound(imageName, source.blob.account);
        const problem = vhdProblem(imageName, ends);
        if (problem) throw problem;
        image.hyperVGeneration = 'V1';
        image.bootGeneration = vhdBootGeneration(ends);
        image.sizeGB = Math.ceil((ends.sizeBytes - 512) / GIB);
      }
      image.provisioningState = 'Succeeded';
      return undefined;
    },
    onFailure: () => {
      image.provisioningState = 'Failed';
    },
  });
  return {
    status: existing ? 200 : 201,
    headers: context.operations.startHeaders(op),
    body: customImageView(lab, image),
  };
}

/**
 * 409 PropertyChangeNotAllowed for a PUT that gives a made image another source (its VHD, its OS type or
 * its VM), as Resource Manager answers a change of a property fixed at creation.
 */
function refuseImmutableChange(image: CustomImage, properties: Record<string, unknown>): void {
  const vhd = properties.vhd as Record<string, unknown> | undefined;
  const vm = properties.vm as Record<string, unknown> | undefined;
  const changed: string[] = [];
  if (vhd !== undefined && !image.vhd) changed.push('vhd');
  if (vm !== undefined && !image.vm) changed.push('vm');
  if (vhd && typeof vhd === 'object') {
    if (vhd.imageName !== undefined && image.vhd?.imageName !== undefined && withoutQuery(vhd.imageName) !== withoutQuery(image.vhd.imageName)) changed.push('vhd.imageName');
    if (vhd.osType !== undefined && vhd.osType !== image.osType) changed.push('vhd.osType');
  }
  if (vm && typeof vm === 'object' && image.vm?.sourceVmId !== undefined && typeof vm.sourceVmId === 'string' && !same(vm.sourceVmId, image.vm.sourceVmId)) {
    changed.push('vm.sourceVmId');
  }
  if (changed.length === 0) return;
  throw new ArmError(
    409,
    'PropertyChangeNotAllowed',
    `Changing property '${changed[0]}' is not allowed: the custom image '${image.name}' is made; its source (VHD, OS type, VM) is fixed at creation. Create a custom image of another name instead.`,
  );
}

function withoutQuery(url: unknown): string {
  return String(url).split(/[?#]/)[0];
}

async function checkImageSource(request: ArmRequest, lab: Lab, properties: Record<string, unknown>): Promise<CustomImageSource> {
  const { context } = request;
  if (properties.vhd !== undefined && properties.vm !== undefined) throw invalidRequestContent('give either properties.vhd or properties.vm, not both.');
  if (properties.vhd !== undefined) {
    const vhd = requiredObject(properties.vhd, 'properties.vhd');
    const osType = vhd.osType;
    if (osType === undefined) throw invalidRequestContent("properties.vhd.osType is required ('Windows', 'Linux' or 'None').");
    if (osType !== 'Windows' && osType !== 'Linux' && osType !== 'None') {
      throw invalidRequestContent(`properties.vhd.osType must be 'Windows', 'Linux' or 'None'; got ${JSON.stringify(osType)}.`);
    }
    if (vhd.sysPrep !== undefined && typeof vhd.sysPrep !== 'boolean') throw invalidRequestContent('properties.vhd.sysPrep must be true or false.');
    const imageName = vhd.imageName;
    if (typeof imageName !== 'string' || imageName === '') throw invalidRequestContent('properties.vhd.imageName is required: the URL of the VHD blob in the lab storage account.');
    const parsed = parseLabBlobUrl(context, imageName);
    if (!parsed || parsed.account !== lab.storageAccount) {
      throw new ArmError(
        400,
        'InvalidStorageAccountForLab',
        `The VHD '${imageName}' is not in the storage account of lab '${lab.name}'. A custom image can be created only from a VHD in the lab's own storage account '${lab.storageAccount}'; copy the VHD there (to an upload URI from the lab's generateUploadUri) first.`,
      );
    }
    const found = await context.blob.blobExists(parsed.account, parsed.container, parsed.blob);
    if (!found) throw vhdNotFound(imageName, parsed.account);
    if (found.copyStatus && found.copyStatus !== 'success') {
      throw new ArmError(
        400,
        found.copyStatus === 'pending' ? 'VhdCopyPending' : 'VhdCopyFailed',
        found.copyStatus === 'pending'
          ? `The VHD '${imageName}' is still being copied (x-ms-copy-status pending); create the custom image when the copy has finished.`
          : `The VHD '${imageName}' is the result of a copy that ended ${found.copyStatus}; copy it again.`,
      );
    }
    return { osType, vhd: { imageName, sysPrep: vhd.sysPrep as boolean | undefined, osType }, blob: parsed };
  }
  if (properties.vm !== undefined) {
    const vm = requiredObject(properties.vm, 'properties.vm');
    const sourceVmId = vm.sourceVmId;
    if (typeof sourceVmId !== 'string') throw invalidRequestContent('properties.vm.sourceVmId is required: the id of a virtual machine of the lab.');
    const source = lab.vms.find((candidate) => same(labVmId(lab, candidate), sourceVmId));
    if (!source) {
      throw new ArmError(400, 'InvalidSourceVm', `The virtual machine '${sourceVmId}' is not a virtual machine of lab '${lab.name}'.`);
    }
    const disk = source.compute.osDisk;
    return {
      osType: source.compute.osType,
      vm: vm as CustomImage['vm'],
      disk: { hyperVGeneration: disk.hyperVGeneration, bootGeneration: disk.bootGeneration, sizeGB: disk.sizeGB },
    };
  }
  throw invalidRequestContent('properties.vhd (a VHD in the lab storage account) or properties.vm (a lab virtual machine) is required.');
}

function vhdNotFound(imageName: string, account: string): ArmError {
  return new ArmError(400, 'VhdNotFound', `The VHD '${imageName}' does not exist in storage account '${account}'.`);
}

export function updateCustomImage(request: ArmRequest): Reply {
  const { lab, image } = resolveImage(request);
  const body = requiredObject(request.body, 'customImage');
  if (body.tags !== undefined) image.tags = checkTags(body.tags);
  return ok(customImageView(lab, image));
}

export function deleteCustomImage(request: ArmRequest): Reply {
  const lab = resolveLab(request, { asParent: true });
  const image = findByName(lab.customImages, request.params.name);
  if (!image) return { status: 204 };
  if (image.provisioningState === 'Creating') {
    throw conflict(
      `The custom image '${image.name}' in lab '${lab.name}' is being created (provisioningState Creating) and cannot be deleted until that finishes.`,
    );
  }
  const { context } = request;
  const previous = image.provisioningState;
  image.provisioningState = 'Deleting';
  const op = context.operations.startFor(request, lab, 'Microsoft.DevTestLab', {
    durationMs: context.state.settings.lroDurationMs,
    failure: { code: 'InternalServerError', message: `Deleting custom image '${image.name}' in lab '${lab.name}' failed.` },
    complete: () => {
      const index = lab.customImages.indexOf(image);
      if (index >= 0) lab.customImages.splice(index, 1);
      return undefined;
    },
    onFailure: () => {
      image.provisioningState = previous === 'Deleting' ? 'Failed' : previous;
    },
  });
  return { status: 202, headers: context.operations.startHeaders(op) };
}
