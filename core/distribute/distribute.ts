import { setMaxListeners } from 'node:events';
import type { AzureContext } from '../azure/azureContext';
import { loadAndReportConfiguration } from '../config/labsConfig';
import { ErrorCodes, FactoryError, isAbortError, isFactoryError } from '../errors';
import { ImageStore } from '../imageStore';
import { labReadConcurrency, runPool } from '../pool';
import type { Issue, Reporter } from '../report';
import { CLAIM_SECONDS, newRunId } from '../azure/blobClaim';
import { sleep } from '../azure/retryPolicy';
import { type JobEnvironment, SasCache, deleteStagingBlob, runDistributionJob, storageErrorCode } from './job';
import { firstJobBlobs, observeLabs, observeStagingBlobs } from './observe';
import { formatBytes } from '../format';
import { type JobResult, acrossRegionsWords, countAcrossRegions, countOutcomes, describePlan, summaryMarkdown } from './outcome';
import { type DistributionJob, type DistributionPlan, type LabObservation, describeCount, labsToRead, planDistribution } from './plan';
import { SourceBoard, groupKey } from './fanOut';
import { JobQueue, type TakenJob } from './dispatch';
import { clearStagingTag } from './stagingTag';
import type { FanOut } from './sources';
import { sameRegion } from './regions';

/**
 * DistributeImages: read labs.json, the factory's image store and each target lab once, plan every
 * (image, lab) pair, print the plan, then run the jobs with at most `maxConcurrentJobs` at once.
 */
export interface DistributeOptions {
  configurationLocation: string;
  factoryLabName: string;
  /** Default: the service connection's subscription. */
  factorySubscriptionId?: string;
  maxConcurrentJobs: number;
  /** RetireImages' ImagesToSave: an image retention would delete from a lab right after is not copied there. */
  imagesToSave: number;
  dryRun: boolean;
  /** Where copies read: `tree` (default) also from labs' finished copies, `flat` from the store only (sources.ts). */
  fanOut?: FanOut;
  signal?: AbortSignal;
}

export interface DistributionRun {
  plan?: DistributionPlan;
  /** By job key; a job that never started has no entry. Undefined for a dry run. */
  results?: Map<string, JobResult>;
  createdImageIds: string[];
  /** Every error and warning the run reported, for the summary. */
  issues: Issue[];
  /** Markdown, once there is a plan. */
  summary?: string;
  /** One line on how the run ended. */
  message: string;
}

export async function distributeImages(azure: AzureContext, options: DistributeOptions): Promise<DistributionRun> {
  const signal = runSignal(options.signal);
  const issues: Issue[] = [];
  const reporter = collectingIssues(azure.reporter, issues);
  const run: DistributionRun = { createdImageIds: [], issues, message: '' };

  const configuration = await loadAndReportConfiguration(options.configurationLocation, reporter);
  if (!configuration) {
    run.message = 'The configuration has errors; nothing was distributed.';
    return run;
  }

  const factory = await azure.labs.find(factorySubscription(azure, options.factorySubscriptionId), options.factoryLabName, { signal });
  const store = new ImageStore(azure.labs.storage(factory), reporter);
  const listing = await store.list({ signal });
  for (const incomplete of listing.incomplete) {
    reporter.info(
      `Not distributed: '${incomplete.blobName}' in the image store is an unfinished copy (${incomplete.copyStatus}); ` +
        'SnapImagesFromVMs finishes or removes it.',
    );
  }
  if (listing.images.length === 0) {
    reporter.issue({
      severity: 'warning',
      code: ErrorCodes.FactoryStoreEmpty,
      message: `The image store of factory lab '${factory.name}' (subscription ${factory.subscriptionId}) holds no images, so there is nothing to distribute.`,
      fix: 'Run SnapImagesFromVMs first, and check that DevTestLabName and SubscriptionId name the factory lab.',
    });
    run.message = 'The image store is empty.';
    return run;
  }

  const toRead = labsToRead(configuration.labs, listing.images);
  const subscriptions = new Set(toRead.map((lab) => lab.subscriptionId.toLowerCase()));
  reporter.info(
    `Factory lab '${factory.name}' (${factory.location}) stores ${describeCount(listing.images.length, 'image')}; ` +
      `reading ${describeCount(toRead.length, 'lab')} in ${describeCount(subscriptions.size, 'subscription')}.`,
  );
  const sas = new SasCache();
  const observeOptions = { signal, concurrency: labReadConcurrency(options.maxConcurrentJobs), sas, factoryLabId: factory.id };
  const observations = await observeLabs(azure, toRead, listing.images, observeOptions);
  const planNow = () =>
    planDistribution({
      factory,
      images: listing.images,
      labs: configuration.labs,
      observations,
      retention: { imagesToSave: options.imagesToSave, templatePaths: configuration.templates.map((template) => template.imagePath) },
    });
  // Only labs with a job are read further (their storage costs an upload URI); how each job starts depends on it.
  await observeStagingBlobs(azure, observations, firstJobBlobs(planNow().jobs), listing.images, observeOptions);
  const plan = planNow();
  run.plan = plan;
  for (const line of describePlan(plan)) reporter.info(line);
  for (const issue of plan.issues) reporter.issue(issue);

  if (options.dryRun) {
    run.summary = summaryMarkdown(plan, undefined, issues);
    run.message = `Dry run: ${describeCount(plan.jobs.length, 'job')} planned, nothing changed.`;
    return run;
  }

  const fanOut = options.fanOut ?? 'tree';
  const board = new SourceBoard(fanOut, factory.location, { slots: options.maxConcurrentJobs });
  const env: JobEnvironment = { azure, runId: newRunId(), factory, store, sas, reporter, board };
  const kept = await deleteLeftovers(azure, plan, reporter, signal, options.maxConcurrentJobs);
  await clearLeftTags(azure, plan, observations, kept, reporter);
  run.results = await applyPlan(env, plan, options.maxConcurrentJobs, signal);
  for (const result of run.results.values()) {
    if (result.status === 'created' && result.customImageId) run.createdImageIds.push(result.customImageId);
  }
  run.summary = summaryMarkdown(plan, run.results, issues);
  const counts = countOutcomes(plan, run.results);
  run.message =
    `${describeCount(counts.created, 'custom image')} created, ${counts.exists} already in place, ${counts.failed} failed` +
    `${counts.cancelled ? `, ${counts.cancelled} cancelled` : ''}${counts.notStarted ? `, ${counts.notStarted} not started` : ''}` +
    `${counts.blocked ? `, ${counts.blocked} blocked` : ''}${counts.leftOut ? `, ${counts.leftOut} left out (retention would delete them)` : ''}.`;
  return run;
}

