import { BlobClaim } from '../azure/blobClaim';
import { callAzure } from '../azure/azureErrors';
import { ErrorCodes, FactoryError } from '../errors';
import { isFactoryCustomImage, stagingMetadata } from '../factoryImages';
import type { Step } from '../steps';
import { type JobEnvironment, type JobState, getCustomImage } from './job';

/**
 * The first step of a job: claim the (image, lab) pair by leasing its staging blob. Two runs at once
 * plan the same pairs; only the claim's holder copies, creates the custom image and tidies up, so a
 * run never copies over, deletes or re-creates what another run is making. A run that finds the pair
 * claimed waits for the claim to go (the other run finished, or was killed and its lease lapsed),
 * then looks again at what is there, since the plan was made before the other run's work.
 */
export function claimStagingBlob(env: JobEnvironment): Step<JobState> {
  return {
    name: 'claim the staging blob',
    async run(state, signal) {
      const { job } = state;
      state.container = await state.storage.containerClient({ signal });
      const blob = state.container.getBlobClient(state.blobName);
      const taken = await callAzure(
        `Claiming the staging blob '${state.blobName}' in lab '${job.lab.name}'`,
        () =>
          BlobClaim.wait(blob, env.runId, {
            metadata: stagingMetadata(job.image.imageName),
            signal,
            pollMs: Math.max(250, Math.min(2000, env.azure.pollIntervalMs)),
            onWait: () =>
              env.reporter.info(`Image '${job.image.imageName}' in lab '${job.lab.name}' is being made by another run; waiting for it.`),
          }),
        { subject: job.lab.name },
      );
      state.claim = taken.claim;
      await lookAgain(env, state, { created: taken.created, waited: taken.waited }, signal);
    },
    async cleanup(state) {
      // A staging blob other labs' copies read is released by whoever deletes it, once they have ended.
      if (!state.handedOver) await state.claim?.release();
    },
  };
}

/**
 * What the pair holds now that this run has it: the custom image (made by another run meanwhile, or
 * left by an earlier one) and the staging blob's copy decide how the job goes on.
 */
async function lookAgain(env: JobEnvironment, state: JobState, claim: { created: boolean; waited: boolean }, signal: AbortSignal): Promise<void> {
  const { job } = state;
  const image = await getCustomImage(env, job, signal);
  if (image) {
    if (!isFactoryCustomImage(image.tags, env.factory.id)) {
      throw new FactoryError(
        ErrorCodes.CustomImageNameTaken,
        `Lab '${job.lab.name}' (subscription ${job.lab.subscriptionId}) now holds a custom image '${image.name ?? job.image.imageName}' that the factory did not make, so image '${job.image.imageName}' cannot be created there.`,
        { fix: `Delete or rename that custom image in lab '${job.lab.name}', then run again.`, subject: job.lab.name },
      );
    }
    const provisioningState = image.provisioningState ?? 'Succeeded';
    if (provisioningState === 'Succeeded') {
      // The plan found an earlier run's image being created and nobody else has touched it: this run saw it through.
      // Not when the staging blob is gone: the run that made the image has finished and tidied up meanwhile.
      if (job.start === 'wait-image' && !claim.waited && !claim.created) {
        state.start = 'wait-image';
        return;
      }
      state.madeByAnotherRun = { customImageId: image.id };
      env.reporter.info(`Image '${job.image.imageName}' in lab '${job.lab.name}' was made by another run.`);
      return;
    }
    state.start = provisioningState === 'Failed' ? 'redo-image' : 'wait-image';
    return;
  }
  if (claim.created) {
    state.start = 'copy';
    return;
  }
  const properties = await callAzure(
    `Reading the staging blob '${state.blobName}' in lab '${job.lab.name}'`,
    () => state.container!.getBlobClient(state.blobName).getProperties({ abortSignal: signal }),
    { subject: job.lab.name },
  );
  const copyStatus = properties.copyStatus;
  state.start = copyStatus === 'success' ? 'reuse-copy' : copyStatus === 'pending' ? 'follow-copy' : 'recopy';
}
