import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { stagingBlobName } from '../../core/factoryImages';
import type { StateSnapshot } from '../../local-azure/control';
import { removeConfiguration } from '../fixtures/config/configurationFolder';
import { type LocalAzureProcess, startLocalAzure } from '../helpers/localAzure';
import { describeRun } from '../helpers/taskProcess';
import { armCalls, imageNames, interruptWhen, lab, runDistribute, stagingBlobs, unfinishedImages } from '../scenarios/distribute/taskRun';
import {
  FACTORY,
  FACTORY_ID,
  REGION,
  SUB_A,
  SUB_B,
  factoryImage,
  labId,
  storeVhd,
  writeDistributeConfiguration,
} from '../scenarios/distribute/factory';

/**
 * DistributeImages end to end: the built task runs as a child process, as the agent runs it, against
 * the local Azure, and the tests look at what Azure holds afterwards.
 */
const DC = factoryImage('Windows_Datacenter-Nov-24-2026', 'Windows/Datacenter.json');
const SQL = factoryImage('Windows_SQL-Nov-24-2026', 'Windows/SQL.json');
const UBUNTU = factoryImage('Linux_Ubuntu-Nov-24-2026', 'Linux/Ubuntu.json');
const IMAGES = [DC, SQL, UBUNTU];
const FIXTURES = path.join(__dirname, '..', '..', '..', 'test', 'scenarios', 'distribute');