/**
 * Runs every job; each failure is reported with the job's image and lab, and the others go on.
 * Progress counts finished jobs and copied bytes; a cancelled job is not done, so it is counted apart.
 */
async function applyPlan(
  env: JobEnvironment,
  plan: DistributionPlan,
  maxConcurrentJobs: number,
  signal: AbortSignal,
): Promise<Map<string, JobResult>> {
  const { reporter } = env;
  const jobs = scheduleOrder(plan.jobs, env.board.mode, env.factory.location);
  env.board.expect(jobs.filter(copies));
  const results = new Map<string, JobResult>();
  const totalBytes = jobs.reduce((sum, job) => sum + (copies(job) ? job.image.sizeBytes : 0), 0);
  const copied = new Map<string, number>();
  let copiedBytes = 0;
  let done = 0;
  let cancelled = 0;
  let lastProgressAt = 0;
  const progress = (force: boolean) => {
    const now = Date.now();
    if (!force && now - lastProgressAt < 2000) return;
    lastProgressAt = now;
    const bytes = totalBytes > 0 ? `, ${formatBytes(copiedBytes)} of ${formatBytes(totalBytes)} copied` : '';
    const stopped = cancelled ? `, ${cancelled} cancelled` : '';
    reporter.progress(jobs.length ? (100 * done) / jobs.length : 100, `${done} of ${jobs.length} jobs done${stopped}${bytes}`);
  };
  env.onCopyProgress = (job, bytes) => {
    copiedBytes += bytes - (copied.get(job.key) ?? 0);
    copied.set(job.key, bytes);
    progress(false);
  };
  const across = countAcrossRegions(jobs);
  if (jobs.length) {
    reporter.info(
      `Running ${describeCount(jobs.length, 'job')}, at most ${maxConcurrentJobs} at once` +
        `${across ? `; ${across} of them copy across regions, which is slower` : ''}.`,
    );
  }

  // Each slot starts whichever waiting job can copy now (dispatch.ts); `started[i]` is the job slot turn i took.
  const queue = new JobQueue(jobs, env.board, copies);
  const started: (DistributionJob | undefined)[] = [];
  const outcomes = await runPool(
    jobs,
    maxConcurrentJobs,
    async (_turn, index, jobSignal) => {
      let taken: TakenJob | undefined;
      try {
        taken = await queue.take(jobSignal);
      } catch (error) {
        // Cancelled while no job could start: the jobs still waiting are not started.
        if (isAbortError(error) && jobSignal.aborted) return;
        throw error;
      }
      if (!taken) return;
      const { job } = taken;
      started[index] = job;
      let result: JobResult;
      try {
        result = await runDistributionJob(env, job, jobSignal, taken.lease);
      } catch (error) {
        // runDistributionJob turns every failure into a result; what escapes it is a defect.
        if (isAbortError(error) && jobSignal.aborted) result = { status: 'cancelled' };
        else throw error;
      }
      results.set(job.key, result);
      const where = `'${job.image.imageName}' in lab '${job.lab.name}'${job.crossesRegion ? ` (${acrossRegionsWords(job)})` : ''}`;
      if (result.status === 'cancelled') {
        cancelled++;
        reporter.info(`Cancelled ${where}.`);
        progress(true);
        return;
      }
      done++;
      if (result.status === 'created') {
        reporter.info(`[${done}/${jobs.length}] Created ${where} in ${(result.durationMs / 1000).toFixed(1)} s.`);
        if (result.warning) reporter.issue(result.warning);
      } else if (result.status === 'failed') {
        reporter.info(`[${done}/${jobs.length}] Failed: ${where}.`);
        reporter.issue(result.issue);
      } else {
        reporter.info(`[${done}/${jobs.length}] ${where} was made by another run.`);
      }
      progress(true);
    },
    { signal },
  );
  // No job starts any more: lab copies stop serving, and their blobs are deleted once their readers end.
  env.board.close();
  // Staging blobs other labs' copies read are deleted once those copies end: the run waits for it.
  await env.board.drain();
  const { fromStore, fromLabs } = env.board.finished;
  if (env.board.mode === 'tree' && fromStore + fromLabs > 0) {
    reporter.info(`Fan-out: ${fromLabs} cop${fromLabs === 1 ? 'y' : 'ies'} read another lab's finished copy, ${fromStore} the image store.`);
  }
  outcomes.forEach((outcome, index) => {
    const job = started[index];
    if (outcome.status !== 'rejected' || !job) return;
    const reason = outcome.reason;
    reporter.debug(reason instanceof Error ? (reason.stack ?? reason.message) : String(reason));
    const issue: Issue = {
      severity: 'error',
      code: isFactoryError(reason) ? reason.code : ErrorCodes.Internal,
      message: `Distributing '${job.image.imageName}' to lab '${job.lab.name}' stopped on an unexpected error: ${
        reason instanceof Error ? reason.message : String(reason)
      }`,
      fix: 'Run again with system.debug set to true and report the debug output with this message.',
    };
    results.set(job.key, { status: 'failed', issue });
    reporter.issue(issue);
  });
  return results;
}

