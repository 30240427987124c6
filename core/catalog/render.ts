import { formatBytes } from '../format';
import { html, utcMinute } from './html';
import { ROUTE_NAME, type CatalogModel, type CellState, type GoldenImageEntry, type LabRow, type MatrixCell, type NewestImage } from './model';
import type { RouteName } from './route';
import { PAGE_SCRIPT } from './pageScript';
import { PAGE_STYLE } from './pageStyle';

/**
 * The catalog as one self-contained HTML file: styles and script inline, nothing fetched, so it opens
 * offline and from a pipeline artifact. Every value from the model (names, notes, reasons from Azure)
 * is written through `html`.
 */
export function renderCatalogPage(model: CatalogModel): string {
  const osTypes = [...new Set(model.images.map((image) => image.osType).filter((os): os is NonNullable<typeof os> => !!os))].sort();
  const subscriptions = [...new Set(model.labs.map((lab) => lab.subscriptionId))].sort();
  const route = model.routes.map((entry) => (entry.route === 'vhd' ? ROUTE_TEXT.vhd : `${ROUTE_NAME.gallery} (${entry.sourceLabel})`)).join(' and the ');
  const both = model.routes.length > 1;
  const title = `Image catalog: factory lab ${model.factoryLabName}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${html(title)}</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<a class="skip" href="#main">Skip to the catalog</a>
<header>
<h1>Image catalog</h1>
<p class="meta">Factory lab <strong>${html(model.factoryLabName)}</strong>, ${html(route)}. Read from Azure at ${html(utcMinute(model.generatedUtc))}.
Retention keeps the ${html(model.imagesToSave)} newest image(s) of each ImagePath.</p>
<nav aria-label="Sections"><ul><li><a href="#images-heading">Golden images</a></li><li><a href="#labs-heading">Which lab holds which version</a></li></ul></nav>
</header>
<main id="main">
${countsSection(model)}
<form id="filters" class="filters" role="search" aria-label="Filter the catalog">
<label>Search<input type="search" id="f-search" placeholder="Image, lab, version, notes" autocomplete="off"></label>
<label>Operating system<select id="f-os"><option value="">All</option>${osTypes.map((os) => `<option value="${html(os)}">${html(os)}</option>`).join('')}</select></label>
<label>Lab<select id="f-lab"><option value="">All</option>${model.labs.map((lab) => `<option value="${lab.index}">${html(lab.name)}</option>`).join('')}</select></label>
${both ? `<label>Route<select id="f-route"><option value="">Both</option>${model.routes.map((entry) => `<option value="${entry.route}">${routeLabel(entry.route)}</option>`).join('')}</select></label>\n` : ''}<label>Subscription<select id="f-subscription"><option value="">All</option>${subscriptions.map((id) => `<option value="${html(id)}">${html(id)}</option>`).join('')}</select></label>
<label class="check"><input type="checkbox" id="f-stale"> Stale only</label>
<button type="reset">Clear</button>
</form>
<p id="status" role="status" aria-live="polite"></p>
${imagesSection(model)}
${labsSection(model)}
</main>
<footer><p>Written by PublishImageCatalog from the configuration and the live state of the factory and its labs. Stale: a lab lacks the newest image of a path it selects (or could not be read). Ages are whole days since the factory saved the image.${
    model.routes.some((entry) => entry.route === 'gallery')
      ? " On the gallery route a lab holds the versions its VMs can be made from: the image enabled in the lab, the version replicated to the lab's region; its VMs get the newest of them."
      : ''
  }</p></footer>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

function countsSection(model: CatalogModel): string {
  const { counts } = model;
  const item = (label: string, value: number) => `<div><dt>${label}</dt><dd>${value}</dd></div>`;
  const alerts: string[] = [];
  for (const route of model.routes.filter((entry) => entry.sourceUnreadable)) {
    alerts.push(`<p class="alert" role="alert">The ${html(route.sourceLabel)} could not be read: ${html(route.sourceUnreadable ?? '')} Which image is newest${model.routes.length > 1 ? ` on the ${ROUTE_NAME[route.route]}` : ''} is not known.</p>`);
  }
  if (counts.unreadableLabs > 0) alerts.push(`<p class="alert">${counts.unreadableLabs} lab(s) could not be read; their rows are marked.</p>`);
  return `<section aria-labelledby="counts-heading"><h2 id="counts-heading">At a glance</h2>
<dl class="counts">${item('Golden images', counts.images)}${item('Labs', counts.labs)}${item('Stale labs', counts.staleLabs)}${item('Labs not read', counts.unreadableLabs)}${item('Images retention removes', counts.retiring)}</dl>
${alerts.join('\n')}</section>`;
}

function sortHeader(label: string, type: 'text' | 'number' = 'text', extra = ''): string {
  return `<th scope="col" data-type="${type}"${extra}><button type="button" class="sort">${label}</button></th>`;
}

function imagesSection(model: CatalogModel): string {
  const both = model.routes.length > 1;
  const rows = model.images.map((image, column) => imageRow(image, model.labs, column, both)).join('\n');
  return tableSection({
    name: 'images',
    title: 'Golden images',
    caption: both
      ? 'One row per template in GoldenImages and route that carries its images (and per ImagePath whose template was removed while images of it remain). Sort by a column with its button.'
      : 'One row per template in GoldenImages (and per ImagePath whose template was removed while images of it remain). Sort by a column with its button.',
    head: `${sortHeader('ImagePath')}${both ? sortHeader('Route') : ''}${sortHeader('OS')}${sortHeader('Generation, security type')}<th scope="col">Base image</th><th scope="col">Notes</th><th scope="col">Artifacts</th>${sortHeader('Newest image')}${sortHeader('Age (days)', 'number')}${sortHeader('Size', 'number')}${sortHeader('Labs with newest', 'number')}`,
    rows,
  });
}

/** A section holding one table, scrolling sideways on its own (a focusable region, so the keyboard can scroll it). */
function tableSection(parts: { name: string; title: string; caption: string; head: string; rows: string; before?: string; tableClass?: string }): string {
  const heading = `${parts.name}-heading`;
  return `<section aria-labelledby="${heading}">
<h2 id="${heading}">${parts.title}</h2>
${parts.before ?? ''}
<div class="scroll" role="region" aria-labelledby="${heading}" tabindex="0">
<table id="${parts.name}-table"${parts.tableClass ? ` class="${parts.tableClass}"` : ''}>
<caption>${parts.caption}</caption>
<thead><tr>${parts.head}</tr></thead>
<tbody>
${parts.rows}
</tbody>
</table>
</div>
</section>`;
}

function imageRow(image: GoldenImageEntry, labs: readonly LabRow[], column: number, both: boolean): string {
  const selecting = labs.filter((lab) => lab.cells[column].selected).map((lab) => lab.index);
  const stale = labs.some((lab) => lab.cells[column].lacksNewest);
  const reference = image.baseImage;
  const base = reference ? `${reference.publisher} / ${reference.offer} / ${reference.sku} / ${reference.version}` : '';
  // Where each value was read, said once when both come from the same place.
  const value = (entry: { value: string } | undefined) => html(entry?.value ?? 'unknown');
  const fromTemplate = [image.generation?.from === 'template' ? 'generation' : '', image.securityType?.from === 'template' ? 'security type' : ''].filter(Boolean);
  const from = fromTemplate.length === 2 ? ' <span class="small">(from the template)</span>' : fromTemplate.length === 1 ? ` <span class="small">(${fromTemplate[0]} from the template)</span>` : '';
  const search = [image.imagePath, both ? ROUTE_NAME[image.route] : '', image.osType ?? '', base, image.notes ?? '', image.artifacts.join(' '), image.newest?.name ?? ''].join(' ').toLowerCase();
  const newest = image.newest;
  return `<tr data-os="${html(image.osType ?? '')}" data-route="${image.route}" data-stale="${stale}" data-labs="${selecting.join(' ')}" data-search="${html(search)}">
<th scope="row"><code>${html(image.imagePath)}</code>${image.templateRemoved ? ' <span class="tag">template removed</span>' : ''}</th>
${both ? `<td data-sort="${image.route}">${routeLabel(image.route)}</td>\n` : ''}<td>${html(image.osType ?? 'unknown')}</td>
<td data-sort="${html(image.generation?.value ?? '')}">${value(image.generation)}, ${value(image.securityType)}${from}</td>
<td class="base">${reference ? `<code>${html(base)}</code>` : '<span class="small">none (template removed)</span>'}</td>
<td class="notes">${html(image.notes ?? '')}</td>
<td>${image.artifacts.length ? `<ul class="plain">${image.artifacts.map((name) => `<li>${html(name)}</li>`).join('')}</ul>` : '<span class="small">none</span>'}</td>
<td data-sort="${html(newest?.createdUtc ?? '')}">${newest ? `<span class="v">${html(newest.version)}</span><span class="small">${html(utcMinute(newest.createdUtc))}</span>${replicationText(newest)}` : '<span class="small">no image made yet</span>'}</td>
<td data-sort="${newest ? newest.ageDays : -1}">${newest ? newest.ageDays : ''}</td>
<td data-sort="${newest?.sizeBytes ?? -1}">${newest?.sizeBytes !== undefined ? html(formatBytes(newest.sizeBytes)) : ''}</td>
<td data-sort="${image.labsWithNewest}">${image.labsWithNewest} of ${image.labsSelecting}</td>
</tr>`;
}

/** Gallery route: where the newest version is replicated, region by region. */
function replicationText(newest: NewestImage): string {
  if (!newest.replication) return '';
  const regions = newest.replication.map((replica) => `${html(replica.region)} ${replica.state === 'completed' ? '&#10003;' : replica.state === 'failed' ? '&#10007; failed' : '&#8230; replicating'}`);
  return `<span class="small">replicated to: ${regions.join(', ') || 'no region'}</span>`;
}

function labsSection(model: CatalogModel): string {
  const both = model.routes.length > 1;
  const header = model.images
    .map((image) =>
      sortHeader(`<code>${html(image.imagePath)}</code>${both ? `<span class="small">${routeLabel(image.route)}</span>` : ''}`, 'number', ` data-os="${html(image.osType ?? '')}" data-route="${image.route}"`),
    )
    .join('');
  const rows = model.labs.map((lab) => labRow(lab, model.images)).join('\n');
  const legend = (Object.keys(STATE_LABEL) as CellState[])
    .map((state) => `<li class="${state}">${STATE_LABEL[state].symbol} ${STATE_LABEL[state].text}</li>`)
    .join('');
  return tableSection({
    name: 'labs',
    title: 'Which lab holds which version',
    before: `<ul class="legend" aria-label="What a cell's mark means">${legend}<li class="held">&#9851; retention removes it on its next run</li></ul>`,
    tableClass: 'matrix',
    caption: `Labs by ImagePath${both ? ' and route' : ''}: in each cell the newest version the lab holds${
      model.routes.some((entry) => entry.route === 'gallery') ? ' (on the gallery route, the version its VMs get)' : ''
    } and its age in days. Sorting an ImagePath column orders by age.`,
    head: `${sortHeader('Lab')}${sortHeader('Subscription')}${sortHeader('Stale paths', 'number')}${header}`,
    rows,
  });
}

