import type { RouteSpec } from '../resourceManager/routes';
import { createOrUpdateGallery, deleteGallery, getGallery, listGalleries } from './galleries';
import { createOrUpdateImage, deleteImage, getImage, listImages, updateImage } from './images';
import { createOrUpdateVersion, deleteVersion, getVersion, listVersions, updateVersion } from './versions';

/** Microsoft.Compute galleries: galleries, image definitions, image versions. */

/** The GalleryRP versions: the one @azure/arm-compute 24 sends, and the one before it. */
export const GALLERY_API_VERSIONS = ['2024-03-03', '2025-03-03'] as const;

const GALLERIES = '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute/galleries';
const GALLERY = `${GALLERIES}/{galleryName}`;
const IMAGE = `${GALLERY}/images/{galleryImageName}`;
const VERSION = `${IMAGE}/versions/{galleryImageVersionName}`;

function route(method: RouteSpec['method'], path: string, operationId: string, action: string, handler: RouteSpec['handler']): RouteSpec {
  return { method, path, operationId, action: `Microsoft.Compute/${action}`, apiVersions: GALLERY_API_VERSIONS, handler };
}

export const galleryRoutes: RouteSpec[] = [
  route('GET', GALLERIES, 'Galleries_ListByResourceGroup', 'galleries/read', listGalleries),
  route('GET', GALLERY, 'Galleries_Get', 'galleries/read', getGallery),
  route('PUT', GALLERY, 'Galleries_CreateOrUpdate', 'galleries/write', createOrUpdateGallery),
  route('DELETE', GALLERY, 'Galleries_Delete', 'galleries/delete', deleteGallery),
  route('GET', `${GALLERY}/images`, 'GalleryImages_ListByGallery', 'galleries/images/read', listImages),
  route('GET', IMAGE, 'GalleryImages_Get', 'galleries/images/read', getImage),
  route('PUT', IMAGE, 'GalleryImages_CreateOrUpdate', 'galleries/images/write', createOrUpdateImage),
  route('PATCH', IMAGE, 'GalleryImages_Update', 'galleries/images/write', updateImage),
  route('DELETE', IMAGE, 'GalleryImages_Delete', 'galleries/images/delete', deleteImage),
  route('GET', `${IMAGE}/versions`, 'GalleryImageVersions_ListByGalleryImage', 'galleries/images/versions/read', listVersions),
  route('GET', VERSION, 'GalleryImageVersions_Get', 'galleries/images/versions/read', getVersion),
  route('PUT', VERSION, 'GalleryImageVersions_CreateOrUpdate', 'galleries/images/versions/write', createOrUpdateVersion),
  route('PATCH', VERSION, 'GalleryImageVersions_Update', 'galleries/images/versions/write', updateVersion),
  route('DELETE', VERSION, 'GalleryImageVersions_Delete', 'galleries/images/versions/delete', deleteVersion),
];
