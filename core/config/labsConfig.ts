import { promises as fs, type Dirent } from 'node:fs';
import * as path from 'node:path';
import { ErrorCodes } from '../errors';
import { type Issue, type Reporter, reportIssues } from '../report';
import { MAX_LABS_FILE_BYTES, resolveInside } from './configFiles';
import { fileIssue, readJsonFile, sortIssues, type LocatedFile } from './configIssues';
import { readGoldenImages, type GoldenImagesScan, type GoldenTemplate } from './goldenImages';
import { checkImagePath, imagePathKey, imagePathSelects, normalizeImagePath } from './imagePaths';
import { JsonLocator, jsonPathOf, jsonPointer } from './jsonText';
import { schemaProblems, type SchemaProblem } from './labsSchema';
import { closestMatch } from './suggest';

export type { GoldenTemplate, GalleryImageReference } from './goldenImages';

/**
 * The factory's configuration folder (ConfigurationLocation): labs.json, the labs and the templates
 * each receives, and GoldenImages/, the templates. Every task that reads the configuration reads it
 * through loadConfiguration, so what ValidateLabsJson accepts is exactly what the other tasks act on.
 */
export const LABS_FILE = 'labs.json';
export const GOLDEN_IMAGES_FOLDER = 'GoldenImages';

export interface LabConfig {
  /** Position in labs.json's Labs array, 0-based, as in `$.Labs[3]`. */
  index: number;
  subscriptionId: string;
  labName: string;
  resourceGroup?: string;
  /** The lab's ImagePaths entries, normalized (`/` separators, case kept). */
  imagePaths: string[];
  /** The image paths of the templates those entries select, in GoldenImages order. */
  templates: string[];
}

export interface Configuration {
  /** The configuration folder, resolved. */
  location: string;
  labsFile: string;
  goldenImagesFolder: string;
  labs: LabConfig[];
  /** Sorted by image path. */
  templates: GoldenTemplate[];
}

export interface ConfigurationResult {
  /** Present only when there is no error; warnings may accompany it. */
  configuration?: Configuration;
  /** Every problem found, errors and warnings, file by file in reading order. */
  issues: Issue[];
  /** What was looked at, errors or not: entries of labs.json's Labs, .json files under GoldenImages. */
  checked: { labs: number; templates: number };
}

/**
 * Reads and checks the configuration in `configurationLocation`. A user's mistake never throws: every
 * problem found, in labs.json and in every template, is an issue in the result, so one run lists them
 * all.
 */
export async function loadConfiguration(configurationLocation: string): Promise<ConfigurationResult> {
  const location = path.resolve(configurationLocation);
  const displayRoot = path.dirname(location);
  const display = (file: string) => path.relative(displayRoot, file).split(path.sep).join('/') || file;

  const folder = await readFolder(location);
  if (typeof folder === 'string') {
    return {
      issues: [
        {
          severity: 'error',
          code: ErrorCodes.ConfigurationFolderNotFound,
          message: `The configuration folder '${location}' ${folder}.`,
          fix: `Set ConfigurationLocation to the folder that holds ${LABS_FILE} and ${GOLDEN_IMAGES_FOLDER}/ (in a pipeline usually $(Build.SourcesDirectory)/Configuration).`,
          file: location,
        },
      ],
      checked: { labs: 0, templates: 0 },
    };
  }

  const entries = folder;
  // Every file read must lie in the folder as it really is, wherever links put it.
  const root = await fs.realpath(location);
  const labsFile = findEntry(location, entries, LABS_FILE, (e) => e.isFile() || e.isSymbolicLink());
  const goldenImagesFolder = findEntry(location, entries, GOLDEN_IMAGES_FOLDER, (e) => e.isDirectory() || e.isSymbolicLink());
  const [labsRead, golden] = await Promise.all([
    readLabsFile({ path: labsFile, display: display(labsFile) }, root),
    readGoldenImagesFolder(goldenImagesFolder, display, root),
  ]);

  const labs = labsRead.locator
    ? checkLabs(labsRead.document, labsRead.locator, { path: labsFile, display: display(labsFile) }, golden, display)
    : undefined;
  // concat, not push(...): spreading 150,000 issues as arguments overflows the stack.
  const issues = labsRead.issues.concat(golden.issues, labs ? labs.issues : []);

  const fileRank = (file: string) =>
    file === labsFile ? 0 : file === goldenImagesFolder ? 1 : golden.order.has(file) ? 2 + golden.order.get(file)! : -1;
  const sorted = sortIssues(issues, fileRank);
  const document = labsRead.document;
  const checked = {
    labs: isObject(document) && Array.isArray(document.Labs) ? document.Labs.length : 0,
    templates: golden.templates.length + golden.broken.length,
  };
  if (!labs || sorted.some((issue) => issue.severity === 'error')) return { issues: sorted, checked };
  return {
    configuration: { location, labsFile, goldenImagesFolder, labs: labs.labs, templates: golden.templates },
    issues: sorted,
    checked,
  };
}

