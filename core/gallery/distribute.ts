import type { AzureContext } from '../azure/azureContext';
import { callAzure } from '../azure/azureErrors';
import { loadAndReportConfiguration } from '../config/labsConfig';
import { ErrorCodes, FactoryError, isAbortError, isFactoryError } from '../errors';
import { labReadConcurrency, runPool } from '../pool';
import { collectingIssues, factorySubscription } from '../distribute/distribute';
import type { Issue } from '../report';
import { existingGallery, type GalleryRef, type GalleryRetentionOptions, type observeGallery } from './gallery';
import {
  cellKey,
  type CellResult,
  describeGalleryPlan,
  gallerySummaryMarkdown,
  imagesToServe,
  type LabObservation,
  planGalleryDistribution,
} from './distributePlan';
import { regionKey } from '../azure/regions';
import { changeTargetRegions } from './targetRegions';
import { versionClient, waitForVersion } from './versions';

/**
 * DistributeImages on the gallery route: read labs.json, the gallery and each target lab once, plan,
 * print the plan, then replicate versions to the labs' regions and attach and enable in each lab.
 */
export interface GalleryDistributeOptions extends GalleryRetentionOptions {
  factoryLabName: string;
  factorySubscriptionId?: string;
}

export interface GalleryDistributionRun {
  summary?: string;
  /** Ids of the lab shared images this run enabled. */
  createdImageIds: string[];
  message: string;
}

export async function distributeGalleryImages(azure: AzureContext, options: GalleryDistributeOptions): Promise<GalleryDistributionRun> {
  const signal = options.signal;
  const issues: Issue[] = [];
  const reporter = collectingIssues(azure.reporter, issues);
  const run: GalleryDistributionRun = { createdImageIds: [], message: '' };
  const configuration = await loadAndReportConfiguration(options.configurationLocation, reporter);
  if (!configuration) {
    run.message = 'The configuration has errors; nothing was distributed.';
    return run;
  }
  const factory = await azure.labs.find(factorySubscription(azure, options.factorySubscriptionId), options.factoryLabName, { signal });
  const gallery = await existingGallery(azure, factory, options, signal);
  const ref = gallery.ref;
  const completed = await completedRegions(azure, ref, gallery, factory.id, signal);
  const images = imagesToServe(gallery, factory.id, completed);
  const labs = await observeLabs(azure, configuration.labs, ref.name, labReadConcurrency(options.maxConcurrentJobs), signal);
  const retention = { imagesToSave: options.imagesToSave, templatePaths: configuration.templates.map((template) => template.imagePath) };
  const plan = planGalleryDistribution({ gallery, factoryLabId: factory.id, images, labs, retention });
  for (const line of describeGalleryPlan(plan)) reporter.info(line);
  for (const issue of plan.issues) reporter.issue(issue);
  if (options.dryRun) {
    run.summary = gallerySummaryMarkdown(plan, undefined, issues, true);
    run.message = 'Dry run: the plan is above; nothing was changed.';
    return run;
  }

  const results = new Map<string, CellResult>();
  // First the copies: each version gets every lab region it lacks, in one update, and is waited for.
  const unavailable = new Set<string>();
  const versionJobs = [
    ...plan.regionAdditions.map((a) => ({ ...a, add: true })),
    ...plan.waits.map((w) => ({ ...w, regions: [] as string[], added: [] as string[], add: false })),
  ];
  await runPool(
    versionJobs,
    options.maxConcurrentJobs,
    async (job, _i, poolSignal) => {
      const label = `'${job.definitionName}/${job.versionName}'`;
      try {
        if (job.add) {
          reporter.info(`Replicating ${label} to ${job.added.join(', ')}.`);
          const sent = await changeTargetRegions(azure, ref, { definitionName: job.definitionName, versionName: job.versionName, add: job.added }, poolSignal);
          if (!sent) reporter.info(`${label} already lists ${job.added.join(', ')} (another run added them).`);
        }
        await waitForVersion(azure, ref, job.definitionName, job.versionName, { signal: poolSignal });
        reporter.info(`${label} is replicated${job.add ? ` to ${job.added.join(', ')}` : ''}.`);
      } catch (error) {
        if (isAbortError(error)) throw error;
        unavailable.add(job.definitionName.toLowerCase());
        const cause = isFactoryError(error) ? error.message : (error as Error).message;
        reporter.issue({
          severity: 'error',
          code: ErrorCodes.GalleryReplicationFailed,
          message: `Image version ${label} could not be made available in ${job.add ? job.added.join(', ') : 'its regions'}: ${cause}`,
          fix: 'Run DistributeImages again; it adds the regions again and waits for them.',
        });
      }
    },
    { signal },
  );

  await runPool(
    plan.labs.filter((lab) => !lab.error && lab.lab),
    options.maxConcurrentJobs,
    async (labPlan, _i, poolSignal) => {
      const lab = labPlan.lab!;
      try {
        if (labPlan.attach) {
          await callAzure(`Attaching gallery '${ref.name}' to lab '${lab.name}'`, () => azure.sharedGalleries.attach(lab, ref.name, gallery.id!, { signal: poolSignal }), { subject: lab.name });
          reporter.info(`Lab '${lab.name}': attached gallery '${ref.name}'.`);
        }
        for (const [definition, state] of labPlan.cells) {
          const key = cellKey(labPlan, definition);
          if (state === 'in-place') results.set(key, 'in place');
          if (state === 'left-out') results.set(key, 'left out');
          if (state === 'blocked' || state === 'in-place' || state === 'left-out') continue;
          if (state === 'enable' && unavailable.has(definition.toLowerCase())) {
            results.set(key, 'failed');
            continue;
          }
          const enableState = state === 'enable' ? 'Enabled' : 'Disabled';
          await callAzure(`Setting image '${definition}' ${enableState} in lab '${lab.name}'`, () => azure.sharedGalleries.setImageState(lab, ref.name, definition, enableState, { signal: poolSignal }), { subject: lab.name });
          results.set(key, state === 'enable' ? 'enabled' : 'disabled');
          if (state === 'enable') run.createdImageIds.push(`${lab.id}/sharedgalleries/${ref.name}/sharedimages/${definition}`.toLowerCase());
          reporter.info(`Lab '${lab.name}': image '${definition}' ${enableState.toLowerCase()}.`);
        }
      } catch (error) {
        if (isAbortError(error)) {
          for (const definition of labPlan.cells.keys()) if (!results.has(cellKey(labPlan, definition))) results.set(cellKey(labPlan, definition), 'cancelled');
          throw error;
        }
        for (const definition of labPlan.cells.keys()) if (!results.has(cellKey(labPlan, definition))) results.set(cellKey(labPlan, definition), 'failed');
        reporter.issue(issueOf(error, `Lab '${lab.name}'`));
      }
    },
    { signal },
  );
  run.summary = gallerySummaryMarkdown(plan, results, issues, false);
  const tally = (result: CellResult) => [...results.values()].filter((r) => r === result).length;
  run.message = `${tally('enabled')} image(s) enabled, ${tally('in place')} already in place, ${tally('disabled')} disabled, ${tally('failed')} failed${plan.leftOut.length ? `, ${plan.leftOut.length} left out (RetireImages would remove them)` : ''}.`;
  return run;
}

