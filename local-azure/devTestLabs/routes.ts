import type { RouteSpec } from '../resourceManager/routes';
import { createOrUpdateCustomImage, deleteCustomImage, getCustomImage, listCustomImages, updateCustomImage } from './customImages';
import { generateUploadUri, getLab, listLabsByResourceGroup, listLabsBySubscription, listVhds } from './labs';
import { createVmFromSharedImage } from './labVmCreate';
import {
  createOrUpdateSharedGallery,
  createOrUpdateSharedImage,
  deleteSharedGallery,
  getSharedGallery,
  getSharedImage,
  listSharedGalleries,
  listSharedImages,
  SHARED_GALLERY_API_VERSIONS,
} from './sharedGalleries';
import { deleteVm, getVm, listVms, powerVm, updateVm } from './virtualMachines';
import { createOrUpdateVm } from './vmCreation';

/**
 * DevTest Labs 2018-09-15: labs, lab virtual machines, custom images; and 2018-10-15-preview, the
 * version that has shared galleries, for those and for creating lab VMs from their images.
 */

export const DTL_API_VERSIONS = ['2018-09-15'] as const;
/** Every version the DevTest Labs routes accept (for operation status links). */
export const ALL_DTL_API_VERSIONS = [...DTL_API_VERSIONS, ...SHARED_GALLERY_API_VERSIONS] as const;

const LABS = '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DevTestLab/labs';
const LAB = `${LABS}/{labName}`;

function route(
  method: RouteSpec['method'],
  path: string,
  operationId: string,
  action: string,
  handler: RouteSpec['handler'],
  apiVersions: readonly string[] = DTL_API_VERSIONS,
): RouteSpec {
  return { method, path, operationId, action: `Microsoft.DevTestLab/${action}`, apiVersions, handler };
}

const SHARED = `${LAB}/sharedgalleries`;

/** A lab VM from a shared gallery image (`sharedImageId`, 2018-10-15-preview), else from a marketplace or custom image. */
function createLabVm(request: Parameters<RouteSpec['handler']>[0]): ReturnType<RouteSpec['handler']> {
  const properties = (request.body as { properties?: { sharedImageId?: unknown } } | undefined)?.properties;
  return properties?.sharedImageId !== undefined ? createVmFromSharedImage(request) : createOrUpdateVm(request);
}

export const devTestLabsRoutes: RouteSpec[] = [
  route('GET', '/subscriptions/{subscriptionId}/providers/Microsoft.DevTestLab/labs', 'Labs_ListBySubscription', 'labs/read', listLabsBySubscription),
  route('GET', LABS, 'Labs_ListByResourceGroup', 'labs/read', listLabsByResourceGroup),
  route('GET', LAB, 'Labs_Get', 'labs/read', getLab),
  route('POST', `${LAB}/generateUploadUri`, 'Labs_GenerateUploadUri', 'labs/GenerateUploadUri/action', generateUploadUri),
  route('POST', `${LAB}/listVhds`, 'Labs_ListVhds', 'labs/ListVhds/action', listVhds),
  route('GET', `${LAB}/virtualmachines`, 'VirtualMachines_List', 'labs/virtualMachines/read', listVms),
  route('GET', `${LAB}/virtualmachines/{name}`, 'VirtualMachines_Get', 'labs/virtualMachines/read', getVm, ALL_DTL_API_VERSIONS),
  route('PATCH', `${LAB}/virtualmachines/{name}`, 'VirtualMachines_Update', 'labs/virtualMachines/write', updateVm),
  route('DELETE', `${LAB}/virtualmachines/{name}`, 'VirtualMachines_Delete', 'labs/virtualMachines/delete', deleteVm),
  route('POST', `${LAB}/virtualmachines/{name}/stop`, 'VirtualMachines_Stop', 'labs/virtualMachines/Stop/action', (r) => powerVm(r, 'stop')),
  route('POST', `${LAB}/virtualmachines/{name}/start`, 'VirtualMachines_Start', 'labs/virtualMachines/Start/action', (r) => powerVm(r, 'start')),
  route('GET', `${LAB}/customimages`, 'CustomImages_List', 'labs/customImages/read', listCustomImages),
  route('GET', `${LAB}/customimages/{name}`, 'CustomImages_Get', 'labs/customImages/read', getCustomImage),
  route('PUT', `${LAB}/customimages/{name}`, 'CustomImages_CreateOrUpdate', 'labs/customImages/write', createOrUpdateCustomImage),
  route('PATCH', `${LAB}/customimages/{name}`, 'CustomImages_Update', 'labs/customImages/write', updateCustomImage),
  route('DELETE', `${LAB}/customimages/{name}`, 'CustomImages_Delete', 'labs/customImages/delete', deleteCustomImage),
  route('PUT', `${LAB}/virtualmachines/{name}`, 'VirtualMachines_CreateOrUpdate', 'labs/virtualMachines/write', createLabVm, ALL_DTL_API_VERSIONS),
  route('GET', SHARED, 'SharedGalleries_List', 'labs/sharedGalleries/read', listSharedGalleries, SHARED_GALLERY_API_VERSIONS),
  route('GET', `${SHARED}/{sharedGalleryName}`, 'SharedGalleries_Get', 'labs/sharedGalleries/read', getSharedGallery, SHARED_GALLERY_API_VERSIONS),
  route('PUT', `${SHARED}/{sharedGalleryName}`, 'SharedGalleries_CreateOrUpdate', 'labs/sharedGalleries/write', createOrUpdateSharedGallery, SHARED_GALLERY_API_VERSIONS),
  route('DELETE', `${SHARED}/{sharedGalleryName}`, 'SharedGalleries_Delete', 'labs/sharedGalleries/delete', deleteSharedGallery, SHARED_GALLERY_API_VERSIONS),
  route('GET', `${SHARED}/{sharedGalleryName}/sharedimages`, 'SharedImages_List', 'labs/sharedGalleries/sharedImages/read', listSharedImages, SHARED_GALLERY_API_VERSIONS),
  route('GET', `${SHARED}/{sharedGalleryName}/sharedimages/{sharedImageName}`, 'SharedImages_Get', 'labs/sharedGalleries/sharedImages/read', getSharedImage, SHARED_GALLERY_API_VERSIONS),
  route('PUT', `${SHARED}/{sharedGalleryName}/sharedimages/{sharedImageName}`, 'SharedImages_CreateOrUpdate', 'labs/sharedGalleries/sharedImages/write', createOrUpdateSharedImage, SHARED_GALLERY_API_VERSIONS),
];
