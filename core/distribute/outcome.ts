import type { Issue } from '../report';
import { formatBytes, markdownCell as md } from '../format';
import { type DistributionJob, type DistributionPlan, type JobStart, type PlannedCell, describeCount } from './plan';

/**
 * How a distribution ended, pair by pair, in the forms a person reads: the plan before acting, the
 * outcome lines after, and the markdown summary (labs by images, each cell an outcome).
 */
export type JobResult =
  | { status: 'created'; customImageId: string; copiedBytes: number; durationMs: number; warning?: Issue }
  /** Another run made the image while this one waited for it: there, but not this run's to report. */
  | { status: 'exists'; customImageId?: string }
  | { status: 'failed'; issue: Issue }
  | { status: 'cancelled' };

export type CellOutcome = 'created' | 'exists' | 'failed' | 'cancelled' | 'not started' | 'planned' | 'blocked' | 'left out';

export function cellOutcome(cell: PlannedCell, results: ReadonlyMap<string, JobResult> | undefined): CellOutcome {
  if (cell.state === 'exists') return 'exists';
  if (cell.state === 'error') return 'blocked';
  if (cell.state === 'left-out') return 'left out';
  if (!results) return 'planned';
  const result = results.get(cell.job.key);
  if (!result) return 'not started';
  return result.status;
}

const START_WORDS: Record<JobStart, string> = {
  copy: 'copy',
  'follow-copy': "follow an earlier run's copy",
  'reuse-copy': "create from an earlier run's finished copy",
  recopy: "copy again over an earlier run's failed copy",
  'wait-image': "wait for the image an earlier run started",
  'redo-image': "delete the image an earlier run left Failed, then copy",
};

function jobWords(job: DistributionJob): string {
  return job.start === 'copy' ? job.image.imageName : `${job.image.imageName} (${START_WORDS[job.start]})`;
}

/** `across regions, westus2 to eastus`: how a job's copy goes, for one that crosses regions. */
export function acrossRegionsWords(job: DistributionJob): string {
  return `across regions, ${job.source.region || 'unknown region'} to ${job.lab.location || 'unknown region'}`;
}

/** The jobs whose copy crosses regions. */
export function countAcrossRegions(jobs: readonly DistributionJob[]): number {
  return jobs.filter((job) => job.crossesRegion).length;
}

/** The plan as lines of log: totals, then per lab, then per image. */
export function describePlan(plan: DistributionPlan): string[] {
  const lines: string[] = [];
  const exists = countCells(plan, 'exists');
  const errors = countCells(plan, 'error');
  const leftOut = countCells(plan, 'left-out');
  const across = countAcrossRegions(plan.jobs);
  lines.push(
    `Plan: ${describeCount(plan.images.length, 'image')} in the store of factory lab '${plan.factory.name}' (${plan.factory.location}), ` +
      `${describeCount(plan.labs.length, 'lab')} in labs.json: ${describeCount(plan.jobs.length, 'job')} to run` +
      `${across ? ` (${across} of them copying across regions, which is slower)` : ''}, ` +
      `${exists} already in place, ${errors} that cannot be done` +
      `${leftOut ? `, ${leftOut} left out because RetireImages (ImagesToSave ${plan.retention.imagesToSave}) would delete them` : ''}.`,
  );
  lines.push('By lab:');
  for (const lab of plan.labs) {
    const where = `${lab.config.labName} (subscription ${lab.config.subscriptionId})`;
    if (lab.error) {
      lines.push(`  ${where}: [${lab.error.code}] nothing, see the error below.`);
      continue;
    }
    if (lab.cells.size === 0) {
      lines.push(`  ${where}: selects none of the store's images.`);
      continue;
    }
    const cells = [...lab.cells.entries()];
    const labJobs = cells.flatMap(([, c]) => (c.state === 'job' ? [c.job] : []));
    const jobs = labJobs.filter((job) => !job.crossesRegion).map(jobWords);
    // Grouped by route, so that a lab's line says once how its copies cross regions.
    const across = new Map<string, string[]>();
    for (const job of labJobs.filter((j) => j.crossesRegion)) across.set(acrossRegionsWords(job), [...(across.get(acrossRegionsWords(job)) ?? []), jobWords(job)]);
    const there = cells.filter(([, c]) => c.state === 'exists').map(([name]) => name);
    const blocked = cells.filter(([, c]) => c.state === 'error').map(([name, c]) => `${name} [${(c as { code: string }).code}]`);
    const leftOutHere = cells.flatMap(([name, c]) => (c.state === 'left-out' ? [`${name} (${c.detail})`] : []));
    const parts: string[] = [];
    if (jobs.length) parts.push(`to distribute ${jobs.join(', ')}`);
    for (const [route, names] of across) parts.push(`to distribute ${route}: ${names.join(', ')}`);
    if (there.length) parts.push(`already has ${there.join(', ')}`);
    if (blocked.length) parts.push(`cannot get ${blocked.join(', ')}`);
    if (leftOutHere.length) parts.push(`left out, as retention would delete them: ${leftOutHere.join(', ')}`);
    lines.push(`  ${where}: ${parts.join('; ')}.`);
  }
  lines.push(across ? 'By image (a lab shown with its region is copied to across regions):' : 'By image:');
  for (const image of plan.images) {
    const to: string[] = [];
    const there: string[] = [];
    const blocked: string[] = [];
    const left: string[] = [];
    for (const lab of plan.labs) {
      const cell = lab.cells.get(image.imageName);
      if (!cell) continue;
      if (cell.state === 'job') to.push(cell.job.crossesRegion ? `${lab.config.labName} (${cell.job.lab.location || 'unknown region'})` : lab.config.labName);
      else (cell.state === 'exists' ? there : cell.state === 'left-out' ? left : blocked).push(lab.config.labName);
    }
    const parts = [`to ${to.length ? to.join(', ') : 'no lab'}`];
    if (there.length) parts.push(`already in ${there.join(', ')}`);
    if (blocked.length) parts.push(`blocked for ${blocked.join(', ')}`);
    if (left.length) parts.push(`left out of ${left.join(', ')} (retention would delete it)`);
    lines.push(`  ${image.imageName} (${image.imagePath}, ${image.osType}, ${formatBytes(image.sizeBytes)}): ${parts.join('; ')}.`);
  }
  if (plan.leftovers.length) {
    lines.push(
      `Leftovers of earlier runs to delete: ${plan.leftovers.map((l) => `${l.blob.blobName} in ${l.lab.name}`).join(', ')}.`,
    );
  }
  return lines;
}

