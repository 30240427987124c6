import type { AzureContext } from '../azure/azureContext';
import { callAzure } from '../azure/azureErrors';
import { loadAndReportConfiguration } from '../config/labsConfig';
import { collectingIssues } from '../distribute/distribute';
import { ErrorCodes, FactoryError, isAbortError, isFactoryError } from '../errors';
import { labReadConcurrency, runPool } from '../pool';
import type { Issue } from '../report';
import { observeLabs } from './distribute';
import { existingGallery, type GalleryRetentionOptions } from './gallery';
import { describeGalleryRetirePlan, galleryRetireSummary, planGalleryRetire } from './retirePlan';
import { changeTargetRegions } from './targetRegions';
import { deleteVersion, waitForVersion } from './versions';

/** RetireImages on the gallery route: read, plan, print, then delete versions, drop regions and disable images. */
export interface GalleryRetireOptions extends GalleryRetentionOptions {
  subscriptionId: string;
  labName: string;
}

export interface GalleryRetireResult {
  deleted: number;
  summary: string;
  message: string;
}

export async function retireGalleryImages(azure: AzureContext, options: GalleryRetireOptions): Promise<GalleryRetireResult> {
  const signal = options.signal;
  const issues: Issue[] = [];
  const reporter = collectingIssues(azure.reporter, issues);
  const configuration = await loadAndReportConfiguration(options.configurationLocation, reporter);
  if (!configuration) return { deleted: 0, summary: '', message: 'The configuration has errors; nothing was retired.' };
  const factory = await azure.labs.find(options.subscriptionId, options.labName, { signal });
  const gallery = await existingGallery(azure, factory, options, signal);
  const ref = gallery.ref;
  const labs = await observeLabs(azure, configuration.labs, ref.name, labReadConcurrency(options.maxConcurrentJobs), signal);
  for (const lab of labs) if (lab.error) reporter.issue(lab.error);
  const retention = { imagesToSave: options.imagesToSave, templatePaths: configuration.templates.map((template) => template.imagePath) };
  const plan = planGalleryRetire({ gallery, factoryLabId: factory.id, retention, labs, galleryLocation: gallery.location ?? factory.location });
  for (const line of describeGalleryRetirePlan(plan, ref.name)) reporter.info(line);
  if (options.dryRun) {
    return { deleted: 0, summary: galleryRetireSummary(plan, ref.name, new Set(), true), message: 'Dry run: the plan is above; nothing was changed.' };
  }

  const failed = new Set<string>();
  const attempt = async (key: string, what: string, work: (jobSignal: AbortSignal) => Promise<void>, jobSignal: AbortSignal) => {
    try {
      await work(jobSignal);
      reporter.info(`${what}: done.`);
    } catch (error) {
      if (isAbortError(error)) throw error;
      failed.add(key);
      reporter.issue({
        severity: 'error',
        code: isFactoryError(error) ? error.code : ErrorCodes.DeleteFailed,
        message: `${what} failed: ${(error as Error).message}`,
        fix: 'Run RetireImages again; it does what is still due.',
      });
    }
  };
  const limit = options.maxConcurrentJobs;
  await runPool(plan.deletions, limit, (d, _i, s) =>
    attempt(`delete:${d.definitionName}/${d.versionName}`, `Deleting version '${d.definitionName}/${d.versionName}'`, (js) => deleteVersion(azure, ref, d.definitionName, d.versionName, js), s),
  { signal });
  await runPool(plan.regionRemovals, limit, (r, _i, s) =>
    attempt(
      `regions:${r.definitionName}/${r.versionName}`,
      `Dropping ${r.removed.join(', ')} from '${r.definitionName}/${r.versionName}'`,
      async (js) => {
        // Only the planned regions go: one another run added since the plan stays.
        await changeTargetRegions(azure, ref, { definitionName: r.definitionName, versionName: r.versionName, remove: r.removed }, js);
        await waitForVersion(azure, ref, r.definitionName, r.versionName, { signal: js });
      },
      s,
    ),
  { signal });
  await runPool(plan.disables, limit, (d, _i, s) =>
    attempt(
      `disable:${d.lab.config.index}/${d.definitionName}`,
      `Disabling '${d.definitionName}' in lab '${d.lab.config.labName}'`,
      (js) => callAzure(`Disabling '${d.definitionName}' in lab '${d.lab.config.labName}'`, () => azure.sharedGalleries.setImageState(d.lab.lab!, ref.name, d.definitionName, 'Disabled', { signal: js })),
      s,
    ),
  { signal });
  const deleted = plan.deletions.filter((d) => !failed.has(`delete:${d.definitionName}/${d.versionName}`)).length;
  return {
    deleted,
    summary: galleryRetireSummary(plan, ref.name, failed, false),
    message: `${deleted} version(s) deleted, ${plan.regionRemovals.length} version(s) with regions dropped, ${plan.disables.length} image(s) disabled${failed.size ? `, ${failed.size} change(s) failed` : ''}.`,
  };
}