/** A route as a label starts: `VHD route`, `Gallery route`. */
function routeLabel(route: RouteName): string {
  return ROUTE_NAME[route].charAt(0).toUpperCase() + ROUTE_NAME[route].slice(1);
}

const ROUTE_TEXT = { vhd: 'VHD route (image store and lab custom images)' };

const STATE_LABEL: Record<CellState, { symbol: string; text: string }> = {
  current: { symbol: '&#10003;', text: 'holds the newest' },
  behind: { symbol: '&#9888;', text: 'lacks the newest' },
  missing: { symbol: '&#9888;', text: 'holds none of a path it selects' },
  'no-image': { symbol: '&#8230;', text: 'no image made yet' },
  held: { symbol: '&#8226;', text: 'holds an image (newest unknown, or path no longer selected)' },
  'not-selected': { symbol: '&#8211;', text: 'not selected' },
  unreadable: { symbol: '&#8856;', text: 'lab could not be read' },
};

function labRow(lab: LabRow, images: readonly GoldenImageEntry[]): string {
  const stale = lab.staleCount > 0 || !!lab.unreadable;
  // A lab is found by the paths it selects or holds, not by every path of the factory.
  const relevant = lab.cells.filter((cell) => cell.selected || cell.versions.length > 0);
  const search = [lab.name, lab.subscriptionId, lab.resourceGroup ?? '', ...relevant.map((cell) => `${cell.imagePath} ${cell.says} ${cell.versions.map((v) => v.name).join(' ')}`)]
    .join(' ')
    .toLowerCase();
  const name = `${html(lab.name)}${lab.resourceGroup ? `<span class="small">resource group ${html(lab.resourceGroup)}</span>` : ''}${galleryNote(lab)}${
    lab.unreadable ? `<span class="mark unreadable-note">&#8856; could not be read: ${html(lab.unreadable)}</span>` : ''
  }`;
  const cells = lab.cells.map((cell, column) => matrixCell(cell, images[column].osType ?? '')).join('');
  // Gallery route: what decides the lab's versions, said once per lab.
  const staleRoutes = [...new Set<RouteName>([...lab.staleRoutes, ...lab.unreadableRoutes])];
  return `<tr data-lab="${lab.index}" data-subscription="${html(lab.subscriptionId)}" data-stale="${stale}" data-stale-routes="${staleRoutes.join(' ')}" data-unreadable="${!!lab.unreadable}" data-search="${html(search)}">
