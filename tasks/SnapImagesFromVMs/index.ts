import { runPublish } from '../../core/gallery/publish';
import type { GalleryTarget } from '../../core/gallery/gallery';
import { ErrorCodes, FactoryError } from '../../core/errors';
import { runSnap, snapSummaryMarkdown } from '../../core/snap/run';
import { connectAzure } from '../common/azure';
import { galleryTargetInput } from '../common/gallery';
import { runTask, type TaskContext } from '../common/taskContext';

const STORAGE_ACCOUNT_TYPES = ['Standard_LRS', 'Standard_ZRS', 'Premium_LRS'];

void runTask('SnapImagesFromVMs', async (ctx) => {
  const labName = ctx.input('DevTestLabName', true);
  const maxConcurrentJobs = ctx.intInput('maxConcurrentJobs', { default: 20, min: 1, max: 200 });
  const timeoutMinutes = ctx.intInput('TimeoutMinutes', { default: 480, min: 1, max: 10_080 });
  const dryRun = ctx.boolInput('dryRun', false);
  ctx.setTimeoutMinutes(timeoutMinutes);
  // The route: a gallery name chooses the gallery route; without one, the VHD route as always.
  const target = galleryTargetInput(ctx);
  const galleryRoute = target && galleryRouteInputs(ctx, target);

  const azure = connectAzure(ctx);
  const common = { labName, maxConcurrentJobs, dryRun, signal: ctx.signal, onProgress: (percent: number, activity: string) => ctx.reporter.progress(percent, activity) };
  const result = galleryRoute
    ? await runPublish(azure, {
        ...common,
        ...galleryRoute,
        replicaCount: ctx.intInput('galleryReplicaCount', { default: 1, min: 1, max: 100 }),
      })
    : await runSnap(azure, { ...common, timeoutMinutes });
  ctx.uploadSummary('SnapImagesFromVMs', snapSummaryMarkdown(result));
  if (!dryRun) ctx.setOutput('SavedImageNames', result.savedImageNames.join(','));
  const saved = result.savedImageNames.length;
  if (dryRun) {
    // What the plan copies: a save on the VHD route, a publish on the gallery route, or a copy resumed.
    const actions: readonly { kind: string }[] = result.plan?.actions ?? [];
    const planned = actions.filter((a) => a.kind === 'save' || a.kind === 'publish' || a.kind === 'resume').length;
    return `Dry run: ${planned} VM(s) would be ${galleryRoute ? 'published' : 'saved'}.`;
  }
  return galleryRoute ? `Published ${saved} image version(s).` : `Saved ${saved} image(s).`;
});

/** The gallery route's inputs that are checked before connecting to Azure. */
function galleryRouteInputs(ctx: TaskContext, target: GalleryTarget): GalleryTarget & { configurationLocation: string; storageAccountType: string } {
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
  return { ...target, configurationLocation, storageAccountType };
}
