import { distributeImages } from '../../core/distribute/distribute';
import { FAN_OUT_MODES, type FanOut } from '../../core/distribute/sources';
import { ErrorCodes, FactoryError } from '../../core/errors';
import { distributeGalleryImages } from '../../core/gallery/distribute';
import { connectAzure } from '../common/azure';
import { galleryTargetInput } from '../common/gallery';
import { limitHeapGrowth } from '../common/heap';
import { runTask } from '../common/taskContext';

// A plan over thousands of labs: the heap is kept near what it holds (heap.ts).
limitHeapGrowth();

void runTask('DistributeImages', async (ctx) => {
  const configurationLocation = ctx.input('ConfigurationLocation', true);
  const factoryLabName = ctx.input('DevTestLabName', true);
  const factorySubscriptionId = ctx.guidInput('SubscriptionId');
  const maxConcurrentJobs = ctx.intInput('maxConcurrentJobs', { default: 20, min: 1, max: 200 });
  const imagesToSave = ctx.intInput('ImagesToSave', { default: 2, min: 1, max: 1000 });
  ctx.setTimeoutMinutes(ctx.intInput('TimeoutMinutes', { default: 480, min: 1, max: 10_080 }));
  const dryRun = ctx.boolInput('dryRun', false);
  // The route: a gallery name chooses the gallery route; without one, the VHD route as always.
  const gallery = galleryTargetInput(ctx);

  const fanOut = (ctx.input('fanOut', false) || 'tree') as FanOut;
  if (!FAN_OUT_MODES.includes(fanOut)) {
    throw new FactoryError(ErrorCodes.InputInvalid, `'${fanOut}' is not a fan-out mode.`, { fix: `Set the input 'fanOut' to one of ${FAN_OUT_MODES.join(', ')}.`, subject: 'fanOut' });
  }

  const azure = connectAzure(ctx);
  const common = { configurationLocation, factoryLabName, factorySubscriptionId, maxConcurrentJobs, imagesToSave, dryRun, signal: ctx.signal };
  const run = gallery
    ? await distributeGalleryImages(azure, { ...common, ...gallery })
    : await distributeImages(azure, { ...common, fanOut });
  if (run.summary) ctx.uploadSummary('DistributeImages', run.summary);
  if (!dryRun) ctx.setOutput('CreatedImageIds', run.createdImageIds.join(','));
  return run.message;
});
