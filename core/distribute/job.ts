import type { ContainerClient } from '@azure/storage-blob';
import type { CustomImage } from '@azure/arm-devtestlabs';
import type { AzureContext } from '../azure/azureContext';
import { callAzure, toFactoryErrorOrRethrow } from '../azure/azureErrors';
import type { BlobClaim } from '../azure/blobClaim';
import { followCopy, sasBlobClient } from '../azure/blobCopy';
import { type LabRef, type LabStorage, sasExpiresAtMs } from '../azure/labs';
import { sleep } from '../azure/retryPolicy';
import { ErrorCodes, FactoryError, isAbortError, isFactoryError } from '../errors';
import { Tags, customImageTags, stagingBlobName } from '../factoryImages';
import type { ImageStore } from '../imageStore';
import type { Issue, Reporter } from '../report';
import { type Step, runSteps } from '../steps';
import { claimStagingBlob } from './claim';
import type { LabCopySource, SourceBoard, SourceLease } from './fanOut';
import { copyFromSource, publishCopy, retireAndDelete } from './sourceCopy';
import type { JobResult } from './outcome';
import type { DistributionJob, JobStart } from './plan';
import { copyBudgetMs } from './regions';

/**
 * One (image, lab) pair: copy the factory's VHD server-side into the lab's storage as a staging blob,
 * create the custom image from it, delete the staging blob. Each step releases what it acquired, so a
 * job that fails or is cancelled leaves neither a half-copied VHD nor a custom image in a failed state.
 * Names are a function of the image, so a run restarted after a kill finds and finishes what this one
 * left (the plan says how each job starts). A job first claims its staging blob (claim.ts): another run
 * at work on the same (image, lab) is waited for, never copied over, and what it made is never deleted.
 */
export interface JobEnvironment {
  azure: AzureContext;
  /** This run's id: the lease id of every staging blob it claims. */
  runId: string;
  factory: LabRef;
  store: Pick<ImageStore, 'sourceUrl'>;
  sas: SasCache;
  reporter: Reporter;
  /** Told how many bytes of this job's copy are done. */
  onCopyProgress?: (job: DistributionJob, copiedBytes: number) => void;
  /** The run's copy sources: the store and, in a tree, labs' finished copies (fanOut.ts). */
  board: SourceBoard;
}

/**
 * SAS URLs handed out by DevTest Labs (generateUploadUri), kept for reuse so that a run asks Resource
 * Manager once per image for copy sources and once per (lab, blob) for destinations. A URL older than
 * `maxAgeMs` is asked for again, so that a job waiting in the queue never starts with an expired SAS; so
 * is one whose expiry (`se`) comes sooner than `validForMs`, the copy's budget: a copy fails when its
 * source SAS expires, and is followed through its destination's, and one across regions takes longer.
 */
export class SasCache {
  private readonly entries = new Map<string, { url: Promise<string>; at: number; expiresAtMs?: number }>();

  constructor(private readonly maxAgeMs = 30 * 60_000) {}

  get(key: string, ask: () => Promise<string>, options: { validForMs?: number } = {}): Promise<string> {
    const entry = this.entries.get(key);
    const lastsLongEnough = (expiresAtMs: number | undefined) =>
      options.validForMs === undefined || expiresAtMs === undefined || expiresAtMs - Date.now() >= options.validForMs;
    if (entry && Date.now() - entry.at < this.maxAgeMs && lastsLongEnough(entry.expiresAtMs)) return entry.url;
    const url = ask();
    const made: { url: Promise<string>; at: number; expiresAtMs?: number } = { url, at: Date.now() };
    this.entries.set(key, made);
    url.then(
      (value) => {
        made.expiresAtMs = sasExpiresAtMs(value);
      },
      // A failed or cancelled request is not kept: the next caller asks again.
      () => {
        if (this.entries.get(key) === made) this.entries.delete(key);
      },
    );
    return url;
  }
}

/** The read SAS URL of a store image, as a copy source; `validForMs`: how long it must still work. */
export function sourceUrl(
  sas: SasCache,
  store: Pick<ImageStore, 'sourceUrl'>,
  imageName: string,
  signal?: AbortSignal,
  validForMs?: number,
): Promise<string> {
  return sas.get(`source|${imageName.toLowerCase()}`, () => store.sourceUrl(imageName, { signal }), { validForMs });
}