function countCells(plan: DistributionPlan, state: PlannedCell['state']): number {
  let n = 0;
  for (const lab of plan.labs) for (const cell of lab.cells.values()) if (cell.state === state) n++;
  return n;
}

export interface OutcomeCounts {
  created: number;
  exists: number;
  failed: number;
  cancelled: number;
  notStarted: number;
  blocked: number;
  leftOut: number;
}

export function countOutcomes(plan: DistributionPlan, results: ReadonlyMap<string, JobResult>): OutcomeCounts {
  const counts: OutcomeCounts = { created: 0, exists: 0, failed: 0, cancelled: 0, notStarted: 0, blocked: 0, leftOut: 0 };
  for (const lab of plan.labs) {
    for (const cell of lab.cells.values()) {
      const outcome = cellOutcome(cell, results);
      if (outcome === 'created') counts.created++;
      else if (outcome === 'exists') counts.exists++;
      else if (outcome === 'failed') counts.failed++;
      else if (outcome === 'cancelled') counts.cancelled++;
      else if (outcome === 'not started') counts.notStarted++;
      else if (outcome === 'left out') counts.leftOut++;
      else counts.blocked++;
    }
  }
  return counts;
}

const CELL_TEXT: Record<CellOutcome, string> = {
  created: '✅ created',
  exists: '☑️ already there',
  failed: '❌ failed',
  cancelled: '⏹️ cancelled',
  'not started': '⏸️ not started',
  planned: '➕ planned',
  blocked: '⛔ blocked',
  'left out': '➖ left out (retention)',
};

/** Marks a cell whose copy crosses regions. */
const ACROSS_REGIONS_MARK = '🌐';

/**
 * The run as markdown: a table with a row per lab and a column per image (an image is one of a few,
 * labs can be hundreds), each cell an outcome, then every problem with its code.
 */
export function summaryMarkdown(
  plan: DistributionPlan,
  results: ReadonlyMap<string, JobResult> | undefined,
  issues: readonly Issue[],
): string {
  const out: string[] = [];
  const counts = results ? countOutcomes(plan, results) : undefined;
  out.push(
    `Factory lab **${md(plan.factory.name)}** (${md(plan.factory.location)}): ${describeCount(plan.images.length, 'image')}, ` +
      `${describeCount(plan.labs.length, 'lab')}.`,
  );
  if (counts) {
    out.push(
      '',
      `Created **${counts.created}**, already there ${counts.exists}, failed **${counts.failed}**` +
        `${counts.cancelled ? `, cancelled ${counts.cancelled}` : ''}${counts.notStarted ? `, not started ${counts.notStarted}` : ''}` +
        `${counts.blocked ? `, blocked ${counts.blocked}` : ''}.`,
    );
  } else {
    out.push('', `Dry run: ${describeCount(plan.jobs.length, 'job')} planned, nothing changed.`);
  }
  const across = countAcrossRegions(plan.jobs);
  if (across) {
    const copies = across === 1 ? '1 copy crosses' : `${across} copies cross`;
    out.push('', `${ACROSS_REGIONS_MARK} ${copies} regions, the lab being in another region than the VHD it is copied from: such copies are slower.`);
  }
  const leftOut = countCells(plan, 'left-out');
  if (leftOut) {
    out.push(
      '',
      `Left out ${leftOut}: images RetireImages would delete right after (it keeps the ${plan.retention.imagesToSave} newest of each ImagePath in a lab), so they were not copied.`,
    );
  }
  const images = plan.images.filter((image) => plan.labs.some((lab) => lab.cells.has(image.imageName)));
  if (images.length && plan.labs.length) {
    out.push('', `| Lab | Subscription | ${images.map((i) => md(i.imageName)).join(' | ')} |`);
    out.push(`| --- | --- | ${images.map(() => '---').join(' | ')} |`);
    for (const lab of plan.labs) {
      const cells = images.map((image) => {
        const cell = lab.cells.get(image.imageName);
        if (!cell) return '—';
        const text = CELL_TEXT[cellOutcome(cell, results)];
        return cell.state === 'job' && cell.job.crossesRegion ? `${text} ${ACROSS_REGIONS_MARK}` : text;
      });
      out.push(`| ${md(lab.config.labName)} | ${md(lab.config.subscriptionId)} | ${cells.join(' | ')} |`);
    }
  }
  const problems = issues.filter((i) => i.severity === 'error' || i.severity === 'warning');
  if (problems.length) {
    out.push('', '### Problems', '');
    for (const issue of problems) {
      out.push(`- ${issue.severity === 'error' ? '❌' : '⚠️'} **${issue.code}** ${md(issue.message)}${issue.fix ? ` _Fix:_ ${md(issue.fix)}` : ''}`);
    }
  }
  return `${out.join('\n')}\n`;
}
