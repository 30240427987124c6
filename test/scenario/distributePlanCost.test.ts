import * as assert from 'node:assert/strict';
import { customImageTags } from '../../core/factoryImages';
import { removeConfiguration } from '../fixtures/config/configurationFolder';
import { type LocalAzureProcess, startLocalAzure } from '../helpers/localAzure';
import { describeRun, runTaskProcess } from '../helpers/taskProcess';
import { FACTORY, FACTORY_ID, REGION, SUB_A, SUB_B, factoryImage, storeVhd, writeDistributeConfiguration } from '../scenarios/distribute/factory';

/**
 * The plan phase spends Resource Manager writes only where a job needs them: a lab that already holds
 * every image it selects is read (its custom images) but never asked for an upload URI. Measured with
 * the local Azure's request counts, the bundled task run as the agent runs it.
 */
const DC = factoryImage('Windows_Datacenter-Nov-24-2026', 'Windows/Datacenter.json');
const IDLE = ['Idle1', 'Idle2', 'Idle3', 'Idle4', 'Idle5'];

describe('DistributeImages asks no upload URI of a lab with nothing to do', function () {
  this.timeout(90_000);
  let azure: LocalAzureProcess;
  const configs: string[] = [];

  before(async () => {
    const held = { name: DC.imageName, tags: customImageTags(DC, FACTORY_ID) };
    azure = await startLocalAzure({
      scenario: {
        labs: [
          { ...FACTORY, vhds: [storeVhd(DC)] },
          { subscriptionId: SUB_A, resourceGroup: 'busy-rg', name: 'Busy', location: REGION },
          ...IDLE.map((name, i) => ({ subscriptionId: i % 2 ? SUB_B : SUB_A, resourceGroup: 'idle-rg', name, location: REGION, customImages: [held] })),
        ],
        settings: { copyRateMBps: 512, customImageDurationMs: 200, lroRetryAfterSeconds: 1 },
      },
    });
  });
  after(async () => {
    await azure?.stop();
    for (const config of configs) removeConfiguration(config);
  });

  const configuration = (labs: string[]) => {
    const config = writeDistributeConfiguration(labs.map((name) => ({ SubscriptionId: IDLE.includes(name) && IDLE.indexOf(name) % 2 ? SUB_B : SUB_A, LabName: name, ImagePaths: ['Windows'] })));
    configs.push(config);
    return config;
  };
  const measure = async (labs: string[], dryRun: boolean) => {
    await azure.resetMetrics();
    const run = await runTaskProcess(
      'DistributeImages',
      { ConfigurationLocation: configuration(labs), azureSubscription: azure.connectionId, DevTestLabName: FACTORY.name, dryRun: String(dryRun) },
      azure.env,
    );
    const { byOperation } = await azure.metrics();
    return { run, uploadUris: byOperation.Labs_GenerateUploadUri ?? 0, customImageLists: byOperation.CustomImages_List ?? 0 };
  };

  it('reads the idle labs and asks them for no upload URI, in a dry run and in a real run', async () => {
    const busyOnly = await measure(['Busy'], true);
    const withIdle = await measure(['Busy', ...IDLE], true);
    assert.equal(withIdle.run.result, 'Succeeded', describeRun(withIdle.run));
    assert.equal(withIdle.customImageLists, busyOnly.customImageLists + IDLE.length, 'every idle lab is read');
    assert.equal(withIdle.uploadUris, busyOnly.uploadUris, 'no idle lab is asked for an upload URI');
    assert.ok(withIdle.run.lines.some((l) => l.startsWith('Plan: ') && l.includes('1 job to run, 5 already in place')), describeRun(withIdle.run));

    // A real run: the busy lab's one upload URI serves both its blob listing and its job; the copy adds the store image's source URI.
    const real = await measure(['Busy', ...IDLE], false);
    assert.equal(real.run.result, 'Succeeded', describeRun(real.run));
    assert.equal(real.uploadUris, busyOnly.uploadUris + 1, 'one source URI for the one copy, none for the idle labs');
  });
});
