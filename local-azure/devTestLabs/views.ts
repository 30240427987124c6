import {
  computeVmId,
  customImageId,
  diskGrantActive,
  diskId,
  labId,
  labVmId,
  storageAccountId,
  type CustomImage,
  type Lab,
  type LabVm,
  type PowerState,
} from '../state';

/**
 * Resources as Resource Manager returns them, in the shapes of the DevTest Labs 2018-09-15 and Compute
 * REST API examples (field names, casing of ids, nesting).
 */

const GIB = 1024 * 1024 * 1024;

export function labView(lab: Lab): Record<string, unknown> {
  const account = storageAccountId(lab);
  return {
    properties: {
      defaultStorageAccount: account,
      defaultPremiumStorageAccount: account,
      artifactsStorageAccount: account,
      premiumDataDiskStorageAccount: account,
      vaultName: `/subscriptions/${lab.subscriptionId}/resourceGroups/${lab.resourceGroup}/providers/Microsoft.KeyVault/vaults/${lab.name}${lab.uniqueIdentifier.slice(0, 4)}`,
      labStorageType: 'Premium',
      mandatoryArtifactsResourceIdsLinux: [],
      mandatoryArtifactsResourceIdsWindows: [],
      createdDate: lab.createdDate,
      premiumDataDisks: 'Disabled',
      environmentPermission: 'Reader',
      announcement: { title: '', markdown: '', enabled: 'Disabled', expired: false },
      support: { enabled: 'Disabled', markdown: '' },
      provisioningState: 'Succeeded',
      uniqueIdentifier: lab.uniqueIdentifier,
    },
    id: labId(lab),
    name: lab.name,
    type: 'Microsoft.DevTestLab/labs',
    location: lab.location,
    tags: { ...lab.tags },
  };
}

const GALLERY_IMAGES = {
  Windows: { offer: 'WindowsServer', publisher: 'MicrosoftWindowsServer', sku: '2019-Datacenter', osType: 'Windows', version: 'latest' },
  Linux: { offer: '0001-com-ubuntu-server-jammy', publisher: 'Canonical', sku: '22_04-lts-gen2', osType: 'Linux', version: 'latest' },
};

const LAST_KNOWN_POWER_STATE: Record<PowerState, string> = {
  running: 'Running',
  starting: 'Starting',
  stopping: 'Stopping',
  stopped: 'Stopped',
  deallocating: 'Stopping',
  deallocated: 'Stopped',
};

export function labVmView(lab: Lab, vm: LabVm, options: { expandComputeVm?: boolean } = {}): Record<string, unknown> {
  const properties: Record<string, unknown> = {
    notes: vm.notes,
    ownerObjectId: '',
    ownerUserPrincipalName: '',
    createdByUserId: '',
    createdByUser: '',
    createdDate: vm.createdDate,
    computeId: computeVmId(lab, vm),
    osType: vm.osType,
    size: vm.size,
    userName: vm.osType === 'Windows' ? 'factoryadmin' : 'factory',
    labSubnetName: `Dtl${lab.name}Subnet`,
    labVirtualNetworkId: `${labId(lab)}/virtualnetworks/Dtl${lab.name}`,
    disallowPublicIpAddress: true,
    artifactDeploymentStatus: { artifactsApplied: 0, totalArtifacts: 0 },
    galleryImageReference: GALLERY_IMAGES[vm.osType],
    networkInterface: {},
    allowClaim: false,
    storageType: 'Premium',
    virtualMachineCreationSource: 'FromGalleryImage',
    dataDiskParameters: [],
    lastKnownPowerState: LAST_KNOWN_POWER_STATE[vm.powerState],
    provisioningState: vm.provisioningState,
    uniqueIdentifier: vm.uniqueIdentifier,
  };
  if (vm.notes === undefined) delete properties.notes;
  if (options.expandComputeVm) {
    properties.computeVm = {
      statuses: computeStatuses(vm).map(({ code, displayStatus }) => ({ code, displayStatus })),
      osType: vm.osType,
      vmSize: vm.size,
      networkInterfaceId: `/subscriptions/${lab.subscriptionId}/resourceGroups/${vm.computeResourceGroup}/providers/Microsoft.Network/networkInterfaces/${vm.name}`,
      osDiskId: diskId(lab, vm),
      dataDiskIds: [],
      dataDisks: [],
    };
  }
  return {
    properties,
    id: labVmId(lab, vm),
    name: vm.name,
    type: 'Microsoft.DevTestLab/labs/virtualMachines',
    location: lab.location,
    tags: { ...vm.tags },
  };
}

export function customImageView(lab: Lab, image: CustomImage): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  if (image.vm) properties.vm = image.vm;
  if (image.vhd) properties.vhd = image.vhd;
  if (image.description !== undefined) properties.description = image.description;
  properties.author = image.author ?? '';
  properties.creationDate = image.creationDate;
  if (image.managedImageId && image.provisioningState === 'Succeeded') properties.managedImageId = image.managedImageId;
  properties.provisioningState = image.provisioningState;
  properties.uniqueIdentifier = image.uniqueIdentifier;
  return {
    id: customImageId(lab, image),
    name: image.name,
    type: 'Microsoft.DevTestLab/labs/customImages',
    location: lab.location,
    properties,
    tags: { ...image.tags },
  };
}

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

export function computeStatuses(vm: LabVm): InstanceViewStatus[] {
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

export function instanceView(vm: LabVm): Record<string, unknown> {
  const view: Record<string, unknown> = {
    computerName: vm.name,
    osName: vm.osType === 'Windows' ? 'Windows Server 2019 Datacenter' : 'ubuntu',
    disks: [
      {
        name: vm.diskName,
        statuses: [{ code: 'ProvisioningState/succeeded', level: 'Info', displayStatus: 'Provisioning succeeded', time: vm.createdDate }],
      },
    ],
    hyperVGeneration: 'V1',
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
export function diskState(vm: LabVm): string {
  if (diskGrantActive(vm)) return 'ActiveSAS';
  return vm.powerState === 'deallocated' ? 'Reserved' : 'Attached';
}

export function diskView(lab: Lab, vm: LabVm): Record<string, unknown> {
  return {
    managedBy: computeVmId(lab, vm),
    sku: { name: 'Premium_LRS', tier: 'Premium' },
    properties: {
      osType: vm.osType,
      hyperVGeneration: 'V1',
      creationData: { createOption: 'FromImage', imageReference: { id: galleryImageId(lab, vm) } },
      diskSizeGB: vm.diskSizeGB,
      diskSizeBytes: vm.diskSizeGB * GIB,
      uniqueId: vm.diskUniqueId,
      encryption: { type: 'EncryptionAtRestWithPlatformKey' },
      timeCreated: vm.createdDate,
      provisioningState: 'Succeeded',
      diskState: diskState(vm),
      networkAccessPolicy: 'AllowAll',
      publicNetworkAccess: 'Enabled',
      tier: 'P6',
    },
    type: 'Microsoft.Compute/disks',
    location: lab.location,
    tags: {},
    id: diskId(lab, vm),
    name: vm.diskName,
  };
}

function galleryImageId(lab: Lab, vm: LabVm): string {
  const image = GALLERY_IMAGES[vm.osType];
  return `/Subscriptions/${lab.subscriptionId}/Providers/Microsoft.Compute/Locations/${lab.location}/Publishers/${image.publisher}/ArtifactTypes/VMImage/Offers/${image.offer}/Skus/${image.sku}/Versions/1.0.0`;
}
