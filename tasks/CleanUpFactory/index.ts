import { cleanUpFactory } from '../../core/cleanup/cleanUpFactory';
import { ErrorCodes, FactoryError } from '../../core/errors';
import { connectAzure } from '../common/azure';
import { galleryTargetInput } from '../common/gallery';
import { runTask } from '../common/taskContext';

/** VM deletions at once; the task has no input for it, as a factory lab holds a few dozen VMs at most. */
const CONCURRENT_DELETIONS = 10;

void runTask('CleanUpFactory', async (ctx) => {
  const labName = ctx.input('DevTestLabName', true);
  const dryRun = ctx.boolInput('dryRun', false);
  const gallery = galleryTargetInput(ctx);

  const azure = connectAzure(ctx);
  const subscriptionId = azure.connection.subscriptionId;
  if (!subscriptionId) {
    throw new FactoryError(ErrorCodes.ServiceConnectionInvalid, `The service connection '${azure.connection.connectionId}' names no subscription, so the factory lab cannot be found.`, {
      fix: 'Use an Azure Resource Manager service connection scoped to the subscription that holds the factory lab.',
      subject: azure.connection.connectionId,
    });
  }
  const result = await cleanUpFactory(azure, {
    subscriptionId,
    labName,
    maxConcurrentJobs: CONCURRENT_DELETIONS,
    dryRun,
    signal: ctx.signal,
    gallery,
  });
  ctx.uploadSummary('CleanUpFactory', result.summary);
  ctx.setOutput('DeletedVmCount', String(result.deleted));
  return result.message;
});
