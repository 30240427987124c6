import { galleryRouteReader } from '../../core/catalog/galleryRoute';
import { publishCatalog } from '../../core/catalog/publish';
import { vhdRouteReader } from '../../core/catalog/vhdRoute';
import { ErrorCodes, FactoryError } from '../../core/errors';
import { connectAzure, factorySubscriptionId } from '../common/azure';
import { galleryTargetInput } from '../common/gallery';
import { runTask } from '../common/taskContext';

/** Characters Azure Pipelines refuses in an artifact name. */
const ARTIFACT_NAME_FORBIDDEN = /["/:<>\\|*?]/;

void runTask('PublishImageCatalog', async (ctx) => {
  const configurationLocation = ctx.input('ConfigurationLocation', true);
  const labName = ctx.input('DevTestLabName', true);
  const catalogFile = ctx.input('CatalogFile', true);
  const artifactName = ctx.input('ArtifactName');
  const imagesToSave = ctx.intInput('ImagesToSave', { default: 2, min: 1, max: 1000 });
  const includePowerShellImages = ctx.boolInput('includePowerShellImages', true);
  const maxConcurrentJobs = ctx.intInput('maxConcurrentJobs', { default: 20, min: 1, max: 200 });
  const inputSubscriptionId = ctx.guidInput('SubscriptionId');
  // A gallery name adds the gallery route's images to the VHD route's; without one, the VHD route alone.
  const gallery = galleryTargetInput(ctx);
  if (artifactName && ARTIFACT_NAME_FORBIDDEN.test(artifactName)) {
    throw new FactoryError(ErrorCodes.InputInvalid, `The input 'ArtifactName' is '${artifactName}'; an artifact name cannot hold " / : < > \\ | * or ?.`, {
      fix: "Set 'ArtifactName' to a name of letters, digits, '-', '_' and '.', such as ImageCatalog.",
      subject: 'ArtifactName',
    });
  }

  const azure = connectAzure(ctx);
  const subscriptionId = factorySubscriptionId(azure, inputSubscriptionId);
  const readers = [vhdRouteReader(azure, { subscriptionId, labName })];
  if (gallery) readers.push(galleryRouteReader(azure, { subscriptionId, labName, ...gallery }));
  const result = await publishCatalog(readers, {
    configurationLocation,
    factoryLabName: labName,
    catalogFile,
    imagesToSave,
    includePowerShellImages,
    maxConcurrentJobs,
    ...(artifactName ? { artifactName } : {}),
    reporter: ctx.reporter,
    signal: ctx.signal,
  });
  ctx.uploadSummary('PublishImageCatalog', result.digest);
  if (result.file) {
    if (artifactName) ctx.uploadArtifact(artifactName, result.file);
    ctx.setOutput('CatalogFile', result.file);
  }
  return result.message;
});
