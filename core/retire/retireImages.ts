import type { CustomImage } from '@azure/arm-devtestlabs';
import type { AzureContext } from '../azure/azureContext';
import { callAzure } from '../azure/azureErrors';
import type { LabRef } from '../azure/labs';
import { type Configuration, loadAndReportConfiguration } from '../config/labsConfig';
import { ErrorCodes, FactoryError, isAbortError } from '../errors';
import { markdownCell } from '../format';
import { ImageStore, type StoredImage } from '../imageStore';
import { runPool } from '../pool';
import { causeFix, causeText, deleteUnlessGone, runDeletions } from './deletions';
import {
  deleteReasonText,
  formatRetirementPlan,
  type LabObservation,
  type PlannedDeletion,
  planRetirement,
  type ReadOutcome,
  type RetirePlan,
  STORE_SCOPE_KEY,
  type StoreObservation,
} from './plan';

export interface RetireImagesOptions {
  configurationLocation: string;
  /** The factory lab's subscription. */
  subscriptionId: string;
  /** The factory lab. */
  labName: string;
  imagesToSave: number;
  /** Retire the PowerShell image factory's custom images too (plan.ts, powerShellImages.ts). */
  includePowerShellImages: boolean;
  maxConcurrentJobs: number;
  dryRun: boolean;
  signal?: AbortSignal;
}

export type DeletionStatus = 'deleted' | 'failed' | 'not-started';

export interface DeletionOutcome {
  deletion: PlannedDeletion;
  where: string;
  status: DeletionStatus;
  error?: string;
}

export interface RetireImagesResult {
  /** Absent when the configuration had errors and nothing was read. */
  plan?: RetirePlan;
  outcomes: DeletionOutcome[];
  deleted: number;
  failed: number;
  /** Scopes left as they were because they could not be read completely. */
  unreadable: number;
  summary: string;
  message: string;
}

/**
 * RetireImages: read the configuration, the factory store, the factory lab and every lab of labs.json,
 * plan what goes, print the plan, then (unless a dry run) delete with at most `maxConcurrentJobs` at
 * once. A scope that cannot be read completely is reported (IF5001) and left alone; the others go on.
 * Every deletion is decided afresh from what Azure holds, so a run stopped half-way is finished by the
 * next one.
 */
