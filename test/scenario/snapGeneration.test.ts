import * as assert from 'node:assert/strict';
import { fromBlobMetadata } from '../../core/factoryImages';
import type { Scenario } from '../../local-azure/scenario';
import { type LocalAzureProcess, startLocalAzure } from '../helpers/localAzure';
import { runTaskProcess, type TaskRun } from '../helpers/taskProcess';

/**
 * SnapImagesFromVMs, built and run as the agent runs it, against factory VMs of both generations: the
 * VHD route carries Generation 1 only, so a Generation 2 or Trusted Launch VM is refused before any
 * disk access is granted, and the other VMs are saved with their generation in the VHD's metadata.
 */
const SUB = '5b6c7d8e-9f01-4a2b-8c3d-4e5f60718293';
const LAB = 'GenFactory';

const SCENARIO: Scenario = {
  labs: [
    {
      subscriptionId: SUB,
      resourceGroup: 'gen-rg',
      name: LAB,
      vms: [
        {
          name: 'ws2022',
          osType: 'Windows',
          tags: { ImagePath: 'WindowsServer/Server2022-Datacenter.json' },
          imageReference: { publisher: 'MicrosoftWindowsServer', offer: 'WindowsServer', sku: '2022-datacenter' },
        },
        {
          name: 'ws2022-ae',
          osType: 'Windows',
          tags: { ImagePath: 'WindowsServer/Server2022-AzureEdition.json' },
          imageReference: { publisher: 'MicrosoftWindowsServer', offer: 'WindowsServer', sku: '2022-datacenter-azure-edition' },
        },
        {
          name: 'ubuntu-tl',
          osType: 'Linux',
          tags: { ImagePath: 'Linux/Ubuntu2204-TrustedLaunch.json' },
          imageReference: { publisher: 'Canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts-gen2' },
          securityType: 'TrustedLaunch',
        },
      ],
    },
  ],
  settings: { copyRateMBps: 4096, lroDurationMs: 50, lroRetryAfterSeconds: 0 },
};

function errors(run: TaskRun): { code?: string; message: string }[] {
  return run.issues.filter((i) => i.type === 'error');
}

describe('SnapImagesFromVMs and VM generations (VHD route)', function () {
  this.timeout(120_000);
  let azure: LocalAzureProcess;

  before(async () => {
    azure = await startLocalAzure({ scenario: SCENARIO });
  });
  after(async () => {
    await azure?.stop();
  });

  it('refuses the Generation 2 and Trusted Launch VMs before copying anything, and saves the Generation 1 VM', async () => {
    await azure.resetMetrics();
    const run = await runTaskProcess('SnapImagesFromVMs', { DevTestLabName: LAB }, azure.env);
    assert.equal(run.result, 'Failed', run.stdout + run.stderr);

    const refused = errors(run);
    assert.deepEqual(refused.map((e) => e.code).sort(), ['IF3010', 'IF3011'], run.stdout);
    const gen2 = refused.find((e) => e.code === 'IF3010')!;
    assert.match(gen2.message, /VM 'ws2022-ae' .* is not saved as a VHD: it is Generation 2/);
    assert.match(gen2.message, /Azure Compute Gallery route/);
    assert.match(gen2.message, /VHD route carries Generation 1 images only/);
    const trusted = refused.find((e) => e.code === 'IF3011')!;
    assert.match(trusted.message, /VM 'ubuntu-tl' .* security type TrustedLaunch/);
    assert.ok(!run.stdout.includes('    at '), 'no stack trace');

    const metrics = await azure.metrics();
    assert.equal(metrics.byOperation.Disks_GrantAccess, 1, 'disk access granted for the Generation 1 VM only');

    const state = await azure.state();
    const lab = state.labs.find((l) => l.name === LAB)!;
    assert.deepEqual(state.diskGrants, []);
    assert.equal(lab.blobs.length, 1, `only the Generation 1 VM was saved: ${lab.blobs.map((b) => b.name).join(', ')}`);
    const saved = fromBlobMetadata(lab.blobs[0].metadata);
    assert.equal(saved?.imagePath, 'WindowsServer/Server2022-Datacenter.json');
    assert.equal(lab.blobs[0].metadata.hypervgeneration, 'V1');
    assert.equal(lab.blobs[0].metadata.securitytype, 'Standard');
    assert.equal(run.outputs.SavedImageNames, saved?.imageName);
    assert.match(run.summary ?? '', /\| ws2022-ae \| .*IF3010/);
  });
});
