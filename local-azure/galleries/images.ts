import type { HyperVGeneration } from '../compute/marketplace';
import type { OsType } from '../compute/state';
import { ArmError, ok, type Reply } from '../http';
import { same } from '../ids';
import type { ArmRequest } from '../resourceManager/context';
import { invalidRequestContent } from '../resourceManager/errors';
import { page } from '../resourceManager/paging';
import { checkTags, optionalString, requiredObject } from '../resourceManager/requestBody';
import { checkIdentifierPart, checkImageName } from './names';
import { checkNotBusy, checkSameLocation, findImage, resolveGallery, resolveImage } from './resolve';
import { readFeatures, updatedFeatures } from './features';
import type { Gallery, GalleryImage, GalleryImageFeature } from './state';
import { galleryImageView } from './views';

/**
 * Gallery image definitions: get, list, create or update, update (PATCH), delete. What a definition says of its images
 * (OS type and state, generation, identifier, architecture) cannot change once it is made: Compute refuses
 * it with PropertyChangeNotAllowed, as versions made for it depend on it. Its features change only as
 * features.ts says (some, when the update asks with `allowUpdateImage`).
 */

/** SecurityType feature values, and the ones that need a Generation 2 image. */
const SECURITY_TYPES = ['Standard', 'TrustedLaunch', 'TrustedLaunchSupported', 'ConfidentialVM', 'ConfidentialVMSupported', 'TrustedLaunchAndConfidentialVmSupported'];

interface ImageSpec {
  osType: OsType;
  osState: GalleryImage['osState'];
  hyperVGeneration: HyperVGeneration;
  identifier: GalleryImage['identifier'];
  features: GalleryImageFeature[];
  architecture: string;
}

export function getImage(request: ArmRequest): Reply {
  return ok(galleryImageView(resolveImage(request)));
}

export function listImages(request: ArmRequest): Reply {
  return page(request, resolveGallery(request, { asParent: true }).images, galleryImageView);
}

function invalidParameter(target: string, message: string): ArmError {
  return new ArmError(400, 'InvalidParameter', message, {}, [{ code: 'InvalidParameter', target, message }]);
}

function readSpec(properties: Record<string, unknown>): ImageSpec {
  const osType = properties.osType;
  if (osType !== 'Windows' && osType !== 'Linux') throw invalidParameter('galleryImage.properties.osType', "Required parameter 'galleryImage.properties.osType' must be 'Windows' or 'Linux'.");
  const osState = properties.osState;
  if (osState !== 'Generalized' && osState !== 'Specialized') throw invalidParameter('galleryImage.properties.osState', "Required parameter 'galleryImage.properties.osState' must be 'Generalized' or 'Specialized'.");
  const generation = properties.hyperVGeneration ?? 'V1';
  if (generation !== 'V1' && generation !== 'V2') throw invalidParameter('galleryImage.properties.hyperVGeneration', "'galleryImage.properties.hyperVGeneration' must be 'V1' or 'V2'.");
  const identifier = requiredObject(properties.identifier, 'properties.identifier');
  const features = readFeatures(properties.features);
  const security = features.find((f) => same(f.name, 'SecurityType'));
  if (security && !SECURITY_TYPES.includes(security.value)) {
    throw invalidParameter('galleryImage.properties.features', `The SecurityType '${security.value}' is not valid; it must be one of ${SECURITY_TYPES.join(', ')}.`);
  }
  if (security && security.value !== 'Standard' && generation !== 'V2') {
    throw invalidParameter('galleryImage.properties.features', `The SecurityType '${security.value}' is supported only for images with hyperVGeneration 'V2'.`);
  }
  const architecture = properties.architecture ?? 'x64';
  if (architecture !== 'x64' && architecture !== 'Arm64') throw invalidParameter('galleryImage.properties.architecture', "'galleryImage.properties.architecture' must be 'x64' or 'Arm64'.");
  return {
    osType,
    osState,
    hyperVGeneration: generation,
    identifier: { publisher: checkIdentifierPart('publisher', identifier.publisher), offer: checkIdentifierPart('offer', identifier.offer), sku: checkIdentifierPart('sku', identifier.sku) },
    features,
    architecture,
  };
}

/** The first property the update would change that cannot change, or undefined (features: features.ts). */
function changedImmutable(image: GalleryImage, spec: ImageSpec): string | undefined {
  if (image.osType !== spec.osType) return 'osType';
  if (image.osState !== spec.osState) return 'osState';
  if (image.hyperVGeneration !== spec.hyperVGeneration) return 'hyperVGeneration';
  for (const part of ['publisher', 'offer', 'sku'] as const) if (!same(image.identifier[part], spec.identifier[part])) return `identifier.${part}`;
  if (image.architecture !== spec.architecture) return 'architecture';
  return undefined;
}

