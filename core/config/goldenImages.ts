import { promises as fs } from 'node:fs';
import { knownVmSize } from '../azure/vmSizes';
import { imageGeneration } from '../marketplace';
import * as path from 'node:path';
import { ErrorCodes } from '../errors';
import type { OsType } from '../factoryImages';
import type { Issue } from '../report';
import { MAX_GOLDEN_IMAGES_DEPTH, MAX_GOLDEN_IMAGES_ENTRIES, MAX_TEMPLATE_FILE_BYTES, resolveInside } from './configFiles';
import { describeFound, fileIssue, readJsonFile, type LocatedFile } from './configIssues';
import { imagePathKey } from './imagePaths';
import { JsonLocator, jsonPointer, type TextPosition } from './jsonText';

/** Parameters MakeGoldenImageVMs fills in every template: the factory lab's name and the VM's. */
export const REQUIRED_PARAMETERS = ['labName', 'newVMName'] as const;

/** The resource type of a DevTest Labs VM; ARM compares types without regard to case. */
export const LAB_VM_RESOURCE_TYPE = 'Microsoft.DevTestLab/labs/virtualmachines';

export interface GalleryImageReference {
  publisher: string;
  offer: string;
  sku: string;
  /** 'latest' when the template does not say. */
  version: string;
}

/** A golden-image template: an ARM template with one lab VM made from a marketplace image. */
export interface GoldenTemplate {
  /** Relative to GoldenImages, `/`-separated, case as on disk: `Windows/Server2022.json`. */
  imagePath: string;
  /** Full path of the template file. */
  file: string;
  osType: OsType;
  galleryImageReference: GalleryImageReference;
  /** The VM's notes when the template writes them out; they become the image description. */
  notes?: string;
  /** The VM size when the template writes it out. */
  size?: string;
}

export interface GoldenImagesScan {
  templates: GoldenTemplate[];
  /** Every folder under GoldenImages that holds templates, at any depth (`Windows`, `Windows/Sql`). */
  folders: string[];
  /** Image paths of the .json files that are not usable templates (their issues say why). */
  broken: string[];
  issues: Issue[];
  /** False when part of the tree was not looked at (a bound reached, a link out refused). */
  complete: boolean;
}

type DisplayPath = (file: string) => string;

/**
 * Reads every template under `folder` (files ending in .json, at any depth; names starting with '.'
 * are skipped) and checks each has the shape the factory needs. Problems are issues naming the file.
 * Only what lies inside `root` (the configuration folder, resolved) is read, and the walk is bounded
 * (MAX_GOLDEN_IMAGES_DEPTH, MAX_GOLDEN_IMAGES_ENTRIES): past a bound it stops with error IF1018, since
 * a partial list of templates would make retention take the rest for removed.
 */
export async function readGoldenImages(folder: string, display: DisplayPath, root: string): Promise<GoldenImagesScan> {
  const listing = await listTemplateFiles(folder, root, display);
  const files = listing.files;
  const issues: Issue[] = listing.issues;
  const templates: GoldenTemplate[] = [];
  const broken: string[] = [];
  const checked = await Promise.all(files.map((file) => readTemplate(folder, file, display, root)));
  checked.forEach((result, index) => {
    for (const issue of result.issues) issues.push(issue);
    if (result.template) templates.push(result.template);
    else broken.push(imagePathOf(folder, files[index]));
  });

  // Image paths are compared without regard to case, as a Windows checkout would; two templates
  // that differ only in case would make the same images and could not be told apart.
  const byKey = new Map<string, GoldenTemplate>();
  for (const template of templates) {
    const key = imagePathKey(template.imagePath);
    const first = byKey.get(key);
    if (!first) {
      byKey.set(key, template);
      continue;
    }
    issues.push(
      fileIssue(
        ErrorCodes.TemplatePathConflict,
        'error',
        { path: template.file, display: display(template.file) },
        undefined,
        `the template path '${template.imagePath}' differs from '${first.imagePath}' only in case; image paths ignore case, so both would make the same images.`,
        'Rename or remove one of the two templates.',
      ),
    );
  }

  const folders = new Set<string>();
  for (const template of templates) {
    const segments = template.imagePath.split('/');
    for (let i = 1; i < segments.length; i++) folders.add(segments.slice(0, i).join('/'));
  }
  return { templates, folders: [...folders].sort(), broken, issues, complete: listing.complete };
}

