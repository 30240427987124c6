import type { GalleryImageReference, GoldenTemplate, LabConfig } from '../config/labsConfig';
import { imagePathKey, labSelects, normalizeImagePath } from '../config/imagePaths';
import type { OsType } from '../factoryImages';
import type { HyperVGeneration, HeldImage, HeldImageState, LabGalleryAccess, RegionReplica, RouteName, RouteState, SecurityType, SourceImage } from './route';
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
  /** What each route's reader saw: the VHD route's, then the gallery route's when it is read too. */
  states: readonly RouteState[];
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
  /** Gallery route: its replica in each region. */
  replication?: RegionReplica[];
}

export interface GoldenImageEntry {
  /** The route this entry's images take; an ImagePath with images on both routes has an entry on each. */
  route: RouteName;
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
  /** The state in the route's words ("being replicated to eastus"). */
  stateText: string;
  newest: boolean;
  retiring?: string;
}

export interface MatrixCell {
  route: RouteName;
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
  /** Gallery route: why the lab's VMs do not get the newest version (not enabled, not replicated to its region, ...). */
  gaps: string[];
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
  /** Why the lab could not be read (on each route that could not read it, when both are shown). */
  unreadable?: string;
  /** The routes that could not read the lab. */
  unreadableRoutes: RouteName[];
  /** The routes on which the lab lacks a newest image. */
  staleRoutes: RouteName[];
  /** Gallery route: the lab's region and the gallery attached to it. */
  gallery?: Omit<LabGalleryAccess, 'enabled'>;
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

/** One route the page shows, and where its images come from. */
export interface RouteSummary {
  route: RouteName;
  /** What people call the source: "image store of lab 'ImageFactory'", "Azure Compute Gallery 'FactoryImages' in resource group factory-rg". */
  sourceLabel: string;
  /** Why the source could not be read. */
  sourceUnreadable?: string;
}

export interface CatalogModel {
  generatedUtc: string;
  /** The routes shown, the VHD route first. */
  routes: RouteSummary[];
  factoryLabName: string;
  imagesToSave: number;
  images: GoldenImageEntry[];
  labs: LabRow[];
  counts: CatalogCounts;
}

const DAY_MS = 86_400_000;

export function buildCatalog(input: CatalogInput): CatalogModel {
  const { states, now } = input;
  const ageDays = (createdUtc: string | undefined) => {
    const time = createdUtc === undefined ? NaN : Date.parse(createdUtc);
    return Number.isFinite(time) ? Math.max(0, Math.floor((now.getTime() - time) / DAY_MS)) : undefined;
  };

  const routes = states.map((state) => routeView(state));
  const columns = catalogColumns(input.templates, routes);

  const labs = input.labs.map<LabRow>((lab) => {
    const perRoute = routes.map(({ state }) => state.labs.find((entry) => entry.labIndex === lab.index));
    const unreadableOn = routes.map((_route, r) => {
      const holdings = perRoute[r];
      return !holdings ? 'it was not read' : holdings.read.ok ? undefined : holdings.read.reason;
    });
    const held = perRoute.map((holdings) => groupByPath(holdings?.read.ok ? holdings.read.value : []));
    const cells = columns.map((column) =>
      cellFor({
        route: routes[column.route].state.route,
        imagePath: column.imagePath,
        selected: labSelects(lab.imagePaths, column.imagePath),
        unreadable: unreadableOn[column.route],
        held: held[column.route].get(column.key) ?? [],
        newest: routes[column.route].newestOf.get(column.key),
        sourceRead: routes[column.route].state.source.ok,
        access: perRoute[column.route]?.gallery,
        ageDays,
      }),
    );
    const unreadableRoutes = routes.map(({ state }) => state.route).filter((_route, r) => unreadableOn[r] !== undefined);
    const reasons = routes.map(({ state }, r) => (unreadableOn[r] === undefined ? undefined : routes.length > 1 ? `${ROUTE_NAME[state.route]}: ${unreadableOn[r]}` : unreadableOn[r]));
    const unreadable = reasons.filter((reason) => reason !== undefined).join(' ') || undefined;
    const access = perRoute.find((holdings) => holdings?.gallery)?.gallery;
    return {
      index: lab.index,
      name: lab.labName,
      subscriptionId: lab.subscriptionId,
      ...(lab.resourceGroup ? { resourceGroup: lab.resourceGroup } : {}),
      ...(unreadable ? { unreadable } : {}),
      unreadableRoutes,
      staleRoutes: routes.map(({ state }) => state.route).filter((route) => cells.some((cell) => cell.route === route && cell.lacksNewest)),
      ...(access ? { gallery: { region: access.region, attachment: access.attachment, ...(access.otherGallery ? { otherGallery: access.otherGallery } : {}) } } : {}),
      cells,
      staleCount: cells.filter((cell) => cell.lacksNewest).length,
      retiringCount: cells.reduce((sum, cell) => sum + cell.retiring, 0),
    };
  });

  const images = columns.map<GoldenImageEntry>(({ route: r, key, imagePath, template }, column) => {
    const group = routes[r].sourceByKey.get(key) ?? [];
    const newest = group[0];
    const reference = template?.template.galleryImageReference;
    const sourced = <T>(fromImage: T | undefined, fromTemplate: T | undefined): Sourced<T> | undefined =>
      fromImage !== undefined ? { value: fromImage, from: 'image' } : fromTemplate !== undefined ? { value: fromTemplate, from: 'template' } : undefined;
    const notes = template?.template.notes ?? (newest?.description || undefined);
    return {
      route: routes[r].state.route,
      imagePath,
      osType: template?.template.osType ?? newest?.osType,
      generation: sourced(newest?.generation, template?.facts.generation),
      securityType: sourced(newest?.securityType, template?.facts.securityType),
      ...(reference ? { baseImage: reference } : {}),
      ...(notes ? { notes } : {}),
      artifacts: template?.facts.artifacts ?? [],
      templateRemoved: !template,
      ...(newest
        ? {
            newest: {
              name: newest.name,
              version: newest.version,
              createdUtc: newest.createdUtc,
              ageDays: ageDays(newest.createdUtc) ?? 0,
              ...(newest.sizeBytes !== undefined ? { sizeBytes: newest.sizeBytes } : {}),
              ...(newest.replication ? { replication: newest.replication } : {}),
            },
          }
        : {}),
      versionCount: group.length,
      labsSelecting: labs.filter((lab) => lab.cells[column].selected).length,
      labsWithNewest: labs.filter((lab) => lab.cells[column].state === 'current').length,
    };
  });

  const staleLabs = labs.filter((lab) => lab.staleCount > 0);
  return {
    generatedUtc: now.toISOString(),
    routes: routes.map(({ state }) => ({ route: state.route, sourceLabel: state.sourceLabel, ...(state.source.ok ? {} : { sourceUnreadable: state.source.reason }) })),
    factoryLabName: input.factoryLabName,
    imagesToSave: input.imagesToSave,
    images,
    labs,
    counts: {
      images: images.length,
      labs: labs.length,
      unreadableLabs: labs.filter((lab) => lab.unreadable).length,
      staleLabs: staleLabs.length,
      staleCells: labs.reduce((sum, lab) => sum + lab.staleCount, 0),
      retiring: labs.reduce((sum, lab) => sum + lab.retiringCount, 0) + states.reduce((sum, state) => sum + state.sourceRetiring.size, 0),
    },
  };
}

/** How the page names a route. */
export const ROUTE_NAME: Record<RouteName, string> = { vhd: 'VHD route', gallery: 'gallery route' };

/** An image's ImagePath, with its route when the catalog shows both: `Win11/Enterprise.json (gallery route)`. */
export function imageName(model: Pick<CatalogModel, 'routes'>, image: { imagePath: string; route: RouteName }): string {
  return model.routes.length > 1 ? `${image.imagePath} (${ROUTE_NAME[image.route]})` : image.imagePath;
}

interface RouteView {
  state: RouteState;
  sourceByKey: Map<string, SourceImage[]>;
  newestOf: Map<string, SourceImage>;
  /** ImagePath keys of every image the route holds, at its source or in a lab. */
  keys: Set<string>;
  /** Normalized paths of those images, sorted. */
  paths: string[];
}

function routeView(state: RouteState): RouteView {
  const sourceImages = state.source.ok ? state.source.value : [];
  const sourceByKey = groupByPath(sourceImages);
  const newestOf = new Map([...sourceByKey].map(([key, group]) => [key, group[0]]));
  const all = [...sourceImages, ...state.labs.flatMap((lab) => (lab.read.ok ? lab.read.value : []))].map((image) => normalizeImagePath(image.imagePath));
  return { state, sourceByKey, newestOf, keys: new Set(all.map(imagePathKey)), paths: all.sort() };
}

interface CatalogColumn {
  /** Index into the routes. */
  route: number;
  key: string;
  imagePath: string;
  template?: CatalogTemplate;
}

/**
 * The page's images, route by route: on one route, every template (as the page always listed them). With
 * two, a template is listed on each route that holds images of it, and one with images on neither on the
 * route its generation needs (a Generation 2 or Trusted Launch image takes the gallery route; the VHD
 * route carries Generation 1 only). Then, on each route, the paths only its images still carry.
 */
function catalogColumns(templates: readonly CatalogTemplate[], routes: readonly RouteView[]): CatalogColumn[] {
  const columns: CatalogColumn[] = [];
  routes.forEach((view, r) => {
    const listed = new Set<string>();
    for (const entry of templates) {
      const key = imagePathKey(entry.template.imagePath);
      const onNone = routes.every((other) => !other.keys.has(key));
      const wanted = entry.facts.generation === 'V2' || entry.facts.securityType !== 'Standard' ? 'gallery' : 'vhd';
      const home = routes.find((other) => other.state.route === wanted) ?? routes[0];
      if (routes.length > 1 && !view.keys.has(key) && !(onNone && home === view)) continue;
      if (listed.has(key)) continue;
      listed.add(key);
      columns.push({ route: r, key, imagePath: normalizeImagePath(entry.template.imagePath), template: entry });
    }
    const templateKeys = new Set(templates.map((entry) => imagePathKey(entry.template.imagePath)));
    for (const imagePath of view.paths) {
      const key = imagePathKey(imagePath);
      if (templateKeys.has(key) || listed.has(key)) continue;
      listed.add(key);
      columns.push({ route: r, key, imagePath });
    }
  });
  return columns;
}

interface CellFacts {
  route: RouteName;
  imagePath: string;
  selected: boolean;
  unreadable?: string;
  held: HeldImage[];
  newest?: SourceImage;
  sourceRead: boolean;
  /** Gallery route: how the lab reaches the gallery. */
  access?: LabGalleryAccess;
  ageDays: (createdUtc: string | undefined) => number | undefined;
}

function cellFor(facts: CellFacts): MatrixCell {
  const { route, imagePath, selected, newest } = facts;
  if (facts.unreadable !== undefined) {
    return { route, imagePath, state: 'unreadable', selected, versions: [], lacksNewest: false, gaps: [], retiring: 0, says: 'could not be read' };
  }
  const stateText = (state: HeldImageState) => (route === 'gallery' ? GALLERY_STATE_TEXT : STATE_TEXT)[state].replace('{region}', facts.access?.region ?? '');
  const versions = facts.held.map<CellVersion>((image) => ({
    name: image.name,
    version: image.version,
    ...(image.createdUtc ? { createdUtc: image.createdUtc } : {}),
    ...(facts.ageDays(image.createdUtc) !== undefined ? { ageDays: facts.ageDays(image.createdUtc) } : {}),
    state: image.state,
    stateText: stateText(image.state),
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
  const gaps = lacksNewest && facts.access ? galleryGaps(facts.access, imagePath, newest, versions) : [];

  const parts: string[] = [];
  if (holds) parts.push(`${holds.version}${holds.ageDays !== undefined ? `, ${plural(holds.ageDays, 'day')} old` : ''}`);
  if (state === 'current') parts.push('the newest');
  if (state === 'not-selected') parts.push('not selected');
  if (state === 'no-image') parts.push('selected; no image made yet');
  if (state === 'missing' && !holds) parts.push('none');
  if (!selected && versions.length > 0) parts.push('no longer selected');
  if (lacksNewest) parts.push(`lacks the newest, ${newest.version}${gaps.length ? ` (${gaps.join(', ')})` : ''}`);
  if (selected && !facts.sourceRead) parts.push('newest unknown (the source could not be read)');
  const unready = versions.filter((version) => version.state !== 'ready');
  for (const version of unready) parts.push(`${version.version} ${version.stateText}`);
  if (retiring > 0) {
    const names = versions.filter((version) => version.retiring).map((version) => version.version);
    parts.push(`retention removes ${names.join(', ')}`);
  }
  return {
    route,
    imagePath,
    state,
    selected,
    versions,
    ...(holds ? { holds } : {}),
    lacksNewest,
    ...(newest ? { newestVersion: newest.version } : {}),
    gaps,
    retiring,
    says: parts.join('; '),
  };
}

const STATE_TEXT: Record<HeldImageState, string> = { ready: 'ready', creating: 'being created', failed: 'failed', deleting: 'being deleted' };
/** On the gallery route a lab "holds" a version once its replica in the lab's region is complete. */
const GALLERY_STATE_TEXT: Record<HeldImageState, string> = {
  ready: 'ready',
  creating: 'being replicated to {region}',
  failed: 'failed to replicate to {region}',
  deleting: 'being deleted',
};

/** Why a lab's VMs do not get the newest version of a path it selects, in the order a user fixes them. */
function galleryGaps(access: LabGalleryAccess, imagePath: string, newest: SourceImage, versions: readonly CellVersion[]): string[] {
  if (access.attachment === 'other-gallery') return [`another gallery${access.otherGallery ? `, '${access.otherGallery}',` : ''} is attached to the lab`];
  if (access.attachment === 'not-attached') return ['the gallery is not attached to the lab'];
  const gaps: string[] = [];
  if (!access.enabled.has(imagePathKey(imagePath))) gaps.push('not enabled in the lab');
  // A replica the lab lists already says its state (being replicated, failed); otherwise say where the newest stands.
  if (versions.some((version) => version.newest)) return gaps;
  const replica = newest.replication?.find((entry) => entry.region === access.region);
  if (!replica) gaps.push(`not replicated to ${access.region}`);
  else if (replica.state === 'replicating') gaps.push(`still replicating to ${access.region}`);
  else if (replica.state === 'failed') gaps.push(`its replication to ${access.region} failed`);
  return gaps;
}

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
