import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { StateSnapshot } from '../../local-azure/control';
import { removeConfiguration } from '../fixtures/config/configurationFolder';
import { type LocalAzureProcess, startLocalAzure } from '../helpers/localAzure';
import { describeRun, runTaskProcess, type TaskRun } from '../helpers/taskProcess';
import { defaultLabs, FACTORY, GALLERY, galleryConfiguration, galleryFactory, TARGETS, VMS } from '../scenarios/gallery/factory';

/**
 * PublishImageCatalog with `galleryName`, through the bundled task, on a factory that publishes to a
 * gallery: a second Windows 11 version that never reached northeurope, an image a lab selects but
 * DistributeImages has not enabled yet, a lab with another gallery attached. The page shows, per lab,
 * the version its VMs get and why it lacks the newest; it marks exactly what RetireImages with the same
 * inputs removes; a lab or a gallery that could not be read is a warning and the page is still written.
 */
/** The cells of a lab's row, by ImagePath, with what each says and the versions retention removes there. */
function cells(page: string, labName: string): Map<string, { route: string; state: string; says: string; retiring: string[] }> {
  const rows = page.match(/<tr data-lab="\d+"[\s\S]*?<\/tr>/g) ?? [];
  const row = rows.find((r) => r.includes(`<th scope="row" data-sort="${labName.toLowerCase()}"`));
  assert.ok(row, `no row for lab ${labName}`);
  const found = new Map<string, { route: string; state: string; says: string; retiring: string[] }>();
  for (const match of row.matchAll(/<td class="cell [^"]+" data-os="[^"]*" data-route="(\w+)" data-state="([\w-]+)" data-sort="[^"]*" aria-label="([^":]+): ([^"]*)">([\s\S]*?)<\/td>/g)) {
    const retiring = [...match[5].matchAll(/class="retiring" data-image="([^"]+)"/g)].map((m) => m[1]);
    found.set(`${match[1]}:${match[3]}`, { route: match[1], state: match[2], says: match[4].replace(/&#39;/g, "'"), retiring });
  }
  return found;
}

/** What the catalog may never change. */
function everything(state: StateSnapshot): unknown {
  return [state.galleries, state.labs.map((lab) => ({ name: lab.name, sharedGallery: lab.sharedGallery, images: lab.customImages.map((image) => image.name) }))];
}

describe('PublishImageCatalog on the gallery route', function () {
  this.timeout(180_000);
  let azure: LocalAzureProcess;
  let dir: string;
  const configurations: string[] = [];
  /** labs.json the catalog reads: Team-East now also selects Windows Server, and Team-Other (another gallery attached) Windows 11. */
  let configuration: string;
  let versions: { win11: string[] };

  const catalog = (extra: Record<string, string> = {}) =>
    runTaskProcess(
      'PublishImageCatalog',
      { ConfigurationLocation: configuration, DevTestLabName: FACTORY, galleryName: GALLERY, CatalogFile: path.join(dir, 'catalog.html'), ArtifactName: '', ...extra },
      azure.env,
    );
  const page = (run: TaskRun) => fs.readFileSync(run.outputs.CatalogFile, 'utf8');

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gallery-catalog-'));
    azure = await startLocalAzure({ scenario: galleryFactory({ withOtherGalleryLab: true }) });
    const all = galleryConfiguration();
    configurations.push(all);
    const snap = async (location: string) => {
      const run = await runTaskProcess('SnapImagesFromVMs', { DevTestLabName: FACTORY, galleryName: GALLERY, ConfigurationLocation: location }, azure.env);
      assert.equal(run.result, 'Succeeded', describeRun(run));
    };
    await snap(all);
    const distribute = await runTaskProcess('DistributeImages', { ConfigurationLocation: all, DevTestLabName: FACTORY, galleryName: GALLERY }, azure.env);
    assert.equal(distribute.result, 'Succeeded', describeRun(distribute));
    // A second Windows 11 VM, published while Team-Europe did not select Windows 11: its version has no northeurope replica.
    await azure.addVm(FACTORY, { ...VMS.win11, name: 'win11-ent-2', tags: { ...VMS.win11.tags }, dataDisks: [...VMS.win11.dataDisks] });
    const withoutEurope = galleryConfiguration(defaultLabs().map((lab) => (lab.name === TARGETS.europe.name ? { ...lab, imagePaths: ['Linux/Ubuntu2204.json'] } : lab)));
    configurations.push(withoutEurope);
    await snap(withoutEurope);
    configuration = galleryConfiguration([
      ...defaultLabs().map((lab) => (lab.name === TARGETS.east.name ? { ...lab, imagePaths: [...lab.imagePaths, 'WindowsServer'] } : lab)),
      { name: TARGETS.other.name, imagePaths: ['Win11'] },
    ]);
    configurations.push(configuration);
    const win11 = (await azure.state()).galleries.find((g) => g.name === GALLERY)!.images.find((i) => i.name === 'Win11_Enterprise')!;
    versions = { win11: win11.versions.map((v) => v.name).sort((a, b) => a.localeCompare(b, 'en', { numeric: true })) };
    assert.equal(versions.win11.length, 2);
  });
  after(async () => {
    await azure?.stop();
    for (const location of configurations) removeConfiguration(location);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('shows per lab the version its VMs get and why it lacks the newest, with each image saying its route, and changes nothing', async () => {
    const before = everything(await azure.state());
    const r = await catalog();
    assert.equal(r.result, 'Succeeded', describeRun(r));
    assert.deepEqual(everything(await azure.state()), before, 'the catalog only reads');
    const html = page(r);
    const [older, newest] = versions.win11;

    // Every image of this factory took the gallery route; the page says so and offers the route filter.
    assert.match(html, /<select id="f-route">/);
    assert.match(html, /gallery route \(Azure Compute Gallery &#39;FactoryImages&#39; in resource group factory-rg\)/);
    const win11Row = html.match(/<tr data-os="Windows" data-route="gallery"[^>]*>\s*<th scope="row"><code>Win11\/Enterprise\.json<\/code>[\s\S]*?<\/tr>/)?.[0] ?? '';
    assert.match(win11Row, /<td data-sort="gallery">Gallery route<\/td>/);
    assert.match(win11Row, /V2, TrustedLaunch/);
    assert.match(win11Row, new RegExp(`<span class="v">${newest.replace(/\./g, '\\.')}</span>`));
    assert.match(win11Row, /replicated to: westus2 &#10003;, eastus &#10003;</);
    assert.doesNotMatch(html, /data-route="vhd"/, 'the image store holds nothing, so no image is on the VHD route');

    const west = cells(html, TARGETS.west.name);
    assert.equal(west.get('gallery:Win11/Enterprise.json')?.state, 'current');
    assert.match(west.get('gallery:Win11/Enterprise.json')!.says, new RegExp(`^${newest.replace(/\./g, '\\.')}, 0 days old; the newest$`));

    const europe = cells(html, TARGETS.europe.name);
    assert.equal(europe.get('gallery:Win11/Enterprise.json')?.state, 'behind');
    assert.equal(europe.get('gallery:Win11/Enterprise.json')?.says, `${older}, 0 days old; lacks the newest, ${newest} (not replicated to northeurope)`);

    const east = cells(html, TARGETS.east.name);
    assert.equal(east.get('gallery:WindowsServer/2016-Datacenter.json')?.state, 'missing');
    assert.match(east.get('gallery:WindowsServer/2016-Datacenter.json')!.says, /^none; lacks the newest, [\d.]+ \(not enabled in the lab, not replicated to eastus\)$/);
    assert.equal(east.get('gallery:Win11/Enterprise.json')?.state, 'current');

    const other = cells(html, TARGETS.other.name);
    assert.match(other.get('gallery:Win11/Enterprise.json')!.says, /^none; lacks the newest, [\d.]+ \(another gallery, 'TeamImages', is attached to the lab\)$/);
    assert.match(html, /data-attachment="other-gallery">another gallery attached \(TeamImages\); region eastus/);

    // The digest counts the gallery's images and names each stale lab's image with its route.
    const summary = r.summary ?? '';
    assert.match(summary, /VHD route and gallery route \(Azure Compute Gallery 'FactoryImages' in resource group factory-rg\)/);
    assert.match(summary, /\| 3 \| 4 \| 3 \| 0 \| 0 \|/, summary);
    assert.match(summary, /\| Team-Europe \| [^|]+ \| Win11\/Enterprise\.json \(gallery route\) \([\d.]+\) \|/, summary);
    assert.ok(r.lines.some((line) => /^ {2}Lab 'Team-East' lacks the newest image of WindowsServer\/2016-Datacenter\.json \(gallery route\)\.$/.test(line)), describeRun(r));
  });

  it('marks exactly what RetireImages, with the same ImagesToSave and gallery, deletes, drops or disables', async () => {
    // Team-Europe no longer selects Linux: RetireImages drops its northeurope replica and disables it there.
    const retireConfiguration = galleryConfiguration(
      defaultLabs().map((lab) => (lab.name === TARGETS.europe.name ? { ...lab, imagePaths: ['Win11'] } : lab)),
    );
    configurations.push(retireConfiguration);
    const r = await catalog({ ConfigurationLocation: retireConfiguration, ImagesToSave: '1' });
    assert.equal(r.result, 'Succeeded', describeRun(r));
    const html = page(r);
    const marked = new Set<string>();
    for (const lab of [TARGETS.west.name, TARGETS.east.name, TARGETS.europe.name]) {
      for (const [key, cell] of cells(html, lab)) for (const version of cell.retiring) marked.add(`${lab}:${key.split(':')[1]}@${version}`);
    }
    const [older] = versions.win11;
    const linux = (await azure.state()).galleries.find((g) => g.name === GALLERY)!.images.find((i) => i.name === 'Linux_Ubuntu2204')!.versions[0].name;
    assert.deepEqual(
      [...marked].sort(),
      [
        `${TARGETS.east.name}:Win11/Enterprise.json@${older}`,
        `${TARGETS.europe.name}:Linux/Ubuntu2204.json@${linux}`,
        `${TARGETS.europe.name}:Win11/Enterprise.json@${older}`,
        `${TARGETS.west.name}:Win11/Enterprise.json@${older}`,
      ].sort(),
    );
    assert.match(cells(html, TARGETS.europe.name).get('gallery:Linux/Ubuntu2204.json')!.says, /no longer selected; retention removes/);

    const retire = await runTaskProcess(
      'RetireImages',
      { ConfigurationLocation: retireConfiguration, DevTestLabName: FACTORY, galleryName: GALLERY, ImagesToSave: '1', dryRun: 'true' },
      azure.env,
    );
    assert.equal(retire.result, 'Succeeded', describeRun(retire));
    const planned = { deleted: new Set<string>(), changed: new Set<string>() };
    for (const line of retire.lines) {
      const deletion = /^ {2}delete +version '([^/]+)\/([^']+)'/.exec(line);
      if (deletion) planned.deleted.add(`${deletion[1]}/${deletion[2]}`);
      const drop = /^ {2}drop +(\S+) from '([^/]+)\/([^']+)'/.exec(line);
      if (drop) planned.changed.add(`${drop[2]}/${drop[3]} ${drop[1]}`);
      const disable = /^ {2}disable '([^']+)' in lab '([^']+)'/.exec(line);
      if (disable) planned.changed.add(`${disable[1]} in ${disable[2]}`);
    }
    assert.deepEqual([...planned.deleted], [`Win11_Enterprise/${older}`], describeRun(retire));
    assert.deepEqual([...planned.changed].sort(), [`Linux_Ubuntu2204 in ${TARGETS.europe.name}`, `Linux_Ubuntu2204/${linux} northeurope`], describeRun(retire));
    // Team-Europe still lacks the newest Windows 11; the gallery's version and the four lab cells that lose a version.
    assert.match(r.summary ?? '', /\| 3 \| 3 \| 1 \| 0 \| 5 \|/, r.summary);
  });

  it('marks a lab the gallery route could not read, warns about it (IF8003), and still shows its VHD route', async () => {
    await azure.setFaults([{ operation: 'SharedGalleries_List', kind: 'status', status: 403, code: 'AuthorizationFailed', match: `/labs/${TARGETS.east.name}/`, probability: 1 }]);
    try {
      const r = await catalog();
      assert.equal(r.result, 'SucceededWithIssues', describeRun(r));
      assert.deepEqual(r.issues.map((issue) => issue.code), ['IF8003'], describeRun(r));
      assert.match(r.issues[0].message, /Lab 'Team-East' \(subscription [-0-9a-f]+\) could not be read; the catalog marks it as such: gallery route: Reading the shared galleries of lab 'Team-East'/);
      const html = page(r);
      const east = cells(html, TARGETS.east.name);
      assert.ok([...east.values()].every((cell) => cell.state === 'unreadable'), 'every gallery cell of the lab is marked not read');
      assert.match(html, /<tr data-lab="1"[^>]*data-stale-routes="gallery" data-unreadable="true"/);
      assert.match(r.summary ?? '', /\| Team-East \| [^|]+ \| could not be read \|/);
    } finally {
      await azure.setFaults([]);
    }
  });

  it('warns (IF8005) when the gallery cannot be read or does not exist, and still writes the page of the VHD route', async () => {
    await azure.setFaults([{ operation: 'Galleries_Get', kind: 'status', status: 403, code: 'AuthorizationFailed', match: `/galleries/${GALLERY}`, probability: 1 }]);
    try {
      const r = await catalog();
      assert.equal(r.result, 'SucceededWithIssues', describeRun(r));
      assert.deepEqual(r.issues.map((issue) => issue.code), ['IF8005'], describeRun(r));
      assert.match(r.issues[0].message, /The Azure Compute Gallery 'FactoryImages' in resource group factory-rg could not be read, so the catalog cannot say which images are newest on the gallery route: /);
      const html = page(r);
      assert.match(html, /<p class="alert" role="alert">The Azure Compute Gallery &#39;FactoryImages&#39;/);
      assert.match(r.summary ?? '', /\*\*The Azure Compute Gallery 'FactoryImages' in resource group factory-rg could not be read\*\*/);
    } finally {
      await azure.setFaults([]);
    }
    const missing = await catalog({ galleryName: 'NoSuchGallery' });
    assert.equal(missing.result, 'SucceededWithIssues', describeRun(missing));
    assert.deepEqual(missing.issues.map((issue) => issue.code), ['IF8005'], describeRun(missing));
    assert.match(missing.issues[0].message, /'NoSuchGallery' in resource group factory-rg could not be read[^:]*: it does not exist in that resource group/);
    assert.ok(fs.existsSync(missing.outputs.CatalogFile));
  });

  it('refuses a gallery name Compute would refuse (IF7001) before reading Azure', async () => {
    await azure.resetMetrics();
    const r = await catalog({ galleryName: 'bad name!' });
    assert.equal(r.result, 'Failed', describeRun(r));
    assert.deepEqual(r.issues.map((issue) => issue.code), ['IF7001'], describeRun(r));
    assert.equal((await azure.metrics()).total, 0);
  });

  it('without galleryName shows the VHD route alone, as before', async () => {
    const r = await catalog({ galleryName: '' });
    assert.equal(r.result, 'Succeeded', describeRun(r));
    const html = page(r);
    assert.doesNotMatch(html, /id="f-route"|data-route="gallery"|gallery route/);
    assert.match(r.summary ?? '', /Factory lab Factory, VHD route;/);
  });
});
