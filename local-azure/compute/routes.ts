import type { RouteSpec } from '../resourceManager/routes';
import { getDisk, grantAccess, revokeAccess } from './disks';
import { listImageVersions } from './marketplaceVersions';
import { getInstanceView } from './virtualMachines';

/**
 * Microsoft.Compute: the virtual machines and OS disks DevTest Labs keeps for its lab VMs (in resource
 * group `<lab>-<vm>-<digits>`), with the instance view and disk SAS access grant and revoke.
 */

/** Disks: the DiskRP version of the contract and of @azure/arm-compute 24. */
export const DISK_API_VERSIONS = ['2025-01-02'] as const;
/** Virtual machines: the ComputeRP version of the contract and the one @azure/arm-compute 24 sends. */
export const VM_API_VERSIONS = ['2025-04-01', '2026-03-01'] as const;

const GROUP = '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute';

export const computeRoutes: RouteSpec[] = [
  {
    method: 'GET',
    path: '/subscriptions/{subscriptionId}/providers/Microsoft.Compute/locations/{location}/publishers/{publisherName}/artifacttypes/vmimage/offers/{offer}/skus/{skus}/versions',
    operationId: 'VirtualMachineImages_List',
    action: 'Microsoft.Compute/locations/publishers/artifacttypes/offers/skus/versions/read',
    apiVersions: VM_API_VERSIONS,
    handler: listImageVersions,
  },
  {
    method: 'GET',
    path: `${GROUP}/virtualMachines/{vmName}/instanceView`,
    operationId: 'VirtualMachines_InstanceView',
    action: 'Microsoft.Compute/virtualMachines/instanceView/read',
    apiVersions: VM_API_VERSIONS,
    handler: getInstanceView,
  },
  {
    method: 'GET',
    path: `${GROUP}/disks/{diskName}`,
    operationId: 'Disks_Get',
    action: 'Microsoft.Compute/disks/read',
    apiVersions: DISK_API_VERSIONS,
    handler: getDisk,
  },
  {
    method: 'POST',
    path: `${GROUP}/disks/{diskName}/beginGetAccess`,
    operationId: 'Disks_GrantAccess',
    action: 'Microsoft.Compute/disks/beginGetAccess/action',
    apiVersions: DISK_API_VERSIONS,
    handler: grantAccess,
  },
  {
    method: 'POST',
    path: `${GROUP}/disks/{diskName}/endGetAccess`,
    operationId: 'Disks_RevokeAccess',
    action: 'Microsoft.Compute/disks/endGetAccess/action',
    apiVersions: DISK_API_VERSIONS,
    handler: revokeAccess,
  },
];
