import type { ArmRequest } from '../resourceManager/context';
import { authorizationFailed, resourceGroupNotFound, resourceNotFound } from '../resourceManager/errors';
import type { Disk, VirtualMachine } from './state';

/** The Compute resource a request names, as Resource Manager finds it (404 or 403 when it cannot). */

export function resolveVirtualMachine(request: ArmRequest): VirtualMachine {
  const { subscriptionId, resourceGroupName, vmName } = request.params;
  const vm = request.context.state.compute.findVirtualMachine(subscriptionId, resourceGroupName, vmName);
  return found(request, vm, vm?.lab, 'Microsoft.Compute/virtualMachines', vmName);
}

export function resolveDisk(request: ArmRequest): Disk {
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