export async function retireImages(azure: AzureContext, options: RetireImagesOptions): Promise<RetireImagesResult> {
  const { reporter } = azure;
  const signal = options.signal ?? new AbortController().signal;

  const configuration = await loadAndReportConfiguration(options.configurationLocation, reporter);
  if (!configuration) {
    const message = 'The configuration has errors, so RetireImages deleted nothing.';
    return { outcomes: [], deleted: 0, failed: 0, unreadable: 0, summary: `**${message}**\n`, message };
  }
  if (configuration.templates.length === 0) {
    throw new FactoryError(
      ErrorCodes.GoldenImagesNotFound,
      `${configuration.goldenImagesFolder} holds no templates; retiring against it would delete every factory image, so nothing was deleted.`,
      { fix: 'Point ConfigurationLocation at the configuration folder whose GoldenImages holds the templates.', subject: configuration.goldenImagesFolder },
    );
  }

  const factory = await azure.labs.find(options.subscriptionId, options.labName, { signal });
  reporter.info(`Factory lab '${factory.name}' (resource group '${factory.resourceGroup}', subscription ${factory.subscriptionId}).`);
  const { store, observed, plan } = await observeAndPlanRetirement(azure, configuration, factory, options, signal);
  for (const line of formatRetirementPlan(plan)) reporter.info(line);
  const unreadable = plan.scopes.filter((scope) => scope.unreadable);
  for (const scope of unreadable) {
    const fix = observed.fixes.get(scope.key);
    reporter.issue({
      severity: 'error',
      code: ErrorCodes.LabNotFullyRead,
      message: `The ${scope.label} could not be read completely, so none of its images were touched: ${scope.unreadable}`,
      fix: fix ?? 'Make sure the service connection can read it, then run again; the other labs were retired as planned.',
    });
  }

  const where = (deletion: PlannedDeletion) => plan.scopes.find((scope) => scope.key === deletion.scopeKey)!.label;
  if (options.dryRun) {
    const message = `Dry run: ${plan.deletions.length} image(s) would be deleted; nothing was changed.`;
    reporter.info(message);
    const outcomes = plan.deletions.map<DeletionOutcome>((deletion) => ({ deletion, where: where(deletion), status: 'not-started' }));
    return { plan, outcomes, deleted: 0, failed: 0, unreadable: unreadable.length, summary: summaryMarkdown(plan, outcomes, true), message };
  }

  const total = plan.deletions.length;
  const results = await runDeletions(plan.deletions, { limit: options.maxConcurrentJobs, signal, reporter, noun: 'image' }, async (deletion, jobSignal) => {
    await deleteImage(azure, deletion, where(deletion), observed.labRefs, store, jobSignal);
    reporter.info(`Deleted ${describe(deletion, where(deletion))}: ${deletion.detail}.`);
  });
  const outcomes = results.map<DeletionOutcome>((result, index) => {
    const deletion = plan.deletions[index];
    const place = where(deletion);
    if (result.status !== 'failed') return { deletion, where: place, status: result.status };
    const error = deleteError(result.reason, deletion, place);
    reporter.issue({ severity: 'error', code: error.code, message: error.message, fix: error.fix });
    return { deletion, where: place, status: 'failed', error: error.message };
  });
  const deleted = outcomes.filter((o) => o.status === 'deleted').length;
  const failed = outcomes.filter((o) => o.status === 'failed').length;
  const kept = plan.scopes.reduce((sum, scope) => sum + scope.keep.length, 0);
  const message = `Deleted ${deleted} of ${total} image(s)${failed ? `, ${failed} failed` : ''}; kept ${kept}${
    unreadable.length ? `; ${unreadable.length} lab(s) or store(s) left as they were` : ''
  }.`;
  reporter.info(message);
  return { plan, outcomes, deleted, failed, unreadable: unreadable.length, summary: summaryMarkdown(plan, outcomes, false), message };
}

export interface Observed {
  store: StoreObservation;
  /** The store's complete images with all their metadata, when it was read. */
  storeImages: StoredImage[];
  labs: LabObservation[];
  /** The labs found, by scope key, for the deletions. */
  labRefs: Map<string, LabRef>;
  /** What to do about a scope that could not be read, when the failure says. */
  fixes: Map<string, string>;
  /** The scope key of each lab of labs.json, in labs.json's order. */
  labKeys: string[];
}

/**
 * Reads every scope and plans retention from what was read. The image catalog plans through it too, so
 * that what it marks is what a RetireImages run with the same ImagesToSave deletes.
 */
export async function observeAndPlanRetirement(
  azure: AzureContext,
  configuration: Configuration,
  factory: LabRef,
  options: Pick<RetireImagesOptions, 'maxConcurrentJobs' | 'imagesToSave' | 'includePowerShellImages'>,
  signal: AbortSignal,
): Promise<{ store: ImageStore; observed: Observed; plan: RetirePlan }> {
  const store = new ImageStore(azure.labs.storage(factory), azure.reporter);
  const observed = await observeRetirementScopes(azure, configuration, factory, store, options, signal);
  const plan = planRetirement({
    factoryLabId: factory.id,
    includePowerShellImages: options.includePowerShellImages,
    imagesToSave: options.imagesToSave,
    templatePaths: configuration.templates.map((template) => template.imagePath),
    store: observed.store,
    labs: observed.labs,
  });
  return { store, observed, plan };
}