export function createOrUpdateImage(request: ArmRequest): Reply {
  const { gallery, image: existing } = findImage(request);
  const name = request.params.galleryImageName;
  checkImageName(name);
  const body = requiredObject(request.body, 'galleryImage');
  const location = optionalString(body.location, 'location');
  if (!location) throw new ArmError(400, 'LocationRequired', 'The location property is required for this definition.');
  checkSameLocation('gallery image', location, gallery.location);
  const properties = requiredObject(body.properties, 'properties');
  const tags = body.tags === undefined ? undefined : checkTags(body.tags);
  return writeImage(request, gallery, existing, properties, tags);
}

/**
 * GalleryImages_Update (PATCH): the properties it gives replace the definition's, the rest stay, and the
 * same rules as a PUT on the existing definition apply.
 */
export function updateImage(request: ArmRequest): Reply {
  const image = resolveImage(request);
  const body = requiredObject(request.body, 'galleryImage');
  const patch = body.properties === undefined ? {} : requiredObject(body.properties, 'properties');
  const tags = body.tags === undefined ? undefined : checkTags(body.tags);
  return writeImage(request, image.gallery, image, { ...currentProperties(image), ...patch }, tags);
}

/** The writable properties a definition has now, as a request would give them. */
function currentProperties(image: GalleryImage): Record<string, unknown> {
  return {
    osType: image.osType,
    osState: image.osState,
    hyperVGeneration: image.hyperVGeneration,
    identifier: { ...image.identifier },
    features: image.features.map((f) => ({ ...f })),
    architecture: image.architecture,
    description: image.description,
  };
}

function writeImage(request: ArmRequest, gallery: Gallery, existing: GalleryImage | undefined, properties: Record<string, unknown>, tags: Record<string, string> | undefined): Reply {
  const name = existing?.name ?? request.params.galleryImageName;
  const spec = readSpec(properties);
  const description = optionalString(properties.description, 'properties.description');
  const allowUpdateImage = properties.allowUpdateImage ?? false;
  if (typeof allowUpdateImage !== 'boolean') throw invalidRequestContent('properties.allowUpdateImage must be a boolean.');
  const clash = gallery.images.find(
    (other) => other !== existing && (['publisher', 'offer', 'sku'] as const).every((part) => same(other.identifier[part], spec.identifier[part])),
  );
  if (clash) {
    throw new ArmError(
      409,
      'Conflict',
      `Gallery image '${clash.name}' in gallery '${gallery.name}' already has identifier publisher '${spec.identifier.publisher}', offer '${spec.identifier.offer}', sku '${spec.identifier.sku}'; an identifier names one image definition of a gallery.`,
    );
  }
  const { context } = request;
  let image: GalleryImage;
  if (existing) {
    checkNotBusy('gallery image', existing.name, existing.provisioningState);
    const changed = changedImmutable(existing, spec);
    if (changed) {
      throw new ArmError(400, 'PropertyChangeNotAllowed', `Changing property 'galleryImage.properties.${changed}' is not allowed.`, {}, [
        { code: 'PropertyChangeNotAllowed', target: `galleryImage.properties.${changed}`, message: 'cannot change once the image definition exists' },
      ]);
    }
    const features = updatedFeatures(existing.features, spec.features, allowUpdateImage);
    image = existing;
    image.features = features;
    if (tags) image.tags = tags;
    if (description !== undefined) image.description = description;
    image.provisioningState = 'Updating';
  } else {
    image = { gallery, name, location: gallery.location, tags: tags ?? {}, description, ...spec, provisioningState: 'Creating', versions: [] };
    gallery.images.push(image);
  }
  const op = context.operations.startFor(request, gallery, 'Microsoft.Compute', {
    durationMs: context.state.settings.lroDurationMs,
    failure: { code: 'InternalOperationError', message: `Creating or updating gallery image '${name}' failed.` },
    complete: () => {
      image.provisioningState = 'Succeeded';
      return galleryImageView(image);
    },
    onFailure: () => {
      image.provisioningState = 'Failed';
    },
  });
  return { status: existing ? 200 : 201, headers: context.operations.startHeaders(op), body: galleryImageView(image) };
}

export function deleteImage(request: ArmRequest): Reply {
  const { gallery, image } = findImage(request);
  if (!image) return { status: 204 };
  checkNotBusy('gallery image', image.name, image.provisioningState);
  if (image.versions.length) {
    throw new ArmError(409, 'CannotDeleteResource', `Can not delete resource before nested resources are deleted. Gallery image '${image.name}' has ${image.versions.length} version(s).`);
  }
  const { context } = request;
  image.provisioningState = 'Deleting';
  const op = context.operations.startFor(request, gallery, 'Microsoft.Compute', {
    durationMs: context.state.settings.lroDurationMs,
    complete: () => {
      const index = gallery.images.indexOf(image);
      if (index >= 0) gallery.images.splice(index, 1);
      return undefined;
    },
    onFailure: () => {
      image.provisioningState = 'Failed';
    },
  });
  return { status: 202, headers: context.operations.startHeaders(op) };
}