interface TemplateListing {
  files: string[];
  issues: Issue[];
  complete: boolean;
}

/** The .json files under `top`, breadth first, within the bounds; links leaving `root` are issues. */
async function listTemplateFiles(top: string, root: string, display: DisplayPath): Promise<TemplateListing> {
  const files: string[] = [];
  const issues: Issue[] = [];
  const where = (file: string) => ({ path: file, display: display(file) });
  const seen = new Set<string>();
  let entriesSeen = 0;
  let complete = true;
  // Breadth first with an explicit queue: no recursion, and a bound reached names the shallowest place.
  const queue: { dir: string; depth: number }[] = [{ dir: top, depth: 0 }];
  for (let next = 0; next < queue.length; next++) {
    const { dir, depth } = queue[next];
    // A symbolic link back up the tree must not make the walk endless.
    const real = await fs.realpath(dir);
    if (seen.has(real)) continue;
    seen.add(real);
    const entries = await fs.readdir(dir, { withFileTypes: true });
    entriesSeen += entries.length;
    if (entriesSeen > MAX_GOLDEN_IMAGES_ENTRIES) {
      issues.push(walkBoundIssue(where(dir), `holds more than ${MAX_GOLDEN_IMAGES_ENTRIES} files and folders in all`));
      return { files: files.sort(), issues, complete: false };
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      let isDirectory = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const target = await fs.stat(full).catch(() => undefined);
        isDirectory = target?.isDirectory() ?? false;
        // A link to a file is checked where the file is read, like any other link.
        isFile = !isDirectory;
        if (isDirectory) {
          const inside = await resolveInside(root, full);
          if (!inside.ok) {
            if (inside.refusal.kind === 'outside') {
              issues.push(
                fileIssue(
                  ErrorCodes.ConfigurationLinkOutside,
                  'error',
                  where(full),
                  undefined,
                  `the folder ${inside.refusal.text}; the factory reads only what lies inside it.`,
                  `Put the templates themselves under ${path.basename(top)}, or link to a folder inside the configuration folder.`,
                ),
              );
              complete = false;
            }
            continue;
          }
        }
      }
      if (isDirectory) {
        if (depth + 1 > MAX_GOLDEN_IMAGES_DEPTH) {
          issues.push(walkBoundIssue(where(full), `is more than ${MAX_GOLDEN_IMAGES_DEPTH} folders deep`));
          return { files: files.sort(), issues, complete: false };
        }
        queue.push({ dir: full, depth: depth + 1 });
      } else if (isFile && entry.name.toLowerCase().endsWith('.json')) files.push(full);
    }
  }
  return { files: files.sort(), issues, complete };
}

function walkBoundIssue(where: LocatedFile, text: string): Issue {
  return fileIssue(
    ErrorCodes.GoldenImagesTooLarge,
    'error',
    where,
    undefined,
    `${text}, past what the factory reads of GoldenImages (${MAX_GOLDEN_IMAGES_DEPTH} folders deep, ${MAX_GOLDEN_IMAGES_ENTRIES} files and folders); none of its templates were used.`,
    'Keep only the golden-image templates under GoldenImages, or check that no link points at a large folder.',
  );
}

function imagePathOf(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}

interface TemplateResult {
  template?: GoldenTemplate;
  issues: Issue[];
}

async function readTemplate(top: string, file: string, display: DisplayPath, root: string): Promise<TemplateResult> {
  const where = { path: file, display: display(file) };
  const imagePath = imagePathOf(top, file);
  const read = await readJsonFile(where, {
    what: 'the template',
    root,
    maxBytes: MAX_TEMPLATE_FILE_BYTES,
    unreadable: (error) => ({
      code: ErrorCodes.TemplateSyntax,
      text: `the template cannot be read: ${error.message}`,
      fix: 'Make the file readable by the agent, or remove it from GoldenImages.',
    }),
    syntax: { code: ErrorCodes.TemplateSyntax, fix: 'every .json file under GoldenImages is a template.' },
  });
  if (!read.ok) return { issues: read.issues };
  return checkTemplateShape(read.value, read.locator, imagePath, where);
}

