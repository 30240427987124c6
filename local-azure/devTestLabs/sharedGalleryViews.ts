import { compareVersionNames } from '../galleries/names';
import type { GalleryImage } from '../galleries/state';
import { labId } from './ids';
import type { Lab, SharedGallery } from './state';

/** A lab's shared gallery and its images as DevTest Labs 2018-10-15-preview returns them (ids in lower case, as all of DevTest Labs'). */

export function sharedGalleryId(lab: Lab, gallery: SharedGallery): string {
  return `${labId(lab)}/sharedgalleries/${gallery.name.toLowerCase()}`;
}

export function sharedImageId(lab: Lab, gallery: SharedGallery, definitionName: string): string {
  return `${sharedGalleryId(lab, gallery)}/sharedimages/${definitionName.toLowerCase()}`;
}

export function sharedGalleryView(lab: Lab, gallery: SharedGallery): Record<string, unknown> {
  return {
    properties: { galleryId: gallery.galleryId, allowAllImages: gallery.allowAllImages, provisioningState: 'Succeeded', uniqueIdentifier: gallery.uniqueIdentifier },
    id: sharedGalleryId(lab, gallery),
    name: gallery.name,
    type: 'Microsoft.DevTestLab/labs/sharedGalleries',
    location: lab.location,
    tags: { ...gallery.tags },
  };
}

/** Whether the lab lets VMs be made from the definition. */
export function enableState(gallery: SharedGallery, definitionName: string): 'Enabled' | 'Disabled' {
  return gallery.enableStates.get(definitionName.toLowerCase()) ?? (gallery.allowAllImages === 'Enabled' ? 'Enabled' : 'Disabled');
}

export function sharedImageView(lab: Lab, gallery: SharedGallery, image: GalleryImage): Record<string, unknown> {
  const versions = [...image.versions].filter((v) => v.provisioningState === 'Succeeded' || v.provisioningState === 'Updating').sort((a, b) => compareVersionNames(a.name, b.name));
  return {
    properties: {
      definitionName: image.name,
      displayName: image.name,
      enableState: enableState(gallery, image.name),
      osType: image.osType,
      imageType: image.osState,
      versions: versions.map((v) => ({ name: v.name, id: `${sharedImageId(lab, gallery, image.name)}/versions/${v.name}` })),
      provisioningState: 'Succeeded',
      uniqueIdentifier: `${gallery.uniqueIdentifier.slice(0, 24)}${image.name.length.toString(16).padStart(12, '0')}`,
    },
    id: sharedImageId(lab, gallery, image.name),
    name: image.name,
    // As the SharedImages examples: a shared image has no location of its own.
    type: 'Microsoft.DevTestLab/labs/sharedGalleries/sharedImages',
  };
}
