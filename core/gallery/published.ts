import type { AzureContext } from '../azure/azureContext';
import type { SavedImage } from '../cleanup/plan';
import { type GalleryRef, observeGallery } from './gallery';

/**
 * The factory's finished image versions in the gallery, as the saved images CleanUpFactory checks a VM
 * against: a version made by the factory lab from the VM's disk, Succeeded.
 */
export async function publishedImages(azure: AzureContext, gallery: GalleryRef, factoryLabId: string, signal?: AbortSignal): Promise<SavedImage[]> {
  const observed = await observeGallery(azure, gallery, signal);
  return observed.definitions.flatMap((definition) =>
    definition.versions
      .filter((v) => v.provisioningState === 'Succeeded' && v.sourceDiskId && v.factoryLabId === factoryLabId.toLowerCase())
      .map((v) => ({ imageName: `${definition.name}/${v.name}`, sourceVmId: '', sourceDiskId: v.sourceDiskId!, createdUtc: v.createdUtc ?? '' })),
  );
}