const SHAPE_FIX =
  `A golden-image template is an ARM template whose "resources" hold one ${LAB_VM_RESOURCE_TYPE} resource ` +
  'with properties.galleryImageReference { publisher, offer, sku, osType ("Windows" or "Linux"), version }.';

function checkTemplateShape(
  document: unknown,
  locator: JsonLocator,
  imagePath: string,
  where: LocatedFile,
): TemplateResult {
  const issues: Issue[] = [];
  const problem = (pointer: string, text: string, position?: TextPosition) =>
    issues.push(fileIssue(ErrorCodes.TemplateShape, 'error', where, position ?? locator.value(pointer), text, SHAPE_FIX));

  if (!isObject(document)) {
    problem('', `found ${describeFound(document)}, expected an ARM template (a JSON object with "resources").`);
    return { issues };
  }
  const resources = document.resources;
  if (!Array.isArray(resources)) {
    problem(
      resources === undefined ? '' : '/resources',
      resources === undefined
        ? `the template has no "resources", expected one ${LAB_VM_RESOURCE_TYPE} resource.`
        : `"resources" is ${describeFound(resources)}, expected an array of resources.`,
    );
    return { issues };
  }
  const vms = resources
    .map((resource, index) => ({ resource, index }))
    .filter(({ resource }) => isObject(resource) && typeof resource.type === 'string' && resource.type.toLowerCase() === LAB_VM_RESOURCE_TYPE.toLowerCase());
  if (vms.length !== 1) {
    problem(
      vms.length === 0 ? '/resources' : jsonPointer(['resources', vms[1].index]),
      vms.length === 0
        ? `the template has no ${LAB_VM_RESOURCE_TYPE} resource, expected exactly one (the lab VM the image is made from).`
        : `the template has ${vms.length} ${LAB_VM_RESOURCE_TYPE} resources, expected exactly one: an image path names one image.`,
    );
    return { issues };
  }
  const vm = vms[0].resource as Record<string, unknown>;
  const vmPointer = jsonPointer(['resources', vms[0].index]);
  const properties = vm.properties;
  if (!isObject(properties)) {
    problem(
      properties === undefined ? vmPointer : `${vmPointer}/properties`,
      `the lab VM resource's "properties" is ${properties === undefined ? 'missing' : describeFound(properties)}, expected an object with "galleryImageReference".`,
    );
    return { issues };
  }
  const reference = properties.galleryImageReference;
  const referencePointer = `${vmPointer}/properties/galleryImageReference`;
  if (!isObject(reference)) {
    problem(
      reference === undefined ? `${vmPointer}/properties` : referencePointer,
      reference === undefined
        ? 'the lab VM has no properties.galleryImageReference, expected the marketplace image it is made from (publisher, offer, sku, osType).'
        : `properties.galleryImageReference is ${describeFound(reference)}, expected an object with publisher, offer, sku and osType.`,
    );
    return { issues };
  }

  const text = (name: string): string | undefined => {
    const value = reference[name];
    if (typeof value === 'string' && value.trim() !== '') return value;
    problem(
      value === undefined ? referencePointer : `${referencePointer}/${name}`,
      value === undefined
        ? `galleryImageReference has no "${name}", expected the marketplace image's ${name}.`
        : `galleryImageReference.${name} is ${describeFound(value)}, expected the marketplace image's ${name} as text.`,
    );
    return undefined;
  };
  const publisher = text('publisher');
  const offer = text('offer');
  const sku = text('sku');
  const osType = readOsType(reference.osType, referencePointer, problem);
  let version = 'latest';
  if (reference.version !== undefined) {
    if (typeof reference.version === 'string' && reference.version.trim() !== '') version = reference.version;
    else problem(`${referencePointer}/version`, `galleryImageReference.version is ${describeFound(reference.version)}, expected a version such as "latest".`);
  }
  const literal = (value: unknown) => (typeof value === 'string' && value !== '' && !isExpression(value) ? value : undefined);
  const size = literal(properties.size) ?? (properties.size === undefined ? undefined : defaultSize(document));
  issues.push(...checkFactoryNeeds(document, locator, where, { sizePointer: `${vmPointer}/properties/size`, size, sku, offer }));
  if (issues.length > 0 || !publisher || !offer || !sku || !osType) return { issues };

  const notes = literal(properties.notes);
  return {
    issues,
    template: {
      imagePath,
      file: where.path,
      osType,
      galleryImageReference: { publisher, offer, sku, version },
      ...(notes !== undefined ? { notes } : {}),
      ...(literal(properties.size) !== undefined ? { size: literal(properties.size) } : {}),
    },
  };
}

