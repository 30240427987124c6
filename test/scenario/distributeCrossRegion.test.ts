import * as assert from 'node:assert/strict';
import { stagingBlobName } from '../../core/factoryImages';
import { removeConfiguration } from '../fixtures/config/configurationFolder';
import { type LocalAzureProcess, labVmFromImage, startLocalAzure } from '../helpers/localAzure';
import { describeRun, runTaskProcess } from '../helpers/taskProcess';
import { FACTORY, REGION, SUB_A, SUB_B, factoryImage, storeVhd, writeDistributeConfiguration } from '../scenarios/distribute/factory';

/**
 * DistributeImages, built and run as the agent runs it, to a lab in another region than the factory
 * lab: the VHD route serves it, each VHD copied across regions into the lab's own storage account (the
 * only place DevTest Labs makes a custom image from), more slowly; the plan, the log and the summary say
 * which copies cross regions, and a lab VM made from such an image provisions.
 */
const MIB = 1024 * 1024;
const DC = factoryImage('Windows_Datacenter-Nov-24-2026', 'Windows/Datacenter.json', 128 * MIB);
const UBUNTU = factoryImage('Linux_Ubuntu-Nov-24-2026', 'Linux/Ubuntu.json', 128 * MIB);
const NEAR = { subscriptionId: SUB_A, resourceGroup: 'near-rg', name: 'Near', location: REGION };
const FAR = { subscriptionId: SUB_B, resourceGroup: 'far-rg', name: 'Far', location: 'eastus', storageAccount: 'farstore' };

describe('DistributeImages to a lab in another region (VHD route)', function () {
  this.timeout(120_000);
  let azure: LocalAzureProcess;
  let config: string;
  const inputs = () => ({ DevTestLabName: FACTORY.name, ConfigurationLocation: config });

  before(async () => {
    azure = await startLocalAzure({
      scenario: {
        labs: [{ ...FACTORY, vhds: [storeVhd(DC), storeVhd(UBUNTU)] }, NEAR, FAR],
        // A VHD takes a quarter of a second to copy within the region, two seconds across regions.
        settings: { copyRateMBps: 512, crossRegionCopyRateMBps: 64, customImageDurationMs: 50, lroDurationMs: 50, lroRetryAfterSeconds: 0 },
      },
    });
    config = writeDistributeConfiguration([NEAR, FAR].map((lab) => ({ SubscriptionId: lab.subscriptionId, LabName: lab.name, ImagePaths: ['Windows', 'Linux'] })));
  });
  after(async () => {
    await azure?.stop();
    if (config) removeConfiguration(config);
  });

  it('dryRun says which copies cross regions and changes nothing', async () => {
    const before = await azure.state();
    const run = await runTaskProcess('DistributeImages', { ...inputs(), dryRun: 'true' }, azure.env);
    assert.equal(run.result, 'Succeeded', describeRun(run));
    assert.deepEqual(run.issues, [], 'a lab in another region is no error');
    const text = run.lines.join('\n');
    assert.match(text, /Plan: 2 images .*\(westus2\).*: 4 jobs to run \(2 of them copying across regions, which is slower\), 0 already in place/);
    assert.match(text, /  Far \(subscription 9e8d.*\): to distribute across regions, westus2 to eastus: Linux_Ubuntu-Nov-24-2026, Windows_Datacenter-Nov-24-2026\./);
    assert.match(text, /  Near \(subscription 3c5e.*\): to distribute Linux_Ubuntu-Nov-24-2026, Windows_Datacenter-Nov-24-2026\./);
    assert.match(text, /Windows_Datacenter-Nov-24-2026 .*: to Near, Far \(eastus\)\./);
    assert.match(run.summary ?? '', /🌐 2 copies cross regions/);
    assert.ok((run.summary ?? '').includes(`| Far | ${SUB_B} | ➕ planned 🌐 | ➕ planned 🌐 |`), run.summary);
    assert.ok((run.summary ?? '').includes(`| Near | ${SUB_A} | ➕ planned | ➕ planned |`), run.summary);
    assert.deepEqual((await azure.state()).labs, before.labs);
  });

  it('creates its custom images from VHDs copied into its own storage account, more slowly, and a lab VM made from one provisions', async () => {
    const run = await runTaskProcess('DistributeImages', inputs(), azure.env);
    assert.equal(run.result, 'Succeeded', describeRun(run));
    const text = run.lines.join('\n');
    assert.match(text, /Running 4 jobs, at most 20 at once; 2 of them copy across regions, which is slower\./);

    const state = await azure.state();
    const far = state.labs.find((l) => l.name === FAR.name)!;
    assert.deepEqual(far.customImages.map((i) => i.name).sort(), [UBUNTU.imageName, DC.imageName].sort());
    for (const image of far.customImages) {
      assert.equal((image.vhd as { imageName: string }).imageName, `${azure.blobUrl.replace(/\/$/, '')}/${FAR.storageAccount}/uploads/${stagingBlobName(image.name)}`);
    }
    assert.deepEqual(far.blobs.map((b) => b.name), [], 'the copied VHDs are deleted once the images are made');
    assert.equal(state.labs.find((l) => l.name === NEAR.name)!.customImages.length, 2);

    // A copy across regions runs at its own rate: two seconds of model time at least, where one in the region takes a quarter.
    const seconds = (lab: string, image: string, across: string) =>
      Number(new RegExp(`Created '${image}' in lab '${lab}'${across} in ([0-9.]+) s\\.`).exec(text)?.[1]);
    for (const image of [DC, UBUNTU]) {
      assert.ok(seconds('Far', image.imageName, ' \\(across regions, westus2 to eastus\\)') >= 2, text);
      assert.ok(Number.isFinite(seconds('Near', image.imageName, '')), text);
    }
    const rows = (run.summary ?? '').split('\n').filter((l) => l.startsWith('| '));
    assert.ok(rows.includes(`| Far | ${SUB_B} | ✅ created 🌐 | ✅ created 🌐 |`), run.summary);
    assert.ok(rows.includes(`| Near | ${SUB_A} | ✅ created | ✅ created |`), run.summary);

    const { vm, customImageId } = await labVmFromImage(azure, FAR, DC.imageName);
    assert.equal(vm.provisioningState, 'Succeeded');
    assert.equal(vm.customImageId, customImageId);
  });
});