/** Reads every scope retention decides on: the store, the factory lab and each lab of labs.json, each once. */
async function observeRetirementScopes(
  azure: AzureContext,
  configuration: Configuration,
  factory: LabRef,
  store: ImageStore,
  options: Pick<RetireImagesOptions, 'maxConcurrentJobs'>,
  signal: AbortSignal,
): Promise<Observed> {
  const fixes = new Map<string, string>();
  const labRefs = new Map<string, LabRef>();
  const failure = (key: string, error: unknown): { ok: false; reason: string } => {
    if (isAbortError(error) && signal.aborted) throw error;
    const fix = causeFix(error);
    if (fix) fixes.set(key, fix);
    return { ok: false, reason: causeText(error) };
  };

  const storeLabel = `factory image store of lab '${factory.name}' (subscription ${factory.subscriptionId})`;
  let storeRead: StoreObservation['read'];
  let storeImages: StoredImage[] = [];
  try {
    const listing = await store.list({ signal });
    storeImages = listing.images;
    storeRead = { ok: true, value: { images: listing.images, incomplete: listing.incomplete.length, otherBlobs: listing.otherBlobs } };
  } catch (error) {
    storeRead = failure(STORE_SCOPE_KEY, error);
  }

  // The factory lab is read once, whether or not labs.json also lists it as a target.
  const factoryKey = factory.id.toLowerCase();
  labRefs.set(factoryKey, factory);
  const labKeys: string[] = [];
  const entries: { key: string; label: string; imagePaths?: string[]; ref?: LabRef; error?: unknown }[] = [
    { key: factoryKey, label: labLabel(factory.name, factory.subscriptionId), ref: factory },
  ];
  const found = await runPool(
    configuration.labs,
    options.maxConcurrentJobs,
    (lab, _index, jobSignal) => azure.labs.find(lab.subscriptionId, lab.labName, { resourceGroup: lab.resourceGroup, signal: jobSignal }),
    { signal },
  );
  signal.throwIfAborted();
  configuration.labs.forEach((lab, index) => {
    const result = found[index];
    if (result.status === 'fulfilled') {
      const key = result.value.id.toLowerCase();
      const existing = entries.find((entry) => entry.key === key);
      if (existing) existing.imagePaths = [...(existing.imagePaths ?? []), ...lab.imagePaths];
      else entries.push({ key, label: labLabel(result.value.name, result.value.subscriptionId), imagePaths: [...lab.imagePaths], ref: result.value });
      labRefs.set(key, result.value);
      labKeys.push(key);
    } else {
      const key = `${lab.subscriptionId}/${lab.resourceGroup ?? ''}/${lab.labName}`.toLowerCase();
      labKeys.push(key);
      const error = result.status === 'rejected' ? result.reason : new Error('not read');
      entries.push({ key, label: labLabel(lab.labName, lab.subscriptionId), imagePaths: [...lab.imagePaths], error });
    }
  });

  const reads = await runPool(
    entries,
    options.maxConcurrentJobs,
    async (entry, _index, jobSignal): Promise<ReadOutcome<CustomImage[]>> => {
      if (!entry.ref) return failure(entry.key, entry.error);
      try {
        return { ok: true, value: await listCustomImages(azure, entry.ref, jobSignal) };
      } catch (error) {
        return failure(entry.key, error);
      }
    },
    { signal },
  );
  signal.throwIfAborted();
  const labs = entries.map<LabObservation>((entry, index) => {
    const read = reads[index];
    if (read.status === 'rejected') throw read.reason;
    if (read.status !== 'fulfilled') throw new Error(`${entry.label} was not read`);
    return {
      key: entry.key,
      label: entry.label,
      imagePaths: entry.imagePaths,
      read: read.value.ok
        ? { ok: true, value: read.value.value.map((image) => ({ ...image, name: image.name ?? '' })) }
        : read.value,
    };
  });
  return { store: { label: storeLabel, read: storeRead }, storeImages, labs, labRefs, fixes, labKeys };
}

