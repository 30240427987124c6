import type { LabVirtualMachine } from '@azure/arm-devtestlabs';
import type { AzureContext } from '../azure/azureContext';
import { computeClient } from '../azure/compute';
import { callAzure } from '../azure/azureErrors';
import type { LabRef } from '../azure/labs';
import { imagePathKey } from '../config/imagePaths';
import { type Configuration, labsSelecting, loadAndReportConfiguration } from '../config/labsConfig';
import { ErrorCodes, FactoryError, isAbortError, isFactoryError } from '../errors';
import { formatDuration } from '../format';
import { runPool } from '../pool';
import type { Reporter } from '../report';
import { reportError, type SnapOutcome } from '../snap/apply';
import { findFactoryLab } from '../azure/factoryLab';
import { listLabVms, type SnapRunResult } from '../snap/run';
import { vmFacts } from '../snap/plan';
import { runSteps, type Step } from '../steps';
import { type GalleryRef, observeGallery } from './gallery';
import { ReplicationProgress } from './progress';
import { describePublishPlan, planPublish, type PublishAction, type PublishPlan, type PublishVmFacts } from './publishPlan';
import { deleteVersion, versionClient, waitForVersion } from './versions';

/**
 * SnapImagesFromVMs on the gallery route: each tagged, deallocated factory VM becomes an image version
 * made server-side from its disks (no VHD copy, no storage keys), replicated to the regions of the labs
 * whose ImagePaths select it. Plan first; a dry run prints it; an interrupted run is resumed.
 */
export interface PublishOptions {
  labName: string;
  subscriptionId?: string;
  /** The gallery; its resource group defaults to the factory lab's. */
  galleryName: string;
  galleryResourceGroup?: string;
  configurationLocation: string;
  replicaCount: number;
  storageAccountType: string;
  maxConcurrentJobs: number;
  dryRun: boolean;
  signal?: AbortSignal;
  now?: Date;
  onProgress?: (percent: number, activity: string) => void;
}

export interface PublishRunResult extends Pick<SnapRunResult, 'lab' | 'outcomes' | 'savedImageNames' | 'dryRun'> {
  plan?: PublishPlan;
  gallery: GalleryRef;
}

export async function runPublish(azure: AzureContext, options: PublishOptions): Promise<PublishRunResult> {
  const { reporter } = azure;
  const signal = options.signal;
  const lab = await findFactoryLab(azure, { labName: options.labName, subscriptionId: options.subscriptionId, signal });
  const gallery: GalleryRef = { subscriptionId: lab.subscriptionId, resourceGroup: options.galleryResourceGroup || lab.resourceGroup, name: options.galleryName };
  reporter.info(`Gallery route: gallery '${gallery.name}' in resource group '${gallery.resourceGroup}'.`);
  const result: PublishRunResult = { lab, gallery, outcomes: [], savedImageNames: [], dryRun: options.dryRun };

  const configuration = await loadAndReportConfiguration(options.configurationLocation, reporter);
  if (!configuration) return result;

  const [vms, observed] = await Promise.all([listLabVms(azure, lab, signal), observeGallery(azure, gallery, signal)]);
  const facts = await readVmFacts(azure, vms, options.maxConcurrentJobs, signal);
  const regionsByImagePath = await labRegions(azure, configuration, facts, reporter, signal);
  const plan = planPublish({
    vms: facts,
    gallery: observed,
    galleryLocation: observed.location ?? lab.location,
    regionsByImagePath,
    factoryLabId: lab.id,
    now: options.now ?? new Date(),
  });
  result.plan = plan;
  for (const line of describePublishPlan(plan, gallery.name)) reporter.info(line);
  for (const action of plan.actions) if (action.kind === 'skip') reporter.issue(action.issue);
  result.outcomes = plannedPublishOutcomes(plan);
  if (options.dryRun) {
    reporter.info('Dry run: nothing was changed.');
    return result;
  }

  await ensureGalleryAndDefinitions(azure, plan, gallery, observed.location ?? lab.location, lab.id, signal);
  await applyPublish(azure, plan, gallery, result.outcomes, { ...options, location: observed.location ?? lab.location });
  result.savedImageNames = result.outcomes.filter((o) => o.status === 'saved' && o.imageName).map((o) => o.imageName!);
  return result;
}

