import * as assert from 'node:assert/strict';
import type { LabRef } from '../../core/azure/labs';
import { scheduleOrder } from '../../core/distribute/distribute';
import { SasCache } from '../../core/distribute/job';
import { type JobResult, countOutcomes, describePlan, summaryMarkdown } from '../../core/distribute/outcome';
import { type DistributionJob, type LabObservation, configuredLabKey, planDistribution } from '../../core/distribute/plan';
import { ErrorCodes, FactoryError } from '../../core/errors';
import { factoryImage } from '../scenarios/distribute/factory';
import { observedCustomImage } from '../../core/distribute/observe';
import { customImageTags } from '../../core/factoryImages';
import { copyBudgetMs, storeSource } from '../../core/distribute/regions';

/** Keeps every image of these tests: their paths' templates exist and each path has one image. */
const RETENTION = { imagesToSave: 2, templatePaths: ['Win/Datacenter.json', 'Win/SQL.json'] };

const SUB = '11111111-1111-1111-1111-111111111111';

function labRef(name: string, location = 'westus2'): LabRef {
  return {
    id: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.DevTestLab/labs/${name}`,
    subscriptionId: SUB,
    resourceGroup: 'rg',
    name,
    location,
  };
}


const factory = labRef('Factory');
const win = factoryImage('Win-Nov-24-2026', 'Win/Datacenter.json', 2 * 1024 ** 3);
const sql = factoryImage('Sql-Nov-24-2026', 'Win/SQL.json', 2 * 1024 ** 3);

function samplePlan() {
  const labs = [
    { index: 0, subscriptionId: SUB, labName: 'Alpha', imagePaths: ['Win'] },
    { index: 1, subscriptionId: SUB, labName: 'Beta|Pipe', imagePaths: ['Win/SQL.json'] },
    { index: 2, subscriptionId: SUB, labName: 'Gone', imagePaths: ['Win'] },
  ];
  const observations = new Map<string, LabObservation>([
    [
      configuredLabKey(labs[0]),
      {
        lab: labRef('Alpha'),
        customImages: [observedCustomImage({ name: sql.imageName, provisioningState: 'Succeeded', tags: customImageTags(sql, factory.id) }, factory.id)],
        stagingBlobs: [],
      },
    ],
    [configuredLabKey(labs[1]), { lab: labRef('Beta|Pipe'), customImages: [], stagingBlobs: [] }],
    [configuredLabKey(labs[2]), { error: new FactoryError(ErrorCodes.LabNotFound, `Lab 'Gone' was not found in subscription ${SUB}.`) }],
  ]);
  return planDistribution({ retention: RETENTION, factory, images: [win, sql], labs, observations });
}

describe('distribution outcome', () => {
  it('prints the plan per lab and per image', () => {
    const lines = describePlan(samplePlan());
    assert.match(lines[0], /2 images .* 'Factory' .* 3 labs .* 2 jobs to run, 1 already in place, 2 that cannot be done/);
    const text = lines.join('\n');
    assert.match(text, /Alpha \(subscription 1111.*\): to distribute Win-Nov-24-2026; already has Sql-Nov-24-2026\./);
    assert.match(text, /Gone .*\[IF2004\]/);
    assert.match(text, /Win-Nov-24-2026 \(Win\/Datacenter.json, Windows, 2.0 GiB\): to Alpha; blocked for Gone\./);
    assert.match(text, /Sql-Nov-24-2026 .*: to Beta\|Pipe; already in Alpha; blocked for Gone\./);
  });

  it('tabulates each lab against each image with the outcome of each pair', () => {
    const plan = samplePlan();
    const alphaWin = plan.jobs.find((j) => j.lab.name === 'Alpha')!;
    const betaSql = plan.jobs.find((j) => j.lab.name === 'Beta|Pipe')!;
    const results = new Map<string, JobResult>([
      [alphaWin.key, { status: 'created', customImageId: 'id-1', copiedBytes: 1, durationMs: 10 }],
      [betaSql.key, { status: 'failed', issue: { severity: 'error', code: ErrorCodes.CustomImageFailed, message: 'boom' } }],
    ]);
    const markdown = summaryMarkdown(plan, results, [{ severity: 'error', code: ErrorCodes.CustomImageFailed, message: 'boom' }]);
    const rows = markdown.split('\n').filter((line) => line.startsWith('|'));
    assert.equal(rows[0], '| Lab | Subscription | Sql-Nov-24-2026 | Win-Nov-24-2026 |');
    assert.equal(rows[2], `| Alpha | ${SUB} | ☑️ already there | ✅ created |`);
    assert.equal(rows[3], `| Beta\\|Pipe | ${SUB} | ❌ failed | — |`);
    assert.equal(rows[4], `| Gone | ${SUB} | ⛔ blocked | ⛔ blocked |`);
    assert.match(markdown, /\*\*IF4002\*\* boom/);
    assert.deepEqual(countOutcomes(plan, results), { created: 1, exists: 1, failed: 1, cancelled: 0, notStarted: 0, blocked: 2, leftOut: 0 });
  });

  it('says a dry run changed nothing', () => {
    const markdown = summaryMarkdown(samplePlan(), undefined, []);
    assert.match(markdown, /Dry run: 2 jobs planned, nothing changed\./);
    assert.match(markdown, /\| Alpha \| .* \| ☑️ already there \| ➕ planned \|/);
  });
});

describe('job order', () => {
  it('starts jobs together that copy different images into different labs', () => {
    const images = ['a', 'b', 'c'].map((n) => factoryImage(n, `P/${n}.json`));
    const jobs: DistributionJob[] = [];
    for (const lab of ['L0', 'L1', 'L2', 'L3']) {
      for (const img of images) jobs.push({ key: `${lab}|${img.imageName}`, image: img, lab: labRef(lab), source: storeSource(factory), crossesRegion: false, start: 'copy' });
    }
    const ordered = scheduleOrder(jobs);
    assert.equal(ordered.length, jobs.length);
    assert.deepEqual(new Set(ordered), new Set(jobs));
    const firstThree = ordered.slice(0, 3);
    assert.equal(new Set(firstThree.map((j) => j.image.imageName)).size, 3);
    assert.equal(new Set(firstThree.map((j) => j.lab.name)).size, 3);
  });
});

describe('copies across regions', () => {
  it('marks each copy across regions in the summary and counts them', () => {
    const labs = [
      { index: 0, subscriptionId: SUB, labName: 'Near', imagePaths: ['Win'] },
      { index: 1, subscriptionId: SUB, labName: 'Far', imagePaths: ['Win/SQL.json'] },
    ];
    const observations = new Map<string, LabObservation>([
      [configuredLabKey(labs[0]), { lab: labRef('Near'), customImages: [], stagingBlobs: [] }],
      [configuredLabKey(labs[1]), { lab: labRef('Far', 'eastus'), customImages: [], stagingBlobs: [] }],
    ]);
    const plan = planDistribution({ retention: RETENTION, factory, images: [win, sql], labs, observations });
    const dryRun = summaryMarkdown(plan, undefined, []);
    assert.match(dryRun, /🌐 1 copy crosses regions, the lab being in another region than the VHD it is copied from: such copies are slower\./);
    const rows = dryRun.split('\n').filter((line) => line.startsWith('|'));
    assert.equal(rows[2], `| Near | ${SUB} | ➕ planned | ➕ planned |`);
    assert.equal(rows[3], `| Far | ${SUB} | ➕ planned 🌐 | — |`);
    const far = plan.jobs.find((j) => j.lab.name === 'Far')!;
    const done = summaryMarkdown(plan, new Map<string, JobResult>([[far.key, { status: 'created', customImageId: 'id', copiedBytes: 1, durationMs: 1 }]]), []);
    assert.ok(done.includes(`| Far | ${SUB} | ✅ created 🌐 | — |`), done);
    assert.doesNotMatch(summaryMarkdown(samplePlan(), undefined, []), /🌐/);
  });

  it('gives a copy across regions a longer budget than one within a region', () => {
    const size = 128 * 1024 ** 3;
    assert.ok(copyBudgetMs(size, true) >= 4 * (copyBudgetMs(size, false) - 10 * 60_000), 'at a quarter of the rate');
    assert.ok(copyBudgetMs(0, false) > 0, 'a margin for the smallest copy');
  });
});

describe('SAS cache', () => {
  it('asks once per key, again after a failure, and again once a URL is old', async () => {
    let asked = 0;
    const cache = new SasCache(50);
    const ask = async () => `url-${++asked}`;
    assert.equal(await cache.get('k', ask), 'url-1');
    assert.equal(await cache.get('k', ask), 'url-1');
    await assert.rejects(cache.get('bad', async () => Promise.reject(new Error('no'))));
    assert.equal(await cache.get('bad', ask), 'url-2');
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(await cache.get('k', ask), 'url-3');
  });

  it('asks again for a URL that expires before a copy would end', async () => {
    let asked = 0;
    const cache = new SasCache();
    const expiringIn = (ms: number) => async () => `https://a.blob.core.windows.net/uploads/x.vhd?se=${encodeURIComponent(new Date(Date.now() + ms).toISOString())}&sig=s${++asked}`;
    const hour = 3600_000;
    const first = await cache.get('k', expiringIn(2 * hour));
    assert.equal(await cache.get('k', expiringIn(24 * hour), { validForMs: hour }), first, 'lasts long enough for a short copy');
    const second = await cache.get('k', expiringIn(24 * hour), { validForMs: 3 * hour });
    assert.notEqual(second, first, 'not long enough for a long one');
    assert.equal(await cache.get('k', expiringIn(24 * hour), { validForMs: 3 * hour }), second);
    assert.equal(asked, 2);
  });
});
