import * as assert from 'node:assert/strict';
import type { StateSnapshot } from '../../local-azure/control';
import type { Scenario } from '../../local-azure/scenario';
import { removeConfiguration } from '../fixtures/config/configurationFolder';
import { type LocalAzureProcess, startLocalAzure } from '../helpers/localAzure';
import { type TaskRun, describeRun, startTask } from '../helpers/taskProcess';
import { FACTORY, FACTORY_ID, REGION, SUB_A, factoryImage, storeVhd, writeDistributeConfiguration } from '../scenarios/distribute/factory';

/**
 * Two DistributeImages runs at once (two pipelines queued close together), each the built task as the
 * agent runs it: neither may undo the other's work. Every pair ends with every image in every lab, no
 * staging blob left, and every image either run reports as created still there.
 */
const IMAGES = [
  factoryImage('Windows_Datacenter-Nov-24-2026', 'Windows/Datacenter.json'),
  factoryImage('Windows_SQL-Nov-24-2026', 'Windows/SQL.json'),
  factoryImage('Linux_Ubuntu-Nov-24-2026', 'Linux/Ubuntu.json'),
];
const TARGETS = ['Alpha', 'Bravo', 'Charlie'];

/** An image of Datacenter the factory put in each lab earlier, which retention with ImagesToSave 1 retires. */
const OLDER = 'Windows_Datacenter-Nov-01-2026';

/** 64 MiB images at 64 MB/s: each copy is pending for about a second, so two runs meet mid-copy. */
function scenario(options: { older?: boolean } = {}): Scenario {
  const customImages = options.older
    ? [{ name: OLDER, osType: 'Windows' as const, tags: { ImagePath: 'Windows/Datacenter.json', ImageFactory: FACTORY_ID, ImageFactoryCreated: '2026-11-01T08:00:00.000Z' } }]
    : [];
  return {
    labs: [
      { ...FACTORY, vhds: IMAGES.map(storeVhd) },
      ...TARGETS.map((name) => ({ subscriptionId: SUB_A, resourceGroup: 'targets-rg', name, location: REGION, storageAccount: `${name.toLowerCase()}store`, customImages })),
    ],
    settings: { copyRateMBps: 64, customImageDurationMs: 600, lroDurationMs: 100, lroRetryAfterSeconds: 1 },
  };
}

function distribute(azure: LocalAzureProcess, config: string) {
  return startTask(
    'DistributeImages',
    { azureSubscription: azure.connectionId, DevTestLabName: FACTORY.name, ConfigurationLocation: config, maxConcurrentJobs: '3' },
    azure.env,
  );
}

function assertConverged(state: StateSnapshot, runs: TaskRun[]): void {
  for (const name of TARGETS) {
    const lab = state.labs.find((l) => l.name === name)!;
    const images = lab.customImages.filter((i) => i.name !== OLDER).map((i) => `${i.name} ${i.provisioningState}`).sort();
    assert.deepEqual(images, IMAGES.map((i) => `${i.imageName} Succeeded`).sort(), `custom images of ${name}`);
    assert.deepEqual(lab.blobs.map((b) => b.name), [], `no staging blob left in ${name}`);
  }
  const existing = new Set(state.labs.flatMap((l) => l.customImages.map((i) => i.id.toLowerCase())));
  const reported = runs.flatMap((run) => (run.outputs.CreatedImageIds ? run.outputs.CreatedImageIds.split(',') : []));
  for (const id of reported) assert.ok(existing.has(id.toLowerCase()), `reported image ${id} is still there`);
  assert.equal(reported.length, IMAGES.length * TARGETS.length, `each image is reported created by exactly one run: ${reported.join(', ')}`);
  assert.equal(new Set(reported.map((id) => id.toLowerCase())).size, reported.length, 'no image is reported by both runs');
}

describe('two DistributeImages runs at once', function () {
  this.timeout(120_000);
  let azure: LocalAzureProcess;
  let config: string;

  beforeEach(async () => {
    azure = await startLocalAzure({ scenario: scenario() });
    config = writeDistributeConfiguration(TARGETS.map((LabName) => ({ SubscriptionId: SUB_A, LabName, ImagePaths: ['Windows', 'Linux'] })));
  });
  afterEach(async () => {
    await azure?.stop();
    removeConfiguration(config);
  });

  for (const [title, delayMs] of [
    ['started together', 0],
    ['the second starting while the first copies', 1500],
  ] as const) {
    it(`${title}: both succeed and every image is made once`, async () => {
      const first = distribute(azure, config);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      const second = distribute(azure, config);
      const runs = await Promise.all([first.done, second.done]);
      for (const run of runs) {
        assert.equal(run.result, 'Succeeded', describeRun(run));
        assert.deepEqual(run.issues, [], describeRun(run));
      }
      assertConverged(await azure.state(), runs);
    });
  }
});

describe('DistributeImages and RetireImages at once', function () {
  this.timeout(120_000);
  let azure: LocalAzureProcess;
  let config: string;
  after(async () => {
    await azure?.stop();
    removeConfiguration(config);
  });

  it('retention never deletes an image being distributed, and neither run fails', async () => {
    azure = await startLocalAzure({ scenario: scenario({ older: true }) });
    config = writeDistributeConfiguration(TARGETS.map((LabName) => ({ SubscriptionId: SUB_A, LabName, ImagePaths: ['Windows', 'Linux'] })));
    const distributing = distribute(azure, config);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const retire = startTask(
      'RetireImages',
      { azureSubscription: azure.connectionId, DevTestLabName: FACTORY.name, ConfigurationLocation: config, ImagesToSave: '1' },
      azure.env,
    );
    const [distributed, retired] = await Promise.all([distributing.done, retire.done]);
    assert.equal(distributed.result, 'Succeeded', describeRun(distributed));
    assert.equal(retired.result, 'Succeeded', describeRun(retired));
    const state = await azure.state();
    assertConverged(state, [distributed]);
    assert.deepEqual(state.labs.find((l) => l.name === FACTORY.name)!.blobs.map((b) => b.name).sort(), IMAGES.map((i) => `${i.imageName}.vhd`).sort(), 'the store keeps every image');
  });
});