/** Each VM's facts, with its Compute VM and its OS disk's generation and security type (Disks_Get). */
async function readVmFacts(azure: AzureContext, vms: readonly LabVirtualMachine[], limit: number, signal?: AbortSignal): Promise<PublishVmFacts[]> {
  const facts: PublishVmFacts[] = vms.map((vm) => ({ ...vmFacts(vm), computeVmId: vm.computeId }));
  const withDisks = facts.filter((f) => f.vm.imagePath !== undefined && f.osDiskId);
  const results = await runPool(
    withDisks,
    limit,
    async (f) => {
      const [, , subscription, , group, , , , diskName] = f.osDiskId!.split('/');
      const disk = await callAzure(`Reading the OS disk of VM '${f.vm.name}'`, () => computeClient(azure, subscription).disks.get(group, diskName, { abortSignal: signal }), { subject: f.vm.name });
      f.hyperVGeneration = disk.hyperVGeneration ?? 'V1';
      f.securityType = disk.securityProfile?.securityType?.startsWith('TrustedLaunch') ? 'TrustedLaunch' : 'Standard';
    },
    { signal },
  );
  const failed = results.find((r) => r.status === 'rejected');
  if (failed && failed.status === 'rejected') throw failed.reason;
  return facts;
}

/** The regions of the labs that select each tagged VM's ImagePath; a lab that cannot be found is a warning. */
async function labRegions(
  azure: AzureContext,
  configuration: Configuration,
  facts: readonly PublishVmFacts[],
  reporter: Reporter,
  signal?: AbortSignal,
): Promise<Map<string, string[]>> {
  const regions = new Map<string, string[]>();
  const found = new Map<string, Promise<LabRef | undefined>>();
  for (const f of facts) {
    if (!f.vm.imagePath || regions.has(imagePathKey(f.vm.imagePath))) continue;
    const locations: string[] = [];
    for (const labConfig of labsSelecting(configuration, f.vm.imagePath)) {
      const key = `${labConfig.subscriptionId}/${labConfig.resourceGroup ?? ''}/${labConfig.labName}`.toLowerCase();
      let lookup = found.get(key);
      if (!lookup) {
        lookup = azure.labs.find(labConfig.subscriptionId, labConfig.labName, { resourceGroup: labConfig.resourceGroup, signal }).catch((error: unknown) => {
          if (!isFactoryError(error)) throw error;
          reporter.issue({ severity: 'warning', code: error.code, message: `Lab '${labConfig.labName}' of labs.json: ${error.message} Its region is not among the versions' target regions.`, fix: error.fix });
          return undefined;
        });
        found.set(key, lookup);
      }
      const target = await lookup;
      if (target?.location) locations.push(target.location);
    }
    regions.set(imagePathKey(f.vm.imagePath), locations);
  }
  return regions;
}

async function ensureGalleryAndDefinitions(azure: AzureContext, plan: PublishPlan, gallery: GalleryRef, location: string, factoryLabId: string, signal?: AbortSignal): Promise<void> {
  const client = computeClient(azure, gallery.subscriptionId);
  const poll = { updateIntervalInMs: azure.pollIntervalMs, abortSignal: signal };
  if (plan.createGallery) {
    await callAzure(`Creating gallery '${gallery.name}'`, () => client.galleries.createOrUpdate(gallery.resourceGroup, gallery.name, { location, description: 'Images of the DevTest Labs image factory' }, poll), { subject: gallery.name });
    azure.reporter.info(`Created gallery '${gallery.name}' in ${location}.`);
  }
  for (const action of plan.actions) {
    if (action.kind !== 'publish' || !action.createDefinition) continue;
    const d = action.definition;
    await callAzure(
      `Creating image definition '${d.name}' in gallery '${gallery.name}'`,
      () =>
        client.galleryImages.createOrUpdate(
          gallery.resourceGroup,
          gallery.name,
          d.name,
          {
            location,
            osType: d.osType,
            osState: 'Generalized',
            hyperVGeneration: d.hyperVGeneration as 'V1' | 'V2',
            identifier: d.identifier,
            ...(d.securityType === 'TrustedLaunch' ? { features: [{ name: 'SecurityType', value: 'TrustedLaunch' }] } : {}),
            tags: { ImagePath: d.imagePath, ImageFactory: factoryLabId.toLowerCase() },
          },
          poll,
        ),
      { subject: d.name },
    );
    azure.reporter.info(`Created image definition '${d.name}' (${d.osType}, Hyper-V ${d.hyperVGeneration}, security ${d.securityType}).`);
  }
}

export function plannedPublishOutcomes(plan: PublishPlan): SnapOutcome[] {
  return plan.actions.map((action): SnapOutcome => {
    const base = { vm: action.vm, imagePath: action.vm.imagePath };
    switch (action.kind) {
      case 'publish':
        return { ...base, status: 'planned', imageName: `${action.definition.name}/${action.versionName}`, message: `would be published to ${action.targetRegions.join(', ')}` };
      case 'resume':
        return { ...base, status: 'planned', imageName: `${action.definitionName}/${action.versionName}`, message: 'would follow the version an earlier run started' };
      case 'already-published':
        return { ...base, status: 'already-saved', imageName: `${action.definitionName}/${action.versionName}`, message: `its disk is already version '${action.definitionName}/${action.versionName}'` };
      case 'skip':
        return { ...base, status: action.issue.severity === 'error' ? 'failed' : 'skipped', message: `[${action.issue.code}] ${action.issue.message}` };
      case 'ignore':
        return { ...base, status: 'ignored', message: 'no ImagePath tag' };
    }
  });
}