describe('DistributeImages against the local Azure', function () {
  this.timeout(60_000);

  describe('several images to many labs across two subscriptions', () => {
    let azure: LocalAzureProcess;
    // The scenario and configuration the README's local run uses.
    const config = path.join(FIXTURES, 'Configuration');
    // (lab, image) pairs labs.json asks for and Azure allows, Dev2's Datacenter image aside (it is there).
    const expected: Record<string, string[]> = {
      Factory: [UBUNTU.imageName],
      Dev1: [DC.imageName, SQL.imageName],
      Dev2: [SQL.imageName, UBUNTU.imageName],
      Dev3: [UBUNTU.imageName],
      Test1: [SQL.imageName, UBUNTU.imageName],
      Test2: [DC.imageName, SQL.imageName],
      Test3: [DC.imageName],
      // In eastus, the factory in westus2: served on the VHD route all the same, its copies across regions.
      Far: [DC.imageName, SQL.imageName],
    };
    const jobCount = Object.values(expected).reduce((n, list) => n + list.length, 0);

    before(async () => {
      azure = await startLocalAzure({ scenario: path.join(FIXTURES, 'factory.json') });
    });
    after(async () => {
      await azure?.stop();
    });

    it('dryRun prints the plan per lab and per image and changes nothing', async () => {
      const before = await azure.state();
      const run = await runDistribute(azure, { ConfigurationLocation: config, dryRun: 'true' }).finished;
      assert.equal(run.result, 'Failed', describeRun(run)); // the missing and the locked lab are errors in a dry run too
      const text = run.lines.join('\n');
      assert.match(text, new RegExp(`Plan: 3 images .*'Factory'.* 10 labs .*: ${jobCount} jobs to run \\(2 of them copying across regions, which is slower\\), 1 already in place`));
      assert.match(text, /Far \(subscription .*\): to distribute across regions, westus2 to eastus: Windows_Datacenter-Nov-24-2026, Windows_SQL-Nov-24-2026\./);
      assert.match(text, /Dev2 \(subscription .*\): to distribute Linux_Ubuntu-Nov-24-2026, Windows_SQL-Nov-24-2026; already has Windows_Datacenter-Nov-24-2026\./);
      assert.match(text, /Windows_Datacenter-Nov-24-2026 \(Windows\/Datacenter.json, Windows, 64.0 MiB\): to Dev1, Test2, Test3, Far \(eastus\); already in Dev2; blocked for Missing\./);
      assert.match(run.summary ?? '', new RegExp(`Dry run: ${jobCount} jobs planned, nothing changed\\.`));
      assert.match(run.summary ?? '', /🌐 2 copies cross regions/);
      assert.equal(run.outputs.CreatedImageIds, undefined);
      const after = await azure.state();
      assert.deepEqual(after.labs, before.labs);
    });

    it('creates every missing pair (the lab in another region too, across regions), skips the existing one, reports the missing and the locked lab, and a copy failure and a failed custom image leave nothing behind', async () => {
      await azure.resetMetrics();
      await azure.setFaults([
        { operation: 'Blob_StartCopy', kind: 'copyFailed', failAfterPercent: 40, count: 1, match: `dev1store/uploads/${stagingBlobName(SQL.imageName)}` },
        { operation: 'CustomImages_CreateOrUpdate', kind: 'lroFailed', count: 1, match: `labs/Test2/customimages/${DC.imageName}` },
      ]);
      const run = await runDistribute(azure, { ConfigurationLocation: config, maxConcurrentJobs: '4' }).finished;
      assert.equal(run.result, 'Failed', describeRun(run));
      assert.equal(run.stderr, '', 'no warnings from Node or the SDKs');
      const errors = run.issues.filter((i) => i.type === 'error');
      const byCode = (code: string) => errors.filter((i) => i.code === code).map((i) => i.message);
      assert.equal(errors.length, 4, describeRun(run));
      assert.match(byCode('IF2004')[0], /Lab 'Missing' \(subscription 9e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c62, labs.json entry 8\)/);
      // A lab the identity may not read is not in its subscription's list, as in Azure.
      assert.match(byCode('IF2004')[1], /Lab 'Locked' \(subscription 3c5e7a90-1b2d-4f6e-8a0b-1c2d3e4f5a61, labs.json entry 10\).*Reader/);
      assert.deepEqual(byCode('IF4001'), [], 'a lab in another region is served');
      assert.match(byCode('IF2007')[0], /Windows_SQL-Nov-24-2026' in lab 'Dev1'/);
      assert.match(byCode('IF4002')[0], /custom image 'Windows_Datacenter-Nov-24-2026' in lab 'Test2'/);

      const state = await azure.state();
      const created = { ...expected, Dev1: [DC.imageName], Test2: [SQL.imageName] };
      for (const [name, wanted] of Object.entries(created)) {
        const images = imageNames(lab(state, name));
        const before = name === 'Dev2' ? [DC.imageName] : [];
        assert.deepEqual(images, [...before, ...wanted].sort(), `custom images of ${name}`);
      }
      const far = lab(state, 'Far');
      for (const image of far.customImages) {
        assert.equal((image.vhd as { imageName: string }).imageName, `${azure.blobUrl.replace(/\/$/, '')}/${far.storageAccount}/uploads/${stagingBlobName(image.name)}`, 'made from a VHD in the lab\'s own storage');
      }
      assert.deepEqual(stagingBlobs(state), [], 'no staging blob is left');
      assert.deepEqual(unfinishedImages(state), [], 'no custom image is left unfinished');
      assert.deepEqual(lab(state, 'Factory').blobs.map((b) => b.name).sort(), IMAGES.map((i) => `${i.imageName}.vhd`).sort(), 'the store is untouched');

      const test1Sql = lab(state, 'Test1').customImages.find((i) => i.name === SQL.imageName)!;
      assert.deepEqual(test1Sql.tags, { ImagePath: 'Windows/SQL.json', ImageFactory: FACTORY_ID, ImageFactoryCreated: SQL.createdUtc });
      assert.equal(test1Sql.author, 'Image factory Factory');
      assert.equal(test1Sql.description, 'Golden image Windows/SQL.json');
      assert.deepEqual(test1Sql.vhd, { imageName: `${azure.blobUrl.replace(/\/$/, '')}/${lab(state, 'Test1').storageAccount}/uploads/${stagingBlobName(SQL.imageName)}`, sysPrep: true, osType: 'Windows' });
      const ubuntu = lab(state, 'Dev3').customImages[0];
      assert.equal((ubuntu.vhd as { sysPrep?: boolean }).sysPrep, false);
      assert.equal(ubuntu.osType, 'Linux');

      const last = run.steps[run.steps.length - 1];
      assert.equal(last.percent, 100);
      assert.match(last.activity, new RegExp(`^${jobCount} of ${jobCount} jobs done, [0-9.]+ MiB of ${(jobCount * 64).toFixed(1)} MiB copied$`), JSON.stringify(run.steps));
      assert.match(run.lines.join('\n'), /Created 'Windows_SQL-Nov-24-2026' in lab 'Far' \(across regions, westus2 to eastus\) in [0-9.]+ s\./);
      assert.ok(run.steps.length >= jobCount, 'progress after every job');

      const ids = run.outputs.CreatedImageIds.split(',').sort();
      assert.equal(ids.length, jobCount - 2);
      assert.ok(ids.includes(`${labId({ subscriptionId: SUB_B, resourceGroup: 'test-rg', name: 'Test1' })}/customimages/${SQL.imageName}`.toLowerCase()) || ids.some((id) => id.toLowerCase() === `${labId({ subscriptionId: SUB_B, resourceGroup: 'test-rg', name: 'Test1' })}/customimages/${SQL.imageName}`.toLowerCase()));

      const summaryRows = (run.summary ?? '').split('\n').filter((l) => l.startsWith('| '));
      assert.equal(summaryRows[0], `| Lab | Subscription | ${[UBUNTU, DC, SQL].map((i) => i.imageName).join(' | ')} |`);
      assert.ok(summaryRows.includes(`| Dev1 | ${SUB_A} | — | ✅ created | ❌ failed |`), run.summary);
      assert.ok(summaryRows.includes(`| Dev2 | ${SUB_A} | ✅ created | ☑️ already there | ✅ created |`), run.summary);
      assert.ok(summaryRows.includes(`| Far | ${SUB_B} | — | ✅ created 🌐 | ✅ created 🌐 |`), run.summary);

      // Resource Manager economy: each subscription's labs listed once, each lab read once, a small constant per job:
      // the create with its polls, and one read of the custom image once the job holds its claim (which is what
      // keeps a second run at once from making or deleting the same image).
      const metrics = await azure.metrics();
      const labsRead = 8; // every lab but Missing
      assert.equal(armCalls(metrics, 'Labs_ListBySubscription'), 2, JSON.stringify(metrics.byOperation));
      assert.equal(armCalls(metrics, 'CustomImages_List'), labsRead, JSON.stringify(metrics.byOperation));
      assert.equal(armCalls(metrics, 'CustomImages_CreateOrUpdate'), jobCount - 1, 'every job but the one whose copy failed');
      assert.ok(armCalls(metrics, 'Labs_GenerateUploadUri') <= jobCount + labsRead + IMAGES.length + 1, JSON.stringify(metrics.byOperation));
      const perJob = (armCalls(metrics) - 2 - 2 * labsRead - IMAGES.length - 1) / jobCount;
      console.log(`      ${run.durationMs} ms, ${perJob.toFixed(2)} Resource Manager calls per job: ${JSON.stringify(metrics.byOperation)}`);
      // 3.5, and with fan-out at most one tag update per custom image whose VHD other labs may still read (stagingTag.ts).
      assert.ok(perJob - armCalls(metrics, 'CustomImages_Update') / jobCount <= 3.5, `${perJob} Resource Manager calls per job: ${JSON.stringify(metrics.byOperation)}`);
      assert.ok(armCalls(metrics, 'CustomImages_Update') <= jobCount - 1, 'one tag update at most per custom image made');
    });

    it('a second run only does what is missing, riding out transient faults', async () => {
      await azure.resetMetrics();
      await azure.setFaults([
        { operation: 'CustomImages_CreateOrUpdate', kind: 'status', status: 500, code: 'InternalServerError', count: 1 },
        { operation: 'Labs_GenerateUploadUri', kind: 'status', status: 429, code: 'TooManyRequests', retryAfterSeconds: 1, count: 2 },
        { operation: 'Blob_GetProperties', kind: 'reset', count: 1 },
      ]);
      const run = await runDistribute(azure, { ConfigurationLocation: config }).finished;
      assert.equal(run.result, 'Failed', describeRun(run));
      assert.deepEqual(run.issues.filter((i) => i.type === 'error').map((i) => i.code).sort(), ['IF2004', 'IF2004'], describeRun(run));
      const state = await azure.state();
      for (const [name, wanted] of Object.entries(expected)) {
        const before = name === 'Dev2' ? [DC.imageName] : [];
        assert.deepEqual(imageNames(lab(state, name)), [...before, ...wanted].sort(), `custom images of ${name}`);
      }
      assert.deepEqual(stagingBlobs(state), []);
      assert.deepEqual(unfinishedImages(state), []);
      assert.equal(run.outputs.CreatedImageIds.split(',').length, 2);
      const metrics = await azure.metrics();
      assert.equal(armCalls(metrics, 'CustomImages_CreateOrUpdate'), 3, 'two creates, one of them retried after a 500');
    });
  });

  describe('a run killed at any point', () => {
    let azure: LocalAzureProcess;
    let config: string;
    const targets = ['K1', 'K2', 'K3', 'K4', 'K5', 'K6'];
    before(async () => {
      const images = [factoryImage(DC.imageName, DC.imagePath, 384 * 1024 * 1024), factoryImage(UBUNTU.imageName, UBUNTU.imagePath, 384 * 1024 * 1024)];
      azure = await startLocalAzure({
        scenario: {
          labs: [
            { ...FACTORY, vhds: images.map(storeVhd) },
            ...targets.map((name, i) => ({ subscriptionId: i % 2 ? SUB_B : SUB_A, resourceGroup: 'kill-rg', name, location: REGION })),
          ],
          // A copy takes 1.5 s and a custom image 1.5 s, so that a kill can land in either.
          settings: { copyRateMBps: 256, customImageDurationMs: 1500, lroDurationMs: 100, lroRetryAfterSeconds: 0 },
        },
      });
      config = writeDistributeConfiguration(targets.map((name, i) => ({ SubscriptionId: i % 2 ? SUB_B : SUB_A, LabName: name, ImagePaths: ['Windows/Datacenter.json', 'Linux'] })));
    });
    after(async () => {
      await azure?.stop();
      if (config) removeConfiguration(config);
    });

    async function killWhen(condition: (state: StateSnapshot) => boolean, what: string): Promise<StateSnapshot> {
      const task = runDistribute(azure, { ConfigurationLocation: config, maxConcurrentJobs: '4' });
      const { run } = await interruptWhen(azure, task, condition, 'SIGKILL', what);
      assert.equal(run.killedBy, 'SIGKILL');
      return azure.state();
    }

    it('converges when started again: no duplicates, no leftovers', async function () {
      this.timeout(80_000);
      // First kill: while copies are running.
      const afterFirst = await killWhen((s) => stagingBlobs(s).filter((b) => b.endsWith('(pending)')).length >= 2, 'two pending copies');
      assert.ok(stagingBlobs(afterFirst).length >= 2, 'the kill left half-copied VHDs');
      // Second kill: while a custom image is being created.
      const afterSecond = await killWhen((s) => unfinishedImages(s).some((i) => i.endsWith('Creating')), 'an image being created');
      assert.ok(unfinishedImages(afterSecond).length >= 1 || stagingBlobs(afterSecond).length >= 1, 'the second kill left work half done');

      await azure.resetMetrics();
      const run = await runDistribute(azure, { ConfigurationLocation: config, maxConcurrentJobs: '4' }).finished;
      assert.equal(run.result, 'Succeeded', describeRun(run));
      const state = await azure.state();
      for (const name of targets) assert.deepEqual(imageNames(lab(state, name)), [UBUNTU.imageName, DC.imageName].sort(), `custom images of ${name}`);
      assert.deepEqual(stagingBlobs(state), [], 'no staging blob is left');
      assert.deepEqual(unfinishedImages(state), []);
      assert.deepEqual(state.operations.filter((o) => o.status !== 'Succeeded'), []);
      const existedBefore = afterSecond.labs.reduce((n, l) => n + l.customImages.length, 0);
      const metrics = await azure.metrics();
      const creates = armCalls(metrics, 'CustomImages_CreateOrUpdate');
      assert.ok(creates <= 12 - existedBefore, `${creates} creates after ${existedBefore} images were there`);
    });
  });

  describe('cancel while custom images are being created', () => {
    let azure: LocalAzureProcess;
    let config: string;
    const targets = ['M1', 'M2'];
    before(async () => {
      azure = await startLocalAzure({
        scenario: {
          labs: [
            { ...FACTORY, vhds: [storeVhd(DC)] },
            ...targets.map((name) => ({ subscriptionId: SUB_A, resourceGroup: 'cancel-rg', name, location: REGION })),
          ],
          settings: { copyRateMBps: 1024, customImageDurationMs: 6000, lroDurationMs: 100, lroRetryAfterSeconds: 1 },
        },
      });
      config = writeDistributeConfiguration(targets.map((name) => ({ SubscriptionId: SUB_A, LabName: name, ImagePaths: ['Windows'] })));
    });
    after(async () => {
      await azure?.stop();
      if (config) removeConfiguration(config);
    });

    it('ends Cancelled at once, leaves the images Azure will not delete to finish, and the next run tidies up', async function () {
      this.timeout(40_000);
      const task = runDistribute(azure, { ConfigurationLocation: config });
      const { run, tookMs } = await interruptWhen(azure, task, (s) => unfinishedImages(s).length === targets.length, 'SIGINT', 'every image being created');
      assert.equal(run.result, 'Cancelled', describeRun(run));
      assert.ok(tookMs < 7000, `cancelled in ${tookMs} ms`);
      const state = await azure.state();
      assert.deepEqual(unfinishedImages(state).sort(), targets.map((name) => `${name}/${DC.imageName} Creating`));
      assert.match(run.lines.join('\n'), /is still being created and cannot be deleted yet; the next run waits for it/);

      const again = await runDistribute(azure, { ConfigurationLocation: config }).finished;
      assert.equal(again.result, 'Succeeded', describeRun(again));
      const after = await azure.state();
      for (const name of targets) assert.deepEqual(imageNames(lab(after, name)), [DC.imageName]);
      assert.deepEqual(unfinishedImages(after), []);
      assert.deepEqual(stagingBlobs(after), []);
    });
  });

  describe('cancel', () => {
    let azure: LocalAzureProcess;
    let config: string;
    before(async () => {
      const image = factoryImage(DC.imageName, DC.imagePath, 2048 * 1024 * 1024);
      azure = await startLocalAzure({
        scenario: {
          labs: [
            { ...FACTORY, vhds: [storeVhd(image)] },
            ...['C1', 'C2', 'C3'].map((name) => ({ subscriptionId: SUB_A, resourceGroup: 'cancel-rg', name, location: REGION })),
          ],
          settings: { copyRateMBps: 64, lroDurationMs: 100, lroRetryAfterSeconds: 0 },
        },
      });
      config = writeDistributeConfiguration(['C1', 'C2', 'C3'].map((name) => ({ SubscriptionId: SUB_A, LabName: name, ImagePaths: ['Windows'] })));
    });
    after(async () => {
      await azure?.stop();
      if (config) removeConfiguration(config);
    });

    it('aborts the copies, deletes the staging blobs and ends Cancelled within the grace period', async () => {
      let copying = false;
      // Flat: all three copies read the store at once, so all three are under way when the cancel comes.
      const task = runDistribute(azure, { ConfigurationLocation: config, fanOut: 'flat' }, (line) => {
        if (/^Running 3 jobs/.test(line)) copying = true;
      });
      const copies = (s: StateSnapshot) => copying && stagingBlobs(s).filter((b) => b.endsWith('(pending)')).length === 3;
      const { run, tookMs } = await interruptWhen(azure, task, copies, 'SIGINT', 'three copies running');
      assert.equal(run.result, 'Cancelled', describeRun(run));
      assert.ok(tookMs < 7000, `cancelled in ${tookMs} ms`);
      const state = await azure.state();
      assert.deepEqual(stagingBlobs(state), []);
      assert.deepEqual(state.labs.flatMap((l) => l.customImages), []);
      // Cancelled jobs are not done: progress counts them apart and stays where the work stopped.
      const last = run.steps[run.steps.length - 1];
      assert.match(last.activity, /^0 of 3 jobs done, 3 cancelled, /, JSON.stringify(run.steps));
      assert.equal(last.percent, 0, JSON.stringify(run.steps));
      assert.equal(run.lines.filter((l) => /^Cancelled 'Windows_Datacenter-Nov-24-2026' in lab 'C\d'\.$/.test(l)).length, 3, run.lines.join('\n'));
    });
  });
});
