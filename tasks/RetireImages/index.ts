import { retireImages } from '../../core/retire/retireImages';
import { retireGalleryImages } from '../../core/gallery/retire';
import { connectAzure, factorySubscriptionId } from '../common/azure';
import { galleryTargetInput } from '../common/gallery';
import { runTask } from '../common/taskContext';

void runTask('RetireImages', async (ctx) => {
  const configurationLocation = ctx.input('ConfigurationLocation', true);
  const labName = ctx.input('DevTestLabName', true);
  const imagesToSave = ctx.intInput('ImagesToSave', { default: 2, min: 1, max: 1000 });
  const maxConcurrentJobs = ctx.intInput('maxConcurrentJobs', { default: 20, min: 1, max: 200 });
  const includePowerShellImages = ctx.boolInput('includePowerShellImages', true);
  const dryRun = ctx.boolInput('dryRun', false);
  const inputSubscriptionId = ctx.guidInput('SubscriptionId');
  // The route: a gallery name chooses the gallery route; without one, the VHD route as always.
  const gallery = galleryTargetInput(ctx);

  const azure = connectAzure(ctx);
  const subscriptionId = factorySubscriptionId(azure, inputSubscriptionId);
  const common = { configurationLocation, subscriptionId, labName, imagesToSave, includePowerShellImages, maxConcurrentJobs, dryRun, signal: ctx.signal };
  const result = gallery
    ? await retireGalleryImages(azure, { ...common, ...gallery })
    : await retireImages(azure, common);
  ctx.uploadSummary('RetireImages', result.summary);
  ctx.setOutput('DeletedImageCount', String(result.deleted));
  return result.message;
});
