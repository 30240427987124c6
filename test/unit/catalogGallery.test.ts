import * as assert from 'node:assert/strict';
import { catalogDigest } from '../../core/catalog/digest';
import { buildCatalog, type CatalogModel, type MatrixCell } from '../../core/catalog/model';
import { renderCatalogPage } from '../../core/catalog/render';
import type { LabHoldings, RouteName, RouteState } from '../../core/catalog/route';
import { access, galleryHeld, galleryVersion, held, lab, NOW, source, template } from '../helpers/catalogFixtures';

/**
 * The catalog model on the gallery route, from scenario states: what each cell says when a lab's VMs get
 * the newest version, when they do not (the image not enabled, the newest not replicated to the lab's
 * region, another gallery attached), what retention will remove, a lab not read; and both routes on
 * one page.
 */
const W11 = 'Win11/Enterprise.json';
const WS = 'WindowsServer/Server2022.json';
const OLD = '2026.1115.060000';
const NEW = '2026.1201.060000';

const win11 = template(W11, 'Windows', 'win11-23h2-ent');
win11.facts = { ...win11.facts, generation: 'V2', securityType: 'TrustedLaunch' };
const TEMPLATES = [template(WS, 'Windows', '2022-datacenter'), win11];

const LABS = [lab(0, 'West', ['Win11', 'WindowsServer']), lab(1, 'East', ['Win11']), lab(2, 'Europe', ['Win11']), lab(3, 'Other', ['Win11'])];

const oldVersion = galleryVersion(W11, OLD, { westus2: 'completed', eastus: 'completed', northeurope: 'completed' });
const newVersion = galleryVersion(W11, NEW, { westus2: 'completed', eastus: 'completed' });

function vhdState(labs: LabHoldings[] = LABS.map((l) => ({ labIndex: l.index, read: { ok: true, value: [] } }))): RouteState {
  return {
    route: 'vhd',
    sourceLabel: "factory image store of lab 'Factory'",
    source: { ok: true, value: [source(WS, 'Dec-01-2026')] },
    sourceRetiring: new Map(),
    labs,
  };
}

function galleryState(labs: LabHoldings[], extra: Partial<RouteState> = {}): RouteState {
  return {
    route: 'gallery',
    sourceLabel: "Azure Compute Gallery 'FactoryImages' in resource group factory-rg",
    source: { ok: true, value: [oldVersion, newVersion] },
    sourceRetiring: new Map(),
    labs,
    ...extra,
  };
}

function build(gallery: RouteState, vhd: RouteState = vhdState()): CatalogModel {
  return buildCatalog({ now: NOW, factoryLabName: 'Factory', imagesToSave: 2, templates: TEMPLATES, labs: LABS, states: [vhd, gallery] });
}

function cell(model: CatalogModel, labName: string, imagePath: string, route: RouteName): MatrixCell {
  const column = model.images.findIndex((image) => image.imagePath === imagePath && image.route === route);
  assert.ok(column >= 0, `no column ${imagePath} on the ${route} route`);
  const row = model.labs.find((l) => l.name === labName);
  assert.ok(row, `no lab ${labName}`);
  return row.cells[column];
}

/** Every lab read, attached, with Windows 11 enabled and the versions of its region: what DistributeImages leaves. */
function distributed(): LabHoldings[] {
  return [
    { labIndex: 0, read: { ok: true, value: [galleryHeld(newVersion), galleryHeld(oldVersion)] }, gallery: access('westus2', [W11]) },
    { labIndex: 1, read: { ok: true, value: [galleryHeld(newVersion), galleryHeld(oldVersion)] }, gallery: access('eastus', [W11]) },
    { labIndex: 2, read: { ok: true, value: [galleryHeld(oldVersion)] }, gallery: access('northeurope', [W11]) },
    { labIndex: 3, read: { ok: true, value: [] }, gallery: access('eastus', [], { attachment: 'other-gallery', otherGallery: 'TeamImages' }) },
  ];
}