/** The upload URI of a blob in a lab; `validForMs`: how long it must still work. */
export function uploadUri(sas: SasCache, storage: LabStorage, blobName: string, signal?: AbortSignal, validForMs?: number): Promise<string> {
  return sas.get(`${storage.lab.id.toLowerCase()}|${blobName.toLowerCase()}`, () => storage.uploadUri(blobName, { signal }), { validForMs });
}

export interface JobState {
  readonly job: DistributionJob;
  readonly storage: LabStorage;
  readonly blobName: string;
  /** How the job goes on: the plan's start, as checked again once the staging blob is claimed. */
  start: JobStart;
  container?: ContainerClient;
  /** The lease this run holds on the staging blob; every write to the blob goes under it. */
  claim?: BlobClaim;
  /** Another run made the custom image (this one waited for it, or found it made): nothing to do. */
  madeByAnotherRun?: { customImageId?: string };
  /** An image an earlier run created turned out Succeeded: nothing left to do but tidy up. */
  alreadyCreated: boolean;
  /** The create request was sent: on failure or cancel the custom image must go. */
  createSent: boolean;
  customImageId?: string;
  copiedBytes: number;
  /** A cancel found the custom image still being created, which Azure does not let anyone delete. */
  leftCreating?: boolean;
  /** The staging blob, verified, serves other labs' copies of the image. */
  published?: LabCopySource;
  /** The staging blob's deletion and the claim's release were left to the run (retireAndDelete). */
  handedOver?: boolean;
  /** The custom image was made with the staging tag (stagingTag.ts). */
  tagged?: boolean;
  /** The source place the dispatcher found free for this job's copy (dispatch.ts), until the copy takes it. */
  reserved?: SourceLease;
}

const IN_PROGRESS = new Set(['Creating', 'Updating', 'Deleting', 'Running', 'Accepted', 'InProgress']);

export async function runDistributionJob(env: JobEnvironment, job: DistributionJob, signal: AbortSignal, reserved?: SourceLease): Promise<JobResult> {
  const started = Date.now();
  const state: JobState = {
    reserved,
    job,
    storage: env.azure.labs.storage(job.lab),
    blobName: job.staging?.blobName ?? stagingBlobName(job.image.imageName),
    start: job.start,
    alreadyCreated: false,
    createSent: false,
    copiedBytes: 0,
  };
  const where = `image '${job.image.imageName}' in lab '${job.lab.name}' (subscription ${job.lab.subscriptionId})`;
  const steps: Step<JobState>[] = [claimStagingBlob(env), settleEarlierImage(env), copyToLab(env), createCustomImage(env)];
  try {
    await runSteps(steps, state, {
      signal,
      onCleanupError: (step, error) =>
        env.reporter.debug(`Cleanup of '${step}' for ${where} failed: ${error instanceof Error ? error.message : String(error)}`),
    });
  } catch (error) {
    if (signal.aborted || isAbortError(error)) return { status: 'cancelled' };
    // Only tidying up failed once the image was made: the image stands, and the next run deletes the blob.
    if (state.customImageId || state.alreadyCreated) return created(state, started, warningFor(error, where, state.blobName));
    return { status: 'failed', issue: failureIssue(error, where) };
  } finally {
    // Whatever became of the job, it needs no source and brings its region no copy any more.
    state.reserved?.release();
    env.board.copied(job);
    env.board.arrived(job);
  }
  if (state.madeByAnotherRun) return { status: 'exists', customImageId: state.madeByAnotherRun.customImageId };
  return created(state, started);
}

function created(state: JobState, started: number, warning?: Issue): JobResult {
  return {
    status: 'created',
    customImageId: state.customImageId ?? '',
    copiedBytes: state.copiedBytes,
    durationMs: Date.now() - started,
    warning,
  };
}

