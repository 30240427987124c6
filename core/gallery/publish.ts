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
import { cancelNotStarted, notSavedOutcome, reportError, settleJobError, type SnapOutcome } from '../snap/apply';
import { findFactoryLab } from '../azure/factoryLab';
import { listLabVms, type SnapRunResult } from '../snap/run';
import { vmFacts } from '../snap/plan';
import { runSteps, type Step } from '../steps';
import { Tags } from '../factoryImages';
import { sleep } from '../azure/retryPolicy';
import { type GalleryRef, galleryRefFor, type GalleryRunOptions, observeGallery, observedVersion } from './gallery';
import { compareVersions } from './naming';
import { ReplicationProgress } from './progress';
import { describePublishPlan, planPublish, type PublishAction, type PublishPlan, type PublishVmFacts } from './publishPlan';
import { deleteVersion, versionClient, waitForVersion } from './versions';

/**
 * SnapImagesFromVMs on the gallery route: each tagged, deallocated factory VM becomes an image version
 * made server-side from its disks (no VHD copy, no storage keys), replicated to the regions of the labs
 * whose ImagePaths select it. Plan first; a dry run prints it; an interrupted run is resumed.
 */
export interface PublishOptions extends GalleryRunOptions {
  labName: string;
  subscriptionId?: string;
  replicaCount: number;
  storageAccountType: string;
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
  const gallery = galleryRefFor(lab, options);
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
  await deleteDuplicates(azure, plan, gallery, options);
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
    const made = await createUnlessMade(
      azure,
      `Creating gallery '${gallery.name}'`,
      () => client.galleries.get(gallery.resourceGroup, gallery.name, { abortSignal: signal }),
      () => client.galleries.createOrUpdate(gallery.resourceGroup, gallery.name, { location, description: 'Images of the DevTest Labs image factory' }, poll),
      signal,
    );
    azure.reporter.info(made ? `Created gallery '${gallery.name}' in ${location}.` : `Gallery '${gallery.name}' was made meanwhile (another run).`);
  }
  for (const action of plan.actions) {
    if (action.kind !== 'publish' || !action.createDefinition) continue;
    const d = action.definition;
    const made = await createUnlessMade(
      azure,
      `Creating image definition '${d.name}' in gallery '${gallery.name}'`,
      () => client.galleryImages.get(gallery.resourceGroup, gallery.name, d.name, { abortSignal: signal }),
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
      signal,
    );
    if (made) azure.reporter.info(`Created image definition '${d.name}' (${d.osType}, Hyper-V ${d.hyperVGeneration}, security ${d.securityType}).`);
  }
}

/**
 * Creates a gallery or definition the plan found missing, unless another run made it since (then its
 * creation is waited for): two runs at once both plan it, and Compute refuses a write to one still
 * being made (409). Resolves whether this run made it.
 */
async function createUnlessMade(
  azure: AzureContext,
  what: string,
  get: () => Promise<{ provisioningState?: string }>,
  create: () => Promise<unknown>,
  signal?: AbortSignal,
): Promise<boolean> {
  for (;;) {
    const existing = await callAzure(what, () => get().catch((error: { statusCode?: number }) => (error?.statusCode === 404 ? undefined : Promise.reject(error))));
    if (existing && existing.provisioningState !== 'Creating' && existing.provisioningState !== 'Updating') return false;
    if (!existing) {
      try {
        await callAzure(what, create);
        return true;
      } catch (error) {
        if ((error as { cause?: { statusCode?: number } }).cause?.statusCode !== 409) throw error;
      }
    }
    await sleep(azure.pollIntervalMs, signal);
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
      case 'ignore':
        return notSavedOutcome(action);
    }
  });
}

interface VersionJobState {
  /** The version's PUT was sent: a failed or cancelled job deletes it, so no half-made version stays. */
  requested?: boolean;
  done?: boolean;
  /** Another run publishes this disk as this version: followed, never deleted by this run. */
  followed?: string;
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
        const followed = action.kind === 'publish' ? await publishVersion(azure, gallery, action, options, poolSignal, onProgress) : undefined;
        if (action.kind === 'resume') await waitForVersion(azure, gallery, definition, action.versionName, { signal: poolSignal, onProgress });
        const durationMs = Date.now() - started;
        if (followed) {
          Object.assign(outcome, { status: 'already-saved', durationMs, imageName: `${definition}/${followed}`, message: `published by another run at the same time as '${definition}/${followed}'` });
          reporter.info(`VM '${action.vm.name}': another run published its disk as '${definition}/${followed}'; followed it until it replicated.`);
        } else {
          Object.assign(outcome, { status: 'saved', durationMs, message: `published as '${definition}/${action.versionName}'` });
          reporter.info(`${label}: published and replicated in ${formatDuration(durationMs)}.`);
        }
        progress.finish(jobIndex);
      } catch (error) {
        if (settleJobError(outcome, error, poolSignal, reporter, label, 'published')) progress.finish(jobIndex);
      }
    },
    { signal },
  );
  cancelNotStarted(results, jobs, outcomes);
}

