import { checkGalleryName, type GalleryTarget } from '../../core/gallery/gallery';
import type { TaskContext } from './taskContext';

/**
 * The gallery the inputs name (galleryName, galleryResourceGroup), its name checked; undefined without
 * a gallery name. Every task that knows both routes reads its route here.
 */
export function galleryTargetInput(ctx: TaskContext): GalleryTarget | undefined {
  const galleryName = ctx.input('galleryName', false);
  if (!galleryName) return undefined;
  checkGalleryName(galleryName);
  return { galleryName, galleryResourceGroup: ctx.input('galleryResourceGroup', false) };
}