function copies(job: DistributionJob): boolean {
  return job.start !== 'reuse-copy' && job.start !== 'wait-image';
}

/**
 * The order jobs start in, as far as their sources let them (dispatch.ts). A blob's read throughput and a
 * storage account's write throughput are limited, so jobs running together should copy different images
 * into different labs: each lab's jobs are rotated by the lab's position, then the labs are taken in turn.
 * In a tree the first copy of each image goes first, the one in the store's region if there is one: every
 * lab copy of the image fans out from it. Then the first copy of each image into each other region: it is
 * the slow one, across regions, and the region's other copies fan out from it.
 */
export function scheduleOrder(jobs: readonly DistributionJob[], fanOut: FanOut = 'flat', storeLocation?: string): DistributionJob[] {
  const ordered = interleave(jobs);
  if (fanOut !== 'tree') return ordered;
  const firsts = new Map<string, DistributionJob>();
  const intoRegions = new Map<string, DistributionJob>();
  for (const job of ordered) {
    if (!copies(job)) continue;
    const image = job.image.imageName.toLowerCase();
    const first = firsts.get(image);
    const inStoreRegion = storeLocation !== undefined && sameRegion(job.lab.location, storeLocation);
    if (!first || (inStoreRegion && !sameRegion(first.lab.location, storeLocation))) firsts.set(image, job);
    const group = groupKey(job.image.imageName, job.lab.location);
    if (!intoRegions.has(group)) intoRegions.set(group, job);
  }
  const head = new Set([...firsts.values()]);
  const regionFirsts = [...intoRegions.values()].filter((job) => !head.has(job) && !(storeLocation && sameRegion(job.lab.location, storeLocation)));
  const early = new Set([...head, ...regionFirsts]);
  return [...head, ...regionFirsts, ...ordered.filter((job) => !early.has(job))];
}

function interleave(jobs: readonly DistributionJob[]): DistributionJob[] {
  const byLab = new Map<string, DistributionJob[]>();
  for (const job of jobs) {
    const key = job.lab.id.toLowerCase();
    const list = byLab.get(key) ?? [];
    list.push(job);
    byLab.set(key, list);
  }
  const lanes = [...byLab.values()].map((list, index) => {
    const shift = index % list.length;
    return [...list.slice(shift), ...list.slice(0, shift)];
  });
  const ordered: DistributionJob[] = [];
  for (let round = 0; ordered.length < jobs.length; round++) {
    for (const lane of lanes) if (round < lane.length) ordered.push(lane[round]);
  }
  return ordered;
}