describe('catalog model on the gallery route: what each cell says', () => {
  it('a lab whose VMs get the newest version holds the newest, with the version and its age', () => {
    const model = build(galleryState(distributed()));
    const c = cell(model, 'West', W11, 'gallery');
    assert.equal(c.state, 'current');
    assert.equal(c.holds?.version, NEW);
    assert.equal(c.holds?.ageDays, 2);
    assert.equal(c.lacksNewest, false);
    assert.deepEqual(c.gaps, []);
    assert.equal(c.says, `${NEW}, 2 days old; the newest`);
    assert.deepEqual(model.labs[0].gallery, { region: 'westus2', attachment: 'attached' });
  });

  it('a lab whose region the newest is not replicated to is stale, and holds the version its VMs get', () => {
    const model = build(galleryState(distributed()));
    const c = cell(model, 'Europe', W11, 'gallery');
    assert.equal(c.state, 'behind');
    assert.equal(c.lacksNewest, true);
    assert.equal(c.holds?.version, OLD);
    assert.deepEqual(c.gaps, ['not replicated to northeurope']);
    assert.equal(c.says, `${OLD}, 18 days old; lacks the newest, ${NEW} (not replicated to northeurope)`);
    assert.deepEqual(model.labs[2].staleRoutes, ['gallery']);
  });

  it('a lab where the image is not enabled is stale and holds none, whatever is replicated to its region', () => {
    const labs = distributed();
    labs[1] = { labIndex: 1, read: { ok: true, value: [] }, gallery: access('eastus', []) };
    const c = cell(build(galleryState(labs)), 'East', W11, 'gallery');
    assert.equal(c.state, 'missing');
    assert.equal(c.lacksNewest, true);
    assert.deepEqual(c.gaps, ['not enabled in the lab']);
    assert.equal(c.says, `none; lacks the newest, ${NEW} (not enabled in the lab)`);
  });

  it('names both gaps when the image is not enabled and the newest not replicated to the region', () => {
    const labs = distributed();
    labs[2] = { labIndex: 2, read: { ok: true, value: [] }, gallery: access('northeurope', []) };
    const c = cell(build(galleryState(labs)), 'Europe', W11, 'gallery');
    assert.deepEqual(c.gaps, ['not enabled in the lab', 'not replicated to northeurope']);
  });

  it('a newest version still replicating to the region is named, and the lab gets the older one meanwhile', () => {
    const replicating = galleryVersion(W11, NEW, { westus2: 'completed', eastus: 'replicating' });
    const labs = distributed();
    labs[1] = { labIndex: 1, read: { ok: true, value: [galleryHeld(replicating, { state: 'creating' }), galleryHeld(oldVersion)] }, gallery: access('eastus', [W11]) };
    const c = cell(build(galleryState(labs, { source: { ok: true, value: [oldVersion, replicating] } })), 'East', W11, 'gallery');
    assert.equal(c.state, 'behind');
    assert.equal(c.holds?.version, OLD);
    assert.deepEqual(c.gaps, []);
    assert.equal(c.says, `${OLD}, 18 days old; lacks the newest, ${NEW}; ${NEW} being replicated to eastus`);
  });

  it('a lab with another gallery attached lacks the newest and says which gallery is attached', () => {
    const model = build(galleryState(distributed()));
    const c = cell(model, 'Other', W11, 'gallery');
    assert.equal(c.state, 'missing');
    assert.deepEqual(c.gaps, ["another gallery, 'TeamImages', is attached to the lab"]);
    assert.deepEqual(model.labs[3].gallery, { region: 'eastus', attachment: 'other-gallery', otherGallery: 'TeamImages' });
  });

  it('a lab without the gallery attached says so', () => {
    const labs = distributed();
    labs[1] = { labIndex: 1, read: { ok: true, value: [] }, gallery: access('eastus', [], { attachment: 'not-attached' }) };
    assert.deepEqual(cell(build(galleryState(labs)), 'East', W11, 'gallery').gaps, ['the gallery is not attached to the lab']);
  });

  it('marks a version retention will remove, naming it, and counts it', () => {
    const labs = distributed();
    const why = `older than the 1 newest versions of ${W11}`;
    labs[0] = { labIndex: 0, read: { ok: true, value: [galleryHeld(newVersion), galleryHeld(oldVersion, { retiring: why })] }, gallery: access('westus2', [W11]) };
    const model = build(galleryState(labs, { sourceRetiring: new Map([[`win11_enterprise/${OLD}`, why]]) }));
    const c = cell(model, 'West', W11, 'gallery');
    assert.equal(c.state, 'current');
    assert.equal(c.retiring, 1);
    assert.equal(c.versions.find((v) => v.version === OLD)?.retiring, why);
    assert.equal(c.says, `${NEW}, 2 days old; the newest; retention removes ${OLD}`);
    assert.equal(model.counts.retiring, 2, 'the version in the gallery and its replica the lab uses');
    assert.match(renderCatalogPage(model), new RegExp(`class="retiring" data-image="${OLD.replace(/\./g, '\\.')}" title="${why}">&#9851; retention removes ${OLD.replace(/\./g, '\\.')}`));
  });

  it('a lab the gallery route could not read is not read there, and still read on the VHD route', () => {
    const labs = distributed();
    labs[1] = { labIndex: 1, read: { ok: false, reason: 'Reading the shared galleries of lab East: AuthorizationFailed' } };
    const model = build(galleryState(labs));
    const row = model.labs[1];
    assert.equal(cell(model, 'East', W11, 'gallery').state, 'unreadable');
    assert.equal(cell(model, 'East', W11, 'gallery').says, 'could not be read');
    assert.equal(cell(model, 'East', WS, 'vhd').state, 'not-selected');
    assert.deepEqual(row.unreadableRoutes, ['gallery']);
    assert.equal(row.unreadable, 'gallery route: Reading the shared galleries of lab East: AuthorizationFailed');
    assert.equal(model.counts.unreadableLabs, 1);
  });

  it('when the gallery could not be read, what the labs hold is shown and nothing on that route is called stale', () => {
    const model = build(galleryState(distributed(), { source: { ok: false, reason: 'AuthorizationFailed' } }));
    assert.deepEqual(model.routes.map((r) => [r.route, r.sourceUnreadable]), [['vhd', undefined], ['gallery', 'AuthorizationFailed']]);
    assert.equal(cell(model, 'West', W11, 'gallery').state, 'held');
    assert.equal(model.labs.filter((l) => l.staleRoutes.includes('gallery')).length, 0);
  });
});

