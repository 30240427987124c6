import { computeVmId, diskGrantActive, diskId, type Disk, type PowerState, type VirtualMachine } from './state';

/** Compute resources as Resource Manager returns them, in the shapes of the Compute REST API examples. */

const GIB = 1024 * 1024 * 1024;

const DISPLAY_POWER_STATE: Record<PowerState, string> = {
  running: 'VM running',
  starting: 'VM starting',
  stopping: 'VM stopping',
  stopped: 'VM stopped',
  deallocating: 'VM deallocating',
  deallocated: 'VM deallocated',
};

export interface InstanceViewStatus {
  code: string;
  level: string;
  displayStatus: string;
  time?: string;
}

export function computeStatuses(vm: VirtualMachine): InstanceViewStatus[] {
  const provisioning = vm.provisioningState.toLowerCase();
  return [
    {
      code: `ProvisioningState/${provisioning}`,
      level: vm.provisioningState === 'Failed' ? 'Error' : 'Info',
      displayStatus: `Provisioning ${provisioning}`,
      time: vm.createdDate,
    },
    { code: `PowerState/${vm.powerState}`, level: 'Info', displayStatus: DISPLAY_POWER_STATE[vm.powerState] },
  ];
}

export function instanceView(vm: VirtualMachine): Record<string, unknown> {
  const view: Record<string, unknown> = {
    computerName: vm.name,
    osName: vm.osType === 'Windows' ? 'Windows Server 2019 Datacenter' : 'ubuntu',
    disks: [
      {
        name: vm.osDisk.name,
        statuses: [{ code: 'ProvisioningState/succeeded', level: 'Info', displayStatus: 'Provisioning succeeded', time: vm.createdDate }],
      },
    ],
    hyperVGeneration: vm.hyperVGeneration,
    statuses: computeStatuses(vm),
  };
  // A deallocated VM has no guest to report on.
  if (vm.powerState === 'deallocated' || vm.powerState === 'deallocating') {
    delete view.computerName;
    delete view.osName;
  }
  return view;
}

/** Disk states as Compute reports them: a disk of an allocated VM is Attached, of a deallocated one Reserved. */
export function diskState(disk: Disk): string {
  if (diskGrantActive(disk)) return 'ActiveSAS';
  if (!disk.managedBy) return 'Unattached';
  return disk.managedBy.powerState === 'deallocated' ? 'Reserved' : 'Attached';
}

export function diskView(disk: Disk): Record<string, unknown> {
  return {
    managedBy: disk.managedBy && computeVmId(disk.managedBy),
    sku: { name: 'Premium_LRS', tier: 'Premium' },
    properties: {
      osType: disk.osType,
      hyperVGeneration: disk.hyperVGeneration,
      // Compute leaves securityProfile out for a disk of a VM without a security type.
      ...(disk.securityType === 'Standard' ? {} : { securityProfile: { securityType: disk.securityType } }),
      creationData: { createOption: 'FromImage', imageReference: { id: disk.sourceImageId } },
      diskSizeGB: disk.sizeGB,
      diskSizeBytes: disk.sizeGB * GIB,
      uniqueId: disk.uniqueId,
      encryption: { type: 'EncryptionAtRestWithPlatformKey' },
      timeCreated: disk.createdDate,
      provisioningState: 'Succeeded',
      diskState: diskState(disk),
      networkAccessPolicy: 'AllowAll',
      publicNetworkAccess: 'Enabled',
      tier: 'P6',
    },
    type: 'Microsoft.Compute/disks',
    location: disk.location,
    tags: {},
    id: diskId(disk),
    name: disk.name,
  };
}
