import { runPublish } from '../../core/gallery/publish';
import { checkGalleryName } from '../../core/gallery/gallery';
import { ErrorCodes, FactoryError } from '../../core/errors';
import { runSnap, snapSummaryMarkdown } from '../../core/snap/run';
import { connectAzure } from '../common/azure';
import { runTask } from '../common/taskContext';

const STORAGE_ACCOUNT_TYPES = ['Standard_LRS', 'Standard_ZRS', 'Premium_LRS'];

void runTask('SnapImagesFromVMs', async (ctx) => {
  const labName = ctx.input('DevTestLabName', true);
  const maxConcurrentJobs = ctx.intInput('maxConcurrentJobs', { default: 20, min: 1, max: 200 });
  const timeoutMinutes = ctx.intInput('TimeoutMinutes', { default: 480, min: 1, max: 10_080 });
  const dryRun = ctx.boolInput('dryRun', false);
  // The route: a gallery name chooses the gallery route; without one, the VHD route as always.
  const galleryName = ctx.input('galleryName', false);
  ctx.setTimeoutMinutes(timeoutMinutes);

  if (galleryName) {
    checkGalleryName(galleryName);
    const configurationLocation = ctx.input('ConfigurationLocation', false);
    if (!configurationLocation) {
      throw new FactoryError(ErrorCodes.GalleryInputInvalid, 'The gallery route needs the configuration folder: versions are replicated to the regions of the labs in labs.json.', {
        fix: "Set the input 'ConfigurationLocation' to the folder with labs.json and GoldenImages.",
        subject: 'ConfigurationLocation',
      });
    }
    const storageAccountType = ctx.input('galleryStorageAccountType', false) || 'Standard_LRS';
    if (!STORAGE_ACCOUNT_TYPES.includes(storageAccountType)) {
      throw new FactoryError(ErrorCodes.GalleryInputInvalid, `'${storageAccountType}' is not a replica storage type.`, { fix: `Use one of ${STORAGE_ACCOUNT_TYPES.join(', ')}.`, subject: 'galleryStorageAccountType' });
    }
    const azure = connectAzure(ctx);
    const result = await runPublish(azure, {
      labName,
      galleryName,
      galleryResourceGroup: ctx.input('galleryResourceGroup', false) || undefined,
      configurationLocation,
      replicaCount: ctx.intInput('galleryReplicaCount', { default: 1, min: 1, max: 100 }),
      storageAccountType,
      maxConcurrentJobs,
      dryRun,
      signal: ctx.signal,
      onProgress: (percent, activity) => ctx.reporter.progress(percent, activity),
    });
    ctx.uploadSummary('SnapImagesFromVMs', snapSummaryMarkdown(result));
    if (!dryRun) ctx.setOutput('SavedImageNames', result.savedImageNames.join(','));
    const planned = result.plan?.actions.filter((a) => a.kind === 'publish' || a.kind === 'resume').length ?? 0;
    return dryRun ? `Dry run: ${planned} VM(s) would be published.` : `Published ${result.savedImageNames.length} image version(s).`;
  }

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
