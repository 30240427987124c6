import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { loadAndReportConfiguration } from '../config/labsConfig';
import { ErrorCodes, FactoryError } from '../errors';
import type { Reporter } from '../report';
import { catalogDigest } from './digest';
import { buildCatalog, imageName, ROUTE_NAME, type CatalogModel } from './model';
import { renderCatalogPage } from './render';
import type { CatalogRouteReader, RouteName } from './route';
import { readTemplateFacts } from './templateFacts';

export interface PublishCatalogOptions {
  configurationLocation: string;
  /** The factory lab, as the page names it. */
  factoryLabName: string;
  /** Where the page is written; its folder is made when missing. */
  catalogFile: string;
  imagesToSave: number;
  /** As RetireImages runs: the PowerShell image factory's custom images count as the factory's. */
  includePowerShellImages: boolean;
  maxConcurrentJobs: number;
  /** The pipeline artifact the page is published as, for the summary to name. */
  artifactName?: string;
  reporter: Reporter;
  signal?: AbortSignal;
  now?: Date;
}

export interface PublishCatalogResult {
  /** Absent when the configuration had errors and nothing was read. */
  model?: CatalogModel;
  /** The page's full path, once written. */
  file?: string;
  /** The run summary's markdown. */
  digest: string;
  message: string;
}

/** The warning for a route's source that could not be read, and what fixes it. */
const SOURCE_NOT_READ: Record<RouteName, { code: string; fix: string }> = {
  vhd: { code: ErrorCodes.CatalogSourceNotRead, fix: 'Give the service connection read access to the factory lab and its storage account, then run again.' },
  gallery: {
    code: ErrorCodes.CatalogGalleryNotRead,
    fix: "Check 'galleryName' and 'galleryResourceGroup' (the gallery SnapImagesFromVMs publishes to) and give the service connection Reader on the gallery, then run again.",
  },
};

/**
 * PublishImageCatalog: read the configuration and, through each route's reader (the VHD route's, and the
 * gallery route's when a gallery is named), the live state; build the page model, write the page.
 * Read-only against Azure. A lab or source that could not be read is a warning and is marked on the
 * page; the page is written all the same.
 */
export async function publishCatalog(readers: readonly CatalogRouteReader[], options: PublishCatalogOptions): Promise<PublishCatalogResult> {
  const { reporter } = options;
  const signal = options.signal ?? new AbortController().signal;
  const file = path.resolve(options.catalogFile);
  await checkCatalogFile(options.catalogFile, file);

  const configuration = await loadAndReportConfiguration(options.configurationLocation, reporter);
  if (!configuration) {
    const message = 'The configuration has errors, so no catalog was written.';
    return { digest: `**${message}**\n`, message };
  }
  const templates = await Promise.all(configuration.templates.map(async (template) => ({ template, facts: await readTemplateFacts(template) })));
  const readOptions = { configuration, imagesToSave: options.imagesToSave, includePowerShellImages: options.includePowerShellImages, maxConcurrentJobs: options.maxConcurrentJobs, signal };
  // One route after the other: each reads every lab, and together they would double the reads at once.
  const states = [];
  for (const reader of readers) states.push(await reader.read(readOptions));
  const model = buildCatalog({
    now: options.now ?? new Date(),
    factoryLabName: options.factoryLabName,
    imagesToSave: options.imagesToSave,
    templates,
    labs: configuration.labs,
    states,
  });

  for (const route of model.routes.filter((entry) => entry.sourceUnreadable)) {
    reporter.issue({
      severity: 'warning',
      ...SOURCE_NOT_READ[route.route],
      message: `The ${route.sourceLabel} could not be read, so the catalog cannot say which images are newest${model.routes.length > 1 ? ` on the ${ROUTE_NAME[route.route]}` : ''}: ${route.sourceUnreadable}`,
    });
  }
  for (const lab of model.labs.filter((row) => row.unreadable)) {
    reporter.issue({
      severity: 'warning',
      code: ErrorCodes.CatalogLabNotRead,
      message: `Lab '${lab.name}' (subscription ${lab.subscriptionId}) could not be read; the catalog marks it as such: ${lab.unreadable}`,
      fix: 'Give the service connection DevTest Labs User on the lab (and Reader on its subscription), or correct the lab in labs.json, then run again.',
    });
  }

  try {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, renderCatalogPage(model), 'utf8');
  } catch (error) {
    throw new FactoryError(ErrorCodes.CatalogWriteFailed, `The catalog could not be written to '${file}': ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`, {
      fix: "Set 'CatalogFile' to a path in a folder the agent can write to, such as $(Build.ArtifactStagingDirectory)/image-catalog/image-catalog.html.",
      subject: file,
      cause: error,
    });
  }

  const { counts } = model;
  reporter.info(
    `Catalog: ${counts.images} golden image(s), ${counts.labs} lab(s), ${counts.staleLabs} stale, ${counts.unreadableLabs} not read, ${counts.retiring} image(s) retention removes.`,
  );
  for (const lab of model.labs.filter((row) => row.staleCount > 0)) {
    const paths = lab.cells.filter((cell) => cell.lacksNewest).map((cell) => imageName(model, cell));
    reporter.info(`  Lab '${lab.name}' lacks the newest image of ${paths.join(', ')}.`);
  }
  const message = `Wrote the image catalog to ${file}.`;
  reporter.info(message);
  return { model, file, digest: catalogDigest(model, options.artifactName), message };
}

/** A path naming a folder (ending in a separator, or an existing folder) is refused before anything is read. */
async function checkCatalogFile(given: string, file: string): Promise<void> {
  const stat = await fs.stat(file).catch(() => undefined);
  if (stat?.isDirectory() || /[\\/]$/.test(given)) {
    throw new FactoryError(ErrorCodes.CatalogFileInvalid, `'CatalogFile' is '${file}', which is a folder; it must name the HTML file to write.`, {
      fix: "Set 'CatalogFile' to a file path ending in .html, for example $(Build.ArtifactStagingDirectory)/image-catalog/image-catalog.html.",
      subject: file,
    });
  }
}
