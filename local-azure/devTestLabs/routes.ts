import { randomUUID } from 'node:crypto';
import { ArmError, type Reply } from '../http';
import {
  CUSTOM_IMAGE_NAME,
  CUSTOM_IMAGE_NAME_HINT,
  diskGrantActive,
  findByName,
  labVmId,
  same,
  type CustomImage,
  type Lab,
  type LabVm,
  stableGuid,
  labId,
} from '../state';
import type { ArmContext, ArmRequest } from '../resourceManager/context';
import {
  authorizationFailed,
  conflict,
  invalidRequestContent,
  parentResourceNotFound,
  resourceGroupNotFound,
  resourceNotFound,
} from '../resourceManager/errors';
import type { RouteSpec } from '../resourceManager/routes';
import { customImageView, labVmView, labView } from './views';

/** DevTest Labs 2018-09-15: labs, lab virtual machines, custom images. */

export const DTL_API_VERSIONS = ['2018-09-15'] as const;
export const UPLOADS_CONTAINER = 'uploads';
const UPLOAD_SAS_LIFETIME_MS = 24 * 3600 * 1000;

const LABS = '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DevTestLab/labs';
const LAB = `${LABS}/{labName}`;

function route(
  method: RouteSpec['method'],
  path: string,
  operationId: string,
  action: string,
  handler: RouteSpec['handler'],
): RouteSpec {
  return { method, path, operationId, action: `Microsoft.DevTestLab/${action}`, apiVersions: DTL_API_VERSIONS, handler };
}

export const devTestLabsRoutes: RouteSpec[] = [
  route('GET', '/subscriptions/{subscriptionId}/providers/Microsoft.DevTestLab/labs', 'Labs_ListBySubscription', 'labs/read', listLabsBySubscription),
  route('GET', LABS, 'Labs_ListByResourceGroup', 'labs/read', listLabsByResourceGroup),
  route('GET', LAB, 'Labs_Get', 'labs/read', (r) => ok(labView(resolveLab(r)))),
  route('POST', `${LAB}/generateUploadUri`, 'Labs_GenerateUploadUri', 'labs/GenerateUploadUri/action', generateUploadUri),
  route('POST', `${LAB}/listVhds`, 'Labs_ListVhds', 'labs/ListVhds/action', listVhds),
  route('GET', `${LAB}/virtualmachines`, 'VirtualMachines_List', 'labs/virtualMachines/read', listVms),
  route('GET', `${LAB}/virtualmachines/{name}`, 'VirtualMachines_Get', 'labs/virtualMachines/read', getVm),
  route('PATCH', `${LAB}/virtualmachines/{name}`, 'VirtualMachines_Update', 'labs/virtualMachines/write', updateVm),
  route('DELETE', `${LAB}/virtualmachines/{name}`, 'VirtualMachines_Delete', 'labs/virtualMachines/delete', deleteVm),
  route('POST', `${LAB}/virtualmachines/{name}/stop`, 'VirtualMachines_Stop', 'labs/virtualMachines/Stop/action', (r) => powerVm(r, 'stop')),
  route('POST', `${LAB}/virtualmachines/{name}/start`, 'VirtualMachines_Start', 'labs/virtualMachines/Start/action', (r) => powerVm(r, 'start')),
  route('GET', `${LAB}/customimages`, 'CustomImages_List', 'labs/customImages/read', listCustomImages),
  route('GET', `${LAB}/customimages/{name}`, 'CustomImages_Get', 'labs/customImages/read', getCustomImage),
  route('PUT', `${LAB}/customimages/{name}`, 'CustomImages_CreateOrUpdate', 'labs/customImages/write', createOrUpdateCustomImage),
  route('PATCH', `${LAB}/customimages/{name}`, 'CustomImages_Update', 'labs/customImages/write', updateCustomImage),
  route('DELETE', `${LAB}/customimages/{name}`, 'CustomImages_Delete', 'labs/customImages/delete', deleteCustomImage),
];

function ok(body: unknown): Reply {
  return { status: 200, body };
}

// ---- paging -------------------------------------------------------------------------------------

/** A list answer with at most pageSize items and a nextLink carrying the original query plus $skipToken. */
export function page<T>(request: ArmRequest, items: readonly T[], view: (item: T) => unknown): Reply {
  const size = request.context.state.settings.pageSize;
  const token = request.url.searchParams.get('$skipToken');
  const skip = token === null ? 0 : Number(token);
  if (!Number.isInteger(skip) || skip < 0) throw new ArmError(400, 'InvalidSkipToken', `The $skipToken '${token}' is not valid.`);
  const body: { value: unknown[]; nextLink?: string } = { value: items.slice(skip, skip + size).map(view) };
  if (skip + size < items.length) {
    const next = new URL(request.url.pathname + request.url.search, request.context.baseUrl());
    next.searchParams.delete('$skipToken');
    next.searchParams.set('$skipToken', String(skip + size));
    body.nextLink = next.toString();
  }
  return ok(body);
}

