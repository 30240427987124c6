import type { AzureContext } from '../azure/azureContext';
import { resourcesClient } from './resources';
import { callAzure } from '../azure/azureErrors';
import { findFactoryLab } from '../azure/factoryLab';
import type { LabRef } from '../azure/labs';
import { loadAndReportConfiguration } from '../config/labsConfig';
import { imagePathSelects } from '../config/imagePaths';
import { ErrorCodes, FactoryError } from '../errors';
import { formatDuration, markdownCell as cell, statusTally } from '../format';
import { ImageStore } from '../imageStore';
import { listLabVms } from '../snap/run';
import { vmFacts } from '../snap/plan';
import { applyMake, plannedOutcomes, type Credentials, type MakeOutcome, type MakeStatus } from './apply';
import { DEPLOYMENT_PREFIX, describeMakePlan, type FactoryDeployment, type MakePlan, planMake } from './plan';
import { loadTemplate } from './templates';
import { resolveLatestVersions } from './baseImages';

/**
 * MakeGoldenImageVMs from start to end: read the configuration's templates, find the factory lab, read
 * its VMs, deployments and image store, plan, print the plan, and (unless a dry run) make the VMs.
 */
export interface MakeRunOptions {
  configurationLocation: string;
  labName: string;
  subscriptionId?: string;
  /** ImagePaths (templates or folders) to build; empty builds every template. */
  imagePaths: string[];
  maxConcurrentJobs: number;
  defaultSize: string;
  includeSysprep: boolean;
  credentials: Credentials;
  standardTimeoutMinutes: number;
  dryRun: boolean;
  signal?: AbortSignal;
  onProgress?: (percent: number) => void;
}

export interface MakeRunResult {
  lab?: LabRef;
  plan?: MakePlan;
  outcomes: MakeOutcome[];
  /** Names of the VMs this run made (or waited for), in template order. */
  vmNames: string[];
  dryRun: boolean;
}

export async function runMake(azure: AzureContext, options: MakeRunOptions): Promise<MakeRunResult> {
  const { reporter } = azure;
  const signal = options.signal;
  const configuration = await loadAndReportConfiguration(options.configurationLocation, reporter);
  if (!configuration) {
    reporter.info('The configuration has errors, so no VM was made.');
    return { outcomes: [], vmNames: [], dryRun: options.dryRun };
  }
  const unmatched = options.imagePaths.filter((selector) => !configuration.templates.some((t) => imagePathSelects(selector, t.imagePath)));
  if (unmatched.length > 0) {
    throw new FactoryError(ErrorCodes.TemplateSelectionInvalid, `The ImagePaths ${unmatched.map((s) => `'${s}'`).join(', ')} select no template under ${configuration.goldenImagesFolder}.`, {
      fix: "List templates or folders relative to GoldenImages (WindowsServer/Server2022-Datacenter.json, Linux), or leave 'ImagePaths' empty to build every template.",
      subject: unmatched[0],
    });
  }
  const selected = configuration.templates.filter((t) => options.imagePaths.length === 0 || options.imagePaths.some((s) => imagePathSelects(s, t.imagePath)));
  const items = await Promise.all(selected.map(async (template) => ({ template, loaded: await loadTemplate(template.file) })));

  const lab = await findFactoryLab(azure, { labName: options.labName, subscriptionId: options.subscriptionId, signal });
  const store = new ImageStore(azure.labs.storage(lab), reporter);
  const [vms, deployments, listing] = await Promise.all([listLabVms(azure, lab, signal), listFactoryDeployments(azure, lab, signal), store.list({ signal })]);
  const latestVersions = await resolveLatestVersions(azure, { subscriptionId: lab.subscriptionId, location: lab.location, references: items.map((i) => i.template.galleryImageReference), signal });
  reporter.info(`${items.length} template(s) selected; the lab has ${vms.length} VM(s), ${deployments.length} factory deployment(s), and ${listing.images.length} stored image(s).`);

  const plan = planMake(
    items,
    {
      vms: vms.map((vm) => {
        const facts = vmFacts(vm);
        return { name: facts.vm.name, tags: vm.tags, provisioningState: facts.provisioningState, powerState: facts.powerState };
      }),
      deployments,
      images: listing.images,
    },
    { defaultSize: options.defaultSize, includeSysprep: options.includeSysprep, latestVersions, credentials: { password: !!options.credentials.password, sshKey: !!options.credentials.sshKey } },
  );
  for (const line of describeMakePlan(plan)) reporter.info(line);
  for (const action of plan.actions) if (action.kind === 'invalid') reporter.issue(action.issue);

  if (options.dryRun) {
    reporter.info('Dry run: nothing was changed.');
    return { lab, plan, outcomes: plannedOutcomes(plan), vmNames: [], dryRun: true };
  }
  const outcomes = await applyMake(plan, {
    azure,
    lab,
    reporter,
    maxConcurrentJobs: options.maxConcurrentJobs,
    standardTimeoutMinutes: options.standardTimeoutMinutes,
    credentials: options.credentials,
    factoryLabId: lab.id,
    signal,
    onProgress: options.onProgress,
  });
  const vmNames = outcomes.filter((o) => o.status === 'made' && o.vmName).map((o) => o.vmName!);
  return { lab, plan, outcomes, vmNames, dryRun: false };
}

/** The deployments of the factory lab's resource group that MakeGoldenImageVMs made, every page. */
async function listFactoryDeployments(azure: AzureContext, lab: LabRef, signal?: AbortSignal): Promise<FactoryDeployment[]> {
  return callAzure(
    `Listing the deployments of resource group '${lab.resourceGroup}'`,
    async () => {
      const found: FactoryDeployment[] = [];
      for await (const d of resourcesClient(azure, lab.subscriptionId).deployments.listByResourceGroup(lab.resourceGroup, { abortSignal: signal })) {
        if (d.name?.toLowerCase().startsWith(DEPLOYMENT_PREFIX)) found.push({ name: d.name, provisioningState: d.properties?.provisioningState });
      }
      return found;
    },
    { subject: lab.resourceGroup },
  );
}

const STATUS_TEXT: Record<MakeStatus, { cell: string; tally: string }> = {
  made: { cell: '✅ made', tally: 'made' },
  failed: { cell: '❌ failed', tally: 'failed' },
  cancelled: { cell: '⏹️ cancelled', tally: 'cancelled' },
  skipped: { cell: '☑️ skipped', tally: 'skipped' },
  invalid: { cell: '❌ cannot be made', tally: 'cannot be made' },
  planned: { cell: '📝 to be made', tally: 'to be made' },
};

/** The run as markdown for the pipeline's summary tab. */
export function makeSummaryMarkdown(result: MakeRunResult): string {
  const tally = statusTally(result.outcomes.map((o) => o.status), STATUS_TEXT);
  const lines = [
    `### Golden image VMs${result.lab ? ` in lab ${cell(result.lab.name)}` : ''}${result.dryRun ? ' (dry run: nothing was changed)' : ''}`,
    '',
    tally ? `${result.outcomes.length} template(s): ${tally}.` : 'No template was selected.',
    '',
  ];
  if (result.outcomes.length > 0) {
    lines.push('| ImagePath | VM | Duration | Outcome |', '|---|---|---|---|');
    for (const o of result.outcomes) {
      const detail = o.message && o.status !== 'made' ? `: ${o.message}` : o.notGeneralized ? ': running, not generalized' : '';
      lines.push(`| ${cell(o.imagePath)} | ${cell(o.vmName ?? '')} | ${o.durationMs === undefined ? '' : formatDuration(o.durationMs)} | ${cell(STATUS_TEXT[o.status].cell + detail)} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}