/** Every custom image of a lab, through every page; any failure means the lab was not read completely. */
async function listCustomImages(azure: AzureContext, lab: LabRef, signal: AbortSignal): Promise<CustomImage[]> {
  return callAzure(
    `Listing the custom images of lab '${lab.name}'`,
    async () => {
      const images: CustomImage[] = [];
      for await (const image of azure.devTestLabs(lab.subscriptionId).customImages.list(lab.resourceGroup, lab.name, { abortSignal: signal })) {
        images.push(image);
      }
      return images;
    },
    { notFound: ErrorCodes.LabNotFound, subject: lab.name },
  );
}

async function deleteImage(
  azure: AzureContext,
  deletion: PlannedDeletion,
  where: string,
  labRefs: Map<string, LabRef>,
  store: ImageStore,
  signal: AbortSignal,
): Promise<void> {
  const target = deletion.target;
  if (target.kind === 'blob') {
    await store.delete(target.blobName, { signal });
    return;
  }
  const lab = labRefs.get(deletion.scopeKey);
  if (!lab) throw new Error(`No lab is known for ${where}`);
  await deleteUnlessGone(() =>
    callAzure(
      `Deleting custom image '${target.name}' from lab '${lab.name}'`,
      () =>
        azure
          .devTestLabs(lab.subscriptionId)
          .customImages.beginDeleteAndWait(lab.resourceGroup, lab.name, target.name, { updateIntervalInMs: azure.pollIntervalMs, abortSignal: signal }),
      { subject: target.name },
    ),
  );
}

function deleteError(reason: unknown, deletion: PlannedDeletion, where: string): FactoryError {
  return new FactoryError(ErrorCodes.DeleteFailed, `Could not delete ${describe(deletion, where)}: ${causeText(reason)}`, {
    fix: causeFix(reason) ?? 'Run RetireImages again; it deletes what is still due.',
    subject: deletion.name,
    cause: reason,
  });
}

function describe(deletion: PlannedDeletion, where: string): string {
  return deletion.target.kind === 'blob' ? `VHD '${deletion.target.blobName}' from the ${where}` : `custom image '${deletion.name}' from ${where}`;
}

function labLabel(name: string, subscriptionId: string): string {
  return `lab '${name}' (subscription ${subscriptionId})`;
}

const STATUS_TEXT: Record<DeletionStatus, string> = { deleted: 'deleted', failed: 'failed', 'not-started': 'not started' };

/** The run's summary: per scope what went and what stayed, then every deletion and its outcome. */
export function summaryMarkdown(plan: RetirePlan, outcomes: readonly DeletionOutcome[], dryRun: boolean): string {
  const cell = markdownCell;
  const lines = [
    `### RetireImages${dryRun ? ' (dry run: nothing changed)' : ''}`,
    '',
    `Keeps the ${plan.imagesToSave} newest image(s) of each ImagePath.`,
    '',
    '| Where | Deleted | Kept | Left alone (not the factory\'s) | State |',
    '|---|---:|---:|---:|---|',
  ];
  for (const scope of plan.scopes) {
    const mine = outcomes.filter((o) => o.deletion.scopeKey === scope.key);
    const deleted = mine.filter((o) => o.status === 'deleted').length;
    const failed = mine.filter((o) => o.status === 'failed').length;
    const state = scope.unreadable ? 'not read completely: left as it was' : failed ? `${failed} deletion(s) failed` : dryRun && mine.length ? `${mine.length} to delete` : 'done';
    lines.push(`| ${cell(scope.label)} | ${scope.unreadable ? '-' : deleted} | ${scope.unreadable ? '-' : scope.keep.length} | ${scope.unreadable ? '-' : scope.notOurs} | ${cell(state)} |`);
  }
  if (outcomes.length > 0) {
    lines.push('', '| Image | ImagePath | Where | Why | Outcome |', '|---|---|---|---|---|');
    for (const o of outcomes) {
      lines.push(
        `| ${cell(o.deletion.name)} | ${cell(o.deletion.imagePath)} | ${cell(o.where)} | ${deleteReasonText(o.deletion.reason)} | ${
          dryRun ? 'would be deleted' : STATUS_TEXT[o.status]
        }${o.error ? `: ${cell(o.error)}` : ''} |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
