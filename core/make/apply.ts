import type { AzureContext } from '../azure/azureContext';
import { resourcesClient } from './resources';
import { callAzure, describeAzureError } from '../azure/azureErrors';
import { sleep } from '../azure/retryPolicy';
import type { LabRef } from '../azure/labs';
import { ErrorCodes, FactoryError, isAbortError, isFactoryError } from '../errors';
import { normalizeImagePath } from '../config/imagePaths';
import { Tags } from '../factoryImages';
import { runPool } from '../pool';
import type { Reporter } from '../report';
import { deleteUnlessGone } from '../retire/deletions';
import { vmFacts } from '../snap/plan';
import { runSteps, type Step } from '../steps';
import type { MakeAction, MakePlan, VmSpec } from './plan';
import { deployableTemplate, FILLED_PARAMETERS, hasParameter, type LoadedTemplate } from './templates';

/**
 * Carrying out a make plan: each VM a job of steps with cleanup, at most `maxConcurrentJobs` at once.
 * The VM's step deletes it unless it ended as it should (deallocated, or running when nothing
 * generalizes it); the deployment's step cancels a deployment still running and deletes it whatever
 * happened, so the resource group's deployment history never fills up.
 */

export interface Credentials {
  userName: string;
  password?: string;
  sshKey?: string;
}

export interface MakeApplyOptions {
  azure: AzureContext;
  lab: LabRef;
  reporter: Reporter;
  maxConcurrentJobs: number;
  /** How long one VM may take from deployment to deallocated. */
  standardTimeoutMinutes: number;
  credentials: Credentials;
  /** The factory lab's id, tagged on the VMs (lower case, as on the factory's custom images). */
  factoryLabId: string;
  signal?: AbortSignal;
  onProgress?: (percent: number) => void;
}

export type MakeStatus = 'made' | 'failed' | 'cancelled' | 'skipped' | 'invalid' | 'planned';

export interface MakeOutcome {
  imagePath: string;
  vmName?: string;
  status: MakeStatus;
  message?: string;
  durationMs?: number;
  /** The VM runs, not generalized (nothing in its template or the run generalizes it). */
  notGeneralized?: boolean;
}

interface JobState {
  action: Extract<MakeAction, { kind: 'make' | 'adopt' }>;
  deploymentStarted: boolean;
  ended: 'deallocated' | 'running' | undefined;
}

export async function applyMake(plan: MakePlan, options: MakeApplyOptions): Promise<MakeOutcome[]> {
  const { reporter } = options;
  const signal = options.signal ?? new AbortController().signal;
  for (const name of plan.staleDeployments) await deleteDeployment(options, name).catch((error) => reportCleanupFailure(reporter, `deployment '${name}'`, error));

  const jobs = plan.actions.filter((a): a is JobState['action'] => a.kind === 'make' || a.kind === 'adopt');
  let done = 0;
  if (jobs.length > 0) options.onProgress?.(0);
  const results = await runPool(
    jobs,
    options.maxConcurrentJobs,
    async (action, _index, jobSignal) => {
      const started = Date.now();
      const state: JobState = { action, deploymentStarted: action.kind === 'adopt', ended: undefined };
      try {
        await runSteps(jobSteps(options), state, { signal: jobSignal, onCleanupError: (step, error) => reportCleanupFailure(reporter, `${step} of VM '${action.vm.vmName}'`, error) });
        return { durationMs: Date.now() - started, ended: state.ended };
      } finally {
        done++;
        options.onProgress?.((done / jobs.length) * 100);
      }
    },
    { signal },
  );
  const byAction = new Map<MakeAction, MakeOutcome>();
  results.forEach((result, i) => {
    const action = jobs[i];
    const base = { imagePath: normalizeImagePath(action.item.template.imagePath), vmName: action.vm.vmName };
    if (result.status === 'fulfilled') {
      const notGeneralized = result.value.ended === 'running';
      reporter.info(`VM '${action.vm.vmName}' of '${base.imagePath}' is ${notGeneralized ? 'made and running' : 'made, generalized and deallocated'}.`);
      if (notGeneralized) {
        reporter.issue({
          severity: 'warning',
          code: ErrorCodes.VmNotGeneralized,
          message: `VM '${action.vm.vmName}' of '${base.imagePath}' was made without a sysprep or deprovision artifact, so it is running and not generalized; SnapImagesFromVMs saves it only once it is generalized and deallocated.`,
          fix: "Set 'includeSysprep' to true, or generalize and deallocate the VM yourself before SnapImagesFromVMs runs.",
        });
      }
      byAction.set(action, { ...base, status: 'made', durationMs: result.value.durationMs, notGeneralized });
    } else if (result.status === 'not-started' || (isAbortError(result.reason) && signal.aborted)) {
      byAction.set(action, { ...base, status: 'cancelled', message: result.status === 'not-started' ? 'not started: the run was cancelled' : 'cancelled; what it had started was deleted' });
    } else {
      const error = isFactoryError(result.reason) ? result.reason : describeAzureError(result.reason, `Making VM '${action.vm.vmName}'`, { subject: action.vm.vmName });
      reporter.issue({ severity: 'error', code: error.code, message: error.message, fix: error.fix });
      byAction.set(action, { ...base, status: 'failed', message: error.message });
    }
  });
  return plan.actions.map((action) => byAction.get(action) ?? otherOutcome(action));
}