function warningFor(error: unknown, where: string, blobName: string): Issue {
  const detail = isFactoryError(error) || error instanceof Error ? error.message : String(error);
  if (isFactoryError(error) && error.code === ErrorCodes.BlobDataWriteDenied) {
    // No later run can delete it either until the role is there: the fix is the role's.
    return {
      severity: 'warning',
      code: error.code,
      message: `Created ${where}, but its staging blob '${blobName}' could not be deleted: ${detail}`,
      fix: `${error.fix ?? ''} The next DistributeImages run then deletes the blob.`.trim(),
    };
  }
  return {
    severity: 'warning',
    code: ErrorCodes.DistributionFailed,
    message: `Created ${where}, but its staging blob '${blobName}' could not be deleted: ${detail}`,
    fix: 'Nothing is missing; the next DistributeImages run with a job in this lab deletes the blob.',
  };
}

function failureIssue(error: unknown, where: string): Issue {
  const factoryError = isFactoryError(error)
    ? error
    : (toFactoryErrorOrRethrow(error, `Distributing ${where}`) as unknown);
  if (isFactoryError(factoryError)) {
    const message = factoryError.message.includes(where) ? factoryError.message : `Distributing ${where} failed: ${factoryError.message}`;
    return { severity: 'error', code: factoryError.code, message, fix: factoryError.fix };
  }
  const detail = error instanceof Error ? error.message : String(error);
  return {
    severity: 'error',
    code: ErrorCodes.DistributionFailed,
    message: `Distributing ${where} failed: ${detail}`,
    fix: 'Run again; the next run picks up where this one stopped. If it keeps failing, run with system.debug set to true.',
  };
}

/** For a job resuming an earlier run's image: wait for a Creating one; delete a Failed one. */
function settleEarlierImage(env: JobEnvironment): Step<JobState> {
  return {
    name: 'settle the custom image an earlier run started',
    async run(state, signal) {
      const { job } = state;
      if (state.start !== 'wait-image' && state.start !== 'redo-image') return;
      const client = env.azure.devTestLabs(job.lab.subscriptionId).customImages;
      let provisioningState = state.start === 'redo-image' ? 'Failed' : 'Creating';
      let image: CustomImage | undefined;
      while (IN_PROGRESS.has(provisioningState)) {
        await sleep(env.azure.pollIntervalMs, signal);
        image = await getCustomImage(env, job, signal);
        provisioningState = image ? (image.provisioningState ?? 'Succeeded') : 'Gone';
      }
      if (provisioningState === 'Succeeded') {
        state.alreadyCreated = true;
        state.customImageId = image?.id;
        env.reporter.info(`Image '${job.image.imageName}' in lab '${job.lab.name}', started by an earlier run, is ready.`);
        return;
      }
      if (provisioningState === 'Gone') return;
      env.reporter.info(`Deleting image '${job.image.imageName}' in lab '${job.lab.name}', left ${provisioningState} by an earlier run.`);
      await callAzure(
        `Deleting the failed custom image '${job.image.imageName}' in lab '${job.lab.name}'`,
        () =>
          client.beginDeleteAndWait(job.lab.resourceGroup, job.lab.name, job.image.imageName, {
            updateIntervalInMs: env.azure.pollIntervalMs,
            abortSignal: signal,
          }),
        { subject: job.lab.name },
      );
    },
  };
}

export async function getCustomImage(env: JobEnvironment, job: DistributionJob, signal: AbortSignal): Promise<CustomImage | undefined> {
  try {
    return await env.azure
      .devTestLabs(job.lab.subscriptionId)
      .customImages.get(job.lab.resourceGroup, job.lab.name, job.image.imageName, { abortSignal: signal });
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw toFactoryErrorOrRethrow(error, `Reading custom image '${job.image.imageName}' in lab '${job.lab.name}'`, {
      subject: job.lab.name,
    });
  }
}

/**
 * Puts the image's VHD into the lab's storage as the staging blob: copies it, follows an earlier run's
 * copy, or takes an earlier run's finished copy. The cleanup deletes the staging blob in every case;
 * on success it runs after the custom image exists, since cleanups run in reverse order. Every write
 * goes under the run's claim, so it can only ever touch the blob this run holds.
 */
