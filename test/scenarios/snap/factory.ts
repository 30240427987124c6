import { type FactoryImage, toBlobMetadata } from '../../../core/factoryImages';
import type { Scenario, ScenarioLab, ScenarioVm } from '../../../local-azure/scenario';

/**
 * A factory lab with one VM of every kind SnapImagesFromVMs meets, and an image saved earlier the same
 * day from another VM of the Win2016 Datacenter template, so today's name for it is taken.
 */
export const SUB = '7d1e2f3a-4b5c-4d6e-8f70-1a2b3c4d5e6f';
export const LAB = 'Factory';
export const RESOURCE_GROUP = 'factory-rg';
export const LAB_ID = `/subscriptions/${SUB}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft.DevTestLab/labs/${LAB}`;

/** `Nov-24-2026` for `now`, written out here rather than taken from the code under test. */
export function stamp(now = new Date()): string {
  const month = now.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  return `${month}-${String(now.getUTCDate()).padStart(2, '0')}-${now.getUTCFullYear()}`;
}

export const VMS = {
  windows: { name: 'win2016-dc', tags: { ImagePath: 'Win2016\\Datacenter.json' }, osType: 'Windows', notes: 'Windows Server 2016 Datacenter, patched' },
  linux: { name: 'ubuntu-1804', tags: { ImagePath: 'Linux/Ubuntu 18.04.json' }, osType: 'Linux', notes: 'Ubuntu 18.04 LTS' },
  running: { name: 'win10-pro', tags: { ImagePath: 'Win10\\Pro.json' }, osType: 'Windows', powerState: 'running' },
  untagged: { name: 'jumpbox', tags: { owner: 'ops' }, osType: 'Windows', powerState: 'running' },
  failed: { name: 'win2019-dc', tags: { ImagePath: 'Win2019\\Datacenter.json' }, osType: 'Windows', provisioningState: 'Failed' },
} satisfies Record<string, ScenarioVm>;

/** The image saved earlier today: same template as VMS.windows, another VM's disk. */
export function earlierImage(now = new Date()): FactoryImage {
  return {
    imageName: `Win2016_Datacenter-${stamp(now)}`,
    imagePath: 'Win2016/Datacenter.json',
    description: 'saved this morning',
    osType: 'Windows',
    generalized: true,
    sourceVmId: `${LAB_ID}/virtualmachines/win2016-dc-morning`,
    sourceDiskId: `/subscriptions/${SUB}/resourceGroups/Factory-win2016-dc-morning-100/providers/Microsoft.Compute/disks/win2016-dc-morning`,
    createdUtc: new Date(now.getTime() - 60_000).toISOString(),
    sizeBytes: 1024 * 1024,
    hyperVGeneration: 'V1',
    securityType: 'Standard',
  };
}

/** A blob in the lab's uploads container that is not the factory's, to show it is never touched. */
export const FOREIGN_BLOB = 'team-upload.vhd';

function factoryLab(lab: Omit<ScenarioLab, 'subscriptionId' | 'resourceGroup' | 'name'>, copyRateMBps: number): Scenario {
  return {
    labs: [{ subscriptionId: SUB, resourceGroup: RESOURCE_GROUP, name: LAB, location: 'westus2', ...lab }],
    settings: { copyRateMBps, lroDurationMs: 100, lroRetryAfterSeconds: 1 },
  };
}

export function mixedFactory(now = new Date()): Scenario {
  const earlier = earlierImage(now);
  return factoryLab(
    {
      vms: Object.values(VMS).map((vm) => ({ diskSizeGB: 1, ...vm })),
      vhds: [
        { name: `${earlier.imageName}.vhd`, sizeBytes: earlier.sizeBytes, metadata: toBlobMetadata(earlier) },
        { name: FOREIGN_BLOB, sizeBytes: 512 * 1024 },
      ],
    },
    2048,
  );
}

/** Two deallocated VMs with 1 GiB disks, for copies that must stay pending for a while. */
export function slowFactory(copyRateMBps: number): Scenario {
  return factoryLab(
    {
      vms: [
        { name: 'win2016-dc', tags: { ImagePath: 'Win2016/Datacenter.json' }, osType: 'Windows', diskSizeGB: 1 },
        { name: 'ubuntu-1804', tags: { ImagePath: 'Linux/Ubuntu.json' }, osType: 'Linux', diskSizeGB: 1 },
      ],
    },
    copyRateMBps,
  );
}
