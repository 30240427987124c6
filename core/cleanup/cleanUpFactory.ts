import type { LabVirtualMachine } from '@azure/arm-devtestlabs';
import type { AzureContext } from '../azure/azureContext';
import { callAzure } from '../azure/azureErrors';
import type { LabRef } from '../azure/labs';
import { ErrorCodes, FactoryError, isAbortError } from '../errors';
import { getTag, Tags } from '../factoryImages';
import { markdownCell } from '../format';
import { galleryRefFor, type GalleryTarget } from '../gallery/gallery';
import { publishedImages } from '../gallery/published';
import { ImageStore } from '../imageStore';
import { causeFix, causeText, deleteUnlessGone, runDeletions } from '../retire/deletions';
import { revokeLeftoverGrant } from '../snap/diskAccess';
import { listLabVms } from '../snap/run';
import { type CleanupPlan, type CleanupVm, deleteVmReasonText, formatCleanupPlan, planCleanup, type SavedImage, type VmDecision } from './plan';

export interface CleanUpFactoryOptions {
  /** The factory lab's subscription. */
  subscriptionId: string;
  labName: string;
  /** VM deletions at once. */
  maxConcurrentJobs: number;
  dryRun: boolean;
  signal?: AbortSignal;
  /** The gallery route: a VM is saved once the gallery holds a version made from its disk. */
  gallery?: GalleryTarget;
}

export type VmOutcomeStatus = 'deleted' | 'failed' | 'not-started' | 'kept';

export interface VmOutcome {
  decision: VmDecision;
  status: VmOutcomeStatus;
  error?: string;
}

export interface CleanUpFactoryResult {
  plan: CleanupPlan;
  outcomes: VmOutcome[];
  deleted: number;
  failed: number;
  summary: string;
  message: string;
}

/**
 * CleanUpFactory: read the factory lab's VMs and the image store, plan, print the plan, then (unless a
 * dry run) delete the VMs due with bounded concurrency. The lab's VM list must be read completely, or
 * nothing is done: a VM missed is a VM misjudged.
 */
export async function cleanUpFactory(azure: AzureContext, options: CleanUpFactoryOptions): Promise<CleanUpFactoryResult> {
  const { reporter } = azure;
  const signal = options.signal ?? new AbortController().signal;
  const lab = await azure.labs.find(options.subscriptionId, options.labName, { signal });
  const labLabel = `lab '${lab.name}' (subscription ${lab.subscriptionId})`;
  reporter.info(`Factory lab '${lab.name}' (resource group '${lab.resourceGroup}', subscription ${lab.subscriptionId}).`);

  let vms: LabVirtualMachine[];
  try {
    vms = await listLabVms(azure, lab, signal);
  } catch (error) {
    if (isAbortError(error) && signal.aborted) throw error;
    throw new FactoryError(ErrorCodes.LabNotFullyRead, `The VMs of ${labLabel} could not be read completely, so no VM was deleted: ${causeText(error)}`, {
      fix: causeFix(error) ?? 'Run again; if it keeps failing, check the lab in the Azure portal.',
      subject: lab.name,
      cause: error,
    });
  }

  let savedImages: SavedImage[] | undefined;
  const gallery = options.gallery && galleryRefFor(lab, options.gallery);
  try {
    savedImages = gallery ? await publishedImages(azure, gallery, lab.id, signal) : (await new ImageStore(azure.labs.storage(lab), reporter).list({ signal })).images;
  } catch (error) {
    if (isAbortError(error) && signal.aborted) throw error;
    reporter.issue({
      severity: 'error',
      code: ErrorCodes.LabNotFullyRead,
      message: gallery
        ? `Gallery '${gallery.name}' (resource group '${gallery.resourceGroup}', subscription ${gallery.subscriptionId}) could not be read, so no VM tagged ImagePath in ${labLabel} was deleted (whether a version was made from it is unknown): ${causeText(error)}`
        : `The factory image store of ${labLabel} could not be read, so no VM tagged ImagePath was deleted (whether it was saved is unknown): ${causeText(error)}`,
      fix: causeFix(error) ?? `Run again once the ${gallery ? 'gallery' : 'store'} can be read.`,
    });
  }

  const plan = planCleanup({ labLabel, vms: vms.map(toCleanupVm), savedImages, galleryName: gallery?.name });
  for (const line of formatCleanupPlan(plan)) reporter.info(line);
  for (const decision of plan.decisions) if (decision.issue) reporter.issue(decision.issue);

  const kept = (decision: VmDecision): VmOutcome => ({ decision, status: 'kept' });
  if (options.dryRun) {
    const message = `Dry run: ${plan.deletions.length} VM(s) would be deleted; nothing was changed.`;
    reporter.info(message);
    const outcomes = plan.decisions.map((d) => (d.action === 'delete' ? { decision: d, status: 'not-started' as const } : kept(d)));
    return { plan, outcomes, deleted: 0, failed: 0, summary: summaryMarkdown(plan, outcomes, true), message };
  }

  const total = plan.deletions.length;
  const store = plan.deletions.some((d) => d.image?.blobName) ? await azure.labs.storage(lab).containerClient({ signal }) : undefined;
  const results = await runDeletions(plan.deletions, { limit: options.maxConcurrentJobs, signal, reporter, noun: 'VM' }, async (decision, jobSignal) => {
    // A saved VM's disk may still have the read access a killed SnapImagesFromVMs run left; Azure refuses to
    // delete a VM whose disk has an active SAS. A run still finishing the image is waited for.
    const { osDiskId } = decision.vm;
    if (decision.image && osDiskId) {
      await revokeLeftoverGrant(azure, {
        diskId: osDiskId,
        vmName: decision.vm.name,
        image: decision.image.blobName ? store?.getBlobClient(decision.image.blobName) : undefined,
        reporter,
        signal: jobSignal,
      });
    }
    await deleteVm(azure, lab, decision.vm.name, jobSignal);
    reporter.info(`Deleted VM '${decision.vm.name}': ${decision.detail}.`);
  });
  const byDecision = new Map<VmDecision, VmOutcome>();
  results.forEach((result, index) => {
    const decision = plan.deletions[index];
    if (result.status !== 'failed') {
      byDecision.set(decision, { decision, status: result.status });
      return;
    }
    const message = `Could not delete VM '${decision.vm.name}' in ${labLabel}: ${causeText(result.reason)}`;
    reporter.issue({
      severity: 'error',
      code: ErrorCodes.DeleteFailed,
      message,
      fix: causeFix(result.reason) ?? 'Run CleanUpFactory again; it deletes what is still due.',
    });
    byDecision.set(decision, { decision, status: 'failed', error: message });
  });
  const outcomes = plan.decisions.map((d) => byDecision.get(d) ?? kept(d));
  const deleted = outcomes.filter((o) => o.status === 'deleted').length;
  const failed = outcomes.filter((o) => o.status === 'failed').length;
  const message = `Deleted ${deleted} of ${total} VM(s)${failed ? `, ${failed} failed` : ''}; kept ${plan.decisions.length - total}.`;
  reporter.info(message);
  return { plan, outcomes, deleted, failed, summary: summaryMarkdown(plan, outcomes, false), message };
}