function copyToLab(env: JobEnvironment): Step<JobState> {
  return {
    name: 'copy the VHD into the lab',
    async run(state, signal) {
      const { job } = state;
      state.container ??= await state.storage.containerClient({ signal });
      if (state.alreadyCreated || state.madeByAnotherRun) return;
      await putVhd(env, state, signal);
      env.board.copied(job);
      await publishCopy(env, state, signal);
      env.board.arrived(job);
    },
    async cleanup(state) {
      // The image being created still reads the VHD; the next run waits for the image, then deletes the VHD.
      if (state.published && state.leftCreating) void env.board.retire(state.published);
      if (state.leftCreating) return;
      // Copies of other labs may be reading it: deleted once they have ended.
      if (state.published) return retireAndDelete(env, state, state.published);
      const container = state.container ?? (await state.storage.containerClient());
      await deleteStagingBlob(container, state.blobName, undefined, state.claim?.leaseId);
      state.claim?.stop();
    },
  };
}

/** The VHD into the staging blob: an earlier run's finished copy as it is, its pending copy followed, or a new copy. */
async function putVhd(env: JobEnvironment, state: JobState, signal: AbortSignal): Promise<void> {
  const { job } = state;
  if (state.start === 'reuse-copy') {
    env.reporter.debug(`Using the finished copy '${state.blobName}' an earlier run left in lab '${job.lab.name}'.`);
    return;
  }
  // Both SAS URLs must outlast the copy at the rate assumed for its route, slower across regions.
  const budgetMs = copyBudgetMs(job.image.sizeBytes, job.crossesRegion);
  const destination = sasBlobClient(await uploadUri(env.sas, state.storage, state.blobName, signal, budgetMs), env.azure.storageRetryOptions);
  const onProgress = ({ copiedBytes }: { copiedBytes: number }) => {
    state.copiedBytes = copiedBytes;
    env.onCopyProgress?.(job, copiedBytes);
  };
  if (state.start === 'follow-copy') {
    try {
      const { totalBytes } = await followCopy(destination, { signal, onProgress, reporter: env.reporter });
      onProgress({ copiedBytes: totalBytes });
      return;
    } catch (error) {
      if (!isFactoryError(error) || error.code !== ErrorCodes.CopyFailed) throw error;
      env.reporter.info(`The copy an earlier run started into lab '${job.lab.name}' failed; copying again.`);
    }
  }
  // A failed or aborted earlier copy is simply copied over: the claim on the blob stays.
  const { totalBytes } = await copyFromSource(env, state, destination, onProgress, signal);
  onProgress({ copiedBytes: totalBytes });
}

/** Creates the custom image from the staging blob; a create that fails or is cancelled is deleted. */
function createCustomImage(env: JobEnvironment): Step<JobState> {
  return {
    name: 'create the custom image',
    async run(state, signal) {
      const { job } = state;
      if (state.alreadyCreated || state.madeByAnotherRun) return;
      const vhdUrl = state.container!.getBlobClient(state.blobName).url;
      state.createSent = true;
      // A staging blob other labs may still read once this job is done: the image says so until it is deleted.
      state.tagged = !!state.published && env.board.mayOutlive(state.published);
      const result = await putCustomImage(env, job, vhdUrl, signal, state.tagged ? state.blobName : undefined);
      state.customImageId = result.id;
    },
    async cleanup(state, outcome) {
      if (outcome === 'succeeded' || !state.createSent) return;
      // A cancel must end within the agent's grace period, so it does not wait for a creation to finish.
      const deleted = await deleteCustomImage(env, state.job, { waitWhileCreating: outcome !== 'cancelled' });
      if (!deleted) {
        state.leftCreating = true;
        env.reporter.info(
          `Custom image '${state.job.image.imageName}' in lab '${state.job.lab.name}' is still being created and cannot be deleted yet; ` +
            'the next run waits for it and removes its copied VHD.',
        );
      }
    },
  };
}

/**
 * Creates the custom image of `job` from the VHD at `vhdUrl` (a blob of the lab's storage, no SAS) and
 * waits for it; throws CustomImageFailed when Azure refuses it or it ends in any state but Succeeded.
 */