/** What a dry run reports: the plan's outcome for each template, nothing done. */
export function plannedOutcomes(plan: MakePlan): MakeOutcome[] {
  return plan.actions.map(otherOutcome);
}

function otherOutcome(action: MakeAction): MakeOutcome {
  const imagePath = normalizeImagePath(action.item.template.imagePath);
  if (action.kind === 'skip') return { imagePath, status: 'skipped', message: action.detail };
  if (action.kind === 'invalid') return { imagePath, status: 'invalid', message: action.issue.message };
  return { imagePath, vmName: action.vm.vmName, status: 'planned' };
}

function jobSteps(options: MakeApplyOptions): Step<JobState>[] {
  return [
    {
      name: 'replacing stale VMs',
      run: async (state) => {
        if (state.action.kind !== 'make') return;
        for (const name of state.action.staleDeployments) await deleteDeployment(options, name);
        for (const name of state.action.replaces) await deleteVm(options, name);
      },
    },
    {
      // Acquires the VM: whatever made it not end as it should deletes it, so nothing is left half-made.
      name: 'the VM',
      run: async () => undefined,
      cleanup: async (state, outcome) => {
        if (outcome === 'succeeded' && state.ended) return;
        await deleteVm(options, state.action.vm.vmName);
        options.reporter.info(`Deleted VM '${state.action.vm.vmName}' (${outcome === 'cancelled' ? 'cancelled' : 'not made'}).`);
      },
    },
    {
      name: 'the deployment',
      run: async (state, signal) => {
        if (state.action.kind === 'make') {
          state.deploymentStarted = true;
          await deploy(options, state.action.item.loaded, state.action.vm, signal);
        } else if (state.action.deployment) {
          await waitForDeployment(options, state.action.deployment, signal);
        }
      },
      cleanup: async (state) => {
        if (!state.deploymentStarted) return;
        const name = state.action.kind === 'make' ? state.action.vm.deploymentName : state.action.deployment;
        if (name) await cancelAndDelete(options, name);
      },
    },
    {
      name: 'waiting for the VM',
      run: async (state, signal) => {
        state.ended = await waitForVm(options, state.action.vm, signal);
      },
    },
  ];
}

