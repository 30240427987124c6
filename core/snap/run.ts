import type { LabVirtualMachine } from '@azure/arm-devtestlabs';
import type { AzureContext } from '../azure/azureContext';
import { callAzure } from '../azure/azureErrors';
import { findFactoryLab } from '../azure/factoryLab';
import type { LabRef } from '../azure/labs';
import { ErrorCodes, FactoryError } from '../errors';
import { newRunId } from '../azure/blobClaim';
import { ImageStore } from '../imageStore';
import { formatBytes, formatDuration, markdownCell as cell, statusTally } from '../format';
import { applySnap, plannedOutcomes, type SnapOutcome, type SnapStatus } from './apply';
import { readOsDisks } from './osDisks';
import { describeSnapPlan, planSnap, type SnapPlan } from './plan';

/**
 * SnapImagesFromVMs from start to end: find the factory lab, read its VMs and its image store, plan,
 * print the plan, and (unless a dry run) save what the plan says.
 */
export interface SnapRunOptions {
  labName: string;
  /** The factory lab's subscription; default: the service connection's. */
  subscriptionId?: string;
  maxConcurrentJobs: number;
  /** The run's time limit; no disk's read access is granted for much longer than that. */
  timeoutMinutes: number;
  dryRun: boolean;
  signal?: AbortSignal;
  now?: Date;
  onProgress?: (percent: number, activity: string) => void;
}

export interface SnapRunResult {
  lab: LabRef;
  plan: SnapPlan;
  outcomes: SnapOutcome[];
  /** Names of the images this run saved, in VM name order. */
  savedImageNames: string[];
  dryRun: boolean;
}

/** Disk read access never lasts more than this beyond the run's time limit (see snap/diskAccess.ts for how long it does). */
const ACCESS_MARGIN_SECONDS = 3600;

export async function runSnap(azure: AzureContext, options: SnapRunOptions): Promise<SnapRunResult> {
  const { reporter } = azure;
  const signal = options.signal;
  const lab = await findFactoryLab(azure, { labName: options.labName, subscriptionId: options.subscriptionId, signal });
  const storage = azure.labs.storage(lab);
  const store = new ImageStore(storage, reporter);

  const [vms, listing] = await Promise.all([listLabVms(azure, lab, signal), store.list({ signal })]);
  reporter.info(`The lab has ${vms.length} VM(s); its image store holds ${listing.images.length} image(s).`);
  const osDisks = await readOsDisks(azure, vms, { maxConcurrentJobs: options.maxConcurrentJobs, signal });
  const plan = planSnap(vms, listing, options.now ?? new Date(), osDisks);
  for (const line of describeSnapPlan(plan)) reporter.info(line);
  for (const action of plan.actions) if (action.kind === 'skip') reporter.issue(action.issue);

  if (options.dryRun) {
    reporter.info('Dry run: nothing was changed.');
    return { lab, plan, outcomes: plannedOutcomes(plan), savedImageNames: [], dryRun: true };
  }

  const outcomes = await applySnap(plan, {
    azure,
    storage,
    store,
    reporter,
    maxConcurrentJobs: options.maxConcurrentJobs,
    runId: newRunId(),
    maxAccessSeconds: options.timeoutMinutes * 60 + ACCESS_MARGIN_SECONDS,
    signal,
    onProgress: options.onProgress,
  });
  const savedImageNames = outcomes.filter((o) => o.status === 'saved' && o.imageName).map((o) => o.imageName!);
  return { lab, plan, outcomes, savedImageNames, dryRun: false };
}

/** The lab's VMs with their compute status (power state, OS disk), every page. */
export async function listLabVms(azure: AzureContext, lab: LabRef, signal?: AbortSignal): Promise<LabVirtualMachine[]> {
  return callAzure(
    `Listing the VMs of lab '${lab.name}'`,
    async () => {
      const vms: LabVirtualMachine[] = [];
      const pages = azure.devTestLabs(lab.subscriptionId).virtualMachines.list(lab.resourceGroup, lab.name, {
        expand: 'properties($expand=computeVm)',
        abortSignal: signal,
      });
      for await (const vm of pages) vms.push(vm);
      return vms;
    },
    { notFound: ErrorCodes.LabNotFound, subject: lab.name },
  );
}

const STATUS_TEXT: Record<SnapStatus, { cell: string; tally: string }> = {
  saved: { cell: '✅ saved', tally: 'saved' },
  'already-saved': { cell: '☑️ already saved', tally: 'already saved' },
  skipped: { cell: '⚠️ skipped', tally: 'skipped' },
  ignored: { cell: 'not tagged', tally: 'not tagged' },
  failed: { cell: '❌ failed', tally: 'failed' },
  cancelled: { cell: '⏹️ cancelled', tally: 'cancelled' },
  planned: { cell: '📝 to be saved', tally: 'to be saved' },
};

/** The run as markdown for the pipeline's summary tab. */
export function snapSummaryMarkdown(result: Pick<SnapRunResult, 'lab' | 'outcomes' | 'dryRun'>): string {
  const tally = statusTally(result.outcomes.map((o) => o.status), STATUS_TEXT);
  const lines = [
    `### Images saved from lab ${cell(result.lab.name)}${result.dryRun ? ' (dry run: nothing was changed)' : ''}`,
    '',
    tally ? `${result.outcomes.length} VM(s): ${tally}.` : 'The lab has no VMs.',
    '',
  ];
  const rows = result.outcomes.filter((o) => o.status !== 'ignored');
  if (rows.length > 0) {
    lines.push('| VM | ImagePath | Image name | Size | Duration | Outcome |', '|---|---|---|---|---|---|');
    for (const o of rows) {
      const detail = o.status === 'skipped' || o.status === 'failed' || o.status === 'cancelled' ? `: ${o.message}` : '';
      lines.push(
        `| ${cell(o.vm.name)} | ${cell(o.imagePath ?? '')} | ${cell(o.imageName ?? '')} | ${o.sizeBytes ? formatBytes(o.sizeBytes) : ''} | ${o.durationMs === undefined ? '' : formatDuration(o.durationMs)} | ${cell(STATUS_TEXT[o.status].cell + detail)} |`,
      );
    }
  }
  const ignored = result.outcomes.filter((o) => o.status === 'ignored');
  if (ignored.length > 0) lines.push('', `VMs without an ImagePath tag, left alone: ${ignored.map((o) => cell(o.vm.name)).join(', ')}.`);
  return `${lines.join('\n')}\n`;
}
