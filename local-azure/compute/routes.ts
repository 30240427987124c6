import { ArmError, type Reply } from '../http';
import type { Lab, LabVm } from '../state';
import type { ArmRequest } from '../resourceManager/context';
import { requiredObject } from '../devTestLabs/routes';
import { authorizationFailed, conflict, invalidRequestContent, resourceGroupNotFound, resourceNotFound } from '../resourceManager/errors';
import type { RouteSpec } from '../resourceManager/routes';
import { diskView, instanceView } from '../devTestLabs/views';

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
    handler: (r) => ({ status: 200, body: instanceView(resolveCompute(r, 'virtualMachine').vm) }),
  },
  {
    method: 'GET',
    path: `${GROUP}/disks/{diskName}`,
    operationId: 'Disks_Get',
    action: 'Microsoft.Compute/disks/read',
    apiVersions: DISK_API_VERSIONS,
    handler: (r) => {
      const { lab, vm } = resolveCompute(r, 'disk');
      return { status: 200, body: diskView(lab, vm) };
    },
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

function resolveCompute(request: ArmRequest, kind: 'virtualMachine' | 'disk'): { lab: Lab; vm: LabVm } {
  const { subscriptionId, resourceGroupName } = request.params;
  const name = kind === 'disk' ? request.params.diskName : request.params.vmName;
  const { state } = request.context;
  const found = state.findCompute(subscriptionId, resourceGroupName, kind, name);
  if (found?.lab.denyAccess) throw authorizationFailed(request);
  if (!found) {
    if (!state.resourceGroupExists(subscriptionId, resourceGroupName)) throw resourceGroupNotFound(resourceGroupName);
    throw resourceNotFound(kind === 'disk' ? 'Microsoft.Compute/disks' : 'Microsoft.Compute/virtualMachines', name, resourceGroupName);
  }
  return found;
}

function grantAccess(request: ArmRequest): Reply {
  const { lab, vm } = resolveCompute(request, 'disk');
  const body = requiredObject(request.body, 'grantAccessData');
  if (body.access === undefined) throw invalidRequestContent("grantAccessData.access is required ('Read').");
  if (body.access !== 'Read') {
    throw new ArmError(400, 'InvalidParameter', `Access '${String(body.access)}' cannot be granted on disk '${vm.diskName}': only Read access to a disk in use by a VM is possible.`);
  }
  const seconds = body.durationInSeconds;
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 1 || seconds > MAX_ACCESS_SECONDS) {
    throw new ArmError(400, 'InvalidParameter', `grantAccessData.durationInSeconds must be a whole number of seconds from 1 to ${MAX_ACCESS_SECONDS}; got ${JSON.stringify(seconds)}.`);
  }
  if (vm.powerState !== 'deallocated') {
    throw conflict(
      `Cannot grant access to disk '${vm.diskName}': it is attached to VM '${vm.name}' (lab '${lab.name}'), whose power state is ${vm.powerState}. A disk attached to a VM can be read only while the VM is deallocated; stop (deallocate) the VM first.`,
      'OperationNotAllowed',
    );
  }
  const { context } = request;
  const op = context.operations.startFor(request, lab, 'Microsoft.Compute', {
    durationMs: context.state.settings.lroDurationMs,
    failure: { code: 'InternalOperationError', message: `Granting access to disk '${vm.diskName}' failed.` },
    complete: async () => {
      const accessSAS = await context.blob.grantDiskRead(vm.diskName, seconds);
      vm.diskGrant = { expiresAt: Date.now() + seconds * 1000 };
      return { accessSAS };
    },
  });
  return { status: 202, headers: context.operations.startHeaders(op) };
}

function revokeAccess(request: ArmRequest): Reply {
  const { lab, vm } = resolveCompute(request, 'disk');
  const { context } = request;
  const op = context.operations.startFor(request, lab, 'Microsoft.Compute', {
    durationMs: context.state.settings.lroDurationMs,
    failure: { code: 'InternalOperationError', message: `Revoking access to disk '${vm.diskName}' failed.` },
    complete: () => {
      context.blob.revokeDiskRead(vm.diskName);
      vm.diskGrant = undefined;
      return undefined;
    },
  });
  return { status: 202, headers: context.operations.startHeaders(op) };
}
