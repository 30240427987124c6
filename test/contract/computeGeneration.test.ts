import * as assert from 'node:assert/strict';
import type { Scenario } from '../../local-azure/scenario';
import { sdkClients, startLocalAzure, type LocalAzureProcess, type SdkClients } from '../helpers/localAzure';

/**
 * Generation and security type through the official SDK clients: a VM's marketplace SKU decides its
 * Hyper-V generation, which its OS disk (Disks_Get), its instance view and the lab VM's image
 * reference show, with the security type on the disk's securityProfile.
 */

const SUB = 'a1b2c3d4-0000-4000-8000-0000000000a1';

const SCENARIO: Scenario = {
  labs: [
    {
      subscriptionId: SUB,
      resourceGroup: 'FactoryRG',
      name: 'Factory',
      vms: [
        { name: 'ws2019', osType: 'Windows' },
        { name: 'ws2022-ae', osType: 'Windows', imageReference: { publisher: 'MicrosoftWindowsServer', offer: 'WindowsServer', sku: '2022-datacenter-azure-edition' } },
        {
          name: 'ubuntu-tl',
          osType: 'Linux',
          imageReference: { publisher: 'Canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts-gen2' },
          securityType: 'TrustedLaunch',
        },
      ],
    },
  ],
  settings: { lroDurationMs: 50, lroRetryAfterSeconds: 0 },
};

describe('local Compute: Hyper-V generation and security type', function () {
  this.timeout(60_000);
  let azure: LocalAzureProcess;
  let clients: SdkClients;

  before(async () => {
    azure = await startLocalAzure({ scenario: SCENARIO });
    clients = sdkClients(azure, SUB);
  });
  after(async () => {
    await azure?.stop();
  });

  async function computeOf(vmName: string) {
    const vm = await clients.devTestLabs.virtualMachines.get('FactoryRG', 'Factory', vmName, { expand: 'properties($expand=computeVm)' });
    const disk = vm.computeVm!.osDiskId!.split('/');
    const computeVm = vm.computeId!.split('/');
    return {
      vm,
      disk: await clients.compute.disks.get(disk[4], disk[8]),
      view: await clients.compute.virtualMachines.instanceView(computeVm[4], computeVm[8]),
    };
  }

  it('makes a VM of a Generation 1 SKU Generation 1, with no security profile', async () => {
    const { vm, disk, view } = await computeOf('ws2019');
    assert.equal(disk.hyperVGeneration, 'V1');
    assert.equal(disk.securityProfile, undefined);
    assert.equal(view.hyperVGeneration, 'V1');
    assert.equal(vm.galleryImageReference?.sku, '2019-Datacenter');
    assert.match(disk.creationData?.imageReference?.id ?? '', /\/Skus\/2019-Datacenter\/Versions\//);
  });

  it('makes a Windows Server Azure Edition VM Generation 2', async () => {
    const { vm, disk, view } = await computeOf('ws2022-ae');
    assert.equal(disk.hyperVGeneration, 'V2');
    assert.equal(view.hyperVGeneration, 'V2');
    assert.equal(vm.galleryImageReference?.sku, '2022-datacenter-azure-edition');
    assert.equal(vm.virtualMachineCreationSource, 'FromGalleryImage');
  });

  it('shows Trusted Launch on the OS disk securityProfile', async () => {
    const { disk } = await computeOf('ubuntu-tl');
    assert.equal(disk.hyperVGeneration, 'V2');
    assert.equal(disk.securityProfile?.securityType, 'TrustedLaunch');
  });

  it('refuses a scenario VM with Trusted Launch on a Generation 1 SKU', async () => {
    await assert.rejects(
      azure.addVm('Factory', { name: 'bad-tl', osType: 'Windows', securityType: 'TrustedLaunch' }),
      /Trusted Launch needs a Generation 2 image/,
    );
  });
});