export async function putCustomImage(
  env: Pick<JobEnvironment, 'azure' | 'factory'>,
  job: DistributionJob,
  vhdUrl: string,
  signal: AbortSignal,
  /** The staging blob, when other labs' copies read it and it outlives this job (stagingTag.ts). */
  stagingBlobLeft?: string,
): Promise<CustomImage> {
  const body: CustomImage = {
    vhd: {
      imageName: vhdUrl,
      sysPrep: job.image.generalized && job.image.osType === 'Windows',
      osType: job.image.osType,
    },
    description: job.image.description || `${job.image.imagePath}, made by the image factory.`,
    author: `Image factory ${env.factory.name}`,
    tags: { ...customImageTags(job.image, env.factory.id), ...(stagingBlobLeft ? { [Tags.StagingBlob]: stagingBlobLeft } : {}) },
  };
  let result: CustomImage;
  try {
    result = await env.azure
      .devTestLabs(job.lab.subscriptionId)
      .customImages.beginCreateOrUpdateAndWait(job.lab.resourceGroup, job.lab.name, job.image.imageName, body, {
        updateIntervalInMs: env.azure.pollIntervalMs,
        abortSignal: signal,
      });
  } catch (error) {
    if (isAbortError(error) || signal.aborted) throw error;
    throw customImageFailed(job, error);
  }
  if (result.provisioningState && result.provisioningState !== 'Succeeded') {
    throw customImageFailed(job, new Error(`it ended ${result.provisioningState}`));
  }
  return result;
}

function customImageFailed(job: DistributionJob, error: unknown): FactoryError {
  const described = toFactoryErrorOrRethrow(error, 'Creating the custom image', { subject: job.lab.name });
  const detail = described instanceof Error ? described.message : String(described);
  return new FactoryError(
    ErrorCodes.CustomImageFailed,
    `Creating custom image '${job.image.imageName}' in lab '${job.lab.name}' (subscription ${job.lab.subscriptionId}) failed: ${detail}`,
    {
      fix: 'The failed image was deleted and its VHD copy removed; run again. If it fails again, check the lab\'s custom image quota and its storage account in the Azure portal.',
      subject: job.lab.name,
      cause: error,
    },
  );
}

/**
 * Deletes the job's custom image. Azure refuses (409) to delete one still being created: that is waited
 * out when `waitWhileCreating`, else left as it is. Resolves false when the image was left.
 */
async function deleteCustomImage(env: JobEnvironment, job: DistributionJob, options: { waitWhileCreating: boolean }): Promise<boolean> {
  const client = env.azure.devTestLabs(job.lab.subscriptionId).customImages;
  const what = `Deleting the unfinished custom image '${job.image.imageName}' in lab '${job.lab.name}'`;
  for (let attempt = 0; ; attempt++) {
    try {
      await client.beginDeleteAndWait(job.lab.resourceGroup, job.lab.name, job.image.imageName, {
        updateIntervalInMs: env.azure.pollIntervalMs,
      });
      return true;
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status === 404) return true;
      if (status === 409 && !options.waitWhileCreating) return false;
      if (status === 409 && attempt < 30) {
        await sleep(env.azure.pollIntervalMs);
        continue;
      }
      throw toFactoryErrorOrRethrow(error, what, { subject: job.lab.name });
    }
  }
}

/**
 * Deletes a staging blob, if it is there. Storage refuses to delete a blob while a copy into it is
 * pending, so such a copy is aborted first.
 */
export async function deleteStagingBlob(container: ContainerClient, blobName: string, signal?: AbortSignal, leaseId?: string): Promise<void> {
  const blob = container.getBlobClient(blobName);
  const what = `Deleting the staging blob '${blobName}'`;
  const conditions = leaseId ? { leaseId } : undefined;
  try {
    await blob.deleteIfExists({ abortSignal: signal, conditions });
  } catch (error) {
    if (storageErrorCode(error) !== 'PendingCopyOperation') throw toFactoryErrorOrRethrow(error, what);
    await callAzure(what, async () => {
      const properties = await blob.getProperties({ abortSignal: signal });
      if (properties.copyStatus === 'pending' && properties.copyId) {
        await blob.abortCopyFromURL(properties.copyId, { abortSignal: signal, conditions }).catch((e: unknown) => {
          if (storageErrorCode(e) !== 'NoPendingCopyOperation') throw e;
        });
      }
      await blob.deleteIfExists({ abortSignal: signal, conditions });
    });
  }
}

export function storageErrorCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; details?: { errorCode?: unknown } } | undefined;
  if (typeof e?.details?.errorCode === 'string') return e.details.errorCode;
  return typeof e?.code === 'string' ? e.code : undefined;
}
