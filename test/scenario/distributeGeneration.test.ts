import * as assert from 'node:assert/strict';
import { removeConfiguration } from '../fixtures/config/configurationFolder';
import { type LocalAzureProcess, labVmFromImage, startLocalAzure } from '../helpers/localAzure';
import { runTaskProcess } from '../helpers/taskProcess';
import { FACTORY, REGION, SUB_A, factoryImage, storeVhd, writeDistributeConfiguration } from '../scenarios/distribute/factory';

/**
 * DistributeImages, built and run as the agent runs it, with a Generation 2 image in the store: it is
 * copied nowhere (a custom image of it would give VMs that do not boot), the Generation 1 image is
 * distributed, and a lab VM made from the distributed image provisions.
 */
const GEN1 = factoryImage('Windows_Datacenter-Nov-24-2026', 'Windows/Datacenter.json');
const GEN2 = { ...factoryImage('Windows_SQL-Nov-24-2026', 'Windows/SQL.json'), hyperVGeneration: 'V2' as const };
const TARGET = { subscriptionId: SUB_A, resourceGroup: 'team-rg', name: 'Team', location: REGION };

describe('DistributeImages and image generations (VHD route)', function () {
  this.timeout(120_000);
  let azure: LocalAzureProcess;
  let config: string;

  before(async () => {
    azure = await startLocalAzure({
      scenario: {
        labs: [{ ...FACTORY, vhds: [storeVhd(GEN1), storeVhd(GEN2)] }, TARGET],
        settings: { copyRateMBps: 4096, customImageDurationMs: 50, lroDurationMs: 50, lroRetryAfterSeconds: 0 },
      },
    });
    config = writeDistributeConfiguration([{ SubscriptionId: SUB_A, LabName: TARGET.name, ImagePaths: ['Windows'] }]);
  });
  after(async () => {
    await azure?.stop();
    if (config) removeConfiguration(config);
  });

  it('refuses the stored Generation 2 image (IF4010) without copying it, distributes the Generation 1 image, and a lab VM made from it provisions', async () => {
    const run = await runTaskProcess('DistributeImages', { DevTestLabName: FACTORY.name, ConfigurationLocation: config }, azure.env);
    assert.equal(run.result, 'Failed', run.stdout + run.stderr);
    const refused = run.issues.filter((i) => i.type === 'error');
    assert.deepEqual(refused.map((i) => i.code), ['IF4010'], run.stdout);
    assert.match(refused[0].message, /Image 'Windows_SQL-Nov-24-2026' .* is not distributed to 1 lab \(Team\): its metadata says it is Generation 2/);
    assert.match(refused[0].message, /VHD route carries Generation 1 images only/);

    const state = await azure.state();
    const team = state.labs.find((l) => l.name === TARGET.name)!;
    assert.deepEqual(team.customImages.map((i) => i.name), [GEN1.imageName]);
    assert.ok(!team.blobs.some((b) => b.name.includes(GEN2.imageName)), 'nothing of the Generation 2 image was copied');

    const { vm, customImageId } = await labVmFromImage(azure, TARGET, GEN1.imageName);
    assert.equal(vm.provisioningState, 'Succeeded');
    assert.equal(vm.customImageId, customImageId);
  });
});
