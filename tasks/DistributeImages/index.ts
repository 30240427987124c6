import { distributeImages } from '../../core/distribute/distribute';
import { connectAzure } from '../common/azure';
import { runTask } from '../common/taskContext';

void runTask('DistributeImages', async (ctx) => {
  const configurationLocation = ctx.input('ConfigurationLocation', true);
  const factoryLabName = ctx.input('DevTestLabName', true);
  const factorySubscriptionId = ctx.guidInput('SubscriptionId');
  const maxConcurrentJobs = ctx.intInput('maxConcurrentJobs', { default: 20, min: 1, max: 200 });
  const imagesToSave = ctx.intInput('ImagesToSave', { default: 2, min: 1, max: 1000 });
  ctx.setTimeoutMinutes(ctx.intInput('TimeoutMinutes', { default: 480, min: 1, max: 10_080 }));
  const dryRun = ctx.boolInput('dryRun', false);

  const azure = connectAzure(ctx);
  const run = await distributeImages(azure, {
    configurationLocation,
    factoryLabName,
    factorySubscriptionId,
    maxConcurrentJobs,
    imagesToSave,
    dryRun,
    signal: ctx.signal,
  });
  if (run.summary) ctx.uploadSummary('DistributeImages', run.summary);
  if (!dryRun) ctx.setOutput('CreatedImageIds', run.createdImageIds.join(','));
  return run.message;
});
