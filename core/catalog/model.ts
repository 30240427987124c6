import type { GalleryImageReference, GoldenTemplate, LabConfig } from '../config/labsConfig';
import { imagePathKey, labSelects, normalizeImagePath } from '../config/imagePaths';
import type { OsType } from '../factoryImages';
import type { HyperVGeneration, HeldImage, HeldImageState, RouteName, RouteState, SecurityType, SourceImage } from './route';
import type { TemplateFacts } from './templateFacts';

/**
 * The model behind the catalog page: a pure function of the configuration, the templates' facts and
 * what a route reader saw, so what every cell says is tested without Azure or a browser. The renderer
 * only lays it out.
 */

export interface CatalogTemplate {
  template: GoldenTemplate;
  facts: TemplateFacts;
}

export interface CatalogInput {
  now: Date;
  factoryLabName: string;
  imagesToSave: number;
  templates: readonly CatalogTemplate[];
  labs: readonly LabConfig[];
  state: RouteState;
}

/** A value and where it was read: the image's own metadata, or (when it has none) its template. */
export interface Sourced<T> {
  value: T;
  from: 'image' | 'template';
}

export interface NewestImage {
  name: string;
  version: string;
  createdUtc: string;
  ageDays: number;
  sizeBytes?: number;
}

export interface GoldenImageEntry {
  imagePath: string;
  osType?: OsType;
  generation?: Sourced<HyperVGeneration>;
  securityType?: Sourced<SecurityType>;
  baseImage?: GalleryImageReference;
  notes?: string;
  artifacts: string[];
  /** Images of this path remain, but GoldenImages no longer holds its template. */
  templateRemoved: boolean;
  newest?: NewestImage;
  /** Images of this path at the source. */
  versionCount: number;
  labsSelecting: number;
  labsWithNewest: number;
}

export type CellState =
  /** The lab could not be read: nothing is known of what it holds. */
  | 'unreadable'
  /** The lab neither selects the path nor holds an image of it. */
  | 'not-selected'
  /** The lab selects the path, but no image of it has been made yet. */
  | 'no-image'
  /** The lab selects the path and holds no usable image of it. */
  | 'missing'
  /** The lab holds the newest image. */
  | 'current'
  /** The lab holds an image of the path, but not the newest. */
  | 'behind'
  /** The lab holds an image, and whether it is the newest is not known (the source could not be read), or the lab no longer selects the path. */
  | 'held';

export interface CellVersion {
  name: string;
  version: string;
  createdUtc?: string;
  ageDays?: number;
  state: HeldImageState;
  newest: boolean;
  retiring?: string;
}

export interface MatrixCell {
  imagePath: string;
  state: CellState;
  selected: boolean;
  /** Every image of the path the lab holds, newest first. */
  versions: CellVersion[];
  /** The newest ready image the lab holds. */
  holds?: CellVersion;
  lacksNewest: boolean;
  /** The newest version at the source, when there is one. */
  newestVersion?: string;
  /** Images of this cell that retention removes on its next run. */
  retiring: number;
  /** What the cell says, in words (also the cell's accessible description). */
  says: string;
}

export interface LabRow {
  index: number;
  name: string;
  subscriptionId: string;
  resourceGroup?: string;
  /** Why the lab could not be read. */
  unreadable?: string;
  cells: MatrixCell[];
  /** Image paths whose newest image the lab lacks. */
  staleCount: number;
  retiringCount: number;
}

export interface CatalogCounts {
  images: number;
  labs: number;
  unreadableLabs: number;
  staleLabs: number;
  staleCells: number;
  retiring: number;
}

export interface CatalogModel {
  generatedUtc: string;
  route: RouteName;
  factoryLabName: string;
  sourceLabel: string;
  sourceUnreadable?: string;
  imagesToSave: number;
  images: GoldenImageEntry[];
  labs: LabRow[];
  counts: CatalogCounts;
}

const DAY_MS = 86_400_000;

