import { computeVmId, diskId, type PowerState } from '../compute/state';
import { computeStatuses } from '../compute/views';
import { storageAccountId } from '../storage/state';
import { customImageId, labId, labVmId } from './ids';
import type { CustomImage, Lab, LabVm } from './state';

/**
 * DevTest Labs resources as Resource Manager returns them, in the shapes of the DevTest Labs 2018-09-15
 * REST API examples (field names, casing of ids, nesting).
 */

export function labView(lab: Lab): Record<string, unknown> {
  const account = storageAccountId({ subscriptionId: lab.subscriptionId, resourceGroup: lab.resourceGroup, name: lab.storageAccount });
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

const LAST_KNOWN_POWER_STATE: Record<PowerState, string> = {
  running: 'Running',
  starting: 'Starting',
  stopping: 'Stopping',
  stopped: 'Stopped',
  deallocating: 'Stopping',
  deallocated: 'Stopped',
};

export function labVmView(lab: Lab, vm: LabVm, options: { expandComputeVm?: boolean } = {}): Record<string, unknown> {
  const { compute } = vm;
  const properties: Record<string, unknown> = {
    notes: vm.notes,
    ownerObjectId: '',
    ownerUserPrincipalName: '',
    createdByUserId: '',
    createdByUser: '',
    createdDate: compute.createdDate,
    computeId: computeVmId(compute),
    osType: compute.osType,
    size: compute.size,
    userName: compute.osType === 'Windows' ? 'factoryadmin' : 'factory',
    labSubnetName: `Dtl${lab.name}Subnet`,
    labVirtualNetworkId: `${labId(lab)}/virtualnetworks/Dtl${lab.name}`,
    disallowPublicIpAddress: true,
    artifactDeploymentStatus: artifactDeploymentStatus(vm),
    ...(vm.sharedImage
      ? { ...vm.sharedImage, virtualMachineCreationSource: 'FromSharedGalleryImage' }
      : compute.source.kind === 'marketplace'
        ? { galleryImageReference: compute.source.image, virtualMachineCreationSource: 'FromGalleryImage' }
        : { customImageId: vm.customImageId, virtualMachineCreationSource: 'FromCustomImage' }),
    networkInterface: {},
    allowClaim: false,
    storageType: 'Premium',
    dataDiskParameters: [],
    lastKnownPowerState: LAST_KNOWN_POWER_STATE[compute.powerState],
    provisioningState: compute.provisioningState,
    uniqueIdentifier: vm.uniqueIdentifier,
  };
  if (vm.notes === undefined) delete properties.notes;
  if (options.expandComputeVm) {
    properties.computeVm = {
      statuses: computeStatuses(compute).map(({ code, displayStatus }) => ({ code, displayStatus })),
      osType: compute.osType,
      vmSize: compute.size,
      networkInterfaceId: `/subscriptions/${compute.subscriptionId}/resourceGroups/${compute.resourceGroup}/providers/Microsoft.Network/networkInterfaces/${compute.name}`,
      osDiskId: diskId(compute.osDisk),
      dataDiskIds: compute.dataDisks.map((d) => diskId(d.disk)),
      dataDisks: compute.dataDisks.map((d) => ({ lun: d.lun, name: d.disk.name, managedDisk: { id: diskId(d.disk) }, diskSizeGB: d.disk.sizeGB })),
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

function artifactDeploymentStatus(vm: LabVm): Record<string, unknown> {
  const artifacts = vm.artifacts ?? [];
  const status: Record<string, unknown> = { artifactsApplied: artifacts.filter((a) => a.status === 'Succeeded').length, totalArtifacts: artifacts.length };
  if (artifacts.length > 0) {
    status.deploymentStatus = artifacts.some((a) => a.status === 'Failed')
      ? 'Failed'
      : artifacts.every((a) => a.status === 'Succeeded')
        ? 'Succeeded'
        : artifacts.some((a) => a.status === 'Installing')
          ? 'Running'
          : 'NotStarted';
  }
  return status;
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