/**
 * Publishes the VM's disk as the planned version, or follows the version another run at once makes of
 * the same disk (resolving its name): one version per disk, never two, and a run never deletes
 * another's version.
 */
async function publishVersion(
  azure: AzureContext,
  gallery: GalleryRef,
  action: Extract<PublishAction, { kind: 'publish' }>,
  options: Pick<PublishOptions, 'replicaCount' | 'storageAccountType'> & { location: string },
  signal: AbortSignal,
  onProgress: (percent: number) => void,
): Promise<string | undefined> {
  const definition = action.definition.name;
  const follow = async (state: VersionJobState, name: string) => {
    state.followed = name;
    await waitForVersion(azure, gallery, definition, name, { signal, onProgress });
  };
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
        // Another run may have published this disk since the plan was made.
        const before = await versionsOfDisk(azure, gallery, definition, action.diskId, signal);
        if (before.length) return follow(state, before[0]);
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
            // Lets RetireImages drop a region no lab needs any more.
            safetyProfile: { allowDeletionOfReplicatedLocations: true },
          },
          { updateIntervalInMs: azure.pollIntervalMs, abortSignal: signal },
        );
        try {
          await callAzure(`Creating image version '${definition}/${action.versionName}'`, () => poller.submitted(), { subject: action.versionName });
        } catch (error) {
          // 409: another run made this very version (same name, same second) and it is still being made.
          const other = (error as { cause?: { statusCode?: number } }).cause?.statusCode === 409 ? await versionsOfDisk(azure, gallery, definition, action.diskId, signal) : [];
          if (!other.length) throw error;
          state.requested = false;
          return follow(state, other[0]);
        }
        // Two runs that planned at once made one version each: the later-named one gives way.
        const earlier = (await versionsOfDisk(azure, gallery, definition, action.diskId, signal)).filter((name) => compareVersions(name, action.versionName) < 0);
        if (earlier.length) {
          await deleteVersion(azure, gallery, definition, action.versionName, signal);
          state.requested = false;
          return follow(state, earlier[0]);
        }
        await waitForVersion(azure, gallery, definition, action.versionName, { signal, onProgress });
        state.done = true;
      },
      cleanup: async (state, outcome) => {
        if (outcome === 'succeeded' || !state.requested || state.done) return;
        if (await madeByThisRun(azure, gallery, definition, action)) await deleteVersion(azure, gallery, definition, action.versionName);
      },
    },
  ];
  const state: VersionJobState = {};
  await runSteps(steps, state, { signal, onCleanupError: (step, error) => azure.reporter.debug(`Cleanup of ${step} failed: ${(error as Error).message}`) });
  return state.followed;
}

/** Deletes the second versions of a disk that a run killed while giving way to another run left behind. */
async function deleteDuplicates(azure: AzureContext, plan: PublishPlan, gallery: GalleryRef, options: Pick<PublishOptions, 'maxConcurrentJobs' | 'signal'>): Promise<void> {
  const duplicates = plan.actions.flatMap((action) => (action.kind === 'already-published' ? action.duplicates.map((name) => ({ action, name })) : []));
  await runPool(
    duplicates,
    options.maxConcurrentJobs,
    async ({ action, name }, _i, poolSignal) => {
      try {
        await deleteVersion(azure, gallery, action.definitionName, name, poolSignal);
        azure.reporter.info(`Deleted version '${action.definitionName}/${name}', a second version of VM '${action.vm.name}''s disk; '${action.versionName}' stays.`);
      } catch (error) {
        if (isAbortError(error)) throw error;
        reportError(azure.reporter, error, `The second version '${action.definitionName}/${name}' of VM '${action.vm.name}''s disk was not deleted`);
      }
    },
    { signal: options.signal },
  );
}

/** Names of the definition's versions made from `diskId` that are or will be usable, oldest first. */
async function versionsOfDisk(azure: AzureContext, gallery: GalleryRef, definition: string, diskId: string, signal?: AbortSignal): Promise<string[]> {
  const names: string[] = [];
  await callAzure(`Listing the versions of image definition '${definition}'`, async () => {
    for await (const version of versionClient(azure, gallery).listByGalleryImage(gallery.resourceGroup, gallery.name, definition, { abortSignal: signal })) {
      const observed = observedVersion(version);
      if (observed.sourceDiskId?.toLowerCase() === diskId.toLowerCase() && !['Failed', 'Deleting'].includes(observed.provisioningState)) names.push(observed.name);
    }
  });
  return names.sort(compareVersions);
}

/** Whether the version carries this run's creation time: only then does a failed run delete it. */
async function madeByThisRun(azure: AzureContext, gallery: GalleryRef, definition: string, action: Extract<PublishAction, { kind: 'publish' }>): Promise<boolean> {
  try {
    const version = await versionClient(azure, gallery).get(gallery.resourceGroup, gallery.name, definition, action.versionName);
    return version.tags?.[Tags.ImageFactoryCreated] === action.tags[Tags.ImageFactoryCreated];
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw error;
  }
}
