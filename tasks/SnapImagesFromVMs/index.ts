import { runSnap, snapSummaryMarkdown } from '../../core/snap/run';
import { connectAzure } from '../common/azure';
import { runTask } from '../common/taskContext';

void runTask('SnapImagesFromVMs', async (ctx) => {
  const labName = ctx.input('DevTestLabName', true);
  const maxConcurrentJobs = ctx.intInput('maxConcurrentJobs', { default: 20, min: 1, max: 200 });
  const timeoutMinutes = ctx.intInput('TimeoutMinutes', { default: 480, min: 1, max: 10_080 });
  const dryRun = ctx.boolInput('dryRun', false);
  ctx.setTimeoutMinutes(timeoutMinutes);

  const azure = connectAzure(ctx);
  const result = await runSnap(azure, {
    labName,
    maxConcurrentJobs,
    timeoutMinutes,
    dryRun,
    signal: ctx.signal,
    onProgress: (percent, activity) => ctx.reporter.progress(percent, activity),
  });
  ctx.uploadSummary('SnapImagesFromVMs', snapSummaryMarkdown(result));
  if (!dryRun) ctx.setOutput('SavedImageNames', result.savedImageNames.join(','));
  const saved = result.savedImageNames.length;
  return dryRun ? `Dry run: ${result.plan.actions.filter((a) => a.kind === 'save' || a.kind === 'resume').length} VM(s) would be saved.` : `Saved ${saved} image(s).`;
});