export function buildCatalog(input: CatalogInput): CatalogModel {
  const { state, now } = input;
  const ageDays = (createdUtc: string | undefined) => {
    const time = createdUtc === undefined ? NaN : Date.parse(createdUtc);
    return Number.isFinite(time) ? Math.max(0, Math.floor((now.getTime() - time) / DAY_MS)) : undefined;
  };

  const sourceImages = state.source.ok ? state.source.value : [];
  const sourceByKey = groupByPath(sourceImages);
  const heldByLab = new Map<number, HeldImage[]>();
  for (const lab of state.labs) if (lab.read.ok) heldByLab.set(lab.labIndex, lab.read.value);

  // Every template's path, then paths that only images still carry (their template was removed).
  const paths = new Map<string, { imagePath: string; template?: CatalogTemplate }>();
  for (const entry of input.templates) paths.set(imagePathKey(entry.template.imagePath), { imagePath: normalizeImagePath(entry.template.imagePath), template: entry });
  const leftOver = [...sourceImages, ...[...heldByLab.values()].flat()].map((image) => normalizeImagePath(image.imagePath));
  for (const imagePath of leftOver.sort()) if (!paths.has(imagePathKey(imagePath))) paths.set(imagePathKey(imagePath), { imagePath });

  const newestOf = new Map<string, SourceImage>();
  for (const [key, group] of sourceByKey) newestOf.set(key, group[0]);

  const labs = input.labs.map<LabRow>((lab) => {
    const holdings = state.labs.find((entry) => entry.labIndex === lab.index);
    const unreadable = !holdings ? 'it was not read' : holdings.read.ok ? undefined : holdings.read.reason;
    const held = groupByPath(heldByLab.get(lab.index) ?? []);
    const cells = [...paths.entries()].map(([key, { imagePath }]) =>
      cellFor({
        imagePath,
        selected: labSelects(lab.imagePaths, imagePath),
        unreadable,
        held: held.get(key) ?? [],
        newest: newestOf.get(key),
        sourceRead: state.source.ok,
        ageDays,
      }),
    );
    return {
      index: lab.index,
      name: lab.labName,
      subscriptionId: lab.subscriptionId,
      ...(lab.resourceGroup ? { resourceGroup: lab.resourceGroup } : {}),
      ...(unreadable ? { unreadable } : {}),
      cells,
      staleCount: cells.filter((cell) => cell.lacksNewest).length,
      retiringCount: cells.reduce((sum, cell) => sum + cell.retiring, 0),
    };
  });

  const images = [...paths.entries()].map<GoldenImageEntry>(([key, { imagePath, template }], column) => {
    const group = sourceByKey.get(key) ?? [];
    const newest = group[0];
    const reference = template?.template.galleryImageReference;
    const sourced = <T>(fromImage: T | undefined, fromTemplate: T | undefined): Sourced<T> | undefined =>
      fromImage !== undefined ? { value: fromImage, from: 'image' } : fromTemplate !== undefined ? { value: fromTemplate, from: 'template' } : undefined;
    const notes = template?.template.notes ?? (newest?.description || undefined);
    return {
      imagePath,
      osType: template?.template.osType ?? newest?.osType,
      generation: sourced(newest?.generation, template?.facts.generation),
      securityType: sourced(newest?.securityType, template?.facts.securityType),
      ...(reference ? { baseImage: reference } : {}),
      ...(notes ? { notes } : {}),
      artifacts: template?.facts.artifacts ?? [],
      templateRemoved: !template,
      ...(newest
        ? { newest: { name: newest.name, version: newest.version, createdUtc: newest.createdUtc, ageDays: ageDays(newest.createdUtc) ?? 0, ...(newest.sizeBytes !== undefined ? { sizeBytes: newest.sizeBytes } : {}) } }
        : {}),
      versionCount: group.length,
      labsSelecting: labs.filter((lab) => lab.cells[column].selected).length,
      labsWithNewest: labs.filter((lab) => lab.cells[column].state === 'current').length,
    };
  });

  const staleLabs = labs.filter((lab) => lab.staleCount > 0);
  return {
    generatedUtc: now.toISOString(),
    route: state.route,
    factoryLabName: input.factoryLabName,
    sourceLabel: state.sourceLabel,
    ...(state.source.ok ? {} : { sourceUnreadable: state.source.reason }),
    imagesToSave: input.imagesToSave,
    images,
    labs,
    counts: {
      images: images.length,
      labs: labs.length,
      unreadableLabs: labs.filter((lab) => lab.unreadable).length,
      staleLabs: staleLabs.length,
      staleCells: labs.reduce((sum, lab) => sum + lab.staleCount, 0),
      retiring: labs.reduce((sum, lab) => sum + lab.retiringCount, 0) + state.sourceRetiring.size,
    },
  };
}