describe('catalog model with both routes', () => {
  const vhdWithHoldings = () => vhdState(LABS.map((l) => ({ labIndex: l.index, read: { ok: true, value: l.index === 0 ? [held(WS, 'Dec-01-2026')] : [] } })));

  it("lists each route's images with their route, generation and security type; the VHD route's first", () => {
    const model = build(galleryState(distributed()), vhdWithHoldings());
    assert.deepEqual(model.images.map((i) => [i.route, i.imagePath, i.generation?.value, i.securityType?.value]), [
      ['vhd', WS, 'V1', 'Standard'],
      ['gallery', W11, 'V2', 'TrustedLaunch'],
    ]);
    const gallery = model.images[1];
    assert.equal(gallery.newest?.version, NEW);
    assert.equal(gallery.newest?.sizeBytes, 2 * 1024 ** 3);
    assert.deepEqual(gallery.newest?.replication, [{ region: 'westus2', state: 'completed' }, { region: 'eastus', state: 'completed' }]);
    assert.equal(gallery.labsWithNewest, 2);
    assert.equal(gallery.labsSelecting, 4);
    assert.equal(cell(model, 'West', WS, 'vhd').state, 'current');
  });

  it('a template with images on both routes has an entry on each; one with images on neither goes where its generation needs', () => {
    const both = build(galleryState(distributed(), { source: { ok: true, value: [oldVersion, newVersion, galleryVersion(WS, NEW, { westus2: 'completed' }, { generation: 'V1', securityType: 'Standard' })] } }));
    assert.deepEqual(both.images.map((i) => `${i.route}:${i.imagePath}`), [`vhd:${WS}`, `gallery:${WS}`, `gallery:${W11}`]);
    const none = build(galleryState(distributed(), { source: { ok: true, value: [] }, labs: LABS.map((l) => ({ labIndex: l.index, read: { ok: true, value: [] } })) }), vhdState());
    assert.deepEqual(none.images.map((i) => `${i.route}:${i.imagePath}`), [`vhd:${WS}`, `gallery:${W11}`]);
    assert.equal(none.images[1].newest, undefined);
  });

  it('the digest counts both routes and names the route of each stale image', () => {
    const model = build(galleryState(distributed()), vhdWithHoldings());
    const digest = catalogDigest(model);
    assert.match(digest, /Factory lab Factory, VHD route and gallery route \(Azure Compute Gallery 'FactoryImages' in resource group factory-rg\)/);
    // Two golden images, four labs, two stale: Europe (the newest not replicated there) and Other (another gallery attached).
    assert.match(digest, /\| 2 \| 4 \| 2 \| 0 \| 0 \|/, digest);
    assert.match(digest, new RegExp(`\\| Europe \\| [^|]+ \\| Win11/Enterprise\\.json \\(gallery route\\) \\(${NEW.replace(/\./g, '\\.')}\\) \\|`), digest);
  });

  it('with the VHD route alone the page has no route column or filter, as before', () => {
    const page = renderCatalogPage(buildCatalog({ now: NOW, factoryLabName: 'Factory', imagesToSave: 2, templates: TEMPLATES, labs: LABS, states: [vhdState()] }));
    assert.doesNotMatch(page, /id="f-route"/);
    assert.doesNotMatch(page, />Route</);
    const both = renderCatalogPage(build(galleryState(distributed())));
    assert.match(both, /<label>Route<select id="f-route"><option value="">Both<\/option><option value="vhd">VHD route<\/option><option value="gallery">Gallery route<\/option><\/select><\/label>/);
    assert.match(both, /<tr data-os="Windows" data-route="gallery"[^>]*>\s*<th scope="row"><code>Win11\/Enterprise\.json<\/code><\/th>\s*<td data-sort="gallery">Gallery route<\/td>/);
    assert.match(both, /replicated to: westus2 &#10003;, eastus &#10003;/);
    assert.match(both, /another gallery attached \(TeamImages\); region eastus/);
  });
});

describe('catalog page on the gallery route (HTML)', () => {
  it("escapes the gallery's values from Azure: another gallery's name, a region, a reason", () => {
    const hostile = '<img src=x onerror="alert(1)">';
    const labs = distributed();
    labs[3] = { labIndex: 3, read: { ok: true, value: [] }, gallery: access(`east<b>us`, [], { attachment: 'other-gallery', otherGallery: hostile }) };
    labs[1] = { labIndex: 1, read: { ok: false, reason: `denied ${hostile}` } };
    const page = renderCatalogPage(build(galleryState(labs, { source: { ok: true, value: [oldVersion, galleryVersion(W11, NEW, { [`west<i>us2`]: 'completed' })] } })));
    for (const tag of ['<img', '<b>', '<i>']) assert.ok(!page.includes(tag), `${tag} reached the page unescaped`);
    assert.ok(page.includes('another gallery attached (&lt;img src=x onerror=&quot;alert(1)&quot;&gt;); region east&lt;b&gt;us'));
    assert.ok(page.includes('replicated to: west&lt;i&gt;us2 &#10003;'));
  });
});