/**
 * For tasks that act on the configuration: reports its issues (warnings only as debug output unless
 * asked, since they are ValidateLabsJson's business) and returns it, or returns undefined when it has
 * errors, which are then reported and make the task fail.
 */
export async function loadAndReportConfiguration(
  configurationLocation: string,
  reporter: Reporter,
  options: { reportWarnings?: boolean } = {},
): Promise<Configuration | undefined> {
  const result = await loadConfiguration(configurationLocation);
  reportIssues(reporter, result.issues, { asDebug: (issue) => issue.severity === 'warning' && !options.reportWarnings });
  return result.configuration;
}

/** How many labs select each template, by the template's image path, in template order. */
export function labsPerTemplate(configuration: Configuration): Map<string, number> {
  const counts = new Map(configuration.templates.map((template) => [template.imagePath, 0]));
  for (const lab of configuration.labs) {
    for (const imagePath of lab.templates) counts.set(imagePath, (counts.get(imagePath) ?? 0) + 1);
  }
  return counts;
}

/** The labs whose ImagePaths select the template at `imagePath`. */
export function labsSelecting(configuration: Configuration, imagePath: string): LabConfig[] {
  const key = imagePathKey(imagePath);
  return configuration.labs.filter((lab) => lab.templates.some((selected) => imagePathKey(selected) === key));
}