// ---- labs ---------------------------------------------------------------------------------------

/** The lab a request names; 404 for a missing one, 403 for one the principal may not access. */
export function resolveLab(request: ArmRequest, options: { asParent?: boolean } = {}): Lab {
  const { subscriptionId, resourceGroupName, labName } = request.params;
  const { state } = request.context;
  const lab = state.findLab(subscriptionId, resourceGroupName, labName);
  if (lab?.denyAccess) throw authorizationFailed(request);
  if (!lab) {
    if (!state.resourceGroupExists(subscriptionId, resourceGroupName)) throw resourceGroupNotFound(resourceGroupName);
    throw options.asParent
      ? parentResourceNotFound('Microsoft.DevTestLab/labs', labName)
      : resourceNotFound('Microsoft.DevTestLab/labs', labName, resourceGroupName);
  }
  return lab;
}

function listLabsBySubscription(request: ArmRequest): Reply {
  // Like ARM, a list shows only what the principal may read.
  const labs = request.context.state.labsIn(request.params.subscriptionId).filter((lab) => !lab.denyAccess);
  return page(request, labs, labView);
}

function listLabsByResourceGroup(request: ArmRequest): Reply {
  const { subscriptionId, resourceGroupName } = request.params;
  const { state } = request.context;
  if (!state.resourceGroupExists(subscriptionId, resourceGroupName)) throw resourceGroupNotFound(resourceGroupName);
  const labs = state.labsIn(subscriptionId, resourceGroupName);
  if (labs.length > 0 && labs.every((lab) => lab.denyAccess)) throw authorizationFailed(request);
  return page(
    request,
    labs.filter((lab) => !lab.denyAccess),
    labView,
  );
}

