import type { BlobClient } from '@azure/storage-blob';
import { callAzure } from '../azure/azureErrors';
import { type CopyProgress, copyBlob } from '../azure/blobCopy';
import { ErrorCodes, isAbortError, isFactoryError } from '../errors';
import { customImageTags, stagingMetadata } from '../factoryImages';
import type { LabCopySource } from './fanOut';
import { type JobEnvironment, type JobState, deleteStagingBlob, sourceUrl } from './job';
import { copyBudgetMs, crossesRegion } from './regions';
import { clearStagingTag } from './stagingTag';

/**
 * A job's side of fan-out (fanOut.ts): copying from the source the run's board gives it, trying another
 * when a lab's copy fails it (deleted, replaced or aborted under it, or its SAS refused), publishing the
 * job's own finished copy, and deleting it once the copies reading it have ended.
 */

/** Lab sources a copy tries before it reads the store whatever its load: each failure moves to another. */
const MAX_LAB_SOURCE_FAILURES = 3;

/** Copies the job's image into `destination` from the best source, another one after a lab source fails. */
export async function copyFromSource(
  env: JobEnvironment,
  state: JobState,
  destination: BlobClient,
  onProgress: (progress: CopyProgress) => void,
  signal: AbortSignal,
): Promise<{ totalBytes: number }> {
  const { job } = state;
  const failed = new Set<string>();
  for (;;) {
    const lease = state.reserved ?? (await env.board.acquire(job, signal, failed, failed.size >= MAX_LAB_SOURCE_FAILURES));
    state.reserved = undefined;
    const from = lease.source;
    try {
      const url = from
        ? await readUrl(env, from, copyBudgetMs(job.image.sizeBytes, crossesRegion({ region: from.lab.location }, job.lab)), signal)
        : await sourceUrl(env.sas, env.store, job.image.imageName, signal, copyBudgetMs(job.image.sizeBytes, job.crossesRegion));
      if (url === undefined) {
        failed.add(from!.key);
        continue;
      }
      env.reporter.debug(`Copying '${job.image.imageName}' into lab '${job.lab.name}' from ${from ? `lab '${from.lab.name}'` : 'the image store'}.`);
      const copied = await copyBlob(destination, url, {
        metadata: stagingMetadata(job.image.imageName),
        leaseId: state.claim?.leaseId,
        sourceIfMatch: from?.etag,
        signal,
        onProgress,
        reporter: env.reporter,
      });
      if (from) env.board.finished.fromLabs++;
      else env.board.finished.fromStore++;
      return copied;
    } catch (error) {
      if (!from || signal.aborted || isAbortError(error) || !isFactoryError(error)) throw error;
      failed.add(from.key);
      env.reporter.info(
        `Copying '${job.image.imageName}' into lab '${job.lab.name}' from lab '${from.lab.name}' failed (${error.message}); copying from another source.`,
      );
    } finally {
      lease.release();
    }
  }
}

/**
 * A read-only SAS URL of a lab source valid for `validForMs` (the copy's budget), or undefined when its
 * account refuses the identity one (warned once per lab).
 */
async function readUrl(env: JobEnvironment, source: LabCopySource, validForMs: number, signal: AbortSignal): Promise<string | undefined> {
  try {
    return await source.storage.readSasUrl(source.blobName, { expiresOn: new Date(Date.now() + validForMs), signal });
  } catch (error) {
    if (!isFactoryError(error) || (error.code !== ErrorCodes.BlobDataWriteDenied && error.code !== ErrorCodes.BlobDataReadDenied)) throw error;
    source.open = false;
    if (env.board.firstTime(`denied|${source.key}`)) {
      env.reporter.issue({
        severity: 'warning',
        code: ErrorCodes.FanOutSourceDenied,
        message:
          `Lab '${source.lab.name}' cannot serve its copy of '${source.blobName}' to other labs: its storage account gives the service ` +
          `connection's identity no user delegation key (a Storage Blob Data role assigned on the account, not only on its 'uploads' ` +
          `container). Copies read the factory's image store instead, which is slower when many labs share it.`,
        fix:
          `Assign Storage Blob Data Contributor to the identity on the storage account of lab '${source.lab.name}' itself (not its container), ` +
          "or set the input 'fanOut' to 'flat' to copy every lab from the image store.",
      });
    }
    return undefined;
  }
}

/**
 * Once the job's staging blob holds the image, offers it to the other copies of its image, if it is what
 * the factory expects: a finished copy of the VHD's length, with the job's staging metadata.
 */
export async function publishCopy(env: JobEnvironment, state: JobState, signal: AbortSignal): Promise<void> {
  const { job } = state;
  if (env.board.mode !== 'tree' || !state.claim) return;
  const properties = await callAzure(
    `Reading the staging blob '${state.blobName}' in lab '${job.lab.name}'`,
    () => state.container!.getBlobClient(state.blobName).getProperties({ abortSignal: signal }),
    { subject: job.lab.name },
  );
  const metadata = properties.metadata ?? {};
  const expected = stagingMetadata(job.image.imageName);
  const sameMetadata = Object.entries(expected).every(([name, value]) => metadata[name] === value);
  if ((properties.copyStatus ?? 'success') !== 'success' || properties.contentLength !== job.image.sizeBytes + 512 || !sameMetadata || !properties.etag) {
    env.reporter.debug(`The staging blob '${state.blobName}' in lab '${job.lab.name}' is not offered to other labs: it is not the VHD expected.`);
    return;
  }
  state.published = env.board.publish(job, { storage: state.storage, blobName: state.blobName, etag: properties.etag });
}

/**
 * The cleanup of a published copy: retired once no longer useful (fanOut.ts), deleted under the run's claim
 * once the copies reading it have ended, the claim then released. The job does not wait for it; the run does.
 */
export function retireAndDelete(env: JobEnvironment, state: JobState, source: LabCopySource): void {
  state.handedOver = true;
  const { job } = state;
  env.board.defer(
    (async () => {
      try {
        await env.board.retire(source, !!state.tagged && !!state.customImageId);
        const container = state.container ?? (await state.storage.containerClient());
        await deleteStagingBlob(container, state.blobName, undefined, state.claim?.leaseId);
        if (state.tagged && state.customImageId) await clearStagingTag(env.azure, job.lab, job.image.imageName, env.reporter, customImageTags(job.image, env.factory.id));
      } catch (error) {
        env.reporter.issue({
          severity: 'warning',
          code: ErrorCodes.DistributionFailed,
          message: `The staging blob '${state.blobName}' in lab '${job.lab.name}' could not be deleted: ${error instanceof Error ? error.message : String(error)}`,
          fix: 'Nothing is missing; the next DistributeImages run with a job in this lab deletes the blob.',
        });
      } finally {
        await state.claim?.release().catch(() => undefined);
      }
    })(),
  );
}