interface VersionJobState {
  /** The version's PUT was sent: a failed or cancelled job deletes it, so no half-made version stays. */
  requested?: boolean;
  done?: boolean;
}

async function applyPublish(
  azure: AzureContext,
  plan: PublishPlan,
  gallery: GalleryRef,
  outcomes: SnapOutcome[],
  options: Pick<PublishOptions, 'replicaCount' | 'storageAccountType' | 'maxConcurrentJobs' | 'signal' | 'onProgress'> & { location: string },
): Promise<void> {
  const { reporter } = azure;
  const signal = options.signal ?? new AbortController().signal;
  const jobs = plan.actions
    .map((action, index) => ({ action, index }))
    .filter((job): job is { action: Extract<PublishAction, { kind: 'publish' | 'resume' }>; index: number } => job.action.kind === 'publish' || job.action.kind === 'resume');
  const progress = new ReplicationProgress(jobs.length, options.onProgress);
  const results = await runPool(
    jobs,
    options.maxConcurrentJobs,
    async ({ action, index }, jobIndex, poolSignal) => {
      const outcome = outcomes[index];
      const definition = action.kind === 'publish' ? action.definition.name : action.definitionName;
      const label = `VM '${action.vm.name}' (version '${definition}/${action.versionName}')`;
      const started = Date.now();
      const onProgress = (percent: number) => progress.update(jobIndex, percent);
      try {
        if (action.kind === 'publish') await publishVersion(azure, gallery, action, options, poolSignal, onProgress);
        else await waitForVersion(azure, gallery, definition, action.versionName, { signal: poolSignal, onProgress });
        const durationMs = Date.now() - started;
        Object.assign(outcome, { status: 'saved', durationMs, message: `published as '${definition}/${action.versionName}'` });
        reporter.info(`${label}: published and replicated in ${formatDuration(durationMs)}.`);
        progress.finish(jobIndex);
      } catch (error) {
        if (isAbortError(error) || (poolSignal.aborted && !isFactoryError(error))) {
          Object.assign(outcome, { status: 'cancelled', message: 'stopped before it was published' });
        } else {
          const issue = reportError(reporter, error, `${label} was not published`);
          Object.assign(outcome, { status: 'failed', message: `[${issue.code}] ${issue.message}` });
          progress.finish(jobIndex);
        }
      }
    },
    { signal },
  );
  results.forEach((result, jobIndex) => {
    if (result.status === 'not-started') Object.assign(outcomes[jobs[jobIndex].index], { status: 'cancelled', message: 'not started' });
  });
}

async function publishVersion(
  azure: AzureContext,
  gallery: GalleryRef,
  action: Extract<PublishAction, { kind: 'publish' }>,
  options: Pick<PublishOptions, 'replicaCount' | 'storageAccountType'> & { location: string },
  signal: AbortSignal,
  onProgress: (percent: number) => void,
): Promise<void> {
  const definition = action.definition.name;
  const steps: Step<VersionJobState>[] = [
    {
      name: 'replace-failed',
      run: async () => {
        if (action.replaces) await deleteVersion(azure, gallery, definition, action.replaces, signal);
      },
    },
    {
      name: 'create-version',
      run: async (state) => {
        state.requested = true;
        const poller = versionClient(azure, gallery).createOrUpdate(
          gallery.resourceGroup,
          gallery.name,
          definition,
          action.versionName,
          {
            location: options.location,
            tags: action.tags,
            publishingProfile: {
              targetRegions: action.targetRegions.map((name) => ({ name, regionalReplicaCount: options.replicaCount, storageAccountType: options.storageAccountType as 'Standard_LRS' })),
              replicaCount: options.replicaCount,
              storageAccountType: options.storageAccountType as 'Standard_LRS',
            },
            storageProfile: { source: { virtualMachineId: action.computeVmId } },
          },
          { updateIntervalInMs: azure.pollIntervalMs, abortSignal: signal },
        );
        await callAzure(`Creating image version '${definition}/${action.versionName}'`, () => poller.submitted(), { subject: action.versionName });
        await waitForVersion(azure, gallery, definition, action.versionName, { signal, onProgress });
        state.done = true;
      },
      cleanup: async (state, outcome) => {
        if (outcome === 'succeeded' || !state.requested || state.done) return;
        await deleteVersion(azure, gallery, definition, action.versionName);
      },
    },
  ];
  await runSteps(steps, {}, { signal, onCleanupError: (step, error) => azure.reporter.debug(`Cleanup of ${step} failed: ${(error as Error).message}`) });
}