function toCleanupVm(vm: LabVirtualMachine): CleanupVm {
  return {
    name: vm.name ?? vm.id?.split('/').pop() ?? '(unnamed)',
    id: vm.id,
    tags: vm.tags,
    provisioningState: vm.provisioningState,
    osDiskId: vm.computeVm?.osDiskId,
    createdDate: vm.createdDate,
  };
}

async function deleteVm(azure: AzureContext, lab: LabRef, name: string, signal: AbortSignal): Promise<void> {
  await deleteUnlessGone(() =>
    callAzure(
      `Deleting VM '${name}' from lab '${lab.name}'`,
      () =>
        azure
          .devTestLabs(lab.subscriptionId)
          .virtualMachines.beginDeleteAndWait(lab.resourceGroup, lab.name, name, { updateIntervalInMs: azure.pollIntervalMs, abortSignal: signal }),
      { subject: name },
    ),
  );
}

const STATUS_TEXT: Record<VmOutcomeStatus, string> = { deleted: 'deleted', failed: 'failed', 'not-started': 'not started', kept: 'kept' };

export function summaryMarkdown(plan: CleanupPlan, outcomes: readonly VmOutcome[], dryRun: boolean): string {
  const cell = markdownCell;
  const lines = [`### CleanUpFactory: ${plan.labLabel}${plan.words.route}${dryRun ? ' (dry run: nothing changed)' : ''}`, ''];
  if (outcomes.length === 0) {
    lines.push('The lab has no VMs.');
    return `${lines.join('\n')}\n`;
  }
  lines.push('| VM | ImagePath | Decision | Why | Outcome |', '|---|---|---|---|---|');
  for (const o of outcomes) {
    const d = o.decision;
    const imagePath = getTag(d.vm.tags, Tags.ImagePath) ?? '';
    const why = d.action === 'delete' ? deleteVmReasonText(d.reason, plan.words) : d.detail;
    const outcome = dryRun && d.action === 'delete' ? 'would be deleted' : STATUS_TEXT[o.status];
    lines.push(`| ${cell(d.vm.name)} | ${cell(imagePath)} | ${d.action} | ${cell(why)}${d.issue ? ` (${d.issue.code})` : ''} | ${outcome}${o.error ? `: ${cell(o.error)}` : ''} |`);
  }
  return `${lines.join('\n')}\n`;
}