/** For each factory version, the regions whose replicas are complete (from `$expand=ReplicationStatus`). */
async function completedRegions(azure: AzureContext, ref: GalleryRef, gallery: Awaited<ReturnType<typeof observeGallery>>, factoryLabId: string, signal?: AbortSignal): Promise<Map<string, string[]>> {
  const client = versionClient(azure, ref);
  const completed = new Map<string, string[]>();
  const newest = imagesToServe(gallery, factoryLabId, new Map());
  await Promise.all(
    newest.map(async (image) => {
      const version = await callAzure(`Reading image version '${image.definitionName}/${image.versionName}'`, () =>
        client.get(ref.resourceGroup, ref.name, image.definitionName, image.versionName, { expand: 'ReplicationStatus', abortSignal: signal }),
      );
      const regions = (version.replicationStatus?.summary ?? []).filter((s) => s.state === 'Completed' && s.region).map((s) => regionKey(s.region!));
      completed.set(`${image.definitionName}/${image.versionName}`.toLowerCase(), regions);
    }),
  );
  return completed;
}

/** Each lab of labs.json: where it is, which galleries it has attached, and ours's images with their state. */
export async function observeLabs(azure: AzureContext, configs: LabObservation['config'][], galleryName: string, concurrency: number, signal?: AbortSignal): Promise<LabObservation[]> {
  const results = await runPool(
    configs,
    concurrency,
    async (config): Promise<LabObservation> => {
      try {
        const lab = await azure.labs.find(config.subscriptionId, config.labName, { resourceGroup: config.resourceGroup, signal });
        const attached = await callAzure(`Reading the shared galleries of lab '${lab.name}'`, () => azure.sharedGalleries.list(lab, { signal }), { subject: lab.name });
        const ours = attached.find((a) => a.name.toLowerCase() === galleryName.toLowerCase());
        const images = ours ? await callAzure(`Reading the shared images of lab '${lab.name}'`, () => azure.sharedGalleries.listImages(lab, ours.name, { signal }), { subject: lab.name }) : [];
        return { config, lab, attached, images };
      } catch (error) {
        if (isAbortError(error) || !isFactoryError(error)) throw error;
        return { config, error: issueOf(error, `Lab '${config.labName}'`), attached: [], images: [] };
      }
    },
    { signal },
  );
  return results.map((r) => {
    if (r.status === 'fulfilled') return r.value;
    if (r.status === 'rejected') throw r.reason;
    // Not started: the run was stopped.
    signal?.throwIfAborted();
    throw new Error('A lab was not read.');
  });
}

function issueOf(error: unknown, context: string): Issue {
  if (isFactoryError(error)) return { severity: 'error', code: error.code, message: `${context}: ${error.message}`, fix: error.fix };
  throw error;
}