/** The folder's entries, or what is wrong with it. */
async function readFolder(location: string): Promise<Dirent[] | string> {
  try {
    return await fs.readdir(location, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'does not exist';
    if (code === 'ENOTDIR') return 'is a file, not a folder';
    return `cannot be read (${(error as Error).message})`;
  }
}

/**
 * The entry called `name`, or one whose name differs only in case: a configuration made on Windows
 * (where `Labs.json` and `labs.json` are one file) works on a Linux agent too.
 */
function findEntry(folder: string, entries: Dirent[], name: string, usable: (entry: Dirent) => boolean): string {
  const exact = entries.find((entry) => entry.name === name && usable(entry));
  const other = exact ?? entries.find((entry) => entry.name.toLowerCase() === name.toLowerCase() && usable(entry));
  return path.join(folder, (other ?? { name }).name);
}

interface LabsRead {
  document?: unknown;
  /** Present when labs.json parsed, whatever it holds (`null` too). */
  locator?: JsonLocator;
  issues: Issue[];
}

async function readLabsFile(file: LocatedFile, root: string): Promise<LabsRead> {
  const read = await readJsonFile(file, {
    what: LABS_FILE,
    root,
    maxBytes: MAX_LABS_FILE_BYTES,
    unreadable: (error) =>
      error.code === 'ENOENT'
        ? {
            code: ErrorCodes.LabsJsonNotFound,
            text: `${LABS_FILE} does not exist.`,
            fix: `Add ${LABS_FILE} (the labs and the ImagePaths each receives) to the configuration folder, or point ConfigurationLocation at the folder that holds it.`,
          }
        : { code: ErrorCodes.LabsJsonNotFound, text: `${LABS_FILE} cannot be read: ${error.message}`, fix: `Make ${LABS_FILE} readable by the agent.` },
    syntax: {
      code: ErrorCodes.LabsJsonSyntax,
      fix: 'an editor that knows JSON (with "$schema": "./labs.schema.json" in the file) shows such mistakes as you type.',
    },
  });
  return read.ok ? { document: read.value, locator: read.locator, issues: [] } : { issues: read.issues };
}

interface GoldenRead extends GoldenImagesScan {
  /** Template file -> its rank, to order issues. */
  order: Map<string, number>;
  /** False when the folder could not be read: then nothing can be said about what ImagePaths select. */
  readable: boolean;
}

async function readGoldenImagesFolder(folder: string, display: (file: string) => string, root: string): Promise<GoldenRead> {
  const where = { path: folder, display: display(folder) };
  const unread = (issue: Issue): GoldenRead => ({ templates: [], folders: [], broken: [], order: new Map(), readable: false, complete: false, issues: [issue] });
  try {
    const inside = await resolveInside(root, folder);
    if (!inside.ok && inside.refusal.kind === 'outside') {
      return unread(
        fileIssue(
          ErrorCodes.ConfigurationLinkOutside,
          'error',
          where,
          undefined,
          `${GOLDEN_IMAGES_FOLDER} ${inside.refusal.text}; the factory reads only what lies inside it.`,
          `Put the templates themselves in ${GOLDEN_IMAGES_FOLDER}, or link to a folder inside the configuration folder.`,
        ),
      );
    }
    const stat = await fs.stat(folder);
    if (!stat.isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    const scan = await readGoldenImages(folder, display, root);
    const files = new Set<string>([...scan.templates.map((t) => t.file), ...scan.issues.map((i) => i.file!)]);
    const order = new Map([...files].sort().map((file, rank) => [file, rank]));
    return { ...scan, order, readable: scan.complete };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return unread(
      fileIssue(
        ErrorCodes.GoldenImagesNotFound,
        'error',
        where,
        undefined,
        code === 'ENOENT'
          ? `the ${GOLDEN_IMAGES_FOLDER} folder does not exist.`
          : code === 'ENOTDIR'
            ? `${GOLDEN_IMAGES_FOLDER} is a file, not a folder.`
            : `the ${GOLDEN_IMAGES_FOLDER} folder cannot be read: ${(error as Error).message}`,
        `Add the ${GOLDEN_IMAGES_FOLDER} folder, holding the golden-image templates, beside ${LABS_FILE} in the configuration folder.`,
      ),
    );
  }
}

interface LabsCheck {
  labs: LabConfig[];
  issues: Issue[];
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Schema, then meaning: duplicate labs, and what each ImagePaths entry selects. */
function checkLabs(
  document: unknown,
  locator: JsonLocator,
  file: LocatedFile,
  golden: GoldenRead,
  display: (file: string) => string,
): LabsCheck {
  const issues: Issue[] = [];
  const rawLabs = isObject(document) && Array.isArray(document.Labs) ? document.Labs : [];
  const labName = (index: number): string | undefined => {
    const lab = rawLabs[index];
    return isObject(lab) && typeof lab.LabName === 'string' && lab.LabName !== '' ? lab.LabName : undefined;
  };
  const labRef = (index: number) => {
    const name = labName(index);
    return `lab Labs[${index}]${name ? ` '${name}'` : ''}`;
  };
  const report = (code: (typeof ErrorCodes)[keyof typeof ErrorCodes], pointer: string, at: 'key' | 'value', text: string, fix: string) => {
    const lab = /^\/Labs\/(\d+)(?:\/|$)/.exec(pointer);
    const subject = `${lab ? `${labRef(Number(lab[1]))}, ` : ''}${jsonPathOf(pointer)}`;
    issues.push(fileIssue(code, 'error', file, at === 'key' ? locator.key(pointer) : locator.value(pointer), `${subject}: ${text}`, fix));
  };

  const problems = schemaProblems(document);
  const editorHint =
    isObject(document) && typeof document.$schema === 'string'
      ? ''
      : ` Add "$schema": "./labs.schema.json" to ${LABS_FILE} and editors check it as you type.`;
  for (const problem of problems) {
    const didYouMean = problem.suggestion ? ` Did you mean '${problem.suggestion}'?` : '';
    report(ErrorCodes.LabsJsonSchema, problem.pointer, problem.at, `found ${problem.found}, expected ${problem.expected}.${didYouMean}`, schemaFix(problem, editorHint));
  }

  // Meaning. Each rule looks only at values of the right type, so a lab with a schema error still
  // has its other properties checked.
  const goldenDisplay = `${display(path.join(path.dirname(file.path), GOLDEN_IMAGES_FOLDER))}`;
  const selection = new Selection(golden);
  const firstSeen = new Map<string, number>();
  const labs: LabConfig[] = [];
  let selectorsComplete = golden.readable;

  rawLabs.forEach((lab, index) => {
    if (!isObject(lab)) {
      selectorsComplete = false;
      return;
    }
    const { SubscriptionId: subscriptionId, LabName: name, ResourceGroup: resourceGroup, ImagePaths: imagePaths } = lab;
    if (typeof subscriptionId === 'string' && typeof name === 'string') {
      const key = `${subscriptionId.trim().toLowerCase()}/${name.trim().toLowerCase()}`;
      const first = firstSeen.get(key);
      if (first === undefined) firstSeen.set(key, index);
      else {
        const firstAt = locator.value(jsonPointer(['Labs', first]));
        report(
          ErrorCodes.DuplicateLab,
          jsonPointer(['Labs', index]),
          'value',
          `the lab '${name}' in subscription ${subscriptionId} is listed again; it is already Labs[${first}]${firstAt ? ` (line ${firstAt.line})` : ''}. Found it twice, expected each lab once (subscription id and lab name compared without regard to case).`,
          `Keep one entry for the lab and merge the ImagePaths of both into it.`,
        );
      }
    }

    if (!Array.isArray(imagePaths)) {
      selectorsComplete = false;
      return;
    }
    const normalized: string[] = [];
    const selected = new Set<number>();
    imagePaths.forEach((entry, entryIndex) => {
      if (typeof entry !== 'string') {
        selectorsComplete = false;
        return;
      }
      const pointer = jsonPointer(['Labs', index, 'ImagePaths', entryIndex]);
      const check = checkImagePath(entry);
      if (!check.ok) {
        selectorsComplete = false;
        const why = {
          blank: 'is blank',
          absolute: 'is an absolute path',
          escapes: `leads out of ${GOLDEN_IMAGES_FOLDER} ('..')`,
        }[check.reason];
        report(
          ErrorCodes.ImagePathInvalid,
          pointer,
          'value',
          `the image path ${JSON.stringify(entry)} ${why}; expected a template file or folder relative to ${goldenDisplay}.`,
          `Write the path relative to ${GOLDEN_IMAGES_FOLDER}, e.g. "Windows" or "Windows/Server2022.json".`,
        );
        return;
      }
      normalized.push(check.normalized);
      if (!golden.readable) return;
      const templates = selection.select(check.normalized);
      // An entry that selects only broken templates is right; the templates' own errors say what to fix.
      if (templates.length === 0 && !selection.selectsBroken(check.normalized)) {
        selectorsComplete = false;
        const suggestion = selection.suggest(check.normalized);
        report(
          ErrorCodes.ImagePathSelectsNothing,
          pointer,
          'value',
          `the image path ${JSON.stringify(entry)} selects no template; expected a template file or a folder of templates under ${goldenDisplay} (${selection.overview()}).${suggestion ? ` Did you mean "${suggestion}"?` : ''}`,
          suggestion
            ? `Change the entry to "${suggestion}", or add the template it names.`
            : `Change the entry to a template file or folder under ${GOLDEN_IMAGES_FOLDER} (a folder selects the templates at or below it, by whole folder names), or add the template.`,
        );
        return;
      }
      for (const template of templates) selected.add(template);
    });

    for (const template of selected) selection.counts[template]++;
    if (typeof subscriptionId === 'string' && typeof name === 'string') {
      labs.push({
        index,
        subscriptionId,
        labName: name,
        ...(typeof resourceGroup === 'string' ? { resourceGroup } : {}),
        imagePaths: normalized,
        templates: [...selected].sort((a, b) => a - b).map((t) => golden.templates[t].imagePath),
      });
    }
  });

  // A template no lab selects is only worth a warning when every lab's ImagePaths could be read and
  // used; otherwise the lab with the wrong entry may well be the one meant to select it.
  if (selectorsComplete && isObject(document) && Array.isArray(document.Labs)) {
    golden.templates.forEach((template, index) => {
      if (selection.counts[index] > 0) return;
      issues.push(
        fileIssue(
          ErrorCodes.TemplateNotSelected,
          'warning',
          { path: template.file, display: display(template.file) },
          undefined,
          `no lab in ${LABS_FILE} selects this template (image path '${template.imagePath}'), so its images reach no lab.`,
          `Add "${template.imagePath}" or one of its folders to a lab's ImagePaths, or remove the template.`,
        ),
      );
    });
  }
  return { labs, issues };
}

function schemaFix(problem: SchemaProblem, editorHint: string): string {
  if (problem.unknownProperty !== undefined) {
    return problem.suggestion
      ? `Rename '${problem.unknownProperty}' to '${problem.suggestion}'.${editorHint}`
      : `Remove '${problem.unknownProperty}'; ${LABS_FILE} takes only the properties labs.schema.json describes.${editorHint}`;
  }
  if (problem.missingProperty !== undefined) return `Add '${problem.missingProperty}' to ${jsonPathOf(problem.pointer)}.${editorHint}`;
  return `Set ${jsonPathOf(problem.pointer)} to ${problem.expected}.${editorHint}`;
}

/** What ImagePaths entries select, computed once per distinct entry: 20,000 labs repeat a few entries. */
class Selection {
  /** Per template (GoldenImages order): how many labs select it. */
  readonly counts: number[];
  private readonly cache = new Map<string, number[]>();
  private readonly suggestions = new Map<string, string | undefined>();
  private candidates?: string[];

  constructor(private readonly golden: GoldenRead) {
    this.counts = golden.templates.map(() => 0);
  }

  select(imagePath: string): number[] {
    const key = imagePathKey(imagePath);
    let found = this.cache.get(key);
    if (!found) {
      found = [];
      this.golden.templates.forEach((template, index) => {
        if (imagePathSelects(key, template.imagePath)) found!.push(index);
      });
      this.cache.set(key, found);
    }
    return found;
  }

  selectsBroken(imagePath: string): boolean {
    return this.golden.broken.some((broken) => imagePathSelects(imagePath, broken));
  }

  /** What GoldenImages holds at its top, for a message: `it holds Linux/, Windows/ and Base.json`. */
  overview(): string {
    const top = new Set(this.golden.templates.map((t) => (t.imagePath.includes('/') ? `${t.imagePath.split('/')[0]}/` : t.imagePath)));
    if (top.size === 0) return 'it holds no templates';
    const names = [...top].sort();
    const shown = names.length > 8 ? [...names.slice(0, 8), `${names.length - 8} more`] : names;
    return `it holds ${shown.length === 1 ? shown[0] : `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}`}`;
  }

  /** The template or folder the entry was probably meant to name. */
  suggest(imagePath: string): string | undefined {
    const key = imagePathKey(imagePath);
    if (this.suggestions.has(key)) return this.suggestions.get(key);
    this.candidates ??= [...this.golden.folders, ...this.golden.templates.map((t) => t.imagePath)];
    // "Windows/Server2022" for "Windows/Server2022.json": the extension is part of a file's name.
    const withExtension = this.candidates.find((candidate) => imagePathKey(candidate) === `${key}.json`);
    const suggestion = withExtension ?? closestMatch(normalizeImagePath(imagePath), this.candidates);
    this.suggestions.set(key, suggestion);
    return suggestion;
  }
}
