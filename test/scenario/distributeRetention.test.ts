import * as assert from 'node:assert/strict';
import { removeConfiguration } from '../fixtures/config/configurationFolder';
import { type LocalAzureProcess, startLocalAzure } from '../helpers/localAzure';
import { describeRun, runTaskProcess } from '../helpers/taskProcess';
import { FACTORY, REGION, SUB_A, factoryImage, storeVhd, writeDistributeConfiguration } from '../scenarios/distribute/factory';

/**
 * DistributeImages copies only what RetireImages keeps: a lab that starts selecting a path whose store
 * holds more images than ImagesToSave receives the newest ImagesToSave of them, and a RetireImages run
 * right after deletes nothing there. Both tasks run bundled, as the agent runs them.
 */
const dc = (day: string) => ({
  ...factoryImage(`Windows_Datacenter-Nov-${day}-2026`, 'Windows/Datacenter.json'),
  createdUtc: `2026-11-${day}T08:00:00.000Z`,
});
const STORED = [dc('01'), dc('10'), dc('20')];
const IMAGES_TO_SAVE = 2;

describe('DistributeImages copies only what retention keeps', function () {
  this.timeout(90_000);
  let azure: LocalAzureProcess;
  let config: string;

  before(async () => {
    azure = await startLocalAzure({
      scenario: {
        labs: [
          { ...FACTORY, vhds: STORED.map(storeVhd) },
          { subscriptionId: SUB_A, resourceGroup: 'new-rg', name: 'NewLab', location: REGION },
        ],
        settings: { copyRateMBps: 512, customImageDurationMs: 200, lroRetryAfterSeconds: 1 },
      },
    });
    config = writeDistributeConfiguration([{ SubscriptionId: SUB_A, LabName: 'NewLab', ImagePaths: ['Windows/Datacenter.json'] }]);
  });
  after(async () => {
    await azure?.stop();
    if (config) removeConfiguration(config);
  });

  it('a lab that starts selecting a path receives exactly ImagesToSave images of it, and RetireImages then deletes nothing there', async () => {
    const common = { ConfigurationLocation: config, azureSubscription: azure.connectionId, DevTestLabName: FACTORY.name, ImagesToSave: String(IMAGES_TO_SAVE) };
    const distribute = await runTaskProcess('DistributeImages', common, azure.env);
    assert.equal(distribute.result, 'Succeeded', describeRun(distribute));
    const held = () => azure.state().then((s) => s.labs.find((l) => l.name === 'NewLab')!.customImages.map((i) => i.name).sort());
    assert.deepEqual(await held(), [dc('10').imageName, dc('20').imageName], describeRun(distribute));
    // The plan and the summary say what was left out and why.
    assert.ok(
      distribute.lines.some((l) => l.includes(`left out, as retention would delete them: ${dc('01').imageName} (older than the 2 newest of Windows/Datacenter.json)`)),
      describeRun(distribute),
    );
    assert.match(distribute.summary ?? '', /Left out 1: images RetireImages would delete right after/);
    assert.match(distribute.resultMessage ?? '', /1 left out \(retention would delete them\)/);

    const retire = await runTaskProcess('RetireImages', { ...common, SubscriptionId: FACTORY.subscriptionId }, azure.env);
    assert.equal(retire.result, 'Succeeded', describeRun(retire));
    assert.ok(retire.lines.some((l) => /^Lab 'NewLab' .*: 0 to delete, 2 to keep/.test(l)), describeRun(retire));
    assert.deepEqual(await held(), [dc('10').imageName, dc('20').imageName], describeRun(retire));
  });
});
