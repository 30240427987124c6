import { ArmError } from '../http';
import type { ArmRequest } from '../resourceManager/context';
import { parentResourceNotFound, resourceGroupNotFound, resourceNotFound } from '../resourceManager/errors';
import { findByName, same } from '../ids';
import type { Gallery, GalleryImage, GalleryImageVersion } from './state';

/** The gallery resources a request names, as Resource Manager finds them (404s with its codes). */

function checkResourceGroup(request: ArmRequest): void {
  const { subscriptionId, resourceGroupName } = request.params;
  if (!request.context.state.resourceManager.resourceGroupExists(subscriptionId, resourceGroupName)) throw resourceGroupNotFound(resourceGroupName);
}

export function findGallery(request: ArmRequest): Gallery | undefined {
  checkResourceGroup(request);
  const { subscriptionId, resourceGroupName, galleryName } = request.params;
  return request.context.state.galleries.findGallery(subscriptionId, resourceGroupName, galleryName);
}

export function resolveGallery(request: ArmRequest, options: { asParent?: boolean } = {}): Gallery {
  const gallery = findGallery(request);
  if (gallery) return gallery;
  const { galleryName, resourceGroupName } = request.params;
  throw options.asParent ? parentResourceNotFound('Microsoft.Compute/galleries', galleryName) : resourceNotFound('Microsoft.Compute/galleries', galleryName, resourceGroupName);
}

export function findImage(request: ArmRequest, options: { asParent?: boolean } = {}): { gallery: Gallery; image?: GalleryImage } {
  const gallery = resolveGallery(request, { asParent: true });
  const image = findByName(gallery.images, request.params.galleryImageName);
  if (!image && options.asParent) throw parentResourceNotFound('Microsoft.Compute/galleries/images', `${gallery.name}/${request.params.galleryImageName}`);
  return { gallery, image };
}

export function resolveImage(request: ArmRequest, options: { asParent?: boolean } = {}): GalleryImage {
  const { gallery, image } = findImage(request, options);
  if (!image) throw resourceNotFound('Microsoft.Compute/galleries/images', `${gallery.name}/${request.params.galleryImageName}`, request.params.resourceGroupName);
  return image;
}

export function resolveVersion(request: ArmRequest): GalleryImageVersion {
  const image = resolveImage(request, { asParent: true });
  const version = findByName(image.versions, request.params.galleryImageVersionName);
  if (!version) {
    throw resourceNotFound('Microsoft.Compute/galleries/images/versions', `${image.gallery.name}/${image.name}/${request.params.galleryImageVersionName}`, request.params.resourceGroupName);
  }
  return version;
}

/** A child must be in its parent's region. */
export function checkSameLocation(kind: string, location: string, parentLocation: string): void {
  if (!same(location.replace(/\s+/g, ''), parentLocation.replace(/\s+/g, ''))) {
    throw new ArmError(400, 'InvalidParameter', `The ${kind} must be in the location of its gallery, '${parentLocation}'; the request names '${location}'.`, {}, [
      { code: 'InvalidParameter', target: 'location', message: `must be '${parentLocation}'` },
    ]);
  }
}

/** A resource still being created, updated or deleted takes no other write. */
export function checkNotBusy(kind: string, name: string, state: string): void {
  if (state === 'Creating' || state === 'Updating' || state === 'Deleting') {
    throw new ArmError(409, 'OperationNotAllowed', `The ${kind} '${name}' is ${state.toLowerCase()} (provisioningState ${state}); wait until that operation ends.`);
  }
}
