import { ArmError, ok, type Reply } from '../http';
import { findByName, same, stableGuid } from '../ids';
import type { ArmRequest } from '../resourceManager/context';
import { invalidRequestContent, resourceNotFound } from '../resourceManager/errors';
import { page } from '../resourceManager/paging';
import { checkTags, requiredObject } from '../resourceManager/requestBody';
import type { Gallery } from '../galleries/state';
import { labId } from './ids';
import { resolveLab } from './labs';
import { sharedGalleryView, sharedImageView } from './sharedGalleryViews';
import type { Lab, SharedGallery } from './state';

/**
 * DevTest Labs shared galleries (2018-10-15-preview): a lab holds at most one Azure Compute Gallery;
 * the gallery's image definitions appear as the lab's shared images, each enabled or disabled for the
 * lab's users (all of them by `allowAllImages`, or one by one).
 */

export const SHARED_GALLERY_API_VERSIONS = ['2018-10-15-preview'] as const;

function resolveShared(request: ArmRequest): { lab: Lab; shared: SharedGallery } {
  const lab = resolveLab(request, { asParent: true });
  const shared = lab.sharedGallery;
  if (!shared || !same(shared.name, request.params.sharedGalleryName)) {
    throw resourceNotFound(`Microsoft.DevTestLab/labs/${lab.name}/sharedGalleries`, request.params.sharedGalleryName, request.params.resourceGroupName);
  }
  return { lab, shared };
}

/** The Compute gallery a shared gallery points to, if it (still) exists. */
export function computeGallery(request: ArmRequest, shared: SharedGallery): Gallery | undefined {
  return request.context.state.galleries.findGalleryById(shared.galleryId);
}

export function listSharedGalleries(request: ArmRequest): Reply {
  const lab = resolveLab(request, { asParent: true });
  return page(request, lab.sharedGallery ? [lab.sharedGallery] : [], (shared) => sharedGalleryView(lab, shared));
}

export function getSharedGallery(request: ArmRequest): Reply {
  const { lab, shared } = resolveShared(request);
  return ok(sharedGalleryView(lab, shared));
}

function checkEnableState(value: unknown, name: string): 'Enabled' | 'Disabled' | undefined {
  if (value === undefined) return undefined;
  if (value !== 'Enabled' && value !== 'Disabled') throw invalidRequestContent(`${name} must be 'Enabled' or 'Disabled'.`);
  return value;
}

export function createOrUpdateSharedGallery(request: ArmRequest): Reply {
  const lab = resolveLab(request, { asParent: true });
  const name = request.params.sharedGalleryName;
  const properties = requiredObject(requiredObject(request.body, 'sharedGallery').properties, 'properties');
  const galleryId = properties.galleryId;
  if (typeof galleryId !== 'string' || galleryId === '') throw invalidRequestContent('properties.galleryId is required: the resource id of an Azure Compute Gallery.');
  const allowAllImages = checkEnableState(properties.allowAllImages, 'properties.allowAllImages');
  const tags = request.body && (request.body as Record<string, unknown>).tags !== undefined ? checkTags((request.body as Record<string, unknown>).tags) : undefined;
  const gallery = request.context.state.galleries.findGalleryById(galleryId);
  if (!gallery) throw new ArmError(400, 'InvalidGalleryId', `The gallery '${galleryId}' was not found; properties.galleryId must be the id of an existing Azure Compute Gallery.`);
  const existing = lab.sharedGallery;
  if (existing && (!same(existing.name, name) || !same(existing.galleryId, galleryId))) {
    throw new ArmError(
      409,
      'Conflict',
      `Lab '${lab.name}' already has the shared gallery '${existing.name}' (${existing.galleryId}) attached; a lab can have only one. Detach it first.`,
    );
  }
  if (existing) {
    if (allowAllImages) existing.allowAllImages = allowAllImages;
    if (tags) existing.tags = tags;
    return ok(sharedGalleryView(lab, existing));
  }
  lab.sharedGallery = {
    name,
    galleryId,
    allowAllImages: allowAllImages ?? 'Disabled',
    uniqueIdentifier: stableGuid(`sharedgallery:${labId(lab)}/${name}/${Date.now()}`.toLowerCase()),
    enableStates: new Map(),
    ...(tags ? { tags } : {}),
  };
  return { status: 201, body: sharedGalleryView(lab, lab.sharedGallery) };
}

export function deleteSharedGallery(request: ArmRequest): Reply {
  const lab = resolveLab(request, { asParent: true });
  if (!lab.sharedGallery || !same(lab.sharedGallery.name, request.params.sharedGalleryName)) return { status: 204 };
  lab.sharedGallery = undefined;
  return { status: 200 };
}

export function listSharedImages(request: ArmRequest): Reply {
  const { lab, shared } = resolveShared(request);
  return page(request, computeGallery(request, shared)?.images ?? [], (image) => sharedImageView(lab, shared, image));
}

function resolveSharedImage(request: ArmRequest) {
  const { lab, shared } = resolveShared(request);
  const image = findByName(computeGallery(request, shared)?.images ?? [], request.params.sharedImageName);
  if (!image) {
    throw resourceNotFound(`Microsoft.DevTestLab/labs/${lab.name}/sharedGalleries/${shared.name}/sharedImages`, request.params.sharedImageName, request.params.resourceGroupName);
  }
  return { lab, shared, image };
}

export function getSharedImage(request: ArmRequest): Reply {
  const { lab, shared, image } = resolveSharedImage(request);
  return ok(sharedImageView(lab, shared, image));
}

/** Enables or disables one image for the lab's users. */
export function createOrUpdateSharedImage(request: ArmRequest): Reply {
  const { lab, shared, image } = resolveSharedImage(request);
  const properties = requiredObject(requiredObject(request.body, 'sharedImage').properties, 'properties');
  if (properties.definitionName !== undefined && (typeof properties.definitionName !== 'string' || !same(properties.definitionName, image.name))) {
    throw invalidRequestContent(`properties.definitionName must be the image definition '${image.name}' that the shared image is named after.`);
  }
  const state = checkEnableState(properties.enableState, 'properties.enableState');
  if (!state) throw invalidRequestContent("properties.enableState is required ('Enabled' or 'Disabled').");
  shared.enableStates.set(image.name.toLowerCase(), state);
  return ok(sharedImageView(lab, shared, image));
}