/**
 * Deletes staging blobs earlier runs left that no job will use. A failure is a warning: nothing is missing.
 * Resolves the `<lab id>|<image name>` keys (lower case) of those left in place.
 */
async function deleteLeftovers(
  azure: AzureContext,
  plan: DistributionPlan,
  reporter: Reporter,
  signal: AbortSignal,
  concurrency: number,
): Promise<Set<string>> {
  const kept = new Set<string>();
  const keyOf = ({ lab, blob }: DistributionPlan['leftovers'][number]) => `${lab.id}|${blob.imageName}`.toLowerCase();
  if (plan.leftovers.length === 0) return kept;
  const outcomes = await runPool(
    plan.leftovers,
    concurrency,
    async ({ lab, blob }, _index, poolSignal) => {
      const container = await azure.labs.storage(lab).containerClient({ signal: poolSignal });
      // Leased: a run holds it. A killed run's claim lapses within CLAIM_SECONDS, so that long is waited for;
      // a claim that lasts longer is a live run's (one whose image set differs from this run's), which tidies up itself.
      for (const giveUpAt = Date.now() + 2 * CLAIM_SECONDS * 1000; ; ) {
        try {
          await deleteStagingBlob(container, blob.blobName, poolSignal);
          break;
        } catch (error) {
          if (storageErrorCode((error as { cause?: unknown }).cause ?? error) !== 'LeaseIdMissing') throw error;
          if (Date.now() > giveUpAt) {
            reporter.debug(`Left '${blob.blobName}' in lab '${lab.name}': another run holds it.`);
            kept.add(keyOf({ lab, blob }));
            return;
          }
          await sleep(1000, poolSignal);
        }
      }
      reporter.info(`Deleted '${blob.blobName}', left in lab '${lab.name}' by an earlier run.`);
    },
    { signal },
  );
  outcomes.forEach((outcome, index) => {
    if (outcome.status !== 'fulfilled') kept.add(keyOf(plan.leftovers[index]));
    if (outcome.status !== 'rejected' || isAbortError(outcome.reason)) return;
    const { lab, blob } = plan.leftovers[index];
    reporter.issue({
      severity: 'warning',
      code: ErrorCodes.DistributionFailed,
      message: `Could not delete '${blob.blobName}', left in lab '${lab.name}' by an earlier run: ${
        outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason)
      }`,
      fix: 'Nothing is missing; the next run tries again. If it persists, check the Storage Blob Data Contributor role on the lab.',
    });
  });
  return kept;
}

/** The staging tags of custom images whose left staging blob is gone now (or never was), no job of this run aside. */
async function clearLeftTags(
  azure: AzureContext,
  plan: DistributionPlan,
  observations: ReadonlyMap<string, LabObservation>,
  kept: ReadonlySet<string>,
  reporter: Reporter,
): Promise<void> {
  const jobs = new Set(plan.jobs.map((job) => job.key));
  const tagged = [...observations.values()].flatMap((observation) =>
    'lab' in observation ? observation.customImages.filter((image) => image.stagingLeft).map((image) => ({ lab: observation.lab, image })) : [],
  );
  for (const { lab, image } of tagged) {
    const key = `${lab.id}|${image.name}`.toLowerCase();
    if (!jobs.has(key) && !kept.has(key)) await clearStagingTag(azure, lab, image.name, reporter);
  }
}

/**
 * The run's own signal, following the caller's. Every request and wait of every job in flight listens on
 * it, so its listeners number a few per running job: up to hundreds, which is not a leak, and Node would
 * otherwise warn past ten.
 */
function runSignal(outer: AbortSignal | undefined): AbortSignal {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  if (outer?.aborted) controller.abort(outer.reason);
  else outer?.addEventListener('abort', () => controller.abort(outer.reason), { once: true });
  return controller.signal;
}

/** The factory lab's subscription: the input's, else the service connection's. */
export function factorySubscription(azure: AzureContext, input: string | undefined): string {
  const subscriptionId = input || azure.connection.subscriptionId;
  if (!subscriptionId) {
    throw new FactoryError(ErrorCodes.InputInvalid, "The factory lab's subscription is not known.", {
      fix: "Set the input 'SubscriptionId', or use a service connection that names a subscription.",
      subject: 'SubscriptionId',
    });
  }
  return subscriptionId;
}

/** A reporter that also keeps every issue, for the summary. */
export function collectingIssues(reporter: Reporter, issues: Issue[]): Reporter {
  return {
    info: (message) => reporter.info(message),
    debug: (message) => reporter.debug(message),
    progress: (percent, activity) => reporter.progress(percent, activity),
    maskSecret: (value) => reporter.maskSecret(value),
    issue: (issue) => {
      issues.push(issue);
      reporter.issue(issue);
    },
  };
}