/** The default of the template's `size` parameter, when the VM's size is `[parameters('size')]`. */
function defaultSize(document: Record<string, unknown>): string | undefined {
  const parameters = isObject(document.parameters) ? document.parameters : {};
  const key = Object.keys(parameters).find((k) => k.toLowerCase() === 'size');
  const spec = key === undefined ? undefined : parameters[key];
  return isObject(spec) && typeof spec.defaultValue === 'string' && !isExpression(spec.defaultValue) ? spec.defaultValue : undefined;
}

/**
 * What MakeGoldenImageVMs needs of a template beyond its shape: the parameters it fills with the lab's
 * and the VM's names, and a size Azure offers that can boot the image's generation.
 */
function checkFactoryNeeds(
  document: Record<string, unknown>,
  locator: JsonLocator,
  where: LocatedFile,
  vm: { sizePointer: string; size?: string; sku?: string; offer?: string },
): Issue[] {
  const issues: Issue[] = [];
  const parameters = isObject(document.parameters) ? document.parameters : {};
  const declared = Object.keys(parameters).map((k) => k.toLowerCase());
  const missing = REQUIRED_PARAMETERS.filter((name) => !declared.includes(name.toLowerCase()));
  if (missing.length > 0) {
    issues.push(
      fileIssue(
        ErrorCodes.TemplateParameterMissing,
        'error',
        where,
        locator.value(document.parameters === undefined ? '' : '/parameters'),
        `the template does not declare the parameter(s) ${missing.map((m) => `'${m}'`).join(', ')}, which MakeGoldenImageVMs fills with the factory lab's name and the VM's name.`,
        `Declare "labName" and "newVMName" (type string) and name the lab VM "[concat(parameters('labName'), '/', parameters('newVMName'))]".`,
      ),
    );
  }
  if (vm.size !== undefined) {
    const known = knownVmSize(vm.size);
    const position = locator.value(vm.sizePointer);
    if (!known) {
      issues.push(fileIssue(ErrorCodes.VmSizeUnknown, 'error', where, position, `the VM size '${vm.size}' is not a size Azure offers.`, 'Use a VM size Azure offers, such as Standard_D2s_v5.'));
    } else if (vm.sku && !known.generations.includes(imageGeneration({ sku: vm.sku, offer: vm.offer ?? '' }))) {
      const generation = imageGeneration({ sku: vm.sku, offer: vm.offer ?? '' });
      issues.push(
        fileIssue(
          ErrorCodes.VmGenerationUnsupported,
          'error',
          where,
          position,
          `the SKU '${vm.sku}' is a Generation ${generation.slice(1)} image, which a VM of size '${vm.size}' cannot boot.`,
          'Choose a size that boots the image generation (the v3 and later D, E and F sizes boot both), or a SKU of the other generation.',
        ),
      );
    }
  }
  return issues;
}

function readOsType(
  value: unknown,
  referencePointer: string,
  problem: (pointer: string, text: string) => void,
): OsType | undefined {
  if (typeof value === 'string') {
    const lower = value.toLowerCase();
    if (lower === 'windows') return 'Windows';
    if (lower === 'linux') return 'Linux';
  }
  if (value === undefined) {
    problem(referencePointer, 'galleryImageReference has no "osType", expected "Windows" or "Linux".');
  } else if (typeof value === 'string' && isExpression(value)) {
    problem(
      `${referencePointer}/osType`,
      `galleryImageReference.osType is the expression ${describeFound(value)}, expected "Windows" or "Linux" written out: the factory needs the OS type without deploying the template.`,
    );
  } else {
    problem(`${referencePointer}/osType`, `galleryImageReference.osType is ${describeFound(value)}, expected "Windows" or "Linux".`);
  }
  return undefined;
}

/** ARM template expressions are strings in square brackets (`[parameters('x')]`). */
export function isExpression(value: string): boolean {
  return value.startsWith('[') && value.endsWith(']') && !value.startsWith('[[');
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