async function deploy(options: MakeApplyOptions, loaded: LoadedTemplate, vm: VmSpec, signal: AbortSignal): Promise<void> {
  const { azure, lab, reporter } = options;
  const template = deployableTemplate(loaded, {
    tags: {
      [Tags.ImagePath]: vm.imagePath,
      [Tags.ImageFactory]: options.factoryLabId.toLowerCase(),
      [Tags.TemplateHash]: loaded.hash,
      [Tags.BaseImage]: vm.baseImage,
    },
    generalize: vm.generalize ? vm.osType : undefined,
  });
  const parameters: Record<string, { value: string }> = {};
  const fill = (name: string, value: string | undefined) => {
    const declared = hasParameter(loaded, name);
    if (declared && value !== undefined) parameters[declared] = { value };
  };
  fill(FILLED_PARAMETERS.labName, lab.name);
  fill(FILLED_PARAMETERS.vmName, vm.vmName);
  if (vm.sizeFrom === 'input') fill(FILLED_PARAMETERS.size, vm.size);
  fill(FILLED_PARAMETERS.userName, options.credentials.userName);
  fill(FILLED_PARAMETERS.password, options.credentials.password);
  fill(FILLED_PARAMETERS.sshKey, options.credentials.sshKey);
  reporter.info(`Deploying VM '${vm.vmName}' (deployment '${vm.deploymentName}').`);
  const client = resourcesClient(azure, lab.subscriptionId);
  try {
    const poller = await client.deployments.beginCreateOrUpdate(
      lab.resourceGroup,
      vm.deploymentName,
      { properties: { mode: 'Incremental', template, parameters } },
      { updateIntervalInMs: azure.pollIntervalMs, abortSignal: signal },
    );
    await poller.pollUntilDone({ abortSignal: signal });
  } catch (error) {
    if (isAbortError(error) && signal.aborted) throw error;
    throw await deploymentFailure(options, vm.deploymentName, vm.vmName, error);
  }
}

async function waitForDeployment(options: MakeApplyOptions, name: string, signal: AbortSignal): Promise<void> {
  const { azure, lab } = options;
  for (;;) {
    const deployment = await callAzure(`Reading deployment '${name}'`, () => resourcesClient(azure, lab.subscriptionId).deployments.get(lab.resourceGroup, name, { abortSignal: signal }), { subject: name }).catch((error) => {
      if (isFactoryError(error) && /not found|404/i.test(error.message)) return undefined;
      throw error;
    });
    const state = deployment?.properties?.provisioningState;
    if (!deployment || state === 'Succeeded') return;
    if (state === 'Failed' || state === 'Canceled') throw await deploymentFailure(options, name, name.replace(/^imagefactory-/, ''), undefined);
    await sleep(azure.pollIntervalMs, signal);
  }
}

/** The deployment's own error: each failed operation's resource, code and message. */
async function deploymentFailure(options: MakeApplyOptions, name: string, vmName: string, error: unknown): Promise<FactoryError> {
  const { azure, lab } = options;
  const failed: string[] = [];
  try {
    for await (const op of resourcesClient(azure, lab.subscriptionId).deploymentOperations.list(lab.resourceGroup, name)) {
      if (op.properties?.provisioningState !== 'Failed') continue;
      const message = (op.properties.statusMessage as { error?: { code?: string; message?: string } } | undefined)?.error;
      failed.push(`${op.properties.targetResource?.resourceName ?? 'a resource'}: ${message?.code ?? op.properties.statusCode ?? 'Failed'}: ${message?.message ?? 'no message'}`);
    }
  } catch {
    // A deployment refused before it started (400 InvalidTemplate) has no operations; its own error says why.
  }
  const own = error === undefined ? '' : (error as { message?: string }).message ?? String(error);
  const why = failed.length > 0 ? failed.join('; ') : own || 'Azure gave no reason';
  return new FactoryError(ErrorCodes.VmDeploymentFailed, `The deployment '${name}' of VM '${vmName}' in lab '${lab.name}' failed: ${why}. The VM and the deployment were deleted.`, {
    fix: 'Correct what the failed operation names (the template, an artifact, a quota), then run MakeGoldenImageVMs again; it makes only what is missing.',
    subject: vmName,
  });
}

