import { ArmError, type Reply } from '../http';
import type { ArmRequest } from '../resourceManager/context';
import { requiredObject } from '../resourceManager/requestBody';
import { authorizationFailed, conflict, invalidRequestContent, resourceGroupNotFound, resourceNotFound } from '../resourceManager/errors';
import type { RouteSpec } from '../resourceManager/routes';
import type { Disk, VirtualMachine } from './state';
import { diskView, instanceView } from './views';

/**
 * Microsoft.Compute: the virtual machines and OS disks DevTest Labs keeps for its lab VMs (in resource
 * group `<lab>-<vm>-<digits>`), with the instance view and disk SAS access grant and revoke.
 */

/** Disks: the DiskRP version of the contract and of @azure/arm-compute 24. */
export const DISK_API_VERSIONS = ['2025-01-02'] as const;
/** Virtual machines: the ComputeRP version of the contract and the one @azure/arm-compute 24 sends. */
export const VM_API_VERSIONS = ['2025-04-01', '2026-03-01'] as const;
/** The longest SAS access Compute grants. */
const MAX_ACCESS_SECONDS = 30 * 24 * 3600;

const GROUP = '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute';

export const computeRoutes: RouteSpec[] = [
  {
    method: 'GET',
    path: `${GROUP}/virtualMachines/{vmName}/instanceView`,
    operationId: 'VirtualMachines_InstanceView',
    action: 'Microsoft.Compute/virtualMachines/instanceView/read',
    apiVersions: VM_API_VERSIONS,
    handler: (r) => ({ status: 200, body: instanceView(resolveVirtualMachine(r)) }),
  },
  {
    method: 'GET',
    path: `${GROUP}/disks/{diskName}`,
    operationId: 'Disks_Get',
    action: 'Microsoft.Compute/disks/read',
    apiVersions: DISK_API_VERSIONS,
    handler: (r) => ({ status: 200, body: diskView(resolveDisk(r)) }),
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

function resolveVirtualMachine(request: ArmRequest): VirtualMachine {
  const { subscriptionId, resourceGroupName, vmName } = request.params;
  const vm = request.context.state.compute.findVirtualMachine(subscriptionId, resourceGroupName, vmName);
  return found(request, vm, vm?.lab, 'Microsoft.Compute/virtualMachines', vmName);
}

function resolveDisk(request: ArmRequest): Disk {
  const { subscriptionId, resourceGroupName, diskName } = request.params;
  const disk = request.context.state.compute.findDisk(subscriptionId, resourceGroupName, diskName);
  return found(request, disk, disk?.managedBy?.lab, 'Microsoft.Compute/disks', diskName);
}

/** The resource a request names; 404 for a missing one, 403 for one of a lab the principal may not access. */
function found<T>(request: ArmRequest, resource: T | undefined, lab: VirtualMachine['lab'], resourceType: string, name: string): T {
  if (lab?.denyAccess) throw authorizationFailed(request);
  if (!resource) {
    const { subscriptionId, resourceGroupName } = request.params;
    if (!request.context.state.resourceManager.resourceGroupExists(subscriptionId, resourceGroupName)) throw resourceGroupNotFound(resourceGroupName);
    throw resourceNotFound(resourceType, name, resourceGroupName);
  }
  return resource;
}

function grantAccess(request: ArmRequest): Reply {
  const disk = resolveDisk(request);
  const vm = disk.managedBy;
  const body = requiredObject(request.body, 'grantAccessData');
  if (body.access === undefined) throw invalidRequestContent("grantAccessData.access is required ('Read').");
  if (body.access !== 'Read') {
    throw new ArmError(400, 'InvalidParameter', `Access '${String(body.access)}' cannot be granted on disk '${disk.name}': only Read access to a disk in use by a VM is possible.`);
  }
  const seconds = body.durationInSeconds;
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 1 || seconds > MAX_ACCESS_SECONDS) {
    throw new ArmError(400, 'InvalidParameter', `grantAccessData.durationInSeconds must be a whole number of seconds from 1 to ${MAX_ACCESS_SECONDS}; got ${JSON.stringify(seconds)}.`);
  }
  if (vm && vm.powerState !== 'deallocated') {
    throw conflict(
      `Cannot grant access to disk '${disk.name}': it is attached to VM '${vm.name}'${vm.lab ? ` (lab '${vm.lab.name}')` : ''}, whose power state is ${vm.powerState}. A disk attached to a VM can be read only while the VM is deallocated; stop (deallocate) the VM first.`,
      'OperationNotAllowed',
    );
  }
  const { context } = request;
  const op = context.operations.startFor(request, disk, 'Microsoft.Compute', {
    durationMs: context.state.settings.lroDurationMs,
    failure: { code: 'InternalOperationError', message: `Granting access to disk '${disk.name}' failed.` },
    complete: async () => {
      const accessSAS = await context.blob.grantDiskRead(disk.name, seconds);
      disk.grant = { expiresAt: Date.now() + seconds * 1000 };
      return { accessSAS };
    },
  });
  return { status: 202, headers: context.operations.startHeaders(op) };
}

function revokeAccess(request: ArmRequest): Reply {
  const disk = resolveDisk(request);
  const { context } = request;
  const op = context.operations.startFor(request, disk, 'Microsoft.Compute', {
    durationMs: context.state.settings.lroDurationMs,
    failure: { code: 'InternalOperationError', message: `Revoking access to disk '${disk.name}' failed.` },
    complete: () => {
      context.blob.revokeDiskRead(disk.name);
      disk.grant = undefined;
      return undefined;
    },
  });
  return { status: 202, headers: context.operations.startHeaders(op) };
}
