/// <reference lib="dom" />
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { removeConfiguration } from '../fixtures/config/configurationFolder';
import { vhdRouteSample } from '../fixtures/config/sampleRoutes';
import { launchChromium } from '../helpers/chromium';
import { type LocalAzureProcess, startLocalAzure } from '../helpers/localAzure';
import { describeRun, runTaskProcess } from '../helpers/taskProcess';
import { bothRoutesFactory, defaultLabs, FACTORY, GALLERY, galleryConfiguration, TARGETS } from '../scenarios/gallery/factory';

/**
 * The catalog page in a real headless Chromium: the page PublishImageCatalog writes from the quick start's
 * state, and from a factory running both routes (with galleryName), renders without a console error or
 * any request beyond its own file, its filters (the route filter too), search and sort change what is
 * shown, a lab that could not be read is marked, and axe-core finds no serious or critical accessibility
 * violation.
 */
const ROOT = path.resolve(__dirname, '..', '..', '..');
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

describe('the image catalog page in headless Chromium', function () {
  this.timeout(120_000);
  let azure: LocalAzureProcess;
  let bothRoutes: LocalAzureProcess | undefined;
  const configurations: string[] = [];
  let browser: Browser;
  let dir: string;
  let configuration: string;
  const pages: Record<'demo' | 'unreadable' | 'both', string> = { demo: '', unreadable: '', both: '' };

  const publish = async (file: string) => {
    const r = await runTaskProcess(
      'PublishImageCatalog',
      { ConfigurationLocation: configuration, azureSubscription: 'LocalAzure', DevTestLabName: 'ImageFactory', CatalogFile: file },
      azure.env,
    );
    assert.ok(r.result === 'Succeeded' || r.result === 'SucceededWithIssues', describeRun(r));
    return file;
  };

  /** Windows Server on the VHD route; Windows 11 and Linux published to the gallery and distributed; Team-Other has another gallery. */
  const publishBothRoutes = async (file: string) => {
    bothRoutes = await startLocalAzure({ scenario: bothRoutesFactory({ withOtherGalleryLab: true }) });
    const factoryLabs = galleryConfiguration();
    // The catalog's labs.json adds Team-Other, which DistributeImages refuses (IF7004): it has another gallery.
    const withOther = galleryConfiguration([...defaultLabs(), { name: TARGETS.other.name, imagePaths: ['Win11'] }]);
    configurations.push(factoryLabs, withOther);
    const common = { DevTestLabName: FACTORY, galleryName: GALLERY };
    for (const task of ['SnapImagesFromVMs', 'DistributeImages']) {
      const r = await runTaskProcess(task, { ...common, ConfigurationLocation: factoryLabs }, bothRoutes.env);
      assert.equal(r.result, 'Succeeded', describeRun(r));
    }
    const r = await runTaskProcess('PublishImageCatalog', { ...common, ConfigurationLocation: withOther, CatalogFile: file, ArtifactName: '' }, bothRoutes.env);
    assert.equal(r.result, 'Succeeded', describeRun(r));
    return file;
  };

  before(async () => {
    // First the browser: without Chromium these tests fail here, saying so.
    browser = await launchChromium();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-browser-'));
    // The page of the quick start's VHD route, in the factory's region: those labs and the Generation 1 templates.
    configuration = vhdRouteSample({ labNames: ['Engineering-Dev', 'Engineering-Test', 'Training'] });
    azure = await startLocalAzure({ scenario: path.join(ROOT, 'local-azure', 'scenarios', 'demo.json') });
    pages.demo = await publish(path.join(dir, 'demo.html'));
    await azure.setFaults([{ operation: 'CustomImages_List', kind: 'status', status: 403, code: 'AuthorizationFailed', match: '/labs/Training/', probability: 1 }]);
    pages.unreadable = await publish(path.join(dir, 'unreadable.html'));
    pages.both = await publishBothRoutes(path.join(dir, 'both.html'));
  });
  after(async () => {
    await browser?.close();
    await azure?.stop();
    await bothRoutes?.stop();
    for (const location of configurations) removeConfiguration(location);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    if (configuration) removeConfiguration(configuration);
  });

  /** Opens a page, recording console errors, page errors and every request that is not the file itself. */
  async function open(file: string, viewport = { width: 1280, height: 900 }) {
    const page = await browser.newPage({ viewport });
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    const url = `file://${file}`;
    page.on('request', (request) => {
      if (request.url() !== url) problems.push(`request: ${request.url()}`);
    });
    await page.goto(url);
    return { page, problems };
  }

  const visibleRows = (page: Page, table: string) =>
    page.$$eval(`#${table} tbody tr`, (rows) => rows.filter((row) => !(row as HTMLElement).hidden).map((row) => (row.querySelector('th') as HTMLElement).innerText.split('\n')[0].trim()));

  it('renders the demo state with no console error and no request', async () => {
    const { page, problems } = await open(pages.demo);
    try {
      assert.deepEqual(problems, []);
      assert.equal(await page.title(), 'Image catalog: factory lab ImageFactory');
      assert.deepEqual(await visibleRows(page, 'labs-table'), ['Engineering-Dev', 'Engineering-Test', 'Training']);
      assert.equal((await visibleRows(page, 'images-table')).length, 3);
      assert.equal(await page.textContent('#status'), 'Showing 3 of 3 golden images and 3 of 3 labs.');
    } finally {
      await page.close();
    }
  });

  it('filters by OS, lab, subscription and stale only, and searches, changing the visible rows', async () => {
    const { page, problems } = await open(pages.demo);
    try {
      await page.selectOption('#f-os', 'Linux');
      assert.deepEqual(await visibleRows(page, 'images-table'), ['Linux/Ubuntu2204.json']);
      const shownColumns = await page.$$eval('#labs-table thead th[data-os]', (cells) => cells.filter((c) => !(c as HTMLElement).hidden).map((c) => (c.textContent ?? '').trim()));
      assert.deepEqual(shownColumns, ['Linux/Ubuntu2204.json']);
      await page.selectOption('#f-os', '');

      await page.selectOption('#f-lab', { label: 'Training' });
      assert.deepEqual(await visibleRows(page, 'labs-table'), ['Training']);
      assert.deepEqual(await visibleRows(page, 'images-table'), ['Linux/Ubuntu2204.json']);
      await page.selectOption('#f-lab', '');

      await page.selectOption('#f-subscription', '7d2f5b8a-3c41-4e0f-9a6b-21c8d4e7f310');
      assert.deepEqual(await visibleRows(page, 'labs-table'), ['Engineering-Dev', 'Engineering-Test']);
      await page.selectOption('#f-subscription', '');

      await page.check('#f-stale');
      assert.deepEqual(await visibleRows(page, 'labs-table'), ['Engineering-Test']);
      assert.equal(await page.textContent('#status'), 'Showing 1 of 3 golden images and 1 of 3 labs.');
      await page.uncheck('#f-stale');

      await page.fill('#f-search', 'sql2022');
      assert.deepEqual(await visibleRows(page, 'images-table'), ['SQLServer/SQL2022-Developer.json']);
      // Only Engineering-Dev selects the SQL Server image.
      assert.deepEqual(await visibleRows(page, 'labs-table'), ['Engineering-Dev']);
      await page.fill('#f-search', 'no such thing');
      assert.deepEqual(await visibleRows(page, 'labs-table'), []);
      await page.click('button[type=reset]');
      assert.deepEqual(await visibleRows(page, 'labs-table'), ['Engineering-Dev', 'Engineering-Test', 'Training']);
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });

  it('renders both routes with no console error, each image saying its route, and filters by route', async () => {
    const { page, problems } = await open(pages.both);
    try {
      assert.deepEqual(problems, []);
      const routeOf = () =>
        page.$$eval('#images-table tbody tr', (rows) =>
          rows.filter((row) => !(row as HTMLElement).hidden).map((row) => `${(row.children[1] as HTMLElement).innerText.trim()}: ${(row.querySelector('th') as HTMLElement).innerText.trim()}`),
        );
      assert.deepEqual(await routeOf(), ['VHD route: WindowsServer/2016-Datacenter.json', 'Gallery route: Linux/Ubuntu2204.json', 'Gallery route: Win11/Enterprise.json']);
      const columns = () => page.$$eval('#labs-table thead th[data-route]', (cells) => cells.filter((c) => !(c as HTMLElement).hidden).map((c) => (c as HTMLElement).innerText.replace(/\s+/g, ' ').trim()));
      assert.deepEqual(await columns(), ['WindowsServer/2016-Datacenter.json VHD route', 'Linux/Ubuntu2204.json Gallery route', 'Win11/Enterprise.json Gallery route']);

      await page.selectOption('#f-route', 'gallery');
      assert.deepEqual(await routeOf(), ['Gallery route: Linux/Ubuntu2204.json', 'Gallery route: Win11/Enterprise.json']);
      assert.deepEqual(await columns(), ['Linux/Ubuntu2204.json Gallery route', 'Win11/Enterprise.json Gallery route']);
      assert.equal(await page.locator('#labs-table tbody tr[data-lab="0"] td.cell:visible').count(), 2);
      assert.equal(await page.textContent('#status'), 'Showing 2 of 3 golden images and 4 of 4 labs.');
      // Team-Other has another gallery attached: stale on the gallery route, and on the VHD route not at all.
      await page.check('#f-stale');
      assert.deepEqual(await visibleRows(page, 'labs-table'), [TARGETS.other.name]);
      assert.match(await page.locator('#labs-table tbody tr[data-lab="3"] td.cell:visible').last().innerText(), /another gallery, 'TeamImages', is attached to the lab/);
      await page.selectOption('#f-route', 'vhd');
      assert.deepEqual(await visibleRows(page, 'labs-table'), []);
      assert.deepEqual(await routeOf(), []);
      await page.uncheck('#f-stale');
      assert.deepEqual(await routeOf(), ['VHD route: WindowsServer/2016-Datacenter.json']);
      assert.deepEqual(await columns(), ['WindowsServer/2016-Datacenter.json VHD route']);
      assert.match(await page.locator('#labs-table tbody tr[data-lab="0"] td.cell:visible').innerText(), /Nov-20-2026/);
      // Clear applies once the form has reset its fields.
      await page.click('button[type=reset]');
      await page.waitForFunction(() => document.querySelectorAll('#images-table tbody tr:not([hidden])').length === 3, undefined, { timeout: 5000 });
      assert.equal(await page.inputValue('#f-route'), '');
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });

  it('sorts a column from the keyboard and says so with aria-sort', async () => {
    const { page } = await open(pages.demo);
    try {
      const labHeader = page.locator('#labs-table thead th').first();
      await labHeader.locator('button').focus();
      await page.keyboard.press('Enter');
      assert.equal(await labHeader.getAttribute('aria-sort'), 'ascending');
      await page.keyboard.press('Enter');
      assert.equal(await labHeader.getAttribute('aria-sort'), 'descending');
      assert.deepEqual(await visibleRows(page, 'labs-table'), ['Training', 'Engineering-Test', 'Engineering-Dev']);
      // The first Tab reaches the skip link, which leads to the main landmark.
      await page.goto(`file://${pages.demo}`);
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to the catalog');
    } finally {
      await page.close();
    }
  });

  it('marks a lab that could not be read, in its row and in every cell', async () => {
    const { page, problems } = await open(pages.unreadable);
    try {
      assert.deepEqual(problems, []);
      const row = page.locator('#labs-table tbody tr[data-lab="2"]');
      assert.match(await row.locator('th').innerText(), /Training[\s\S]*could not be read/);
      const states = await row.locator('td.cell').evaluateAll((cells) => cells.map((cell) => (cell as HTMLElement).dataset.state));
      assert.deepEqual(states, ['unreadable', 'unreadable', 'unreadable']);
      assert.match(await row.locator('td.cell').first().innerText(), /lab could not be read/);
      await page.check('#f-stale');
      assert.deepEqual(await visibleRows(page, 'labs-table'), ['Engineering-Test', 'Training']);
    } finally {
      await page.close();
    }
  });

  for (const [name, viewport, which] of [
    ['a desktop', { width: 1280, height: 900 }, 'unreadable'],
    ['a phone', { width: 390, height: 844 }, 'unreadable'],
    ['a desktop, both routes', { width: 1280, height: 900 }, 'both'],
    ['a phone, both routes', { width: 390, height: 844 }, 'both'],
  ] as const) {
    it(`has no serious or critical accessibility violation (axe-core) on ${name}, and fits its width`, async () => {
      const { page } = await open(pages[which], viewport);
      try {
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        assert.ok(overflow <= 0, `the page is ${overflow} px wider than the screen; only the tables should scroll`);
        await page.addScriptTag({ content: AXE });
        const violations = (await page.evaluate(async () => {
          const axe = (window as unknown as { axe: { run(context: Document, options: unknown): Promise<{ violations: unknown[] }> } }).axe;
          return (await axe.run(document, { resultTypes: ['violations'] })).violations;
        })) as AxeViolation[];
        const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
        assert.deepEqual(
          serious.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`),
          [],
        );
      } finally {
        await page.close();
      }
    });
  }
});
