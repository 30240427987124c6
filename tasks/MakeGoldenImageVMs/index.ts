import { makeSummaryMarkdown, runMake } from '../../core/make/run';
import { connectAzure } from '../common/azure';
import { runTask } from '../common/taskContext';

void runTask('MakeGoldenImageVMs', async (ctx) => {
  // The secret first, so that nothing printed later can show it.
  const password = ctx.secretInput('machinePassword');
  const configurationLocation = ctx.input('ConfigurationLocation', true);
  const labName = ctx.input('DevTestLabName', true);
  const imagePaths = (ctx.input('ImagePaths') ?? '').split(/[\r\n,]+/).map((p) => p.trim()).filter((p) => p !== '');
  const maxConcurrentJobs = ctx.intInput('maxConcurrentJobs', { default: 20, min: 1, max: 200 });
  const standardTimeoutMinutes = ctx.intInput('StandardTimeoutMinutes', { default: 60, min: 1, max: 1440 });
  ctx.setTimeoutMinutes(ctx.intInput('TimeoutMinutes', { default: 480, min: 1, max: 10_080 }));
  const dryRun = ctx.boolInput('dryRun', false);

  const azure = connectAzure(ctx);
  const result = await runMake(azure, {
    configurationLocation,
    labName,
    imagePaths,
    maxConcurrentJobs,
    defaultSize: ctx.input('vmSize') ?? 'Standard_D2s_v5',
    includeSysprep: ctx.boolInput('includeSysprep', true),
    credentials: { userName: ctx.input('machineUserName') ?? 'factoryadmin', password, sshKey: ctx.input('machineSshPublicKey') },
    standardTimeoutMinutes,
    dryRun,
    signal: ctx.signal,
    onProgress: (percent) => ctx.reporter.progress(percent, 'Making golden image VMs'),
  });
  ctx.uploadSummary('MakeGoldenImageVMs', makeSummaryMarkdown(result));
  if (!dryRun) ctx.setOutput('VmNames', result.vmNames.join(','));
  const planned = result.outcomes.filter((o) => o.status === 'planned').length;
  return dryRun ? `Dry run: ${planned} VM(s) would be made.` : `Made ${result.vmNames.length} VM(s).`;
});