<th scope="row" data-sort="${html(lab.name.toLowerCase())}"${lab.unreadable ? ' class="unreadable"' : ''}>${name}</th>
<td><code>${html(lab.subscriptionId)}</code></td>
<td data-sort="${lab.unreadable ? -1 : lab.staleCount}">${lab.unreadable ? 'unknown' : lab.staleCount}</td>
${cells}
</tr>`;
}

function galleryNote(lab: LabRow): string {
  const gallery = lab.gallery;
  if (!gallery) return '';
  const text =
    gallery.attachment === 'attached'
      ? `gallery attached; region ${gallery.region}`
      : gallery.attachment === 'other-gallery'
        ? `another gallery attached${gallery.otherGallery ? ` (${gallery.otherGallery})` : ''}; region ${gallery.region}`
        : `gallery not attached; region ${gallery.region}`;
  return `<span class="small gallery-note" data-attachment="${gallery.attachment}">${html(text)}</span>`;
}

function matrixCell(cell: MatrixCell, osType: string): string {
  const label = STATE_LABEL[cell.state];
  const holds = cell.holds;
  const sort = holds?.ageDays ?? (cell.state === 'unreadable' ? 100_001 : cell.selected ? 100_000 : 100_002);
  const parts: string[] = [];
  if (holds) parts.push(`<span class="v" title="${html(holds.name)}">${html(holds.version)}</span>${holds.ageDays !== undefined ? `<span class="age">${holds.ageDays} d old</span>` : ''}`);
  parts.push(`<span class="mark">${label.symbol} ${cell.lacksNewest && cell.newestVersion ? `lacks the newest (${html(cell.newestVersion)})` : label.text}</span>`);
  if (cell.gaps.length) parts.push(`<span class="more gap">${html(cell.gaps.join('; '))}</span>`);
  const unready = cell.versions.filter((version) => version.state !== 'ready');
  for (const version of unready) parts.push(`<span class="more">${html(version.version)}: ${html(version.stateText)}</span>`);
  const older = cell.versions.filter((version) => version.state === 'ready' && version !== holds && !version.retiring);
  if (older.length) parts.push(`<span class="more">also ${older.map((version) => html(version.version)).join(', ')}</span>`);
  for (const version of cell.versions.filter((v) => v.retiring)) {
    parts.push(`<span class="retiring" data-image="${html(version.name)}" title="${html(version.retiring ?? '')}">&#9851; retention removes ${html(version.version)}</span>`);
  }
  return `<td class="cell ${cell.state}" data-os="${html(osType)}" data-route="${cell.route}" data-state="${cell.state}" data-sort="${sort}" aria-label="${html(`${cell.imagePath}: ${cell.says}`)}">${parts.join('')}</td>`;
}
