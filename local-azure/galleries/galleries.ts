import { ArmError, ok, type Reply } from '../http';
import type { ArmRequest } from '../resourceManager/context';
import { page } from '../resourceManager/paging';
import { checkTags, optionalString, requiredObject } from '../resourceManager/requestBody';
import { checkGalleryName } from './names';
import { checkNotBusy, findGallery, resolveGallery } from './resolve';
import type { Gallery } from './state';
import { galleryView } from './views';

/** Galleries: get, list, create or update, delete (each write a long-running operation, as in Compute). */

export function getGallery(request: ArmRequest): Reply {
  return ok(galleryView(resolveGallery(request)));
}

export function listGalleries(request: ArmRequest): Reply {
  const { subscriptionId, resourceGroupName } = request.params;
  return page(request, request.context.state.galleries.galleriesIn(subscriptionId, resourceGroupName), galleryView);
}

export function createOrUpdateGallery(request: ArmRequest): Reply {
  const existing = findGallery(request);
  const name = request.params.galleryName;
  checkGalleryName(name);
  const body = requiredObject(request.body, 'gallery');
  const location = optionalString(body.location, 'location');
  if (!location) throw new ArmError(400, 'LocationRequired', 'The location property is required for this definition.');
  const properties = body.properties === undefined ? {} : requiredObject(body.properties, 'properties');
  const tags = body.tags === undefined ? undefined : checkTags(body.tags);
  const description = optionalString(properties.description, 'properties.description');
  const { context } = request;
  let gallery: Gallery;
  if (existing) {
    checkNotBusy('gallery', existing.name, existing.provisioningState);
    if (location.replace(/\s+/g, '').toLowerCase() !== existing.location.toLowerCase()) {
      throw new ArmError(400, 'PropertyChangeNotAllowed', "Changing property 'gallery.location' is not allowed.", {}, [{ code: 'PropertyChangeNotAllowed', target: 'gallery.location', message: 'cannot change' }]);
    }
    gallery = existing;
    if (tags) gallery.tags = tags;
    if (description !== undefined) gallery.description = description;
    gallery.provisioningState = 'Updating';
  } else {
    gallery = {
      subscriptionId: request.params.subscriptionId,
      resourceGroup: request.params.resourceGroupName,
      name,
      location: location.replace(/\s+/g, '').toLowerCase(),
      tags: tags ?? {},
      description,
      provisioningState: 'Creating',
      images: [],
    };
    context.state.galleries.galleries.push(gallery);
  }
  const op = context.operations.startFor(request, gallery, 'Microsoft.Compute', {
    durationMs: context.state.settings.lroDurationMs,
    failure: { code: 'InternalOperationError', message: `Creating or updating gallery '${name}' failed.` },
    complete: () => {
      gallery.provisioningState = 'Succeeded';
      return galleryView(gallery);
    },
    onFailure: () => {
      gallery.provisioningState = 'Failed';
    },
  });
  return { status: existing ? 200 : 201, headers: context.operations.startHeaders(op), body: galleryView(gallery) };
}

export function deleteGallery(request: ArmRequest): Reply {
  const gallery = findGallery(request);
  if (!gallery) return { status: 204 };
  checkNotBusy('gallery', gallery.name, gallery.provisioningState);
  if (gallery.images.length) {
    throw new ArmError(409, 'CannotDeleteResource', `Can not delete resource before nested resources are deleted. Gallery '${gallery.name}' has ${gallery.images.length} image definition(s).`);
  }
  const { context } = request;
  gallery.provisioningState = 'Deleting';
  const op = context.operations.startFor(request, gallery, 'Microsoft.Compute', {
    durationMs: context.state.settings.lroDurationMs,
    complete: () => {
      context.state.galleries.removeGallery(gallery);
      return undefined;
    },
    onFailure: () => {
      gallery.provisioningState = 'Failed';
    },
  });
  return { status: 202, headers: context.operations.startHeaders(op) };
}