interface CellFacts {
  imagePath: string;
  selected: boolean;
  unreadable?: string;
  held: HeldImage[];
  newest?: SourceImage;
  sourceRead: boolean;
  ageDays: (createdUtc: string | undefined) => number | undefined;
}

function cellFor(facts: CellFacts): MatrixCell {
  const { imagePath, selected, newest } = facts;
  if (facts.unreadable !== undefined) {
    return { imagePath, state: 'unreadable', selected, versions: [], lacksNewest: false, retiring: 0, says: 'could not be read' };
  }
  const versions = facts.held.map<CellVersion>((image) => ({
    name: image.name,
    version: image.version,
    ...(image.createdUtc ? { createdUtc: image.createdUtc } : {}),
    ...(facts.ageDays(image.createdUtc) !== undefined ? { ageDays: facts.ageDays(image.createdUtc) } : {}),
    state: image.state,
    newest: !!newest && image.name.toLowerCase() === newest.name.toLowerCase(),
    ...(image.retiring ? { retiring: image.retiring } : {}),
  }));
  const holds = versions.find((version) => version.state === 'ready');
  const holdsNewest = versions.some((version) => version.newest && version.state === 'ready');
  let state: CellState;
  if (!selected) state = versions.length > 0 ? 'held' : 'not-selected';
  else if (!facts.sourceRead) state = holds ? 'held' : 'missing';
  else if (!newest) state = holds ? 'held' : 'no-image';
  else if (holdsNewest) state = 'current';
  else state = holds ? 'behind' : 'missing';
  const lacksNewest = selected && !!newest && !holdsNewest;
  const retiring = versions.filter((version) => version.retiring).length;

  const parts: string[] = [];
  if (holds) parts.push(`${holds.version}${holds.ageDays !== undefined ? `, ${plural(holds.ageDays, 'day')} old` : ''}`);
  if (state === 'current') parts.push('the newest');
  if (state === 'not-selected') parts.push('not selected');
  if (state === 'no-image') parts.push('selected; no image made yet');
  if (state === 'missing' && !holds) parts.push('none');
  if (!selected && versions.length > 0) parts.push('no longer selected');
  if (lacksNewest) parts.push(`lacks the newest, ${newest.version}`);
  if (selected && !facts.sourceRead) parts.push('newest unknown (the source could not be read)');
  const unready = versions.filter((version) => version.state !== 'ready');
  for (const version of unready) parts.push(`${version.version} ${STATE_TEXT[version.state]}`);
  if (retiring > 0) {
    const names = versions.filter((version) => version.retiring).map((version) => version.version);
    parts.push(`retention removes ${names.join(', ')}`);
  }
  return { imagePath, state, selected, versions, ...(holds ? { holds } : {}), lacksNewest, ...(newest ? { newestVersion: newest.version } : {}), retiring, says: parts.join('; ') };
}

const STATE_TEXT: Record<HeldImageState, string> = { ready: 'ready', creating: 'being created', failed: 'failed', deleting: 'being deleted' };

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** Images grouped by ImagePath key, each group newest first (ties: the later name, as same-day suffixes run A, B, ...). */
function groupByPath<T extends { imagePath: string; name: string; createdUtc?: string }>(images: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const image of images) {
    const key = imagePathKey(image.imagePath);
    groups.set(key, [...(groups.get(key) ?? []), image]);
  }
  for (const group of groups.values()) {
    group.sort((a, b) => timeOf(b.createdUtc) - timeOf(a.createdUtc) || b.name.length - a.name.length || b.name.localeCompare(a.name));
  }
  return groups;
}

function timeOf(createdUtc: string | undefined): number {
  const time = createdUtc === undefined ? NaN : Date.parse(createdUtc);
  return Number.isFinite(time) ? time : 0;
}