/** Waits until the VM is deallocated (or, when nothing generalizes it, provisioned and running), within StandardTimeoutMinutes. */
async function waitForVm(options: MakeApplyOptions, vm: VmSpec, signal: AbortSignal): Promise<'deallocated' | 'running'> {
  const { azure, lab } = options;
  const deadline = Date.now() + options.standardTimeoutMinutes * 60_000;
  for (;;) {
    const found = await callAzure(
      `Reading VM '${vm.vmName}'`,
      () => azure.devTestLabs(lab.subscriptionId).virtualMachines.get(lab.resourceGroup, lab.name, vm.vmName, { expand: 'properties($expand=computeVm)', abortSignal: signal }),
      { subject: vm.vmName },
    );
    const facts = vmFacts(found);
    const provisioning = facts.provisioningState?.toLowerCase();
    if (provisioning === 'failed') {
      throw new FactoryError(ErrorCodes.VmDeploymentFailed, `VM '${vm.vmName}' in lab '${lab.name}' ended provisioning Failed (artifacts: ${found.artifactDeploymentStatus?.deploymentStatus ?? 'unknown'}). It was deleted.`, {
        fix: 'Look at the VM\'s artifact results in the lab for why, correct the template or artifact, and run MakeGoldenImageVMs again.',
        subject: vm.vmName,
      });
    }
    if (provisioning === 'succeeded') {
      if (facts.powerState === 'deallocated') return 'deallocated';
      if (!vm.endsDeallocated) return 'running';
    }
    if (Date.now() > deadline) {
      throw new FactoryError(
        ErrorCodes.VmNotDeallocatedInTime,
        `VM '${vm.vmName}' in lab '${lab.name}' was not deallocated within ${options.standardTimeoutMinutes} minute(s) (provisioning ${facts.provisioningState ?? 'unknown'}, power state ${facts.powerState ?? 'unknown'}). It was deleted.`,
        { fix: "Raise 'StandardTimeoutMinutes' if the template's artifacts need longer, or check that sysprep or deprovisioning shuts the VM down.", subject: vm.vmName },
      );
    }
    await sleep(azure.pollIntervalMs, signal);
  }
}

async function cancelAndDelete(options: MakeApplyOptions, name: string): Promise<void> {
  const { azure, lab } = options;
  const client = resourcesClient(azure, lab.subscriptionId);
  const current = await client.deployments.get(lab.resourceGroup, name).catch((error: { statusCode?: number }) => {
    if (error.statusCode === 404) return undefined;
    throw describeAzureError(error, `Reading deployment '${name}'`, { subject: name });
  });
  if (!current) return;
  if (current.properties?.provisioningState === 'Running' || current.properties?.provisioningState === 'Accepted') {
    await callAzure(`Cancelling deployment '${name}'`, () => client.deployments.cancel(lab.resourceGroup, name), { subject: name }).catch(() => undefined);
  }
  await deleteDeployment(options, name);
}

async function deleteDeployment(options: MakeApplyOptions, name: string): Promise<void> {
  const { azure, lab } = options;
  await deleteUnlessGone(() =>
    callAzure(`Deleting deployment '${name}'`, () => resourcesClient(azure, lab.subscriptionId).deployments.beginDeleteAndWait(lab.resourceGroup, name, { updateIntervalInMs: azure.pollIntervalMs }), { subject: name }),
  );
}

async function deleteVm(options: MakeApplyOptions, name: string): Promise<void> {
  const { azure, lab } = options;
  await deleteUnlessGone(() =>
    callAzure(`Deleting VM '${name}' from lab '${lab.name}'`, () => azure.devTestLabs(lab.subscriptionId).virtualMachines.beginDeleteAndWait(lab.resourceGroup, lab.name, name, { updateIntervalInMs: azure.pollIntervalMs }), { subject: name }),
  );
}

function reportCleanupFailure(reporter: Reporter, what: string, error: unknown): void {
  const described = describeAzureError(error, `Cleaning up ${what}`);
  reporter.issue({
    severity: 'error',
    code: ErrorCodes.MakeCleanupFailed,
    message: `Cleaning up ${what} failed, so it may be left in the factory lab: ${described.message}`,
    fix: 'Run MakeGoldenImageVMs again: it deletes what an earlier run left behind. CleanUpFactory deletes a failed VM too.',
  });
}