function generateUploadUri(request: ArmRequest): Reply {
  const lab = resolveLab(request);
  const body = optionalObject(request.body, 'generateUploadUriParameter');
  let blobName: string = randomUUID();
  if (body?.blobName !== undefined) {
    if (typeof body.blobName !== 'string' || body.blobName.trim() === '' || /[\\?#]/.test(body.blobName)) {
      throw invalidRequestContent(`blobName must be a blob name (no \\ ? #); got ${JSON.stringify(body.blobName)}.`);
    }
    blobName = body.blobName;
  }
  const { blob } = request.context;
  const uploadUri = blob.blobSasUrl(lab.storageAccount, UPLOADS_CONTAINER, blobName, 'rcw', new Date(Date.now() + UPLOAD_SAS_LIFETIME_MS));
  return ok({ uploadUri });
}

async function listVhds(request: ArmRequest): Promise<Reply> {
  const lab = resolveLab(request);
  const { blob } = request.context;
  const blobs = await blob.listBlobs(lab.storageAccount, UPLOADS_CONTAINER);
  return ok({ value: blobs.map((item) => ({ id: blobUrl(request.context, lab.storageAccount, UPLOADS_CONTAINER, item.name) })) });
}

export function blobUrl(context: ArmContext, account: string, container: string, blobName: string): string {
  const encoded = blobName.split('/').map(encodeURIComponent).join('/');
  return `${context.blob.accountUrl(account).replace(/\/+$/, '')}/${container}/${encoded}`;
}

/** Account, container and blob of a blob URL of one of the labs' accounts; undefined for any other URL. */
function parseLabBlobUrl(context: ArmContext, url: string): { account: string; container: string; blob: string } | undefined {
  const bare = url.split(/[?#]/)[0];
  for (const account of context.state.labAccounts()) {
    const prefix = `${context.blob.accountUrl(account).replace(/\/+$/, '')}/`;
    if (!bare.toLowerCase().startsWith(prefix.toLowerCase())) continue;
    const rest = bare.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash <= 0 || slash === rest.length - 1) return undefined;
    try {
      return { account, container: rest.slice(0, slash), blob: decodeURIComponent(rest.slice(slash + 1)) };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

// ---- lab virtual machines -----------------------------------------------------------------------

function resolveVm(request: ArmRequest): { lab: Lab; vm: LabVm } {
  const lab = resolveLab(request, { asParent: true });
  const vm = findByName(lab.vms, request.params.name);
  if (!vm) throw resourceNotFound(`Microsoft.DevTestLab/labs/${lab.name}/virtualmachines`, request.params.name, request.params.resourceGroupName);
  return { lab, vm };
}

function expandsComputeVm(request: ArmRequest): boolean {
  return /computevm/i.test(request.url.searchParams.get('$expand') ?? '');
}

function listVms(request: ArmRequest): Reply {
  const lab = resolveLab(request, { asParent: true });
  const expandComputeVm = expandsComputeVm(request);
  return page(request, lab.vms, (vm) => labVmView(lab, vm, { expandComputeVm }));
}

function getVm(request: ArmRequest): Reply {
  const { lab, vm } = resolveVm(request);
  return ok(labVmView(lab, vm, { expandComputeVm: expandsComputeVm(request) }));
}

function updateVm(request: ArmRequest): Reply {
  const { lab, vm } = resolveVm(request);
  const body = requiredObject(request.body, 'labVirtualMachine');
  if (body.tags !== undefined) vm.tags = checkTags(body.tags);
  return ok(labVmView(lab, vm));
}

function deleteVm(request: ArmRequest): Reply {
  const lab = resolveLab(request, { asParent: true });
  const vm = findByName(lab.vms, request.params.name);
  if (!vm) return { status: 204 };
  if (diskGrantActive(vm)) {
    throw conflict(
      `The virtual machine '${vm.name}' cannot be deleted while its OS disk '${vm.diskName}' has an active SAS (disk state ActiveSAS). Revoke the disk access (endGetAccess) first.`,
      'OperationNotAllowed',
    );
  }
  const { context } = request;
  const previous = vm.provisioningState;
  vm.provisioningState = 'Deleting';
  const op = context.operations.startFor(request, lab, 'Microsoft.DevTestLab', {
    durationMs: context.state.settings.lroDurationMs,
    failure: { code: 'VmDeletionFailed', message: `Deleting virtual machine '${vm.name}' in lab '${lab.name}' failed.` },
    complete: () => {
      const index = lab.vms.indexOf(vm);
      if (index >= 0) lab.vms.splice(index, 1);
      context.blob.revokeDiskRead(vm.diskName);
      return undefined;
    },
    onFailure: () => {
      vm.provisioningState = previous === 'Deleting' ? 'Failed' : previous;
    },
  });
  return { status: 202, headers: context.operations.startHeaders(op) };
}

function powerVm(request: ArmRequest, action: 'start' | 'stop'): Reply {
  const { lab, vm } = resolveVm(request);
  const { context } = request;
  if (vm.provisioningState !== 'Succeeded') {
    throw conflict(`The virtual machine '${vm.name}' is in provisioning state ${vm.provisioningState}; it can be started or stopped only when it is Succeeded.`);
  }
  if (action === 'start' && diskGrantActive(vm)) {
    throw conflict(`The virtual machine '${vm.name}' cannot start while its OS disk '${vm.diskName}' has an active SAS. Revoke the disk access first.`, 'OperationNotAllowed');
  }
  const [transition, final] = action === 'start' ? (['starting', 'running'] as const) : (['deallocating', 'deallocated'] as const);
  if (vm.powerState === final) return { status: 200 };
  const previous = vm.powerState;
  vm.powerState = transition;
  const op = context.operations.startFor(request, lab, 'Microsoft.DevTestLab', {
    durationMs: context.state.settings.lroDurationMs,
    complete: () => {
      vm.powerState = final;
      return undefined;
    },
    onFailure: () => {
      vm.powerState = previous;
    },
  });
  return { status: 202, headers: context.operations.startHeaders(op) };
}

// ---- custom images ------------------------------------------------------------------------------

function resolveImage(request: ArmRequest): { lab: Lab; image: CustomImage } {
  const lab = resolveLab(request, { asParent: true });
  const image = findByName(lab.customImages, request.params.name);
  if (!image) throw resourceNotFound(`Microsoft.DevTestLab/labs/${lab.name}/customimages`, request.params.name, request.params.resourceGroupName);
  return { lab, image };
}

function getCustomImage(request: ArmRequest): Reply {
  const { lab, image } = resolveImage(request);
  return ok(customImageView(lab, image));
}

function listCustomImages(request: ArmRequest): Reply {
  const lab = resolveLab(request, { asParent: true });
  return page(request, lab.customImages, (image) => customImageView(lab, image));
}

interface CustomImageSource {
  vhd?: CustomImage['vhd'];
  vm?: CustomImage['vm'];
  osType: CustomImage['osType'];
  blob?: { account: string; container: string; blob: string };
}

async function createOrUpdateCustomImage(request: ArmRequest): Promise<Reply> {
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
  const source = await checkImageSource(request, lab, properties);

  const existing = findByName(lab.customImages, name);
  if (existing && (existing.provisioningState === 'Creating' || existing.provisioningState === 'Deleting')) {
    throw conflict(
      `The custom image '${existing.name}' in lab '${lab.name}' is ${existing.provisioningState === 'Creating' ? 'being created' : 'being deleted'} (provisioningState ${existing.provisioningState}); wait until that operation finishes.`,
    );
  }
  if (existing && existing.provisioningState === 'Succeeded') {
    // Replacing a finished image changes only what can change on it.
    existing.tags = tags;
    if (description !== undefined) existing.description = description;
    if (author !== undefined) existing.author = author;
    return ok(customImageView(lab, existing));
  }

  const image: CustomImage = existing ?? {
    name,
    tags,
    osType: source.osType,
    creationDate: new Date().toISOString(),
    provisioningState: 'Creating',
    uniqueIdentifier: stableGuid(`image:${labId(lab)}/${name}/${Date.now()}`.toLowerCase()),
  };
  Object.assign(image, { tags, osType: source.osType, vhd: source.vhd, vm: source.vm, description, author, provisioningState: 'Creating' });
  image.managedImageId = `/subscriptions/${lab.subscriptionId}/resourceGroups/${lab.resourceGroup}/providers/Microsoft.Compute/images/${name}`;
  if (!existing) lab.customImages.push(image);

  const { context } = request;
  const op = context.operations.startFor(request, lab, 'Microsoft.DevTestLab', {
    durationMs: context.state.settings.customImageDurationMs,
    failure: {
      code: 'ResourceDeploymentFailure',
      message: `The resource operation completed with terminal provisioning state 'Failed'. Creating custom image '${name}' in lab '${lab.name}' failed.`,
    },
    complete: async () => {
      // The VHD is read when the image is made, so it must still be there.
      if (source.blob) {
        const found = await context.blob.blobExists(source.blob.account, source.blob.container, source.blob.blob);
        if (!found) throw vhdNotFound(source.vhd?.imageName ?? source.blob.blob, source.blob.account);
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
    return { osType: source.osType, vm: vm as CustomImage['vm'] };
  }
  throw invalidRequestContent('properties.vhd (a VHD in the lab storage account) or properties.vm (a lab virtual machine) is required.');
}

function vhdNotFound(imageName: string, account: string): ArmError {
  return new ArmError(400, 'VhdNotFound', `The VHD '${imageName}' does not exist in storage account '${account}'.`);
}

function updateCustomImage(request: ArmRequest): Reply {
  const { lab, image } = resolveImage(request);
  const body = requiredObject(request.body, 'customImage');
  if (body.tags !== undefined) image.tags = checkTags(body.tags);
  return ok(customImageView(lab, image));
}

function deleteCustomImage(request: ArmRequest): Reply {
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

// ---- body checks --------------------------------------------------------------------------------

export function requiredObject(value: unknown, name: string): Record<string, unknown> {
  if (value === undefined || value === null) throw invalidRequestContent(`${name} is required.`);
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidRequestContent(`${name} must be a JSON object.`);
  return value as Record<string, unknown>;
}

function optionalObject(value: unknown, name: string): Record<string, unknown> | undefined {
  return value === undefined || value === null ? undefined : requiredObject(value, name);
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidRequestContent(`${name} must be a string.`);
  return value;
}

/** Tags as ARM accepts them: at most 50, names up to 512 and values up to 256 characters. */
export function checkTags(value: unknown): Record<string, string> {
  const tags = requiredObject(value, 'tags');
  const entries = Object.entries(tags);
  if (entries.length > 50) throw new ArmError(400, 'InvalidTag', `A resource can have at most 50 tags; the request has ${entries.length}.`);
  for (const [key, item] of entries) {
    if (typeof item !== 'string') throw invalidRequestContent(`the value of tag '${key}' must be a string.`);
    if (key.length > 512 || /[<>%&\\?/]/.test(key)) throw new ArmError(400, 'InvalidTagNameCharacters', `The tag name '${key}' has characters that are not allowed (<, >, %, &, \\, ?, /) or is longer than 512 characters.`);
    if (item.length > 256) throw new ArmError(400, 'InvalidTag', `The value of tag '${key}' is longer than 256 characters.`);
  }
  return { ...(tags as Record<string, string>) };
}
